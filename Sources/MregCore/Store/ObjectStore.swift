#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// The content-addressed object store: `objects/<2 hex>/<62 hex>`, each file a one-line header
/// (`MREG1 raw|zlib <size>\n`) followed by the bytes, raw or zlib-compressed.
///
/// Objects are written as temp file → fsync → link into place (an existing object of the same name
/// counts as written) → fsync the directory, made read-only, and verified on every read.
public struct ObjectStore: Sendable {
    /// `<registry>/objects`
    public let root: String
    /// `<registry>/tmp`, where objects are built before they are linked into place.
    public let tmpDir: String
    public let compression: CompressionPolicy

    static let bufferSize = 1 << 20

    public init(root: String, tmpDir: String, compression: CompressionPolicy = .default) {
        self.root = root
        self.tmpDir = tmpDir
        self.compression = compression
    }

    public func directory(of id: ObjectID) -> String { root + "/" + id.hex.prefix(2) }
    public func path(of id: ObjectID) -> String { directory(of: id) + "/" + id.hex.dropFirst(2) }

    /// Whether the object is present. An object behind a fan-out "directory" that is really a
    /// symbolic link does not count: nothing is read or written through such a link.
    public func contains(_ id: ObjectID) -> Bool {
        Sys.linkStatus(path(of: id)) != nil && Sys.isDirectory(directory(of: id), followLinks: false)
    }

    /// Refuses a fan-out directory that is a symbolic link or a file (a hand-edited or hostile
    /// registry): objects are never read or written through it.
    func checkFanOut(_ dir: String) throws {
        guard let st = Sys.linkStatus(dir), (st.st_mode & S_IFMT) != S_IFDIR else { return }
        let what = (st.st_mode & S_IFMT) == S_IFLNK ? "a symbolic link" : "not a directory"
        throw MregError.corrupt("\(dir) is \(what); objects are not read or written through it (run `mreg fsck`)")
    }

    // MARK: - Writing

    /// Stores bytes held in memory (records, manifests, policies). Returns at once if present.
    @discardableResult
    public func put(_ bytes: [UInt8]) throws -> ObjectID {
        let id = ObjectID.of(bytes)
        if contains(id) {
            freshen(id)
            return id
        }
        let encoding: Encoding
        var payload = bytes
        if bytes.count >= compression.minimumSize {
            let compressed = try Self.deflateAll(bytes, level: compression.smallLevel)
            if Double(compressed.count) <= compression.threshold * Double(bytes.count) {
                encoding = .zlib
                payload = compressed
            } else {
                encoding = .raw
            }
        } else {
            encoding = .raw
        }
        try install(id: id) { fd, tmpPath in
            try Sys.writeAll(fd, Header(encoding: encoding, size: UInt64(bytes.count)).bytes, path: tmpPath)
            try Sys.writeAll(fd, payload, path: tmpPath)
        }
        return id
    }

    /// The result of storing a file.
    public struct Stored: Sendable {
        public var id: ObjectID
        public var size: UInt64
        public var encoding: Encoding
        /// False when the object was already in the store.
        public var written: Bool
        /// The file's status as it was read (for the stat cache).
        var status: FileStatus?
    }

