#if canImport(Glibc)
import Glibc
#endif

/// What `gc` removed.
public struct GCReport: Sendable {
    public var kept = 0
    public var removedObjects = 0
    public var removedBytes: UInt64 = 0
    public var removedTemps = 0
    public var dryRun = false
}

extension Registry {
    /// For a model directory without `HEAD`: a description of the damage when `HEAD` was lost,
    /// nil when the directory is what a first register that never committed leaves.
    ///
    /// A model's first write (a register, or a policy or baseline set before any version) makes a
    /// durable `CREATING` marker, then `versions/`, and removes the marker only once `HEAD` is
    /// durable. So a headless directory with the marker, or without `versions/`, is a leftover; one
    /// with `versions/` (empty when the model has a history but no versions yet) and without the
    /// marker lost its `HEAD`: its history is unreachable, and gc must not collect it as garbage.
    func lostHistory(_ m: ModelName) -> String? {
        guard let listed = try? Sys.listDirectory(modelDir(m) + "/versions"),
              Sys.linkStatus(creatingMarkerPath(m)) == nil else { return nil }
        let indexed = listed.filter { Int($0) != nil }.count
        let what = indexed == 0 ? "the model has a history (its versions directory is there, with no version yet)"
            : "\(indexed) version\(indexed == 1 ? " is" : "s are") indexed"
        return "\(modelDir(m)): HEAD is missing but \(what): "
            + "HEAD was lost; write the id of the model's newest history entry into it (`mreg fsck` names it when it finds one; see docs/operations.md), "
            + "or remove the directory if the model never had a committed history"
    }

    /// Removes objects that no history reaches, and temporary files older than `grace` seconds.
    ///
    /// Holds the registry lock exclusively (no command that writes objects runs meanwhile), marks
    /// everything reachable from every model's `HEAD`, and stops without removing anything if any
    /// history cannot be read completely, or if history entries prove that a `HEAD` was moved back
    /// (see `LostHistory`): those entries and everything they name would look unreferenced.
    /// Unreferenced objects younger than `grace` are kept too.
    public func gc(grace: Double, dryRun: Bool = false) throws -> GCReport {
        let lock = try RegistryLock.exclusive(root)
        defer { withExtendedLifetime(lock) {} }
        let (objects, _) = try store.scan()
        let (keep, keepIndex, models) = try gcMark(objects, present: store.contains)

        var report = GCReport()
        report.dryRun = dryRun
        let now = Clock.now()
        for id in objects {
            if keep.contains(id) { report.kept += 1; continue }
            let p = store.path(of: id)
            guard let st = Sys.linkStatus(p) else { continue }
            if now - Double(st.st_mtim.tv_sec) < grace { report.kept += 1; continue }
            report.removedObjects += 1
            report.removedBytes += UInt64(st.st_size)
            if !dryRun { try Sys.unlink(p) }
        }
        // Leftovers of interrupted commands: temp files, lock staging files, and version index
        // entries above the committed count (no writer runs while gc holds the registry lock).
        var leftovers = ((try? Sys.listDirectory(tmpDir)) ?? []).map { tmpDir + "/" + $0 }
        var headless: [String] = []
        for name in Sys.isDirectory(modelsDir) ? try Sys.listDirectory(modelsDir) : [] {
            guard let m = try? ModelName(name) else { continue }
            guard let reach = models[m] else {
                // A first register that never reached its commit (lostHistory was checked while
                // marking): nothing refers to this directory, and no writer is inside a commit
                // while gc holds the registry lock.
                headless.append(modelDir(m))
                continue
            }
            // A marker that outlived its commit (a crash between the two).
            if Sys.linkStatus(creatingMarkerPath(m)) != nil { leftovers.append(creatingMarkerPath(m)) }
            leftovers += stagingFiles(m)
            if !keepIndex.contains(m) { leftovers += indexBeyondCount(m, reach.versions) }
        }
        for p in leftovers {
            guard let st = Sys.linkStatus(p), now - Double(st.st_mtim.tv_sec) >= grace else { continue }
            report.removedTemps += 1
            if !dryRun { try? Sys.unlink(p) }
        }
        for dir in headless {
            guard let st = Sys.linkStatus(dir), now - Double(st.st_mtim.tv_sec) >= grace else { continue }
            report.removedTemps += 1
            if !dryRun {
                Self.removeTree(dir)
                try Sys.fsyncDirectory(modelsDir)
            }
        }
        if !dryRun { try Sys.fsyncDirectory(store.root) }
        return report
    }

    /// What gc keeps of `objects`: everything reachable from every model's `HEAD`, and history no
    /// `HEAD` reaches that might have been committed (with what it names); the models whose version
    /// indexes beyond the committed count belong to such history. Throws, removing nothing, when a
    /// history cannot be read completely or a `HEAD` was proven moved back.
    ///
    /// - Parameters:
    ///   - present: whether an object is there (a working copy of a remote registry answers from
    ///     the bucket's listing).
    ///   - mayBeEntry: whether an unreferenced object is worth reading as a possible history entry.
    func gcMark(_ objects: [ObjectID], present: (ObjectID) -> Bool, mayBeEntry: (ObjectID) -> Bool = { _ in true })
        throws -> (keep: Set<ObjectID>, keepIndex: Set<ModelName>, models: [ModelName: Reach]) {
        let marked = try reachable(strict: true, present: present)
        var keep = marked.objects
        let models = marked.models

        // History no HEAD reaches: refuse when it was committed, keep what might have been.
        var found: [ObjectID: EntryLink] = [:]
        for id in objects where !keep.contains(id) && mayBeEntry(id) {
            if let e = foundEntry(id) { found[id] = e }
        }
        var keepIndex = Set<ModelName>()
        if !found.isEmpty {
            for (m, reach) in models.sorted(by: { $0.key < $1.key }) {
                guard let lost = lostHistory(m, reach, found: found) else { continue }
                if lost.certain { throw MregError.corrupt("gc stopped, nothing removed: \(lost.description)") }
                keepIndex.insert(m)
                for id in lost.entries { keepNamed(by: id, in: &keep, present: present) }
            }
        }
        return (keep, keepIndex, models)
    }

    /// Adds an entry that might have been committed, and every present object it names (with its
    /// record's), to the objects gc keeps.
    private func keepNamed(by id: ObjectID, in keep: inout Set<ObjectID>, present: (ObjectID) -> Bool) {
        keep.insert(id)
        guard let e = try? entry(id) else { return }
        for ref in e.referencedObjects where present(ref) { keep.insert(ref) }
        if e.event == .registered, let rid = e.record, let r = try? record(rid) {
            for ref in r.referencedObjects where present(ref) { keep.insert(ref) }
        }
    }

    /// Lock staging files in a model's directory (`HEAD.lock.tmp-PID-NONCE`): a lock's holder
    /// details, written before they are linked to the lock's name.
    func stagingFiles(_ m: ModelName) -> [String] {
        ((try? Sys.listDirectory(modelDir(m))) ?? []).filter { $0.hasPrefix("HEAD.lock.tmp-") }.sorted().map { modelDir(m) + "/" + $0 }
    }

    /// `versions/N` files above the committed count (left by a register that did not commit).
    func indexBeyondCount(_ m: ModelName, _ committed: Int) -> [String] {
        let names: [String] = (try? Sys.listDirectory(modelDir(m) + "/versions")) ?? []
        var beyond: [(n: Int, name: String)] = []
        for name in names {
            if let n = Int(name), n > committed { beyond.append((n, name)) }
        }
        return beyond.sorted { $0.n < $1.n }.map { modelDir(m) + "/versions/" + $0.name }
    }
}
