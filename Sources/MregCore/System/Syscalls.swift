#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CMregSys

/// The one layer through which mreg talks to the file system.
///
/// Every call retries on EINTR and passes through `FaultInjection`, so tests can make the N-th
/// write, fsync, rename or link fail (EIO, ENOSPC) or end the process between two steps.
typealias FileStatus = Glibc.stat

enum Sys {
    /// An error from a system call, with the call and the path it concerned.
    struct Failure: Error {
        var call: String
        var path: String
        var errno: Int32

        /// Not a system error: the path is a FIFO, a device or a socket where a file was expected.
        static let notRegularFile: Int32 = -1

        var reason: String { errno == Self.notRegularFile ? "not a regular file" : String(cString: strerror(errno)) }

        /// One line for the user, naming the path and the reason. Paths the user named are
        /// checked where they are opened (exit 2); a failure anywhere else is operational (exit 1).
        var mregError: MregError {
            MregError(.operational, "\(path): \(call) failed: \(reason)")
        }
    }

    static func retrying<T: BinaryInteger>(_ call: String, _ path: String, _ body: () -> T) throws -> T {
        while true {
            let r = body()
            if r >= 0 { return r }
            let e = errno
            if e == EINTR { continue }
            throw Failure(call: call, path: path, errno: e)
        }
    }

    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws -> Int32 {
        try FaultInjection.check(.open, path)
        return try retrying("open", path) { Glibc_open(path, flags | O_CLOEXEC, mode) }
    }

    static func openAt(_ dirfd: Int32, _ name: String, _ flags: Int32, _ mode: mode_t = 0o644, displayPath: String) throws -> Int32 {
        try FaultInjection.check(.open, displayPath)
        return try retrying("open", displayPath) { openat(dirfd, name, flags | O_CLOEXEC, mode) }
    }

    static func close(_ fd: Int32) {
        _ = Glibc_close(fd)
    }

