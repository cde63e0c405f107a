#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The refs of a remote registry as commands last read them, each with the version (S3's ETag)
/// it had, under the local cache (`<cache>/refs/models/…`). A command lists the refs with their
/// versions (one LIST per 1,000 keys) and reads only those it has not seen at that version,
/// instead of every ref: a registry's version indexes never change, and most `HEAD`s have not
/// moved since the last command.
///
/// An entry is the version, the SHA-256 of the bytes (hex), each on a line, then the bytes. An
/// entry that does not parse, or whose bytes do not hash to its line, is not used (the ref is
/// read again): a damaged cache costs requests, never a wrong ref. Writes are temp file → rename,
/// so commands sharing the cache read whole entries.
struct RefCache {
    let root: String

    init(cache: String) { root = cache + "/refs" }

    /// The bytes of `key` at `version`, with the version as the GET that read them gave it (what
    /// a compare-and-swap is to send back), or nil when the cache does not hold that version.
    func read(_ key: String, version: String) -> (bytes: [UInt8], version: String)? {
        guard Self.safe(key), let entry = try? Sys.readFile(root + "/" + key, limit: 1 << 20, noFollow: true) else { return nil }
        guard let first = entry.firstIndex(of: 0x0A),
              let second = entry[(first + 1)...].firstIndex(of: 0x0A),
              Self.same(String(decoding: entry[..<first], as: UTF8.self), version) else { return nil }
        let bytes = Array(entry[(second + 1)...])
        guard String(decoding: entry[(first + 1)..<second], as: UTF8.self) == ObjectID.of(bytes).hex else { return nil }
        return (bytes, String(decoding: entry[..<first], as: UTF8.self))
    }

    /// Keeps `bytes` as `key` at `version`; best effort (a cache that cannot be written is not an error).
    func write(_ key: String, _ bytes: [UInt8], version: String) {
        guard Self.safe(key), !version.contains("\n") else { return }
        let path = root + "/" + key
        let tmp = root + "/tmp-\(Sys.pid)-\(UInt64.random(in: 0...UInt64.max))"
        do {
            try FileTree.ensure(String(path[..<path.lastIndex(of: "/")!]))
            let fd = try Sys.open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            defer { Sys.close(fd) }
            try Sys.writeAll(fd, Array("\(version)\n\(ObjectID.of(bytes).hex)\n".utf8) + bytes, path: tmp)
            if rename(tmp, path) != 0 { try? Sys.unlink(tmp) }
        } catch {
            try? Sys.unlink(tmp)
        }
    }

    /// A key made of non-empty components other than `.` and `..`.
    static func safe(_ key: String) -> Bool {
        !key.isEmpty && !key.split(separator: "/", omittingEmptySubsequences: false).contains { $0.isEmpty || $0 == "." || $0 == ".." }
    }

    /// Versions compared without their quotes (a listing's ETag and a GET's may differ in them).
    static func same(_ a: String, _ b: String) -> Bool {
        func bare(_ s: String) -> String { s.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        return !a.isEmpty && bare(a) == bare(b)
    }

}
