#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Where a registry's bytes live, as the operations the registry needs: whole-key reads,
/// create-only writes (objects and version indexes), compare-and-swap of a mutable ref (`HEAD`),
/// listing, deletion, and streamed reads and writes of large objects. Keys are relative to the
/// registry (`config`, `objects/3f/9a1c…`, `models/fraud/HEAD`), `/`-separated.
///
/// Two implementations: `DirectoryStorage` (a registry directory, today's layout) and S3 (the
/// MregRemote target), so the code that copies between registries (`RemoteSession`) is written once.
public protocol RegistryStorage: AnyObject, Sendable {
    /// How a user names it: a path or `s3://BUCKET/PREFIX`.
    var location: String { get }
    /// The bytes and a version token (an S3 ETag, a hash for a directory), or nil when absent.
    func get(_ key: String) throws -> (bytes: [UInt8], version: String)?
    /// Writes only if the key does not exist; false when it does (nothing changed).
    func putIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool
    /// Replaces the key only if its version is still `expected` (nil: only if it does not exist);
    /// false when another writer got there first (nothing changed).
    func compareAndSwap(_ key: String, _ bytes: [UInt8], expected: String?) throws -> Bool
    /// Every key under `prefix`, sorted.
    func list(_ prefix: String) throws -> [String]
    /// Every key under `prefix`, sorted, with its version token where the listing gives it (S3's
    /// ETags; nil for a directory): a reader can skip the keys it holds at that version already.
    func listVersions(_ prefix: String) throws -> [(key: String, version: String?)]
    func delete(_ key: String) throws
    /// Streams the key into a new file at `path`; false (and no file) when absent.
    func download(_ key: String, to path: String) throws -> Bool
    /// Streams the file at `path` to the key, create-only: the key appears complete or not at all;
    /// false when it already existed. `verifying`, when given, checks the file (an object's hash):
    /// its error is thrown and the key never appears. It may run while the bytes are sent (a large
    /// upload's parts), but always before the key appears.
    func uploadIfAbsent(_ key: String, from path: String, verifying: (@Sendable () throws -> Void)?) throws -> Bool
}

extension RegistryStorage {
    /// The keys, without versions.
    public func listVersions(_ prefix: String) throws -> [(key: String, version: String?)] {
        try list(prefix).map { ($0, nil) }
    }

    /// `uploadIfAbsent(_:from:verifying:)` with nothing to verify.
    public func uploadIfAbsent(_ key: String, from path: String) throws -> Bool {
        try uploadIfAbsent(key, from: path, verifying: nil)
    }

    /// The key of an object (`objects/<2 hex>/<62 hex>`, as in a directory).
    public static func objectKey(_ id: ObjectID) -> String { "objects/\(id.hex.prefix(2))/\(id.hex.dropFirst(2))" }
}

/// A registry directory as `RegistryStorage`: create-only writes by `link()`, compare-and-swap
/// under the ref's lock file, every write temp file → fsync → link or rename → fsync directory.
public final class DirectoryStorage: RegistryStorage, @unchecked Sendable {
    public let root: String
    public var location: String { root }

    public init(root: String) { self.root = root }