    /// Reads up to `count` bytes; returns 0 at end of file.
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, path: String) throws -> Int {
        try FaultInjection.check(.read, path)
        return try retrying("read", path) { Glibc_read(fd, buffer, count) }
    }

    /// Reads until `count` bytes or end of file.
    static func readFull(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, path: String) throws -> Int {
        var done = 0
        while done < count {
            let n = try read(fd, buffer + done, count - done, path: path)
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads up to `count` bytes at `offset` (the descriptor's position is not used or moved);
    /// fewer only at end of file.
    static func preadFull(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, at offset: Int, path: String) throws -> Int {
        var done = 0
        while done < count {
            try FaultInjection.check(.read, path)
            let n = try retrying("read", path) { Glibc.pread(fd, buffer + done, count - done, off_t(offset + done)) }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Writes all bytes, looping over short writes.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < buffer.count {
            try FaultInjection.check(.write, path)
            let n = try retrying("write", path) { Glibc_write(fd, buffer.baseAddress! + done, buffer.count - done) }
            done += n
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    static func fsync(_ fd: Int32, path: String) throws {
        try FaultInjection.check(.fsync, path)
        _ = try retrying("fsync", path) { Glibc.fsync(fd) }
    }

    /// `syncfs`: flushes every dirty page and all metadata of the file system holding `path`.
    static func syncFileSystem(containing path: String) throws {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try FaultInjection.check(.fsync, path)
        _ = try retrying("syncfs", path) { mreg_syncfs(fd) }
    }

    /// Opens a directory and fsyncs it, so a rename or link inside it is durable.
    static func fsyncDirectory(_ path: String) throws {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    static func rename(_ from: String, _ to: String) throws {
        try FaultInjection.check(.rename, to)
        _ = try retrying("rename", to) { Glibc.rename(from, to) }
    }

    /// Creates `to` as a hard link of `from`; fails with EEXIST if `to` exists.
    static func link(_ from: String, _ to: String) throws {
        try FaultInjection.check(.link, to)
        _ = try retrying("link", to) { Glibc.link(from, to) }
    }

    static func unlink(_ path: String) throws {
        _ = try retrying("unlink", path) { Glibc.unlink(path) }
    }

    static func mkdir(_ path: String, _ mode: mode_t = 0o755) throws {
        try FaultInjection.check(.mkdir, path)
        _ = try retrying("mkdir", path) { Glibc.mkdir(path, mode) }
    }

    static func rmdir(_ path: String) throws {
        _ = try retrying("rmdir", path) { Glibc.rmdir(path) }
    }

    /// Makes a directory unless it exists; true when it was made (its parent then needs an fsync
    /// for the new entry to be durable).
    @discardableResult
    static func ensureDirectory(_ path: String) throws -> Bool {
        do { try mkdir(path) } catch let f as Failure where f.errno == EEXIST {
            guard isDirectory(path, followLinks: false) else {
                throw Failure(call: "mkdir", path: path, errno: ENOTDIR)
            }
            return false
        }
        return true
    }

    /// `lstat`: the status of the path itself, not of what a link points to; nil if it is missing.
    static func linkStatus(_ path: String) -> FileStatus? {
        var st = FileStatus()
        return Glibc.lstat(path, &st) == 0 ? st : nil
    }

    /// `stat`: follows symbolic links; nil if missing.
    static func status(_ path: String) -> FileStatus? {
        var st = FileStatus()
        return c_stat(path, &st) == 0 ? st : nil
    }

    static func fstat(_ fd: Int32, path: String) throws -> FileStatus {
        var st = FileStatus()
        _ = try retrying("fstat", path) { Glibc.fstat(fd, &st) }
        return st
    }

    static func exists(_ path: String) -> Bool { linkStatus(path) != nil }

    static func isDirectory(_ path: String, followLinks: Bool = true) -> Bool {
        guard let st = followLinks ? status(path) : linkStatus(path) else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// The names in a directory, without "." and "..", unsorted.
    static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            throw Failure(call: "opendir", path: path, errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        // The name is read in place: a dirent from readdir is only as long as its name
        // (d_reclen), so copying the struct (`entry.pointee`) reads past it, and past the end
        // of glibc's buffer when the entry is the last one there (fsck crashed on a registry of
        // 100,000 versions).
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(dir) {
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Reads a whole small file (refs, manifests, policies). Large content goes through streams.
    ///
    /// The open never blocks: a FIFO with no writer would otherwise hang the command. Anything
    /// but a regular file is refused (`Failure.notRegularFile`), except a pipe when `pipes` is
    /// set, for a user's `--metrics <(command)`; a pipe nobody writes to reads as empty.
    /// With `noFollow`, a symbolic link is refused (ELOOP).
    static func readFile(_ path: String, limit: Int = 64 << 20, pipes: Bool = false, noFollow: Bool = false) throws -> [UInt8] {
        let fd = try open(path, O_RDONLY | O_NONBLOCK | (noFollow ? O_NOFOLLOW : 0))
        defer { close(fd) }
        let st = try fstat(fd, path: path)
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw Failure(call: "read", path: path, errno: EISDIR)
        case S_IFIFO where pipes:
            // Wait for the writer's bytes from here on.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        default: throw Failure(call: "read", path: path, errno: Failure.notRegularFile)
        }
        var result: [UInt8] = []
        result.reserveCapacity(Int(st.st_size) + 1)
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(fd, $0.baseAddress!, $0.count, path: path) }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
            if result.count > limit {
                throw MregError(.invalidInput, "\(path): larger than \(limit) bytes")
            }
        }
        return result
    }

    static func realpath(_ path: String) -> String? {
        guard let p = Glibc.realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    static func currentDirectory() -> String {
        guard let p = getcwd(nil, 0) else { return "." }
        defer { free(p) }
        return String(cString: p)
    }

    static func environment(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }

    static func hostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, 255) == 0 else { return "unknown-host" }
        return String(cString: buf)
    }

    static func userName() -> String {
        if let u = environment("MREG_USER"), !u.isEmpty { return u }
        if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return environment("USER") ?? "uid\(getuid())"
    }

    static var pid: Int32 { getpid() }

    /// True when a process with this pid exists on this host.
    static func processAlive(_ pid: Int32) -> Bool {
        if Glibc.kill(pid, 0) == 0 { return true }
        return errno == EPERM
    }
}

// Module-qualified names would be ambiguous with the `Sys` members of the same name.
@inline(__always) private func Glibc_open(_ p: String, _ f: Int32, _ m: mode_t) -> Int32 { Glibc.open(p, f, m) }
@inline(__always) private func Glibc_close(_ fd: Int32) -> Int32 { Glibc.close(fd) }
@inline(__always) private func Glibc_read(_ fd: Int32, _ b: UnsafeMutableRawPointer, _ n: Int) -> Int { Glibc.read(fd, b, n) }
@inline(__always) private func Glibc_write(_ fd: Int32, _ b: UnsafeRawPointer, _ n: Int) -> Int { Glibc.write(fd, b, n) }
@inline(__always) private func c_stat(_ p: String, _ st: UnsafeMutablePointer<FileStatus>) -> Int32 { stat(p, st) }
