/// A version found by `resolve`.
public struct ResolvedVersion: Sendable {
    public var model: ModelName
    public var version: Int
    public var recordID: ObjectID
    public var name: String { "\(model)@\(version)" }
}

extension Registry {
    /// Finds the version a `VersionRef` names (see docs/cli.md, "Naming a version").
    /// The bytes of `id` if it may be a version record: nil as soon as its first bytes show it is
    /// not JSON, so a large artifact that shares an id prefix is not read through, and nil when it
    /// declares more bytes than any record holds. Any other failure to read a candidate is damage
    /// (exit 1), not a miss: a damaged record must not be reported as an unknown id.
    private func recordBytes(_ id: ObjectID) throws -> [UInt8]? {
        struct NotARecord: Error {}
        var bytes: [UInt8] = []
        var startsLikeRecord = false
        do {
            try store.stream(id, sizeLimit: VersionRecord.sizeLimit) { chunk in
                if bytes.isEmpty {
                    guard chunk.first == UInt8(ascii: "{") else { throw NotARecord() }
                    startsLikeRecord = true
                }
                bytes.append(contentsOf: chunk)
            }
        } catch is NotARecord {
            return nil
        } catch {
            if !startsLikeRecord, let size = store.declaredSize(id), size > VersionRecord.sizeLimit { return nil }
            throw error
        }
        return bytes
    }

    /// Whether `id` is the committed record of the version it names: a record left by an
    /// interrupted register, or copied in from elsewhere, is not a version of this registry.
    private func isCommitted(_ id: ObjectID, _ r: VersionRecord) -> Bool {
        guard let (_, head) = try? headEntry(r.model), r.version >= 1, r.version <= head.state.versions else { return false }
        return (try? recordID(r.model, r.version, state: head.state)) == id
    }

    /// `v` after reading its record and checking that it is the record of the version asked for.
    ///
    /// The version index (`versions/N`) is a plain file outside the hash chain: a restore, a
    /// hand edit or an attacker can point it at another version's record. Every resolved version
    /// is checked here, so `resolve` never prints, and `fetch`, `promote` or `rollback --to` never
    /// act on, a record of another version than the one named (a deploy script that resolves and
    /// then fetches by id would otherwise get the wrong model).
    private func checked(_ v: ResolvedVersion) throws -> ResolvedVersion {
        _ = try record(of: v)
        return v
    }

    public func resolve(_ ref: VersionRef) throws -> ResolvedVersion {
        switch ref {
        case .number(let m, let n):
            let (_, head) = try headEntry(m)
            return try checked(ResolvedVersion(model: m, version: n, recordID: try recordID(m, n, state: head.state)))
        case .latest(let m):
            let (_, head) = try headEntry(m)
            guard head.state.versions > 0 else { throw MregError.invalid("model \(m) has no versions yet") }
            let n = head.state.versions
            return try checked(ResolvedVersion(model: m, version: n, recordID: try recordID(m, n, state: head.state)))
        case .champion(let m, let s, let back):
            let lineage = try championLineage(m, s, depth: back + 1)
            guard !lineage.isEmpty else {
                if try headEntry(m).entry.state.versions == 0 { throw MregError.invalid("\(m)@\(s): model \(m) has no versions yet") }
                throw MregError.invalid("\(m)@\(s): stage \(s) has no champion")
            }
            guard back < lineage.count else {
                throw MregError.invalid("\(ref): \(s) has only \(lineage.count - 1) earlier champion\(lineage.count == 2 ? "" : "s") in its lineage")
            }
            let c = lineage[back]
            return try checked(ResolvedVersion(model: m, version: c.version, recordID: c.record))
        case .id(let prefix):
            let candidates = try store.objects(withPrefix: prefix)
            var found: [(ObjectID, VersionRecord)] = []
            for id in candidates {
                // Only version records count; artifacts and other objects with the prefix do not.
                guard let bytes = try recordBytes(id), let json = try? JSON.parse(bytes),
                      json["type"]?.string == VersionRecord.type, let r = try? VersionRecord(json: json, source: "\(id)"),
                      isCommitted(id, r) else { continue }
                found.append((id, r))
            }
            if found.isEmpty { throw MregError.invalid("no version record has an id starting with sha256:\(prefix)") }
            if found.count > 1 {
                let names = found.prefix(5).map { "\($0.1.name) (\($0.0.short))" }.joined(separator: ", ")
                throw MregError.invalid("sha256:\(prefix) is ambiguous: it matches \(names); give more hex digits")
            }
            return ResolvedVersion(model: found[0].1.model, version: found[0].1.version, recordID: found[0].0)
        }
    }

