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

/// What fsck learned from re-hashing the objects, before it reads the refs.
struct FsckObjects {
    var objects: [ObjectID] = []
    var good = Set<ObjectID>()
    var bytes: UInt64 = 0
    /// Sizes as the headers declare them (verified).
    var sizes: [ObjectID: UInt64] = [:]
    /// Every history entry in the store: entries that no HEAD reaches are how a HEAD moved back shows.
    var found: [ObjectID: EntryLink] = [:]
    var problems: [String] = []

    mutating func add(_ id: ObjectID, _ check: ObjectCheck) {
        objects.append(id)
        if let problem = check.problem { problems.append(problem); return }
        good.insert(id)
        sizes[id] = check.size
        bytes += check.size ?? 0
        if let e = check.entry { found[id] = e }
    }
}

/// One object re-hashed: its size, whether it is small JSON, its history entry link; or the problem.
struct ObjectCheck: Sendable {
    var size: UInt64?
    var json = false
    var entry: EntryLink?
    var problem: String?
}

extension Registry {
    /// Verifies everything: every object re-hashed, every history chain and record parsed, every
    /// ref and index pointing at what the history says.
    public func fsck() throws -> FsckReport {
        let (objects, strays) = try store.scan()
        var scanned = FsckObjects()
        for id in objects { scanned.add(id, try checkObject(id)) }
        for s in strays {
            let link = Sys.linkStatus(s).map { ($0.st_mode & S_IFMT) == S_IFLNK } ?? false
            scanned.problems.append("\(s): unexpected \(link ? "symbolic link" : "file") in the object store")
        }
        return try fsck(scanned, present: store.contains)
    }

    /// Re-hashes one object (streamed) and, when it is a history entry, keeps its link.
    func checkObject(_ id: ObjectID) throws -> ObjectCheck {
        do {
            var keep = false
            var bytes: [UInt8] = []
            let info = try store.stream(id, reserve: { keep = $0 <= Self.entrySizeLimit }) { chunk in
                guard keep else { return }
                if bytes.isEmpty && chunk.first != UInt8(ascii: "{") { keep = false; return }
                bytes.append(contentsOf: chunk)
            }
            return ObjectCheck(size: info.size, json: keep, entry: keep ? Self.parseEntry(bytes, id) : nil)
        } catch let e as MregError {
            return ObjectCheck(problem: e.message)
        }
    }

    /// Everything after the objects were checked: every ref, history chain, index and record.
    ///
    /// - Parameter present: whether an object is in the store, for counting what no history
    ///   reaches (a working copy of a remote registry answers from the bucket's listing).
    func fsck(_ scanned: FsckObjects, present isPresent: (ObjectID) -> Bool) throws -> FsckReport {
        var report = FsckReport()
        report.objects = scanned.objects.count
        report.bytes = scanned.bytes
        report.problems = scanned.problems
        let good = scanned.good
        let sizes = scanned.sizes
        let found = scanned.found
        let listed = Set(scanned.objects)
        func need(_ id: ObjectID, _ what: String) -> Bool {
            if good.contains(id) { return true }
            report.problems.append("\(what): object \(id) is \(listed.contains(id) ? "corrupt (see above)" : "missing")")
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
            if Sys.linkStatus(headPath(m) + ".lock.break") != nil {
                report.notes.append("\(headPath(m)).lock.break exists: a command is removing a stale lock, or one was killed doing so (see docs/operations.md)")
            }
            for p in stagingFiles(m) {
                report.notes.append("\(p): a lock's holder details, staged by a command that is taking the lock or was killed; `mreg gc` removes it")
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
            var headSeq = 0
            var chainOK = true
            var walked = Set<ObjectID>()
            while let id = next {
                guard walked.insert(id).inserted else { break }
                guard need(id, "history of \(m)") else { chainOK = false; break }
                let e: HistoryEntry
                do { e = try entry(id) } catch let err as MregError {
                    report.problems.append("history of \(m): \(err.message)")
                    chainOK = false
                    break
                }
                report.entries += 1
                if !Clock.isValidISO(e.time) { report.problems.append("history of \(m): entry \(id) has a malformed time \(ModelName.show(e.time))") }
                if headState == nil { (headState, headSeq) = (e.state, e.seq) }
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
                report.problems += signatureProblems(id, e)  // Signing/: signatures that do not check
                next = e.prev
            }
            guard chainOK, let state = headState else { continue }
            let reach = Reach(head: headID, headSeq: headSeq, walked: walked, versions: state.versions)
            if let lost = lostHistory(m, reach, found: found) {
                if lost.certain { report.problems.append(lost.description) } else { report.notes.append(lost.description) }
            }
            for p in indexBeyondCount(m, state.versions) {
                report.notes.append("\(p): beyond the \(state.versions) committed version\(state.versions == 1 ? "" : "s") of \(m) (left by a register that did not commit, or by history HEAD no longer reaches); `mreg gc` removes it unless it belongs to such history")
            }
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
                    if !Clock.isValidISO(r.created) { report.problems.append("version record \(rid) of \(m)@\(n): malformed time \(ModelName.show(r.created))") }
                    if let conflict = r.pathConflict { report.problems.append("version record \(rid) of \(m)@\(n): \(conflict)") }
                    for a in r.artifacts where need(a.object, "\(m)@\(n) artifact \(ModelName.show(a.path))") {
                        if let size = sizes[a.object], size != a.size {
                            report.problems.append("\(m)@\(n) artifact \(ModelName.show(a.path)): the record says \(a.size) bytes, object \(a.object) holds \(size)")
                        }
                    }
                    _ = need(r.metricsFile, "\(m)@\(n) metrics file")
                    if let p = r.paramsFile { _ = need(p, "\(m)@\(n) params file") }
                    if let e = r.evaluation { _ = need(e.predictions, "\(m)@\(n) predictions") }
                    if let p = r.referenceProfile { _ = need(p, "\(m)@\(n) reference profile") }
                } catch let e as MregError {
                    report.problems.append(e.message)
                }
            }
            for (stage, c) in state.champions.sorted(by: { $0.key < $1.key }) where registered[c.version] != c.record {
                report.problems.append("\(m)@\(stage): champion names \(m)@\(c.version) with record \(c.record), which the history did not register")
            }
        }
        let referenced = (try? reachable(strict: false, present: isPresent).objects) ?? []
        let unreferenced = good.filter { !referenced.contains($0) }
        if !unreferenced.isEmpty {
            let bytes = unreferenced.reduce(UInt64(0)) { $0 + (sizes[$1] ?? 0) }
            report.notes.append("\(unreferenced.count) object\(unreferenced.count == 1 ? " is" : "s are") not referenced by any history (\(bytes) bytes): "
                                + "written by commands that are running or were interrupted, or no longer used; `mreg gc` removes them once older than its grace period")
        }
        let temps = (try? Sys.listDirectory(tmpDir)) ?? []
        if !temps.isEmpty {
            report.notes.append("\(temps.count) temporary file\(temps.count == 1 ? "" : "s") in \(tmpDir) (left by running or interrupted commands; `mreg gc` removes old ones)")
        }
        return report
    }
}
