#if canImport(Glibc)
import Glibc
#endif

/// A registry directory (see docs/format.md for the layout):
///
///     config                      format marker
///     objects/ab/cdef…            content-addressed objects
///     tmp/                        objects being written
///     models/NAME/HEAD            id of the model's newest history entry (the only mutable ref)
///     models/NAME/HEAD.lock       present while a writer holds the model
///     models/NAME/versions/N      index: id of the record of NAME@N (derivable from the history)
///     gc.lock                     flock: writers shared, gc exclusive
public final class Registry: @unchecked Sendable {
    public let root: String
    public let store: ObjectStore
    /// Tests only: runs between a promotion's gate evaluation and its commit, to force races.
    var beforePromotionCommit: (() throws -> Void)?

    public static let configName = "config"
    public static let defaultDirectory = ".registry"
    static let configBytes = Array("{\"format\":\"mreg-registry\",\"version\":1}\n".utf8)

    init(root: String) {
        self.root = root
        self.store = ObjectStore(root: root + "/objects", tmpDir: root + "/tmp")
    }

    // MARK: - Finding and creating

    /// `MREG_REGISTRY` when it is set and names another directory than `root`: commands without
    /// `--registry` would use that one, which `init` tells a user about.
    public static func environmentRegistry(otherThan root: String) -> String? {
        guard let env = Sys.environment("MREG_REGISTRY"), !env.isEmpty, (Sys.realpath(env) ?? env) != root else { return nil }
        return env
    }

    /// Opens a registry: `explicit` (from `--registry`), else `MREG_REGISTRY`, else the nearest
    /// `.registry` directory walking up from the working directory.
    public static func open(explicit: String?) throws -> Registry {
        try Environment.validate()
        if let explicit, !explicit.isEmpty { return try openAt(explicit, how: "--registry") }
        if let env = Sys.environment("MREG_REGISTRY"), !env.isEmpty { return try openAt(env, how: "MREG_REGISTRY") }
        var dir = Sys.currentDirectory()
        while true {
            let candidate = dir == "/" ? "/" + defaultDirectory : dir + "/" + defaultDirectory
            if Sys.isDirectory(candidate) { return try openAt(candidate, how: "found") }
            if dir == "/" || dir.isEmpty { break }
            if let slash = dir.lastIndex(of: "/") {
                dir = slash == dir.startIndex ? "/" : String(dir[..<slash])
            } else { break }
        }
        throw MregError.invalid("no registry found: no .registry directory here or in any parent; run `mreg init` or pass --registry PATH")
    }