    /// Streams a regular file into the store in fixed-size buffers, hashing as it goes.
    ///
    /// The file's size is taken from `fstat` before reading; a file that grows, shrinks or is
    /// modified while it is read is refused (its bytes would not match what was hashed).
    ///
    /// With a `batch`, the object is written but neither synced nor made visible: `batch.commit()`
    /// does both for all its objects at once.
    ///
    /// `progress` is told the size of each buffer read (1 MiB), for a progress bar.
    public func putFile(at path: String, batch: ObjectBatch? = nil, progress: ((UInt64) -> Void)? = nil) throws -> Stored {
        let fd: Int32
        do { fd = try Sys.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) } catch let f as Sys.Failure {
            switch f.errno {
            case EACCES: throw MregError.invalid("\(path): cannot read: permission denied")
            case ENOENT: throw MregError.invalid("\(path): vanished before it could be read")
            case ELOOP: throw MregError.invalid("\(path): became a symbolic link before it could be read; links are not registered")
            default: throw f.mregError
            }
        }
        defer { Sys.close(fd) }
        let before = try Sys.fstat(fd, path: path)
        guard (before.st_mode & S_IFMT) == S_IFREG else {
            throw MregError.invalid("\(path): not a regular file")
        }
        let size = UInt64(before.st_size)
        var buffer = [UInt8](repeating: 0, count: Self.bufferSize)
        // The first buffer decides the encoding (see CompressionPolicy).
        let firstCount = try buffer.withUnsafeMutableBytes { try Sys.readFull(fd, $0.baseAddress!, $0.count, path: path) }
        var encoding = Encoding.raw
        if size >= UInt64(compression.minimumSize) {
            let sampleCount = min(firstCount, compression.sampleSize)
            let compressed = try buffer.withUnsafeBytes {
                try Deflater.compressedSize(UnsafeRawBufferPointer(rebasing: $0[0..<sampleCount]), level: compression.streamLevel)
            }
            if Double(compressed) <= compression.threshold * Double(sampleCount) { encoding = .zlib }
        }

