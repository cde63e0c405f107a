#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Copies models between two registries, each a directory or a bucket (`push`, `pull`, `clone`):
/// objects first (every object the destination lacks, verified on the way, several at once), then
/// per model the version indexes and `HEAD`, by compare-and-swap and only as a fast-forward: the
/// destination's `HEAD` must be the source's or an entry of its history. A destination whose
/// history went another way is left as it is and reported (`.conflict`, exit 4), as git refuses a
/// non-fast-forward push. Interrupted anywhere, the destination is valid (objects without refs are
/// unreferenced; an object is visible under its name only when complete) and a rerun completes it.
public struct RegistryCopy: Sendable {
    public let source: RegistryStorage
    public let destination: RegistryStorage
    /// Downloads being verified, and history entries read from the source.
    let scratch: String
    let scratchStore: ObjectStore

    public enum Outcome: String, Sendable { case created = "new", fastForward = "fast-forward", upToDate = "up to date", diverged }

    public struct Report: Sendable {
        public var objectsCopied = 0
        public var models: [(model: String, outcome: Outcome, head: String)] = []
    }

    public init(from source: RegistryStorage, to destination: RegistryStorage) throws {
        self.source = source
        self.destination = destination
        scratch = NSTemporaryDirectory() + "/mreg-copy-\(Sys.pid)-\(UInt64.random(in: 0...UInt64.max))"
        for dir in ["objects", "tmp"] { try FileTree.ensure(scratch + "/" + dir) }
        scratchStore = ObjectStore(root: scratch + "/objects", tmpDir: scratch + "/tmp")
    }

    /// Copies `models` (all when empty).
    public func run(models: [ModelName] = []) throws -> Report {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try RemoteSession.checkConfig(source)
        try RemoteSession.checkConfig(destination)
        // A directory destination: as a writer, hold gc off until the refs name what was copied.
        let gcGuard = try (destination as? DirectoryStorage).map { try RegistryLock.shared($0.root) }
        defer { withExtendedLifetime(gcGuard) {} }

        var report = Report()
        report.objectsCopied = try copyObjects()
        let wanted = Set(models.map(\.value))
        var refs: [String: [String]] = [:]
        for key in try source.list("models/") where RemoteSession.isRef(key) {
            let parts = key.split(separator: "/")
            guard parts.count >= 3, wanted.isEmpty || wanted.contains(String(parts[1])) else { continue }
            refs[String(parts[1]), default: []].append(key)
        }
        for m in wanted where refs[m] == nil { throw MregError.invalid("unknown model \"\(m)\" in \(source.location)") }
        var diverged: [String] = []
        for model in refs.keys.sorted() {
            let (outcome, head, note) = try copyModel(model, keys: refs[model]!)
            report.models.append((model, outcome, head))
            if let note { diverged.append(note) }
        }
        if !diverged.isEmpty { throw MregError.conflict(diverged.joined(separator: "; ")) }
        return report
    }

    // MARK: - Objects

    func copyObjects() throws -> Int {
        let present = Set(try destination.list("objects/"))
        let missing = try source.list("objects/").filter { !present.contains($0) }
        try ParallelWork.forEach(missing.count) { [self] i in try copyObject(missing[i]) }
        return missing.count
    }

    /// Verifies one object and uploads it create-only. An object of a directory is verified where
    /// it is and sent from there (a large one while its parts go up: it appears at the
    /// destination only once verified); one of a bucket is downloaded into the scratch store first.
    func copyObject(_ key: String) throws {
        let hex = String(key.dropFirst("objects/".count).filter { $0 != "/" })
        guard let id = ObjectID("sha256:" + hex) else { return }  // not an object: a stray file
        if let directory = source as? DirectoryStorage {
            let store = ObjectStore(root: directory.root + "/objects", tmpDir: directory.root + "/tmp")
            let location = source.location
            _ = try destination.uploadIfAbsent(key, from: store.path(of: id), verifying: {
                do { _ = try store.verify(id) } catch {
                    throw MregError.corrupt("object \(id) in \(location) does not verify: \(MregError.wrap(error)?.message ?? "\(error)")")
                }
            })
            return
        }
        try fetchToScratch(id, key: key)
        _ = try destination.uploadIfAbsent(key, from: scratchStore.path(of: id))
    }

