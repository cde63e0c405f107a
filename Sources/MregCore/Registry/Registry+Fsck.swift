#if canImport(Glibc)
import Glibc
#endif

/// What `fsck` found.
public struct FsckReport: Sendable {
    public var objects = 0
    public var bytes: UInt64 = 0
    public var models = 0
    public var versions = 0
    public var entries = 0
    /// Problems: each one line naming the object, ref or path and what is wrong.
    public var problems: [String] = []
    /// Harmless findings (leftover temporary files, locks held right now).
    public var notes: [String] = []

    public var ok: Bool { problems.isEmpty }
}

extension Registry {
    /// Verifies everything: every object re-hashed, every history chain and record parsed, every
    /// ref and index pointing at what the history says.
    public func fsck() throws -> FsckReport {
        var report = FsckReport()
        let (objects, strays) = try store.scan()
        var good = Set<ObjectID>()
        for id in objects {
            do {
                let info = try store.verify(id)
                good.insert(id)
                report.bytes += info.size
            } catch let e as MregError {
                report.problems.append(e.message)
            }
        }
        report.objects = objects.count
        for s in strays {
            let link = Sys.linkStatus(s).map { ($0.st_mode & S_IFMT) == S_IFLNK } ?? false
            report.problems.append("\(s): unexpected \(link ? "symbolic link" : "file") in the object store")
        }

        let present = Set(objects)
        func need(_ id: ObjectID, _ what: String) -> Bool {
            if good.contains(id) { return true }
            report.problems.append("\(what): object \(id) is \(present.contains(id) ? "corrupt (see above)" : "missing")")
            return false
        }

        let names = Sys.isDirectory(modelsDir) ? try Sys.listDirectory(modelsDir).sorted() : []
        for name in names {
            guard let m = try? ModelName(name) else {
                report.problems.append("\(modelsDir)/\(name): not a valid model name")
                continue
            }
            report.models += 1
            if Sys.exists(headPath(m) + ".lock") {
                report.notes.append("\(headPath(m)).lock exists: a command is writing \(m), or one was killed (see docs/operations.md)")
            }
            var headID: ObjectID?
            var lost: String?
            do {
                headID = try head(m)
                if headID == nil, let damage = lostHistory(m) {
                    // A first register may commit between the two looks: read HEAD again before
                    // calling its absence damage.
                    headID = try head(m)
                    lost = damage
                }
            } catch let e as MregError {
                report.problems.append(e.message)
                continue
            }
            guard let headID else {
                if let lost {
                    report.problems.append(lost)
                } else {
                    report.notes.append("\(modelDir(m)): no HEAD (a first register did not commit, or is under way); `mreg gc` removes it")
                }
                continue
            }
            if Sys.linkStatus(creatingMarkerPath(m)) != nil {
                report.notes.append("\(creatingMarkerPath(m)): left by a first register that was cut short after its commit; `mreg gc` removes it")
            }
            var registered: [Int: ObjectID] = [:]
            var expectedSeq: Int?
            var next: ObjectID? = headID
            var headState: ModelState?
            var chainOK = true
            while let id = next {
                guard need(id, "history of \(m)") else { chainOK = false; break }
                let e: HistoryEntry
                do { e = try entry(id) } catch let err as MregError {
                    report.problems.append("history of \(m): \(err.message)")
                    chainOK = false
                    break
                }
                report.entries += 1
                if headState == nil { headState = e.state }
                if e.model != m { report.problems.append("history of \(m): entry \(id) belongs to model \(e.model)") }
                if let want = expectedSeq, e.seq != want {
                    report.problems.append("history of \(m): entry \(id) has sequence \(e.seq), expected \(want) (broken chain)")
                    chainOK = false
                    break
                }
                expectedSeq = e.seq - 1
                if e.prev == nil && e.seq != 1 {
                    report.problems.append("history of \(m): entry \(id) has sequence \(e.seq) but no previous entry (truncated history)")
                    chainOK = false
                }
                if e.event == .registered, let v = e.version, let r = e.record {
                    registered[v] = r
                }
                for ref in e.referencedObjects where ref != e.prev { _ = need(ref, "history entry \(id) of \(m)") }
                next = e.prev
            }
            guard chainOK, let state = headState else { continue }
            if registered.count != state.versions || (1...max(1, state.versions)).contains(where: { state.versions > 0 && registered[$0] == nil }) {
                report.problems.append("history of \(m): state says \(state.versions) versions, the history registers \(registered.count)")
            }
            for n in 1...max(state.versions, 1) where state.versions > 0 {
                let idx = versionIndexPath(m, n)
                do {
                    guard let rid = try readRef(idx) else {
                        report.problems.append("\(idx): missing (\(m)@\(n) is registered)")
                        continue
                    }
                    if let want = registered[n], want != rid {
                        report.problems.append("\(idx): points at \(rid), the history registered \(want)")
                    }
                    guard need(rid, "\(m)@\(n)") else { continue }
                    let r = try record(rid)
                    report.versions += 1
                    if r.model != m || r.version != n { report.problems.append("\(idx): points at the record of \(r.name)") }
                    if let conflict = r.pathConflict { report.problems.append("version record \(rid) of \(m)@\(n): \(conflict)") }
                    for a in r.artifacts { _ = need(a.object, "\(m)@\(n) artifact \(a.path)") }
                    _ = need(r.metricsFile, "\(m)@\(n) metrics file")
                    if let p = r.paramsFile { _ = need(p, "\(m)@\(n) params file") }
                    if let e = r.evaluation { _ = need(e.predictions, "\(m)@\(n) predictions") }
                } catch let e as MregError {
                    report.problems.append(e.message)
                }
            }
            for (stage, c) in state.champions.sorted(by: { $0.key < $1.key }) where registered[c.version] != c.record {
                report.problems.append("\(m)@\(stage): champion names \(m)@\(c.version) with record \(c.record), which the history did not register")
            }
        }
        let temps = (try? Sys.listDirectory(tmpDir)) ?? []
        if !temps.isEmpty {
            report.notes.append("\(temps.count) temporary file\(temps.count == 1 ? "" : "s") in \(tmpDir) (left by running or interrupted commands; `mreg gc` removes old ones)")
        }
        return report
    }
}

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
    /// A first register writes a durable `CREATING` marker before it indexes anything and removes
    /// it only once `HEAD` is durable. So a headless directory with the marker, or with no indexed
    /// version, is a leftover; one that indexes versions without the marker lost its `HEAD`: its
    /// history is unreachable, and gc must not collect it as garbage.
    func lostHistory(_ m: ModelName) -> String? {
        let indexed = ((try? Sys.listDirectory(modelDir(m) + "/versions")) ?? []).filter { Int($0) != nil }.count
        guard indexed > 0, Sys.linkStatus(creatingMarkerPath(m)) == nil else { return nil }
        return "\(modelDir(m)): HEAD is missing but \(indexed) version\(indexed == 1 ? " is" : "s are") indexed: "
            + "HEAD was lost; restore it from a backup or write the id of the model's newest history entry into it, "
            + "or remove the directory if the model never had a committed version (see docs/operations.md)"
    }

    /// Removes objects that no history reaches, and temporary files older than `grace` seconds.
    ///
    /// Holds the registry lock exclusively (no command that writes objects runs meanwhile), marks
    /// everything reachable from every model's `HEAD`, and stops without removing anything if any
    /// history cannot be read completely. Unreferenced objects younger than `grace` are kept too.
    public func gc(grace: Double, dryRun: Bool = false) throws -> GCReport {
        let lock = try RegistryLock.exclusive(root)
        defer { withExtendedLifetime(lock) {} }
        var reachable = Set<ObjectID>()
        func mark(_ id: ObjectID) throws {
            guard store.contains(id) else {
                throw MregError.corrupt("gc stopped, nothing removed: object \(id) is referenced but missing; run `mreg fsck`")
            }
            reachable.insert(id)
        }
        for name in Sys.isDirectory(modelsDir) ? try Sys.listDirectory(modelsDir) : [] {
            guard let m = try? ModelName(name) else { continue }
            guard let headID = try head(m) else {
                if let lost = lostHistory(m) { throw MregError.corrupt("gc stopped, nothing removed: \(lost)") }
                continue
            }
            // Entries are walked once each along `prev`. An entry may already be in `reachable`
            // because a later entry names it (a promotion's prior_changes), so being marked is not
            // the same as being walked: stopping there would leave everything older unmarked.
            var walked = Set<ObjectID>()
            var next: ObjectID? = headID
            while let id = next {
                guard walked.insert(id).inserted else { break }
                try mark(id)
                let e = try entry(id)
                for ref in e.referencedObjects where ref != e.prev { try mark(ref) }
                if e.event == .registered, let rid = e.record {
                    let r = try record(rid)
                    for ref in r.referencedObjects { try mark(ref) }
                }
                next = e.prev
            }
        }
        var report = GCReport()
        report.dryRun = dryRun
        let now = Clock.now()
        let (objects, _) = try store.scan()
        for id in objects {
            if reachable.contains(id) { report.kept += 1; continue }
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
            guard let headID = try head(m) else {
                // A first register that never reached its commit (lostHistory was checked while
                // marking): nothing refers to this directory, and no writer is inside a commit
                // while gc holds the registry lock.
                headless.append(modelDir(m))
                continue
            }
            // A marker that outlived its commit (a crash between the two).
            if Sys.linkStatus(creatingMarkerPath(m)) != nil { leftovers.append(creatingMarkerPath(m)) }
            leftovers += ((try? Sys.listDirectory(modelDir(m))) ?? []).filter { $0.hasPrefix("HEAD.lock.tmp-") }.map { modelDir(m) + "/" + $0 }
            let committed = try entry(headID).state.versions
            leftovers += ((try? Sys.listDirectory(modelDir(m) + "/versions")) ?? [])
                .filter { Int($0).map { $0 > committed } ?? false }.map { modelDir(m) + "/versions/" + $0 }
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
}