    static func openAt(_ path: String, how: String) throws -> Registry {
        if RemoteRegistries.isURL(path) { return try RemoteRegistries.open(path, how: how) }
        guard Sys.exists(path) else { throw MregError.invalid("registry \(path) (\(how)) does not exist") }
        guard Sys.isDirectory(path) else { throw MregError.invalid("registry \(path) (\(how)) is not a directory") }
        let config = path + "/" + configName
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(config, limit: 4096) } catch let f as Sys.Failure {
            guard f.errno == ENOENT else { throw f.mregError }
            let empty = ((try? Sys.listDirectory(path)) ?? []).isEmpty
            throw MregError.invalid("\(path) (\(how)) is not an mreg registry: \(configName) is missing; "
                                    + (empty ? "run `mreg init \(path)` to create one" : "it holds other files, so give the path of a registry, or `mreg init` a new directory"))
        }
        guard let json = try? JSON.parse(bytes), json["format"]?.string == "mreg-registry" else {
            throw MregError.corrupt("\(config): not an mreg registry config")
        }
        guard json["version"]?.int == 1 else {
            throw MregError.corrupt("\(config): registry format version \(json["version"].map { "\($0)" } ?? "?") is not supported by this mreg (1)")
        }
        return Registry(root: Sys.realpath(path) ?? path)
    }

    /// Creates an empty registry at `path` (default `./.registry`).
    @discardableResult
    public static func create(at path: String) throws -> Registry {
        try Environment.validate()
        if RemoteRegistries.isURL(path) { return try RemoteRegistries.create(path) }
        if Sys.exists(path + "/" + configName) { throw MregError.invalid("\(path) is already an mreg registry") }
        if let outer = enclosingRegistry(of: path) {
            throw MregError.invalid("cannot create a registry at \(path): it is inside the registry \(outer), and registries cannot be nested (the outer one's gc would delete the inner one's data); choose a directory outside it")
        }
        if Sys.exists(path) {
            guard Sys.isDirectory(path, followLinks: false) else { throw MregError.invalid("\(path) exists and is not a directory") }
            guard try Sys.listDirectory(path).isEmpty else {
                throw MregError.invalid("\(path) exists and is not empty; choose a new directory")
            }
        } else {
            do { try Sys.mkdir(path) } catch let f as Sys.Failure { throw MregError.invalid("cannot create \(path): \(f.reason)") }
        }
        for sub in ["objects", "tmp", "models"] { try Sys.ensureDirectory(path + "/" + sub) }
        try writeFileAtomically(path + "/" + configName, configBytes, tmpDir: path + "/tmp")
        try Sys.fsyncDirectory(path)
        return Registry(root: Sys.realpath(path) ?? path)
    }

    /// temp file → fsync → rename → fsync directory.
    ///
    /// Once the rename is done the new content is what every reader sees. If only the final
    /// directory fsync fails, `afterRename` (when given) gets the error instead of the caller: for
    /// `HEAD`, the change is made and reporting a failure would invite a user to make it twice.
    static func writeFileAtomically(_ path: String, _ bytes: [UInt8], tmpDir: String,
                                    afterRename: ((Error) -> Void)? = nil) throws {
        let tmp = tmpDir + "/ref-\(Sys.pid)-\(UInt64.random(in: 0...UInt64.max))"
        let fd = try Sys.open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        do {
            defer { Sys.close(fd) }
            try Sys.writeAll(fd, bytes, path: tmp)
            try Sys.fsync(fd, path: tmp)
        } catch {
            try? Sys.unlink(tmp)
            throw error
        }
        do { try Sys.rename(tmp, path) } catch {
            try? Sys.unlink(tmp)
            throw error
        }
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        do { try Sys.fsyncDirectory(dir) } catch {
            guard let afterRename else { throw error }
            afterRename(error)
        }
    }

    // MARK: - Paths

    var modelsDir: String { root + "/models" }
    func modelDir(_ m: ModelName) -> String { modelsDir + "/" + m.value }
    func headPath(_ m: ModelName) -> String { modelDir(m) + "/HEAD" }
    func versionIndexPath(_ m: ModelName, _ n: Int) -> String { modelDir(m) + "/versions/\(n)" }
    /// Present while a model's first register is under way, and left by one that never committed.
    func creatingMarkerPath(_ m: ModelName) -> String { modelDir(m) + "/CREATING" }
    var tmpDir: String { root + "/tmp" }

    // MARK: - Reading

    /// Models with a HEAD, sorted.
    public func modelNames() throws -> [ModelName] {
        guard Sys.isDirectory(modelsDir) else { return [] }
        return try Sys.listDirectory(modelsDir).compactMap { try? ModelName($0) }
            .filter { Sys.exists(headPath($0)) }.sorted()
    }

    /// Reads a ref file: one `sha256:<hex>` line.
    func readRef(_ path: String) throws -> ObjectID? {
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(path, limit: 1024, noFollow: true) } catch let f as Sys.Failure {
            switch f.errno {
            case ENOENT: return nil
            case ELOOP: throw MregError.corrupt("ref \(path) is a symbolic link; refs are regular files")
            case Sys.Failure.notRegularFile, EISDIR: throw MregError.corrupt("ref \(path) is not a regular file")
            default: throw f.mregError
            }
        }
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        guard let id = ObjectID(text) else {
            throw MregError.corrupt("ref \(path) holds \(ModelName.show(String(text.prefix(80)))), not an object id")
        }
        return id
    }

    /// The id of the model's newest history entry; nil if the model has none.
    public func head(_ m: ModelName) throws -> ObjectID? { try readRef(headPath(m)) }

    public func entry(_ id: ObjectID) throws -> HistoryEntry {
        let bytes = try store.get(id, limit: 64 << 20)
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { throw MregError.corrupt("history entry \(id) is not valid JSON: \(error)") }
        return try HistoryEntry(json: json, source: "history entry \(id)")
    }

    public func record(_ id: ObjectID) throws -> VersionRecord {
        let bytes = try store.get(id, limit: VersionRecord.sizeLimit)
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { throw MregError.corrupt("version record \(id) is not valid JSON: \(error)") }
        return try VersionRecord(json: json, source: "version record \(id)")
    }

    /// The model's newest entry, or an "unknown model" error (exit 2).
    public func headEntry(_ m: ModelName) throws -> (id: ObjectID, entry: HistoryEntry) {
        guard let id = try head(m) else { throw MregError.invalid("unknown model \"\(m)\"") }
        return (id, try entry(id))
    }

    /// The record id of `NAME@n`, checked against the model's state.
    func recordID(_ m: ModelName, _ n: Int, state: ModelState) throws -> ObjectID {
        guard n >= 1, n <= state.versions else {
            if state.versions == 0 { throw MregError.invalid("unknown version \(m)@\(n): \(m) has no versions yet") }
            throw MregError.invalid("unknown version \(m)@\(n): \(m) has \(state.versions) version\(state.versions == 1 ? "" : "s")")
        }
        guard let id = try readRef(versionIndexPath(m, n)) else {
            throw MregError.corrupt("version index \(versionIndexPath(m, n)) is missing; run `mreg fsck`")
        }
        return id
    }

    // MARK: - Writing history

    /// Appends one entry to a model's history under its lock and moves `HEAD` to it.
    ///
    /// `build` sees the current newest entry (nil for a new model) and returns the event, details
    /// and new state; it may throw (for example `.conflict` when the champion moved) and then
    /// nothing is written. Compare-and-swap: the entry names the head it was built on.
    ///
    /// When `build` or the commit fails with an error, `abort` runs while the lock is still held,
    /// to remove what `build` wrote beside the history (register's version index entry).
    @discardableResult
    func append(_ m: ModelName, abort: () -> Void = {},
                _ build: (_ headID: ObjectID?, _ head: HistoryEntry?) throws -> (HistoryEntry.Event, [String: JSON], ModelState))
        throws -> (id: ObjectID, entry: HistoryEntry) {
        let gcGuard = try RegistryLock.shared(root)
        defer { withExtendedLifetime(gcGuard) {} }
        if try Sys.ensureDirectory(modelDir(m)) { try Sys.fsyncDirectory(modelsDir) }
        let lock = try LockFile.acquire(headPath(m) + ".lock")
        defer { lock.release() }
        let headID = try head(m)
        if headID == nil {
            // No HEAD: a new model, unless HEAD was lost; then starting a new history over the
            // old index would hide the old one from fsck and hand it to gc.
            if let lost = lostHistory(m) { throw MregError.corrupt("\(m) cannot be written: \(lost)") }
            // A durable CREATING marker before anything is indexed: whatever happens before
            // the commit, the directory reads as a cut-short first register (see lostHistory).
            let marker = creatingMarkerPath(m)
            Sys.close(try Sys.open(marker, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644))
            try Sys.fsyncDirectory(modelDir(m))
            // Then `versions/`, durable before the commit: once the marker is gone it shows that
            // the model has a history, even one without versions yet (a policy set first), so a
            // lost HEAD is found and not mistaken for a leftover (see lostHistory).
            if try Sys.ensureDirectory(modelDir(m) + "/versions") { try Sys.fsyncDirectory(modelDir(m)) }
        }
        let current = try headID.map { try entry($0) }
        do {
            var (event, details, state) = try build(headID, current)
            // Keep the per-stage pointers to champion changes (see ModelState.priorChanges).
            if let current, let headID, current.event.changesChampion, let s = current.stage {
                state.priorChanges[s] = headID
            }
            let e = HistoryEntry(model: m, seq: (current?.seq ?? 0) + 1, prev: headID, event: event, details: details, state: state)
            let id = try store.put(e.json.canonicalBytes)
            let dir = modelDir(m)
            var durable = true
            try Self.writeFileAtomically(headPath(m), Array("\(id)\n".utf8), tmpDir: tmpDir) { error in
                durable = false
                let reason = (error as? Sys.Failure)?.reason ?? "\(error)"
                Diagnostics.warn("\(m): the change is made and visible, but syncing \(dir) failed (\(reason)); "
                                 + "it may not survive a power loss: check the disk")
            }
            if headID == nil && durable {
                // Only once HEAD is durable: a marker that outlives it is harmless (gc removes it).
                try? Sys.unlink(creatingMarkerPath(m))
                try? Sys.fsyncDirectory(dir)
            }
            return (id, e)
        } catch {
            // Only what this command wrote, and only if HEAD did not move after all.
            if (try? head(m)) == headID { abort() }
            throw error
        }
    }

    /// Walks the history from the newest entry back, calling `visit` until it returns false.
    public func walkHistory(_ m: ModelName, from start: ObjectID? = nil, _ visit: (ObjectID, HistoryEntry) throws -> Bool) throws {
        var next = try start ?? head(m)
        while let id = next {
            let e = try entry(id)
            if try !visit(id, e) { return }
            next = e.prev
        }
    }
}
