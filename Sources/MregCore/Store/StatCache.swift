#if canImport(Glibc)
import Glibc
#endif

/// Remembers which object holds a file, by the file's identity and timestamps, so re-registering
/// an unchanged file neither reads nor hashes it (as git's index does).
///
/// Key: device, inode, size, mtime and ctime (nanoseconds). A user cannot set ctime, and every
/// write changes it, so an unchanged key means unchanged bytes, with one exception that is
/// excluded: a file modified within the same timestamp tick as it was recorded ("racy" entries,
/// whose mtime or ctime is not at least 2 seconds before the time they were recorded, are never
/// trusted). Device and inode numbers belong to one host, so each host has its own cache file,
/// `<registry>/cache/stat.<host>`. The cache is only a hint: the object must still exist with a
/// header declaring the file's size (`lookup(_:in:)`), and
/// `MREG_NO_STAT_CACHE=1` turns it off. Deleting it is always safe.
final class StatCache {
    struct Key: Hashable {
        var dev: UInt64, ino: UInt64, size: Int64
        var mtimeSec: Int, mtimeNsec: Int, ctimeSec: Int, ctimeNsec: Int
    }

    private let path: String?
    private var entries: [Key: (id: ObjectID, recorded: Int)] = [:]
    private var dirty = false
    static let maxEntries = 200_000

    init(registryRoot: String) {
        if (try? Environment.statCacheDisabled()) ?? true {
            path = nil
            return
        }
        let host = Sys.hostname().map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }
        path = registryRoot + "/cache/stat." + String(host)
        load()
    }

    static func key(_ st: FileStatus) -> Key {
        Key(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino), size: Int64(st.st_size),
            mtimeSec: st.st_mtim.tv_sec, mtimeNsec: st.st_mtim.tv_nsec, ctimeSec: st.st_ctim.tv_sec, ctimeNsec: st.st_ctim.tv_nsec)
    }

    /// The object that held this file when it was recorded, if the entry can be trusted.
    func lookup(_ st: FileStatus) -> ObjectID? {
        let k = Self.key(st)
        guard let e = entries[k] else { return nil }
        guard k.mtimeSec <= e.recorded - 2, k.ctimeSec <= e.recorded - 2 else { return nil }
        return e.id
    }

    /// The object that held this file, if the entry can be trusted and the object still exists
    /// as a regular file whose header declares the file's size.
    ///
    /// The cache file is plain text in the registry: an edited, restored or stale cache could
    /// name an object of other bytes. Checking the header costs one open and one small read, and
    /// catches any entry that names an object of another size; the object's hash is verified
    /// whenever it is read (fetch, fsck, promote).
    func lookup(_ st: FileStatus, in store: ObjectStore) -> ObjectID? {
        guard let id = lookup(st), store.declaredSize(id) == UInt64(st.st_size) else { return nil }
        return id
    }

    func record(_ st: FileStatus, _ id: ObjectID) {
        guard path != nil else { return }
        entries[Self.key(st)] = (id, Int(Clock.now()))
        dirty = true
    }

    /// Tests only: pretend an entry was recorded at `time`.
    func setRecordedForTesting(_ st: FileStatus, at time: Int) {
        let k = Self.key(st)
        if let e = entries[k] { entries[k] = (e.id, time) }
    }

    private func load() {
        guard let path, let bytes = Self.readAll(path) else { return }
        for line in bytes.split(separator: 10) {
            let f = line.split(separator: 32)
            guard f.count == 9, let dev = UInt64(String(decoding: f[0], as: UTF8.self)), let ino = UInt64(String(decoding: f[1], as: UTF8.self)),
                  let size = Int64(String(decoding: f[2], as: UTF8.self)),
                  let ms = Int(String(decoding: f[3], as: UTF8.self)), let mn = Int(String(decoding: f[4], as: UTF8.self)),
                  let cs = Int(String(decoding: f[5], as: UTF8.self)), let cn = Int(String(decoding: f[6], as: UTF8.self)),
                  let rec = Int(String(decoding: f[7], as: UTF8.self)),
                  let id = ObjectID("sha256:" + String(decoding: f[8], as: UTF8.self)) else { continue }
            entries[Key(dev: dev, ino: ino, size: size, mtimeSec: ms, mtimeNsec: mn, ctimeSec: cs, ctimeNsec: cn)] = (id, rec)
        }
    }

    // The cache's I/O bypasses `Sys` and its fault-injection seam on purpose: it is best effort,
    // outside the durable write paths, and its failures are ignored.
    private static func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return n == 0 ? out : nil }
            out.append(contentsOf: buf[0..<n])
            if out.count > 64 << 20 { return nil }
        }
    }

    /// Writes the cache back (temp file and rename; no fsync: losing it only costs a re-hash).
    func save(tmpDir: String) {
        guard dirty, let path else { return }
        var kept = entries
        if kept.count > Self.maxEntries {
            kept = Dictionary(uniqueKeysWithValues: kept.sorted { $0.value.recorded > $1.value.recorded }.prefix(Self.maxEntries).map { ($0.key, $0.value) })
        }
        var text = ""
        text.reserveCapacity(kept.count * 120)
        for (k, v) in kept {
            text += "\(k.dev) \(k.ino) \(k.size) \(k.mtimeSec) \(k.mtimeNsec) \(k.ctimeSec) \(k.ctimeNsec) \(v.recorded) \(v.id.hex)\n"
        }
        let dir = String(path[..<path.lastIndex(of: "/")!])
        _ = mkdir(dir, 0o755)
        let tmp = tmpDir + "/cache-\(Sys.pid)-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        var ok = true
        Array(text.utf8).withUnsafeBytes { buf in
            var done = 0
            while done < buf.count {
                let n = write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { ok = false; return }
                done += n
            }
        }
        close(fd)
        if !ok || rename(tmp, path) != 0 { unlink(tmp) }
    }
}