    func fetchToScratch(_ id: ObjectID, key: String? = nil) throws {
        if scratchStore.contains(id) { return }
        let tmp = scratch + "/tmp/\(id.hex)-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? Sys.unlink(tmp) }
        guard try source.download(key ?? RemoteSession.objectKey(id), to: tmp) else {
            throw MregError.corrupt("object \(id) is missing from \(source.location)")
        }
        try FileTree.ensure(scratchStore.directory(of: id))
        _ = chmod(tmp, 0o444)
        do { try Sys.link(tmp, scratchStore.path(of: id)) } catch let f as Sys.Failure where f.errno == EEXIST {}
        do { _ = try scratchStore.verify(id) } catch {
            try? Sys.unlink(scratchStore.path(of: id))
            throw MregError.corrupt("object \(id) in \(source.location) does not verify: \(MregError.wrap(error)?.message ?? "\(error)")")
        }
    }

    func entry(_ id: ObjectID) throws -> HistoryEntry {
        try fetchToScratch(id)
        return try HistoryEntry(json: try JSON.parse(try scratchStore.get(id, limit: 64 << 20)), source: "history entry \(id)")
    }

    // MARK: - Refs

    func copyModel(_ model: String, keys: [String]) throws -> (Outcome, String, String?) {
        let headKey = "models/\(model)/HEAD"
        guard let head = try source.get(headKey) else { return (.upToDate, "", nil) }
        let headText = String(decoding: head.bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let headID = ObjectID(headText) else { throw MregError.corrupt("\(source.location)/\(headKey) holds no object id") }
        let current = try destination.get(headKey)
        var outcome = Outcome.created
        if let current {
            let text = String(decoding: current.bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if current.bytes == head.bytes {
                outcome = .upToDate
            } else if let theirs = ObjectID(text), try reaches(headID, theirs) {
                outcome = .fastForward
            } else {
                return (.diverged, headText, "\(model) diverged: \(destination.location) has HEAD \(text), which is not in the history of \(source.location) (HEAD \(headText)); nothing of \(model) was changed")
            }
        }
        let indexes = keys.filter { $0 != headKey }
        let directory = destination is DirectoryStorage
        if directory, let d = destination as? DirectoryStorage { try FileTree.ensure(d.root + "/models/\(model)/versions") }
        // A directory reads indexes past HEAD's count as not there yet: write them first, as
        // register does. Elsewhere only after HEAD, so that a lost race leaves no index behind.
        if directory { try copyIndexes(indexes); try fillIndexes(model, head: headID, present: indexes) }
        if outcome != .upToDate {
            guard try destination.compareAndSwap(headKey, head.bytes, expected: current?.version) else {
                throw MregError.conflict("\(model) was changed in \(destination.location) while it was being copied; nothing of \(model) was changed; retry")
            }
        }
        if !directory { try copyIndexes(indexes); try fillIndexes(model, head: headID, present: indexes) }
        return (outcome, headText, nil)
    }

    func copyIndexes(_ keys: [String]) throws {
        for key in keys {
            guard let ref = try source.get(key) else { continue }
            if try !destination.putIfAbsent(key, ref.bytes), let there = try destination.get(key), there.bytes != ref.bytes {
                // Left by a register that never committed (past the destination's count): replace.
                _ = try destination.compareAndSwap(key, ref.bytes, expected: there.version)
            }
        }
    }

    /// Whether `ancestor` is `id` or an entry of its history (read from the source).
    func reaches(_ id: ObjectID, _ ancestor: ObjectID) throws -> Bool {
        var next: ObjectID? = id
        while let current = next {
            if current == ancestor { return true }
            next = try entry(current).prev
        }
        return false
    }
}

/// A value shared between copying threads.
final class SharedValue<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T { lock.withLock { stored } }
    @discardableResult
    func update<R>(_ body: (inout T) -> R) -> R { lock.withLock { body(&stored) } }
}