        var hasher = SHA256()
        var total: UInt64 = 0
        var id: ObjectID?
        let tmpPath = try writeTemp(sync: batch == nil) { tfd, tmpPath in
            try Sys.writeAll(tfd, Header(encoding: encoding, size: size).bytes, path: tmpPath)
            let deflater = encoding == .zlib ? try Deflater(level: compression.streamLevel) : nil
            var zout = deflater == nil ? [] : [UInt8](repeating: 0, count: Self.bufferSize)
            var count = firstCount
            if deflater == nil && firstCount == buffer.count {
                // Large raw file: hash here while a second thread writes (see PipelinedWriter).
                let writer = PipelinedWriter(fd: tfd, path: tmpPath)
                var slot = writer.acquire()
                buffer.withUnsafeBytes { slot.copyMemory(from: $0) }
                while count > 0 {
                    total += UInt64(count)
                    progress?(UInt64(count))
                    hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: slot[0..<count]))
                    writer.submit(count)
                    if count < slot.count { break }
                    slot = writer.acquire()
                    do {
                        count = try Sys.readFull(fd, slot.baseAddress!, slot.count, path: path)
                    } catch {
                        writer.submit(0)
                        try? writer.finish()
                        throw error
                    }
                    if count == 0 { writer.submit(0) }
                }
                try writer.finish()
                count = 0
            }
            while count > 0 {
                if count > 0 {
                    total += UInt64(count)
                    progress?(UInt64(count))
                    try buffer.withUnsafeBytes { raw in
                        let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                        hasher.update(bufferPointer: chunk)
                        if let deflater {
                            try deflater.process(chunk, finish: false, into: &zout) { try Sys.writeAll(tfd, $0, path: tmpPath) }
                        } else {
                            try Sys.writeAll(tfd, chunk, path: tmpPath)
                        }
                    }
                }
                if count < buffer.count { break }
                count = try buffer.withUnsafeMutableBytes { try Sys.readFull(fd, $0.baseAddress!, $0.count, path: path) }
                if count == 0 { break }
            }
            if let deflater {
                try deflater.process(UnsafeRawBufferPointer(start: nil, count: 0), finish: true, into: &zout) {
                    try Sys.writeAll(tfd, $0, path: tmpPath)
                }
            }
            let after = try Sys.fstat(fd, path: path)
            if total != size || UInt64(after.st_size) != size || !Self.sameModification(before, after) {
                throw MregError.invalid("\(path): file changed while it was being registered; try again when it is complete")
            }
            id = ObjectID(digest: hasher.finalize())
            // Already stored: drop the temp before it is synced, so its bytes never reach the disk.
            return !contains(id!) && !(batch?.contains(id!) ?? false)
        }
        let final = id!
        guard let tmpPath else {
            freshen(final)
            return Stored(id: final, size: size, encoding: encoding, written: false, status: before)
        }
        if let batch {
            batch.add(tmpPath, final)
            return Stored(id: final, size: size, encoding: encoding, written: true, status: before)
        }
        let written = try link(tmpPath, as: final)
        return Stored(id: final, size: size, encoding: encoding, written: written, status: before)
    }

    static func sameModification(_ a: FileStatus, _ b: FileStatus) -> Bool {
        a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec
            && a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec
    }

    /// Marks an existing object as recently used, so a `gc` grace period counts from now
    /// (as git freshens objects it finds already present).
    func freshen(_ id: ObjectID) {
        _ = utimensat(AT_FDCWD, path(of: id), nil, 0)
    }

    /// Writes a temp file with `body`, fsyncs it and makes it read-only; returns its path, or nil
    /// when `body` returns false (the content turned out to be stored already; nothing is kept).
    private func writeTemp(sync: Bool = true, _ body: (Int32, String) throws -> Bool) throws -> String? {
        try Sys.ensureDirectory(tmpDir)
        let tmpPath = tmpDir + "/obj-\(Sys.pid)-\(UInt64.random(in: 0...UInt64.max))"
        let fd = try Sys.open(tmpPath, O_WRONLY | O_CREAT | O_EXCL, 0o444)
        var ok = false
        defer {
            Sys.close(fd)
            if !ok { try? Sys.unlink(tmpPath) }
        }
        guard try body(fd, tmpPath) else { return nil }
        if sync { try Sys.fsync(fd, path: tmpPath) }
        ok = true
        return tmpPath
    }

    private func install(id: ObjectID, _ body: (Int32, String) throws -> Void) throws {
        guard let tmpPath = try writeTemp({ fd, p in try body(fd, p); return true }) else { return }
        try link(tmpPath, as: id)
    }

    /// Links a finished temp file into place and removes the temp name.
    ///
    /// - Returns: false when an object of that name already existed (same name, same bytes).
    @discardableResult
    func link(_ tmpPath: String, as id: ObjectID, syncDirectories: Bool = true) throws -> Bool {
        defer { try? Sys.unlink(tmpPath) }
        let dir = directory(of: id)
        try checkFanOut(dir)
        if Sys.linkStatus(dir) == nil {
            try Sys.ensureDirectory(dir)
            if syncDirectories { try Sys.fsyncDirectory(root) }
        }
        do {
            try Sys.link(tmpPath, path(of: id))
        } catch let f as Sys.Failure where f.errno == EEXIST {
            freshen(id)
            return false
        }
        if syncDirectories { try Sys.fsyncDirectory(dir) }
        return true
    }

    static func deflateAll(_ bytes: [UInt8], level: Int32) throws -> [UInt8] {
        let d = try Deflater(level: level)
        var out = [UInt8](repeating: 0, count: 64 << 10)
        var result: [UInt8] = []
        try bytes.withUnsafeBytes { input in
            try d.process(input, finish: true, into: &out) { result.append(contentsOf: $0) }
        }
        return result
    }

    // MARK: - Reading

    /// Reads a whole object into memory and verifies it. For records, manifests and policies.
    public func get(_ id: ObjectID, limit: UInt64 = 256 << 20) throws -> [UInt8] {
        var result: [UInt8] = []
        _ = try stream(id, sizeLimit: limit, reserve: { result.reserveCapacity(Int($0)) }) { result.append(contentsOf: $0) }
        return result
    }

    /// What `stream` learned about an object.
    public struct Info: Sendable {
        public var size: UInt64
        public var encoding: Encoding
        /// Bytes on disk, header included.
        public var storedSize: UInt64
    }

    /// Opens an object for reading without following a link; errors say what is wrong with it.
    ///
    /// - Returns: the descriptor (the caller closes it), its status and its path.
    func openObject(_ id: ObjectID) throws -> (fd: Int32, status: FileStatus, path: String) {
        let p = path(of: id)
        try checkFanOut(directory(of: id))
        let fd: Int32
        do { fd = try Sys.open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) } catch let f as Sys.Failure where f.errno == ENOENT {
            // A working copy of a remote registry (RemoteSession) brings the object in on first use.
            guard try ObjectSources.fetch(id, root: root) else { throw MregError.corrupt("object \(id) is missing (\(p))") }
            fd = try Sys.open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        } catch let f as Sys.Failure {
            if f.errno == ELOOP { throw MregError.corrupt("object \(id) is a symbolic link (\(p))") }
            throw MregError.io("object \(id): cannot open \(p): \(f.reason)")
        }
        do {
            let st = try Sys.fstat(fd, path: p)
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw MregError.corrupt("object \(id) is not a regular file (\(p))") }
            return (fd, st, p)
        } catch {
            Sys.close(fd)
            throw error
        }
    }

    /// Streams an object's bytes to `sink` in fixed-size chunks and verifies the hash at the end.
    ///
    /// Inflation stops at the declared size. A sink may have received bytes before a corruption is
    /// reported, so callers that write must write to a temporary place.
    @discardableResult
    public func stream(_ id: ObjectID, sizeLimit: UInt64 = .max, reserve: (UInt64) -> Void = { _ in },
                       _ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Info {
        let (fd, st, p) = try openObject(id)
        defer { Sys.close(fd) }

        // Small objects (records, entries) get buffers of their own size, not 1 MiB.
        var buffer = [UInt8](repeating: 0, count: max(Header.maxLength, min(Self.bufferSize, Int(st.st_size) + 1)))
        var filled = try buffer.withUnsafeMutableBytes { try Sys.readFull(fd, $0.baseAddress!, $0.count, path: p) }
        guard let (header, headerLength) = Header.parse(buffer[0..<min(filled, Header.maxLength)]) else {
            throw MregError.corrupt("object \(id) has a malformed header (\(p))")
        }
        try header.check(id, sizeLimit: sizeLimit)
        reserve(header.size)
        var hasher = SHA256()
        var produced: UInt64 = 0
        var start = headerLength
        let inflater = header.encoding == .zlib ? try Inflater() : nil
        var out = inflater == nil ? [] : [UInt8](repeating: 0, count: Int(min(UInt64(Self.bufferSize), header.size + 1)))
        func deliver(_ chunk: UnsafeRawBufferPointer) throws {
            produced += UInt64(chunk.count)
            if produced > header.size {
                throw MregError.corrupt("object \(id) holds more than its declared \(header.size) bytes (\(p))")
            }
            hasher.update(bufferPointer: chunk)
            try sink(chunk)
        }
        while true {
            if start < filled {
                if let inflater {
                    var offset = start
                    while offset < filled {
                        if inflater.finished {
                            throw MregError.corrupt("object \(id) has trailing bytes after its compressed data (\(p))")
                        }
                        let (consumed, made): (Int, Int)
                        do {
                            (consumed, made) = try buffer.withUnsafeBytes { input in
                                try out.withUnsafeMutableBytes { o in
                                    // Never inflate more than one byte past the declared size.
                                    let room = Int(min(UInt64(o.count), header.size - min(produced, header.size) + 1))
                                    return try inflater.process(UnsafeRawBufferPointer(rebasing: input[offset..<filled]),
                                                                into: UnsafeMutableRawBufferPointer(rebasing: o[0..<room]))
                                }
                            }
                        } catch is Inflater.InflateError {
                            throw MregError.corrupt("object \(id) has corrupt compressed data (\(p))")
                        }
                        offset += consumed
                        if made > 0 { try out.withUnsafeBytes { try deliver(UnsafeRawBufferPointer(rebasing: $0[0..<made])) } }
                        if consumed == 0 && made == 0 { break }
                    }
                } else {
                    try buffer.withUnsafeBytes { try deliver(UnsafeRawBufferPointer(rebasing: $0[start..<filled])) }
                }
            }
            if filled < buffer.count { break }
            start = 0
            filled = try buffer.withUnsafeMutableBytes { try Sys.readFull(fd, $0.baseAddress!, $0.count, path: p) }
            if filled == 0 { break }
        }
        if let inflater {
            // Flush anything zlib still holds.
            while !inflater.finished {
                let made = try out.withUnsafeMutableBytes { o -> Int in
                    let room = Int(min(UInt64(o.count), header.size - min(produced, header.size) + 1))
                    do {
                        return try inflater.process(UnsafeRawBufferPointer(start: nil, count: 0),
                                                    into: UnsafeMutableRawBufferPointer(rebasing: o[0..<max(room, 1)])).produced
                    } catch { throw MregError.corrupt("object \(id) has corrupt compressed data (\(p))") }
                }
                if made == 0 { break }
                try out.withUnsafeBytes { try deliver(UnsafeRawBufferPointer(rebasing: $0[0..<made])) }
            }
            if !inflater.finished {
                throw MregError.corrupt("object \(id) is truncated: its compressed data ends early (\(p))")
            }
        }
        if produced != header.size {
            throw MregError.corrupt("object \(id) is truncated: \(produced) of \(header.size) bytes (\(p))")
        }
        let actual = ObjectID(digest: hasher.finalize())
        if actual != id {
            throw MregError.corrupt("object \(id) is corrupt: its bytes hash to \(actual) (\(p))")
        }
        return Info(size: header.size, encoding: header.encoding, storedSize: UInt64(st.st_size))
    }

    /// The size an object's header declares, or nil when it cannot be read or has no valid header.
    /// Nothing is verified: for deciding whether an object can be what a caller looks for.
    func declaredSize(_ id: ObjectID) -> UInt64? {
        guard let (fd, _, p) = try? openObject(id) else { return nil }
        defer { Sys.close(fd) }
        return (try? readHeader(fd, id, path: p))?.header.size
    }

    /// Reads and parses the header at the start of an open object; the descriptor is left after it.
    func readHeader(_ fd: Int32, _ id: ObjectID, path p: String) throws -> (header: Header, length: Int) {
        var head = [UInt8](repeating: 0, count: Header.maxLength)
        let n = try head.withUnsafeMutableBytes { try Sys.readFull(fd, $0.baseAddress!, $0.count, path: p) }
        guard let parsed = Header.parse(head[0..<n]) else { throw MregError.corrupt("object \(id) has a malformed header (\(p))") }
        return parsed
    }

    /// Re-hashes an object without keeping its bytes.
    @discardableResult
    public func verify(_ id: ObjectID) throws -> Info {
        try stream(id) { _ in }
    }

    // MARK: - Listing

    /// Every object file name that looks like an object, and every other file found under objects/.
    public func scan() throws -> (objects: [ObjectID], strays: [String]) {
        var objects: [ObjectID] = []
        var strays: [String] = []
        guard Sys.isDirectory(root, followLinks: false) else { return ([], []) }
        for fan in try Sys.listDirectory(root).sorted() {
            let dir = root + "/" + fan
            guard fan.utf8.count == 2, ObjectID.isHexPrefix(fan), Sys.isDirectory(dir, followLinks: false) else {
                strays.append(dir)
                continue
            }
            for name in try Sys.listDirectory(dir).sorted() {
                let hex = fan + name
                if ObjectID.isFullHex(hex) { objects.append(ObjectID(hex: hex)) } else { strays.append(dir + "/" + name) }
            }
        }
        return (objects, strays)
    }

    /// Objects whose hex starts with `prefix` (any length; one digit scans 16 fan-out directories).
    public func objects(withPrefix prefix: String) throws -> [ObjectID] {
        if prefix.utf8.count < 2 {
            return try "0123456789abcdef".flatMap { try objects(withPrefix: prefix + String($0)) }
        }
        let fan = String(prefix.prefix(2))
        let dir = root + "/" + fan
        guard Sys.isDirectory(dir, followLinks: false) else { return [] }
        let rest = prefix.dropFirst(2)
        return try Sys.listDirectory(dir).filter { $0.hasPrefix(rest) && ObjectID.isFullHex(fan + $0) }
            .map { ObjectID(hex: fan + $0) }.sorted()
    }
}

