/// What the histories reach, and history that they no longer reach: shared by `fsck` and `gc`.
///
/// `HEAD` is the only mutable ref of a model. Restoring it from an older copy (a stale backup, a
/// hand edit) moves it back to an older entry; everything after that entry is then unreachable,
/// looks like garbage, and gc used to delete it. The entries themselves still prove it: each
/// names the entry it was built on, and a command builds only on the entry `HEAD` names, under
/// the model's lock. So an unreachable entry built on an unreachable entry that chains back into
/// the history is proof that `HEAD` once named that newer entry and was moved back.
///
/// One case stays ambiguous: a single unreachable entry built on `HEAD` itself is what a command
/// cut short between writing its entry and renaming `HEAD` leaves, and also what moving `HEAD`
/// back by exactly one entry leaves. fsck notes it; gc keeps it (and what it names) for as long
/// as it is built on the current `HEAD`, so neither reading loses data.
struct LostHistory {
    /// The model whose history does not reach these entries.
    var model: ModelName
    /// Entries built, directly or through each other, on the reachable history.
    var entries: [ObjectID]
    /// The newest of them (highest sequence number).
    var newest: ObjectID
    var newestSeq: Int
    /// The reachable entry they continue from.
    var forkPoint: ObjectID
    var forkSeq: Int
    /// The entry `HEAD` names.
    var head: ObjectID
    var headSeq: Int
    /// Proven: some entry was built on another unreachable one, which must have been `HEAD`.
    var certain: Bool

    /// One line for fsck and gc.
    var description: String {
        let count = "\(entries.count) history entr\(entries.count == 1 ? "y" : "ies")"
        if !certain {
            return "models/\(model)/HEAD names entry \(head) (#\(headSeq)), and entry \(newest) (#\(newestSeq)) built on it is not reachable: "
                + "a command cut short before its commit left it, or HEAD was moved back one entry (a restore from an older copy); "
                + "if `mreg log \(model)` lacks a change that was reported done, write \(newest) into HEAD (see docs/operations.md, \"HEAD moved back\")"
        }
        if forkPoint == head {
            return "models/\(model)/HEAD is rewound: it names entry \(head) (#\(headSeq)), but \(count) up to \(newest) (#\(newestSeq)) were committed after it "
                + "and HEAD no longer reaches them (restored from an older copy?); write \(newest) into models/\(model)/HEAD to get them back "
                + "(see docs/operations.md, \"HEAD moved back\")"
        }
        return "models/\(model)/HEAD was moved back and the history went on from there: \(count) up to \(newest) (#\(newestSeq)), built on entry "
            + "\(forkPoint) (#\(forkSeq)), are not reachable from HEAD (#\(headSeq)); see docs/operations.md, \"HEAD moved back\""
    }
}

/// What fsck and gc keep of a history entry found in the store: enough to follow its chain
/// (a whole `HistoryEntry` per entry would hold every gate report of a large registry in memory).
struct EntryLink: Sendable {
    var model: ModelName
    var seq: Int
    var prev: ObjectID?
}

extension Registry {
    /// Largest history entry read (as `entry(_:)` allows).
    static let entrySizeLimit: UInt64 = 64 << 20

    /// A history entry parsed from an object's bytes, or nil when the bytes are not one.
    static func parseEntry(_ bytes: [UInt8], _ id: ObjectID) -> EntryLink? {
        guard bytes.first == UInt8(ascii: "{"), contains(bytes, Array("\"\(HistoryEntry.type)\"".utf8)),
              let json = try? JSON.parse(bytes) else { return nil }
        return (try? HistoryEntry(json: json, source: "history entry \(id)")).map { EntryLink(model: $0.model, seq: $0.seq, prev: $0.prev) }
    }

