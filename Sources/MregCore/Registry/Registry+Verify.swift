/// Checks that run before a command changes a champion (promote, promote --override, rollback).
///
/// A champion is what deployments fetch. Making a version champion whose artifacts are missing
/// or damaged hands production a model that cannot be fetched; appending to a history with an
/// entry missing from its middle buries the damage under a valid-looking newest entry. So before
/// any change, the version's record, every object it names (re-hashed in full) and the model's
/// whole hash chain are verified; any failure is exit 1 and nothing is written, not even a
/// `blocked` entry. See docs/guarantees.md for the cost (a full re-hash of the artifacts).
extension Registry {
    /// Verifies `v` (with its already-read `record`) and the history of its model.
    ///
    /// - Parameter action: how the refusal starts, e.g. `promote fraud@3 to production`.
    func verifyBeforeChampionChange(_ v: ResolvedVersion, record: VersionRecord, action: String) throws {
        func refuse(_ why: String) -> MregError {
            MregError.corrupt("\(action) refused: \(why); nothing changed; run `mreg fsck`")
        }
        guard record.model == v.model, record.version == v.version else {
            throw refuse("\(v.recordID) is the record of \(record.name), not of \(v.name)")
        }
        // Cheap checks first (presence and declared size), so a missing object is reported at
        // once rather than after re-hashing gigabytes of the others.
        for a in record.artifacts {
            guard let size = store.declaredSize(a.object) else {
                throw refuse("artifact \(ModelName.show(a.path)) of \(v.name) (object \(a.object)) is \(store.contains(a.object) ? "unreadable" : "missing")")
            }
            guard size == a.size else {
                throw refuse("artifact \(ModelName.show(a.path)) of \(v.name) is \(a.size) bytes, but object \(a.object) holds \(size)")
            }
        }
        var objects: [(String, ObjectID)] = record.artifacts.map { ("artifact \(ModelName.show($0.path))", $0.object) }
        objects.append(("metrics file", record.metricsFile))
        if let p = record.paramsFile { objects.append(("params file", p)) }
        for (what, id) in objects {
            do { try store.verify(id) } catch let e as MregError {
                throw refuse("\(what) of \(v.name): \(e.message)")
            }
        }
        try verifyChain(v.model, action: action)
    }

    /// Walks the history of `m` from `HEAD` to its first entry: every entry present, intact (its
    /// hash is checked as it is read), of this model, and numbered one below the entry after it.
    func verifyChain(_ m: ModelName, action: String) throws {
        func refuse(_ why: String) -> MregError {
            MregError.corrupt("\(action) refused: the history of \(m) is broken: \(why); nothing changed; run `mreg fsck`")
        }
        guard var next = try head(m) else { throw MregError.invalid("unknown model \"\(m)\"") }
        var expected: Int?
        var after: (id: ObjectID, seq: Int)?
        while true {
            let e: HistoryEntry
            do { e = try entry(next) } catch let err as MregError {
                let named = after.map { "entry \($0.id) (#\($0.seq)) names previous entry \(next): " } ?? "HEAD names \(next): "
                throw refuse(named + err.message)
            }
            guard e.model == m else { throw refuse("entry \(next) belongs to model \(e.model)") }
            if let want = expected, e.seq != want {
                throw refuse("entry \(next) has sequence \(e.seq), expected \(want)")
            }
            guard let prev = e.prev else {
                guard e.seq == 1 else { throw refuse("entry \(next) (#\(e.seq)) has no previous entry") }
                return
            }
            expected = e.seq - 1
            after = (next, e.seq)
            next = prev
        }
    }
}
