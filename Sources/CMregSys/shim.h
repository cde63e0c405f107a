#ifndef MREG_SYS_SHIM_H
#define MREG_SYS_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>

/// Atomically exchanges two names in a directory (renameat2 with RENAME_EXCHANGE).
/// Returns 0, or -1 with errno.
static inline int mreg_rename_exchange(int dirfd, const char *a, const char *b) {
#ifdef SYS_renameat2
    return (int)syscall(SYS_renameat2, dirfd, a, dirfd, b, 2 /* RENAME_EXCHANGE */);
#else
    errno = ENOSYS;
    return -1;
#endif
}

/// copy_file_range(2): copies in the kernel (a reflink where the file system offers it).
static inline long mreg_copy_file_range(int in, long long *off_in, int out, unsigned long len) {
    return (long)copy_file_range(in, (off_t *)off_in, out, NULL, len, 0);
}

/// syncfs(2): flushes the file system that holds `fd`. Returns 0, or -1 with errno.
static inline int mreg_syncfs(int fd) {
    return syncfs(fd);
}

/// sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writeback of a range without waiting,
/// so a later fsync finds the bytes already on their way. Returns 0, or -1 with errno.
static inline int mreg_start_writeback(int fd, long long offset, long long len) {
    return sync_file_range(fd, (off_t)offset, (off_t)len, SYNC_FILE_RANGE_WRITE);
}

#endif