/// Objects written as unsynced temp files, made durable together and then made visible.
///
/// Storing thousands of small files with an fsync of each file and each directory costs two
/// journal commits per file. A batch writes every temp file without syncing, makes all of them
/// durable with one `syncfs()` of the registry's file system, and only then links them into
/// place (so an object is never visible before its bytes are durable, and deduplication never
/// trusts a torn file), followed by a second `syncfs()` for the new directory entries. Temp files
/// of a batch that is never committed are removed.
public final class ObjectBatch {
    private let store: ObjectStore
    private var pending: [(tmp: String, id: ObjectID)] = []
    private var ids: Set<ObjectID> = []

    public init(store: ObjectStore) { self.store = store }

    func contains(_ id: ObjectID) -> Bool { ids.contains(id) }

    func add(_ tmp: String, _ id: ObjectID) {
        pending.append((tmp, id))
        ids.insert(id)
    }

    /// Makes every object of the batch durable, then visible, then the directory entries durable.
    public func commit() throws {
        guard !pending.isEmpty else { return }
        try Sys.syncFileSystem(containing: store.tmpDir)
        while let (tmp, id) = pending.first {
            try store.link(tmp, as: id, syncDirectories: false)
            pending.removeFirst()
        }
        try Sys.syncFileSystem(containing: store.root)
    }