    func path(_ key: String) throws -> String {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw MregError.invalid("storage key \(ModelName.show(key)) is not a relative path")
        }
        return root + "/" + key
    }

    static func version(_ bytes: [UInt8]) -> String {
        ObjectID.of(bytes).hex
    }

    public func get(_ key: String) throws -> (bytes: [UInt8], version: String)? {
        let p = try path(key)
        do {
            let bytes = try Sys.readFile(p, limit: 256 << 20, noFollow: true)
            return (bytes, Self.version(bytes))
        } catch let f as Sys.Failure where f.errno == ENOENT {
            return nil
        }
    }

    /// temp file in `tmp/` → write → fsync.
    func writeTemp(_ bytes: [UInt8]) throws -> String {
        try Sys.ensureDirectory(root + "/tmp")
        let tmp = root + "/tmp/storage-\(Sys.pid)-\(UInt64.random(in: 0...UInt64.max))"
        let fd = try Sys.open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        defer { Sys.close(fd) }
        do {
            try Sys.writeAll(fd, bytes, path: tmp)
            try Sys.fsync(fd, path: tmp)
        } catch {
            try? Sys.unlink(tmp)
            throw error
        }
        return tmp
    }

    func ensureParent(_ p: String) throws -> String {
        let dir = String(p[..<p.lastIndex(of: "/")!])
        try FileTree.ensure(dir)
        return dir
    }

    public func putIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool {
        let p = try path(key)
        if Sys.exists(p) { return false }
        let dir = try ensureParent(p)
        let tmp = try writeTemp(bytes)
        defer { try? Sys.unlink(tmp) }
        do { try Sys.link(tmp, p) } catch let f as Sys.Failure where f.errno == EEXIST { return false }
        try Sys.fsyncDirectory(dir)
        return true
    }

    public func compareAndSwap(_ key: String, _ bytes: [UInt8], expected: String?) throws -> Bool {
        let p = try path(key)
        _ = try ensureParent(p)
        let lock = try LockFile.acquire(p + ".lock")
        defer { lock.release() }
        guard try get(key)?.version == expected else { return false }
        try Sys.ensureDirectory(root + "/tmp")
        try Registry.writeFileAtomically(p, bytes, tmpDir: root + "/tmp")
        return true
    }

    public func list(_ prefix: String) throws -> [String] {
        var keys: [String] = []
        func walk(_ rel: String) throws {
            let full = rel.isEmpty ? root : root + "/" + rel
            for name in try Sys.listDirectory(full) {
                let child = rel.isEmpty ? name : rel + "/" + name
                if Sys.isDirectory(root + "/" + child, followLinks: false) { try walk(child) } else { keys.append(child) }
            }
        }
        // Start from the deepest whole directory of the prefix.
        let base = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) : ""
        guard base.isEmpty || Sys.isDirectory(root + "/" + base, followLinks: false) else { return [] }
        try walk(base)
        return keys.filter { $0.hasPrefix(prefix) }.sorted()
    }

    public func delete(_ key: String) throws {
        let p = try path(key)
        do { try Sys.unlink(p) } catch let f as Sys.Failure where f.errno == ENOENT {}
    }

    public func download(_ key: String, to target: String) throws -> Bool {
        let p = try path(key)
        guard Sys.exists(p) else { return false }
        try FileTree.copy(p, to: target)
        return true
    }

    public func uploadIfAbsent(_ key: String, from source: String, verifying: (@Sendable () throws -> Void)?) throws -> Bool {
        try verifying?()
        let p = try path(key)
        if Sys.exists(p) { return false }
        let dir = try ensureParent(p)
        try Sys.ensureDirectory(root + "/tmp")
        let tmp = root + "/tmp/storage-\(Sys.pid)-\(UInt64.random(in: 0...UInt64.max))"
        try FileTree.copy(source, to: tmp, sync: true)
        defer { try? Sys.unlink(tmp) }
        if key.hasPrefix("objects/") { _ = chmod(tmp, 0o444) }  // objects are read-only, as the store writes them
        do { try Sys.link(tmp, p) } catch let f as Sys.Failure where f.errno == EEXIST { return false }
        try Sys.fsyncDirectory(dir)
        return true
    }
}

/// Small file-tree helpers for the storage code.
enum FileTree {
    /// `mkdir -p`.
    static func ensure(_ dir: String) throws {
        if Sys.isDirectory(dir) { return }
        if let slash = dir.lastIndex(of: "/"), slash != dir.startIndex { try ensure(String(dir[..<slash])) }
        _ = try Sys.ensureDirectory(dir)
    }

    /// Copies a file in 1 MiB buffers into a new file (fsynced when `sync`).
    static func copy(_ from: String, to: String, sync: Bool = false) throws {
        let input = try Sys.open(from, O_RDONLY)
        defer { Sys.close(input) }
        let output = try Sys.open(to, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { Sys.close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try Sys.read(input, $0.baseAddress!, $0.count, path: from) }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try Sys.writeAll(output, UnsafeRawBufferPointer(rebasing: $0[0..<n]), path: to) }
        }
        if sync { try Sys.fsync(output, path: to) }
    }
}