    private static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        guard bytes.count >= needle.count else { return false }
        for i in 0...(bytes.count - needle.count) where bytes[i] == needle[0] {
            if bytes[i..<(i + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    /// The object as a history entry, or nil when it is not one (or cannot be read): only objects
    /// whose header declares at most `entrySizeLimit` bytes and whose first byte is `{` are read
    /// through.
    func foundEntry(_ id: ObjectID) -> EntryLink? {
        struct NotAnEntry: Error {}
        guard let size = store.declaredSize(id), size <= Self.entrySizeLimit else { return nil }
        var bytes: [UInt8] = []
        do {
            try store.stream(id, sizeLimit: Self.entrySizeLimit) { chunk in
                if bytes.isEmpty && chunk.first != UInt8(ascii: "{") { throw NotAnEntry() }
                bytes.append(contentsOf: chunk)
            }
        } catch { return nil }
        return Self.parseEntry(bytes, id)
    }

    /// What one model's `HEAD` reaches: the entries walked and every object they name.
    struct Reach {
        var head: ObjectID
        var headSeq: Int
        var walked: Set<ObjectID> = []
        /// Highest committed version (the `HEAD` entry's state).
        var versions: Int
    }

    /// Everything reachable from every model's `HEAD`: entries, the records they register and
    /// every object those name.
    ///
    /// - Parameter strict: throw on anything missing or unreadable (gc, which must not remove
    ///   anything it cannot account for); otherwise stop walking that model (fsck reports it).
    /// - Parameter present: whether an object is there (a working copy of a remote registry answers
    ///   from the bucket's listing, not from the objects it happens to hold).
    func reachable(strict: Bool, present: (ObjectID) -> Bool) throws -> (objects: Set<ObjectID>, models: [ModelName: Reach]) {
        var objects = Set<ObjectID>()
        var models: [ModelName: Reach] = [:]
        func mark(_ id: ObjectID) throws {
            guard present(id) else {
                guard strict else { return }
                throw MregError.corrupt("gc stopped, nothing removed: object \(id) is referenced but missing; run `mreg fsck`")
            }
            objects.insert(id)
        }
        for name in Sys.isDirectory(modelsDir) ? try Sys.listDirectory(modelsDir) : [] {
            guard let m = try? ModelName(name) else { continue }
            do {
                guard let headID = try head(m) else {
                    if strict, let lost = lostHistory(m) { throw MregError.corrupt("gc stopped, nothing removed: \(lost)") }
                    continue
                }
                let top = try entry(headID)
                var reach = Reach(head: headID, headSeq: top.seq, versions: top.state.versions)
                defer { models[m] = reach }
                // Entries are walked once each along `prev`. An entry may already be marked
                // because a later entry names it (a promotion's prior_changes), so being marked is
                // not the same as being walked: stopping there would leave everything older unmarked.
                var next: ObjectID? = headID
                while let id = next {
                    guard reach.walked.insert(id).inserted else { break }
                    try mark(id)
                    let e = try entry(id)
                    for ref in e.referencedObjects where ref != e.prev { try mark(ref) }
                    if e.event == .registered, let rid = e.record {
                        try mark(rid)
                        for ref in try record(rid).referencedObjects { try mark(ref) }
                    }
                    next = e.prev
                }
                try markObservations(m, mark)  // Production/: the observation log
            } catch {
                if strict { throw error }
            }
        }
        return (objects, models)
    }

    /// The entries of `m` found in the store that `reach` does not reach but that chain into it.
    ///
    /// - Parameter found: history entries found in the store (any model), by id.
    func lostHistory(_ m: ModelName, _ reach: Reach, found: [ObjectID: EntryLink]) -> LostHistory? {
        // For each unreachable entry: the reachable entry its chain ends in, if any.
        var memo: [ObjectID: ObjectID?] = [:]
        func landing(_ start: ObjectID) -> ObjectID? {
            var path: [ObjectID] = []
            var cur: ObjectID? = start
            var result: ObjectID?
            while let c = cur {
                if reach.walked.contains(c) { result = c; break }
                if let known = memo[c] { result = known; break }
                guard let e = found[c], e.model == m, path.count <= found.count else { break }
                path.append(c)
                cur = e.prev
            }
            for p in path { memo[p] = result }
            return result
        }
        var lost: [(ObjectID, EntryLink, ObjectID)] = []
        for (id, e) in found where e.model == m && !reach.walked.contains(id) {
            if let land = landing(id) { lost.append((id, e, land)) }
        }
        // An entry built directly on a reachable entry other than HEAD, with nothing built on
        // it, is a command cut short before an earlier commit: nothing proves it was committed.
        let builtOnLost = Set(lost.compactMap { l in l.1.prev.flatMap { reach.walked.contains($0) ? nil : $0 } })
        lost.removeAll { l in l.2 != reach.head && l.1.prev == l.2 && !builtOnLost.contains(l.0) }
        guard let top = lost.max(by: { ($0.1.seq, $0.0.hex) < ($1.1.seq, $1.0.hex) }) else { return nil }
        let certain = !builtOnLost.isEmpty
        let fork = top.2
        let forkSeq = (found[fork]?.seq) ?? ((try? entry(fork))?.seq ?? 0)
        return LostHistory(model: m, entries: lost.map(\.0).sorted { $0.hex < $1.hex }, newest: top.0, newestSeq: top.1.seq,
                           forkPoint: fork, forkSeq: forkSeq, head: reach.head, headSeq: reach.headSeq, certain: certain)
    }
}