    deinit {
        for (tmp, _) in pending { try? Sys.unlink(tmp) }
    }
}

/// How an object's bytes are kept on disk.
public enum Encoding: String, Sendable {
    case raw
    case zlib
}

/// When to compress: a sample of the first bytes is deflated and the object is compressed only when
/// the sample shrinks to `threshold` of its size or less. See docs/format.md.
public struct CompressionPolicy: Sendable {
    /// Objects smaller than this are stored raw (the header and zlib framing would eat the gain).
    public var minimumSize = 64
    /// Bytes deflated to decide for a streamed file.
    public var sampleSize = 256 << 10
    /// Compress when compressed sample / sample <= threshold.
    public var threshold = 0.80
    /// zlib level for streamed files (artifacts): fast.
    public var streamLevel: Int32 = 1
    /// zlib level for small in-memory objects (records, manifests): smaller.
    public var smallLevel: Int32 = 6

    public static let `default` = CompressionPolicy()
}

/// The object header: `MREG1 <raw|zlib> <decimal size>\n`.
struct Header {
    var encoding: Encoding
    var size: UInt64

    static let maxLength = 40

    var bytes: [UInt8] { Array("MREG1 \(encoding.rawValue) \(size)\n".utf8) }

    /// Refuses an object that declares more bytes than the caller can expect (a record's limit,
    /// an artifact's recorded size), before any of them is read.
    func check(_ id: ObjectID, sizeLimit: UInt64) throws {
        if size > sizeLimit { throw MregError.corrupt("object \(id) declares \(size) bytes, more than the \(sizeLimit) expected here") }
    }

    static func parse(_ bytes: ArraySlice<UInt8>) -> (Header, Int)? {
        guard let nl = bytes.firstIndex(of: 10) else { return nil }
        let line = String(decoding: bytes[bytes.startIndex..<nl], as: UTF8.self)
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "MREG1", let enc = Encoding(rawValue: String(parts[1])),
              !parts[2].isEmpty, parts[2].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              parts[2].utf8.count <= 19, let size = UInt64(parts[2]) else { return nil }
        return (Header(encoding: enc, size: size), nl - bytes.startIndex + 1)
    }
}
