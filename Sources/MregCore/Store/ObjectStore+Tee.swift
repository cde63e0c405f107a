#if canImport(Glibc)
import Glibc
#endif
import Crypto

extension ObjectStore {
    /// Stores a regular file and hands each buffer of it to `consume` in the same read: the file
    /// is read once, by this thread, into the slots of a `PipelinedWriter`, whose thread
    /// compresses (when a sample of the first buffer compresses, as `putFile` decides) and writes
    /// each slot while this thread hashes the same memory and gives it to `consume` (`observe`
    /// parses and profiles the rows there). The hash is on this thread because compressing is the
    /// longer half of the work (`perf`: zlib alone is 46% of observe's CPU).
    ///
    /// The guarantees are `putFile`'s: the object is written to a temp file, fsynced, made
    /// read-only and linked into place under the SHA-256 of the bytes written, hashed from the
    /// memory the writer wrote (a slot is only read, by both threads, until it is acquired again);
    /// a file that changes size or modification time while it is read is refused. `end` is called
    /// once every buffer was consumed, before anything is made visible: if `consume` or `end`
    /// throws, the temp file is removed and nothing is stored.
    ///
    /// - Parameters:
    ///   - source: what to call the file in errors (`observations file batch.csv`): no such file,
    ///     permission denied, not a regular file and a change while read are `MregError.invalid`.
    func putFile(at path: String, source: String, consume: (UnsafeBufferPointer<UInt8>) throws -> Void, end: () throws -> Void) throws -> Stored {
        let (fd, before) = try TableReader.openUserFile(path: path, source: source)
        defer { Sys.close(fd) }
        let size = UInt64(before.st_size)

        try Sys.ensureDirectory(tmpDir)
        let tmpPath = tmpDir + "/obj-\(Sys.pid)-\(UInt64.random(in: 0...UInt64.max))"
        let tfd = try Sys.open(tmpPath, O_WRONLY | O_CREAT | O_EXCL, 0o444)
        var keep = false
        defer {
            Sys.close(tfd)
            if !keep { try? Sys.unlink(tmpPath) }
        }
        // A slot-sized first read decides the encoding (see CompressionPolicy), then goes round.
        var encoding = Encoding.raw
        var total: UInt64 = 0
        let slot = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 64)
        defer { slot.deallocate() }
        var count = try Sys.readFull(fd, slot.baseAddress!, slot.count, path: path)
        if size >= UInt64(compression.minimumSize) {
            let sampleCount = min(count, compression.sampleSize)
            let compressed = try Deflater.compressedSize(UnsafeRawBufferPointer(rebasing: slot[0..<sampleCount]), level: compression.streamLevel)
            if Double(compressed) <= compression.threshold * Double(sampleCount) { encoding = .zlib }
        }
        try Sys.writeAll(tfd, Header(encoding: encoding, size: size).bytes, path: tmpPath)
        let w = PipelinedWriter(fd: tfd, path: tmpPath, deflater: encoding == .zlib ? try Deflater(level: compression.streamLevel) : nil)
        var hasher = SHA256()
        do {
            var next = w.acquire()
            next.copyMemory(from: UnsafeRawBufferPointer(rebasing: slot[0..<count]))
            while count > 0 {
                total += UInt64(count)
                w.submit(count)
                let chunk = UnsafeRawBufferPointer(rebasing: next[0..<count])
                hasher.update(bufferPointer: chunk)
                try consume(chunk.bindMemory(to: UInt8.self))
                if count < next.count { break }
                next = w.acquire()
                count = try Sys.readFull(fd, next.baseAddress!, next.count, path: path)
                if count == 0 { w.submit(0) }
            }
            try end()
        } catch {
            try? w.finish()
            throw error
        }
        try w.finish()
        let after = try Sys.fstat(fd, path: path)
        if total != size || UInt64(after.st_size) != size || !Self.sameModification(before, after) {
            throw MregError.invalid("\(source) changed while it was read; nothing was observed")
        }
        let id = ObjectID(digest: hasher.finalize())
        if contains(id) {
            // Already stored: drop the temp before it is synced.
            freshen(id)
            return Stored(id: id, size: size, encoding: encoding, written: false, status: before)
        }
        try Sys.fsync(tfd, path: tmpPath)
        keep = true
        let written = try link(tmpPath, as: id)
        return Stored(id: id, size: size, encoding: encoding, written: written, status: before)
    }
}