    /// The current champion of a stage and the ones before it: `[current, ~1, ~2, …]`, at most `depth`.
    ///
    /// `~K` counts champion changes of the stage, newest first: every promotion, override and
    /// rollback is one step. `~1` is the champion the newest change replaced, so after a rollback
    /// from fraud@2 to fraud@1, `~1` is fraud@2. The walk follows `prior_changes` and reads each
    /// change's `replaced`; it ends at the stage's first champion.
    public func championLineage(_ m: ModelName, _ s: StageName, depth: Int = .max) throws -> [Champion] {
        let (headID, head) = try headEntry(m)
        guard let current = head.state.champions[s.value] else { return [] }
        var lineage = [current]
        var next: ObjectID? = (head.event.changesChampion && head.stage == s.value) ? headID : head.state.priorChanges[s.value]
        while let id = next, lineage.count < depth {
            let e = try stageChange(id, s)
            guard e.version == lineage.last!.version else {
                throw MregError.corrupt("history entry \(id) is linked as the change that made \(m)@\(lineage.last!.version) champion of \(s) but names \(m)@\(e.version.map(String.init) ?? "?")")
            }
            // No `replaced`: this change made the stage's first champion.
            guard let replaced = Champion(json: e.details["replaced"]) else { break }
            lineage.append(replaced)
            next = e.state.priorChanges[s.value]
        }
        return lineage
    }

    /// What `rollback` without `--to` restores: the champion that the current one replaced when it
    /// was promoted (or overridden in), skipping rollbacks, so `rollback; rollback` goes two
    /// promotions back instead of toggling between two versions. Nil when there is none.
    public func rollbackTarget(_ m: ModelName, _ s: StageName) throws -> Champion? {
        let (headID, head) = try headEntry(m)
        guard let current = head.state.champions[s.value] else { return nil }
        var next: ObjectID? = (head.event.changesChampion && head.stage == s.value) ? headID : head.state.priorChanges[s.value]
        while let id = next {
            let e = try stageChange(id, s)
            if e.event != .rolledBack, e.version == current.version { return Champion(json: e.details["replaced"]) }
            next = e.state.priorChanges[s.value]
        }
        return nil
    }

    /// The history entry `id`, which `prior_changes` links as a champion change of `s`.
    private func stageChange(_ id: ObjectID, _ s: StageName) throws -> HistoryEntry {
        let e = try entry(id)
        guard e.stage == s.value, e.event.changesChampion else {
            throw MregError.corrupt("history entry \(id) is linked as a change of \(s) but is a \(e.event.rawValue) entry\(e.stage.map { " of \($0)" } ?? "")")
        }
        return e
    }

    /// Every champion change of a stage, newest first: (entry id, entry).
    public func championChanges(_ m: ModelName, _ s: StageName) throws -> [(ObjectID, HistoryEntry)] {
        let (headID, head) = try headEntry(m)
        var out: [(ObjectID, HistoryEntry)] = []
        var next: ObjectID? = (head.event.changesChampion && head.stage == s.value) ? headID : head.state.priorChanges[s.value]
        while let id = next {
            let e = try entry(id)
            out.append((id, e))
            next = e.state.priorChanges[s.value]
        }
        return out
    }

    /// The versions of a model with their records, newest first (at most `limit`), read with one
    /// look at `HEAD`.
    public func versions(_ m: ModelName, state: ModelState, limit: Int = .max) throws -> [(ResolvedVersion, VersionRecord)] {
        var out: [(ResolvedVersion, VersionRecord)] = []
        let oldest = max(1, state.versions - min(limit, state.versions) + 1)
        out.reserveCapacity(state.versions - oldest + 1)
        for n in stride(from: state.versions, through: oldest, by: -1) {
            let v = ResolvedVersion(model: m, version: n, recordID: try recordID(m, n, state: state))
            out.append((v, try record(of: v)))
        }
        return out
    }

    /// Reads a resolved version's record.
    public func record(of v: ResolvedVersion) throws -> VersionRecord {
        let r = try record(v.recordID)
        guard r.model == v.model, r.version == v.version else {
            throw MregError.corrupt("\(v.name): its version index (\(versionIndexPath(v.model, v.version))) points at \(v.recordID), the record of \(r.name); run `mreg fsck`")
        }
        return r
    }
}
