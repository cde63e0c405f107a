#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A registry kept in a `RegistryStorage` (an S3 bucket), worked on through a local working copy:
/// the registry code of one command runs unchanged on a private directory that holds the remote
/// refs, reads objects through a shared local cache (downloaded on first use, verified), and when
/// the command succeeds its changes are pushed back: new objects create-only, then each changed
/// `HEAD` by compare-and-swap against the version read at the start, then new version indexes.
///
///     <cache>/objects/…     immutable objects from the remote, shared by every command
///     <cache>/refs/models/… refs as last read, with their versions (`RefCache`)
///     <cache>/tmp/          downloads in progress
///     <cache>/work/PID-N/   one command's working registry (its own objects/, tmp/, models/)
///
/// Two commands racing through the bucket end as on one disk: the second compare-and-swap of a
/// `HEAD` fails, the command exits 4, nothing of it is visible (its objects are unreferenced).
public final class RemoteSession: @unchecked Sendable {
    public let storage: RegistryStorage
    public let registry: Registry
    let cache: String
    let work: String
    let cacheStore: ObjectStore
    let refCache: RefCache
    /// Refs as read at the start: key → (bytes, version).
    var pulled: [String: (bytes: [UInt8], version: String)] = [:]
    /// Objects that came from the remote (not to be pushed back).
    var fetched = Set<ObjectID>()
    let lock = NSLock()

    init(storage: RegistryStorage, cache: String) throws {
        self.storage = storage
        self.cache = cache
        for dir in ["objects", "tmp", "work"] { try FileTree.ensure(cache + "/" + dir) }
        work = cache + "/work/\(Sys.pid)-\(UInt64.random(in: 0...UInt64.max))"
        for dir in ["objects", "tmp", "models"] { try FileTree.ensure(work + "/" + dir) }
        let config = try Sys.open(work + "/" + Registry.configName, O_WRONLY | O_CREAT | O_TRUNC)
        defer { Sys.close(config) }
        try Sys.writeAll(config, Registry.configBytes, path: work + "/" + Registry.configName)
        cacheStore = ObjectStore(root: cache + "/objects", tmpDir: cache + "/tmp")
        refCache = RefCache(cache: cache)
        registry = try Registry.openAt(work, how: storage.location)
        ObjectSources.register(root: registry.store.root) { [weak self] id in try self?.fetch(id) ?? false }
    }

    static func open(storage: RegistryStorage, cache: String) throws -> RemoteSession {
        try checkConfig(storage)
        let session = try RemoteSession(storage: storage, cache: cache)
        do { try session.pull() } catch { session.close(); throw error }
        return session
    }

    static func create(storage: RegistryStorage, cache: String) throws -> RemoteSession {
        guard try storage.putIfAbsent(Registry.configName, Registry.configBytes) else {
            throw MregError.invalid("\(storage.location) is already an mreg registry")
        }
        return try RemoteSession(storage: storage, cache: cache)
    }

    static func checkConfig(_ storage: RegistryStorage) throws {
        guard let config = try storage.get(Registry.configName) else {
            throw MregError.invalid("\(storage.location) is not an mreg registry: \(Registry.configName) is missing; run `mreg init \(storage.location)` to create one")
        }
        guard let json = try? JSON.parse(config.bytes), json["format"]?.string == "mreg-registry", json["version"]?.int == 1 else {
            throw MregError.corrupt("\(storage.location)/\(Registry.configName): not an mreg registry config of version 1")
        }
    }

    /// Whether a key under `models/` is a ref (not a lock, the staging file of a lock that a crash
    /// left, `HEAD.lock.tmp-PID-N`, or a marker of a local command).
    static func isRef(_ key: String) -> Bool {
        !key.hasSuffix(".lock") && !key.contains(".lock.tmp-") && !key.hasSuffix("/CREATING")
    }

    // MARK: - Pull

