#if canImport(Glibc)
import Glibc
#endif
import CMregSys
import Crypto

extension ObjectStore {
    /// Copies a raw object's bytes into `out` in the kernel (`copy_file_range`, a reflink where the
    /// file system offers one) while a second thread hashes the object; fails if the hash is not
    /// the object's id. Returns nil for a compressed object (the caller streams it instead).
    ///
    /// The bytes copied are the object's bytes: the hash verifies them, exactly as `stream` does,
    /// without a copy through user space. Writeback of each copied range starts at once
    /// (`sync_file_range`), so the flush overlaps the copy and the hash instead of following them.
    func copyRaw(_ id: ObjectID, to out: Int32, outPath: String, sizeLimit: UInt64 = .max,
                 progress: ((UInt64) -> Void)? = nil) throws -> Info? {
        let (fd, st, p) = try openObject(id)
        defer { Sys.close(fd) }
        let (header, headerLength) = try readHeader(fd, id, path: p)
        guard header.encoding == .raw else { return nil }
        try header.check(id, sizeLimit: sizeLimit)
        let stored = UInt64(st.st_size) - UInt64(headerLength)
        if stored < header.size { throw MregError.corrupt("object \(id) is truncated: \(stored) of \(header.size) bytes (\(p))") }
        if stored > header.size { throw MregError.corrupt("object \(id) holds more than its declared \(header.size) bytes (\(p))") }

        let job = HashJob(fd: fd, offset: Int64(headerLength), size: header.size, path: p)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(job).toOpaque()
        guard pthread_create(&thread, nil, { ctx in
            Unmanaged<HashJob>.fromOpaque(ctx!).takeRetainedValue().run()
            return nil
        }, context) == 0 else {
            Unmanaged<HashJob>.fromOpaque(context).release()
            return nil
        }
        var copyError: Error?
        do {
            var offset = Int64(headerLength)
            var left = header.size
            var useKernel = true
            var buffer: [UInt8] = []
            while left > 0 {
                let chunk = Int(min(left, UInt64(8 << 20)))
                try FaultInjection.check(.write, outPath)
                var copied = -1
                if useKernel {
                    copied = Int(mreg_copy_file_range(fd, &offset, out, UInt(chunk)))
                    if copied < 0 {
                        let e = errno
                        if e == EINTR { continue }
                        guard e == EXDEV || e == ENOSYS || e == EINVAL || e == EOPNOTSUPP else {
                            throw Sys.Failure(call: "copy_file_range", path: outPath, errno: e)
                        }
                        useKernel = false
                    }
                }
                if !useKernel {
                    if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: Self.bufferSize) }
                    let want = min(chunk, buffer.count)
                    copied = try buffer.withUnsafeMutableBytes { b -> Int in
                        let r = pread(fd, b.baseAddress, want, Int(offset))
                        if r < 0 { throw Sys.Failure(call: "pread", path: p, errno: errno) }
                        try Sys.writeAll(out, UnsafeRawBufferPointer(rebasing: b[0..<r]), path: outPath)
                        return r
                    }
                    offset += Int64(copied)
                }
                if copied == 0 { throw MregError.corrupt("object \(id) is truncated (\(p))") }
                // Start writing these bytes to disk now, while the rest is copied and hashed: the
                // caller's fsync then waits for the tail only, not for the whole file.
                _ = mreg_start_writeback(out, Int64(header.size - left), Int64(copied))
                left -= UInt64(copied)
                progress?(UInt64(copied))
            }
        } catch {
            copyError = error
        }
        pthread_join(thread, nil)
        if let copyError { throw copyError }
        if let e = job.error { throw e }
        guard job.digest == id else {
            throw MregError.corrupt("object \(id) is corrupt: its bytes hash to \(job.digest.map { "\($0)" } ?? "?") (\(p))")
        }
        return Info(size: header.size, encoding: .raw, storedSize: UInt64(st.st_size))
    }
}

/// Hashes a byte range of a file with `pread` (which leaves the file offset alone), on its own thread.
private final class HashJob: @unchecked Sendable {
    let fd: Int32, offset: Int64, size: UInt64, path: String
    var digest: ObjectID?
    var error: Error?

    init(fd: Int32, offset: Int64, size: UInt64, path: String) {
        self.fd = fd
        self.offset = offset
        self.size = size
        self.path = path
    }

    func run() {
        if let digest = hashMapped() {
            self.digest = digest
            return
        }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: ObjectStore.bufferSize)
        var at = offset
        var left = size
        while left > 0 {
            let want = Int(min(left, UInt64(buffer.count)))
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, Int(at)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                error = MregError.corrupt("object at \(path) could not be read to the end")
                return
            }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            at += Int64(n)
            left -= UInt64(n)
        }
        digest = ObjectID(digest: hasher.finalize())
    }

    /// Hashes the range straight from the page cache through a read-only mapping: no copy into a
    /// buffer, which is the longest part of a fetch after the hash itself. Nil when the file
    /// cannot be mapped (the caller then reads it). The caller checked the file's size first; an
    /// object truncated by someone else while it is mapped ends the process (SIGBUS) before
    /// anything is renamed into place.
    private func hashMapped() -> ObjectID? {
        let length = Int(offset) + Int(size)
        guard size > 0, let base = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED else { return nil }
        defer { munmap(base, length) }
        _ = madvise(base, length, MADV_SEQUENTIAL)
        var hasher = SHA256()
        var at = Int(offset)
        while at < length {
            let n = min(length - at, 8 << 20)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(start: base + at, count: n))
            at += n
        }
        return ObjectID(digest: hasher.finalize())
    }
}