    /// Reads every ref under `models/` into the working copy, and fills in version indexes that a
    /// writer cut short after its `HEAD` moved did not write (they follow from the history).
    ///
    /// Refs are listed with their versions, and only those the local cache does not hold at that
    /// version are read (`RefCache`): on a warm cache, one LIST and the GETs of the refs that
    /// changed since the last command.
    func pull() throws {
        let listed = try storage.listVersions("models/").filter { Self.isRef($0.key) }
        if let bad = listed.first(where: { !RefCache.safe($0.key) }) {
            throw MregError.corrupt("\(storage.location)/\(bad.key): not a ref name (an empty, . or .. component)")
        }
        let read = SharedValue([String: (bytes: [UInt8], version: String)]())
        var toGet: [String] = []
        for (key, version) in listed {
            if let version, let cached = refCache.read(key, version: version) {
                read.update { $0[key] = cached }
            } else {
                toGet.append(key)
            }
        }
        try ParallelWork.forEach(toGet.count) { [storage, refCache, toGet] i in
            guard let ref = try storage.get(toGet[i]) else { return }
            read.update { $0[toGet[i]] = ref }
            refCache.write(toGet[i], ref.bytes, version: ref.version)
        }
        pulled = read.value
        for (key, ref) in pulled.sorted(by: { $0.key < $1.key }) {
            let path = work + "/" + key
            try FileTree.ensure(String(path[..<path.lastIndex(of: "/")!]))
            let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC)
            defer { Sys.close(fd) }
            try Sys.writeAll(fd, ref.bytes, path: path)
        }
        for m in try registry.modelNames() { try repairIndex(m) }
    }

    func repairIndex(_ m: ModelName) throws {
        guard let head = try registry.head(m) else { return }
        let versions = try registry.entry(head).state.versions
        let missing = (1...max(versions, 1)).filter { $0 <= versions && !Sys.exists(registry.versionIndexPath(m, $0)) }
        guard !missing.isEmpty else { return }
        var wanted = Set(missing)
        try FileTree.ensure(registry.modelDir(m) + "/versions")
        try registry.walkHistory(m) { _, e in
            if e.event == .registered, let n = e.details["version"]?.int, wanted.contains(n),
               let record = e.details["record"]?.string, let id = ObjectID(record) {
                try Registry.writeFileAtomically(registry.versionIndexPath(m, n), Array("\(id)\n".utf8), tmpDir: registry.tmpDir)
                wanted.remove(n)
            }
            return !wanted.isEmpty
        }
    }

    // MARK: - Objects

    /// Brings a missing object into the working copy: from the shared cache, else downloaded from
    /// the remote into the cache and verified there first. False when the remote has none.
    func fetch(_ id: ObjectID) throws -> Bool {
        if !cacheStore.contains(id) {
            let tmp = cache + "/tmp/get-\(Sys.pid)-\(UInt64.random(in: 0...UInt64.max))"
            defer { try? Sys.unlink(tmp) }
            guard try storage.download(RemoteSession.objectKey(id), to: tmp) else { return false }
            try FileTree.ensure(cacheStore.directory(of: id))
            do { try Sys.link(tmp, cacheStore.path(of: id)) } catch let f as Sys.Failure where f.errno == EEXIST {}
            do { _ = try cacheStore.verify(id) } catch {
                try? Sys.unlink(cacheStore.path(of: id))
                throw MregError.corrupt("object \(id) from \(storage.location) does not verify: \(MregError.wrap(error)?.message ?? "\(error)")")
            }
        }
        try FileTree.ensure(registry.store.directory(of: id))
        do { try Sys.link(cacheStore.path(of: id), registry.store.path(of: id)) } catch let f as Sys.Failure where f.errno == EEXIST {}
        lock.withLock { _ = fetched.insert(id) }
        return true
    }

    static func objectKey(_ id: ObjectID) -> String { "objects/\(id.hex.prefix(2))/\(id.hex.dropFirst(2))" }

    // MARK: - Push

    /// Objects the command wrote, create-only; then each changed `HEAD` by compare-and-swap; then
    /// the other new refs (version indexes), create-only.
    func push() throws {
        let (objects, _) = try registry.store.scan()
        let fetchedNow = lock.withLock { fetched }
        let written = objects.filter { !fetchedNow.contains($0) }
        try ParallelWork.forEach(written.count) { [self] i in
            let path = registry.store.path(of: written[i])
            _ = try storage.uploadIfAbsent(Self.objectKey(written[i]), from: path)
            // Into the shared cache, for the next command.
            try FileTree.ensure(cacheStore.directory(of: written[i]))
            do { try Sys.link(path, cacheStore.path(of: written[i])) } catch let f as Sys.Failure where f.errno == EEXIST {}
        }
        let local = try DirectoryStorage(root: work).list("models/").filter(Self.isRef)
        var changed: [(key: String, bytes: [UInt8])] = []
        for key in local {
            let bytes = try Sys.readFile(work + "/" + key, limit: 1 << 20, noFollow: true)
            if pulled[key]?.bytes != bytes { changed.append((key, bytes)) }
        }
        if !changed.isEmpty { Self.rendezvous() }
        // HEADs first: the commit points. Then what follows from them.
        for (key, bytes) in changed where key.hasSuffix("/HEAD") {
            guard try storage.compareAndSwap(key, bytes, expected: pulled[key]?.version) else {
                let model = key.dropFirst("models/".count).dropLast("/HEAD".count)
                throw MregError.conflict("\(model) was changed in \(storage.location) by another writer while this command ran (its HEAD moved); nothing was changed; retry")
            }
        }
        for (key, bytes) in changed where !key.hasSuffix("/HEAD") {
            if pulled[key] != nil {
                // A mutable ref other than HEAD (a model's OBSERVATIONS log, moved by `observe`,
                // which changes no HEAD): the same compare-and-swap, the same loss on a race.
                guard try storage.compareAndSwap(key, bytes, expected: pulled[key]!.version) else {
                    throw MregError.conflict("\(storage.location)/\(key) was changed by another writer while this command ran; nothing of this command is visible; retry")
                }
            } else if key.contains("/versions/"), changed.contains(where: { $0.key.hasSuffix("/HEAD") }) {
                // Past the commit point (a HEAD moved): an index that cannot be written now is
                // filled in from the history by the next command; the command succeeded.
                do { try putIndex(key, bytes) } catch {
                    Diagnostics.warn("committed, but \(storage.location)/\(key) was not written (\(MregError.wrap(error)?.message ?? "\(error)")); the next command fills it in")
                }
            } else if try !storage.putIfAbsent(key, bytes), try storage.get(key)?.bytes != bytes {
                if key.hasSuffix("/OBSERVATIONS") {
                    // A first observation log created by another writer meanwhile: a lost race.
                    throw MregError.conflict("\(storage.location)/\(key) was created by another writer while this command ran; nothing of this command is visible; retry")
                }
                Diagnostics.warn("\(storage.location)/\(key) already holds another value than this command wrote; run `mreg fsck` on a copy")
            }
        }
    }

    func putIndex(_ key: String, _ bytes: [UInt8]) throws {
        if try !storage.putIfAbsent(key, bytes), try storage.get(key)?.bytes != bytes {
            Diagnostics.warn("\(storage.location)/\(key) already holds another value than this command wrote; run `mreg fsck` on a copy")
        }
    }

    /// A seam for race tests: with `MREG_TEST_REMOTE_BARRIER=DIR`, a command about to commit says
    /// so (`DIR/ready.PID`) and waits for `DIR/go`, so that several commands built on the same
    /// `HEAD` commit together. At most 60 s.
    static func rendezvous() {
        guard let dir = ProcessInfo.processInfo.environment["MREG_TEST_REMOTE_BARRIER"], !dir.isEmpty else { return }
        FileManager.default.createFile(atPath: dir + "/ready.\(Sys.pid)", contents: nil)
        for _ in 0..<6000 where !FileManager.default.fileExists(atPath: dir + "/go") { usleep(10_000) }
    }

    /// Removes the working copy (objects it wrote are in the shared cache by then).
    func close() {
        ObjectSources.unregister(root: registry.store.root)
        try? FileManager.default.removeItem(atPath: work)
    }
}

/// Where a store finds an object missing from its directory: the remote behind a working copy.
/// `ObjectStore` asks before it reports an object missing.
enum ObjectSources {
    typealias Source = @Sendable (ObjectID) throws -> Bool
    nonisolated(unsafe) private static var sources: [String: Source] = [:]
    private static let lock = NSLock()

    static func register(root: String, _ source: @escaping Source) { lock.withLock { sources[root] = source } }
    static func unregister(root: String) { _ = lock.withLock { sources.removeValue(forKey: root) } }

    /// True when a source brought the object into `root`.
    static func fetch(_ id: ObjectID, root: String) throws -> Bool {
        guard let source = lock.withLock({ sources[root] }) else { return false }
        return try source(id)
    }
}
