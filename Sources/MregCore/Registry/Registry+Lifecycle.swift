/// The gates as evaluated for one candidate and stage, with what they were evaluated against.
public struct GateEvaluation: Sendable {
    public var candidate: ResolvedVersion
    public var record: VersionRecord
    public var stage: StageName
    /// The champion when the evaluation started; promotion swaps only if it is still this one.
    public var championAtStart: Champion?
    public var championRecord: VersionRecord?
    public var policyID: ObjectID?
    public var baselinesAtStart: [String: ObjectID]
    public var report: GateReport
    /// True when the candidate already is the champion of the stage.
    public var alreadyChampion: Bool
}

/// What `promote` did.
public struct PromotionResult: Sendable {
    public enum Outcome: String, Sendable { case promoted, overridden, blocked, unchanged }
    public var outcome: Outcome
    public var evaluation: GateEvaluation
    public var entryID: ObjectID?
    public var entry: HistoryEntry?
}

/// What `rollback` did.
public struct RollbackResult: Sendable {
    public var stage: StageName
    public var from: Champion
    public var to: Champion
    public var entryID: ObjectID
    public var entry: HistoryEntry
}

extension Registry {
    // MARK: - Policy and baselines

    /// The gate policy in force for a model: its id and parsed form, or nil for the default policy.
    public func policy(_ m: ModelName, state: ModelState? = nil) throws -> (id: ObjectID, policy: GatePolicy)? {
        let st = try state ?? headEntry(m).entry.state
        guard let id = st.policy else { return nil }
        let bytes = try store.get(id, limit: 16 << 20)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw MregError.corrupt("policy \(id) is not UTF-8") }
        do { return (id, try GatePolicy.parse(text, source: "policy \(id)")) } catch let e as MregError {
            throw MregError.corrupt("stored \(e.message)")
        }
    }

    /// Replaces a model's gate policy with the one in `path`; a new history entry.
    ///
    /// - Returns: the new policy id and entry, or nil when the policy is unchanged.
    public func setPolicy(_ m: ModelName, from path: String) throws -> (id: ObjectID, entryID: ObjectID)? {
        let bytes = try readUserFile(path, what: "policy")
        guard let text = String(validating: bytes, as: UTF8.self) else { throw MregError.invalid("policy \(path): not UTF-8 text") }
        let policy = try GatePolicy.parse(text, source: "policy \(path)")
        // A model with no history yet comes into being here (its first write, as safe as a first
        // register): a policy may be written down before any candidate exists.
        let headState = try head(m).map { try entry($0).state } ?? ModelState()
        try checkBaselines(policy, m, headState, source: path)
        let newID = ObjectID.of(bytes)
        if headState.policy == newID { return nil }
        let id = try store.put(bytes)
        let (entryID, _) = try append(m) { _, current in
            var state = current?.state ?? ModelState()
            try checkBaselines(policy, m, state, source: path)
            let previous = state.policy
            state.policy = id
            return (.policy, ["policy": .string(id.description),
                              "previous_policy": previous.map { .string($0.description) } ?? .null], state)
        }
        return (id, entryID)
    }

    private func checkBaselines(_ policy: GatePolicy, _ m: ModelName, _ state: ModelState, source: String) throws {
        for name in policy.referencedBaselines.sorted() where state.baselines[name] == nil {
            // The first rule that names it, as the parser placed it.
            let rule = policy.stages.values.flatMap(\.gates).filter {
                if case .baseline(name, _) = $0.reference { return true } else { return false }
            }.min { ($0.line, $0.column) < ($1.line, $1.column) }
            let line = rule.map { ": line \($0.line), column \($0.column)" } ?? ""
            throw MregError.invalid("policy \(source)\(line): the policy refers to baseline \"\(name)\", which model \(m) does not have; set it first with `mreg baseline \(m) \(name) --metrics FILE`")
        }
    }

    /// The baselines of a model, loaded.
    public func baselines(_ m: ModelName, state: ModelState) throws -> [String: MetricSet] {
        var out: [String: MetricSet] = [:]
        for (name, id) in state.baselines {
            let bytes = try store.get(id, limit: 16 << 20)
            guard let json = try? JSON.parse(bytes) else { throw MregError.corrupt("baseline \(name) (\(id)) is not valid JSON") }
            do { out[name] = try MetricSet(json: json, source: "baseline \(name) (\(id))") } catch let e as MregError {
                throw MregError.corrupt(e.message)
            }
        }
        return out
    }

    /// Sets (or replaces) a named baseline from a metric manifest; a new history entry.
    public func setBaseline(_ m: ModelName, name: String, metricsFile: String) throws -> (id: ObjectID, entryID: ObjectID) {
        try ModelName.validate(name, what: "baseline name")
        let bytes = try readUserFile(metricsFile, what: "metrics file")
        let metrics = try MetricManifest.parse(bytes, path: metricsFile)
        // Like setPolicy, this may be the model's first write.
        let id = try store.put(metrics.json.canonicalBytes)
        let (entryID, _) = try append(m) { _, current in
            var state = current?.state ?? ModelState()
            let previous = state.baselines[name]
            state.baselines[name] = id
            return (.baseline, ["baseline": .string(name), "baseline_object": .string(id.description),
                                "previous": previous.map { .string($0.description) } ?? .null], state)
        }
        return (id, entryID)
    }

    // MARK: - Gates

    /// Evaluates the gates of `stage` for `ref` exactly as `promote` would, changing nothing.
    public func evaluate(_ ref: VersionRef, stage: StageName) throws -> GateEvaluation {
        let candidate = try resolve(ref)
        let record = try record(of: candidate)
        let (_, head) = try headEntry(candidate.model)
        let state = head.state
        let champion = state.champions[stage.value]
        let championRecord = try champion.map { try self.record(of: ResolvedVersion(model: candidate.model, version: $0.version, recordID: $0.record)) }
        let policy = try self.policy(candidate.model, state: state)
        var championed: Set<String> = []
        if let after = policy?.policy.stages[stage.value]?.after, let afterStage = try? StageName(after) {
            if try championChanges(candidate.model, afterStage).contains(where: { $0.1.version == candidate.version && $0.1.event != .blocked }) {
                championed.insert(after)
            }
        }
        var context = GateContext(
            stage: stage.value, candidate: record.metrics, candidateLabel: candidate.name,
            champion: championRecord?.metrics, championLabel: champion.map { "\(candidate.model)@\($0.version)" },
            baselines: try baselines(candidate.model, state: state), stagesChampioned: championed)
        addEvidence(to: &context, candidate: record, champion: championRecord, stage: policy?.policy.stages[stage.value])
        let report = try GateEvaluator.evaluate(policy: policy?.policy, context: context)
        return GateEvaluation(candidate: candidate, record: record, stage: stage, championAtStart: champion,
                              championRecord: championRecord, policyID: policy?.id, baselinesAtStart: state.baselines,
                              report: report, alreadyChampion: champion?.version == candidate.version)
    }

    // MARK: - Promotion

    /// Makes `ref` champion of `stage` if every gate passes (or `overrideReason` is given).
    ///
    /// The gates are evaluated against the champion read at the start; the champion is swapped
    /// only if it, the policy and the baselines are unchanged when the lock is held, else
    /// `MregError(.conflict)` and nothing changes. A blocked promotion adds a `blocked` entry
    /// with its report and changes nothing else.
    public func promote(_ ref: VersionRef, stage: StageName, overrideReason: String? = nil, signer: Signer? = nil) throws -> PromotionResult {
        if let r = overrideReason, r.trimmingCharacters(in: " \t\n").isEmpty {
            throw MregError.invalid("--override needs a reason: say why the gates are overridden")
        }
        if let r = overrideReason { try TextRules.checkOneLine(r, what: "--override reason", limit: TextRules.reasonLimit) }
        let ev = try evaluate(ref, stage: stage)
        try verifyBeforeChampionChange(ev.candidate, record: ev.record, action: "promote \(ev.candidate.name) to \(stage)")
        if ev.alreadyChampion {
            return PromotionResult(outcome: .unchanged, evaluation: ev, entryID: nil, entry: nil)
        }
        let m = ev.candidate.model
        let passed = ev.report.passed
        try beforePromotionCommit?()
        let outcome: PromotionResult.Outcome = passed ? .promoted : (overrideReason != nil ? .overridden : .blocked)
        let (entryID, entry) = try append(m) { _, current in
            var state = current!.state
            if outcome != .blocked {
                try checkUnchanged(ev, state)
                state.champions[stage.value] = Champion(version: ev.candidate.version, record: ev.candidate.recordID)
            }
            var details: [String: JSON] = [
                "stage": .string(stage.value), "version": .number(Double(ev.candidate.version)),
                "record": .string(ev.candidate.recordID.description), "report": ev.report.json,
                "policy": ev.policyID.map { .string($0.description) } ?? .null,
                "replaced": ev.championAtStart?.json ?? .null,
            ]
            if let r = ev.championAtStart { details["replaced_record"] = .string(r.record.description) }
            if outcome == .overridden, let reason = overrideReason {
                details["reason"] = .string(reason)
                details["failed_rules"] = .array(ev.report.results.filter { $0.verdict == .fail }.map { .string($0.rule) })
            }
            if outcome != .blocked {  // --sign: the statement names this entry's sequence number
                details["signatures"] = try signatureDetail(signer, ev.record, ev.candidate.recordID, stage: stage, sequence: current!.seq + 1)
            }
            let event: HistoryEntry.Event = outcome == .promoted ? .promoted : outcome == .overridden ? .overridden : .blocked
            return (event, details, state)
        }
        return PromotionResult(outcome: outcome, evaluation: ev, entryID: entryID, entry: entry)
    }

    private func checkUnchanged(_ ev: GateEvaluation, _ state: ModelState) throws {
        let m = ev.candidate.model
        let now = state.champions[ev.stage.value]
        if now != ev.championAtStart {
            let was = ev.championAtStart.map { "\(m)@\($0.version)" } ?? "none"
            let is_ = now.map { "\(m)@\($0.version)" } ?? "none"
            throw MregError.conflict("the champion of \(ev.stage) changed from \(was) to \(is_) while the gates were evaluated; nothing changed; retry")
        }
        if state.policy != ev.policyID {
            throw MregError.conflict("the gate policy of \(m) changed while the gates were evaluated; nothing changed; retry")
        }
        if state.baselines != ev.baselinesAtStart {
            throw MregError.conflict("the baselines of \(m) changed while the gates were evaluated; nothing changed; retry")
        }
    }

    // MARK: - Rollback

    /// Puts back the champion that the current one replaced when it was promoted (see
    /// `rollbackTarget`), or `to`, which must have been champion of that stage before. A new history entry; the history is never rewound.
    public func rollback(_ m: ModelName, stage: StageName, to: VersionRef?, reason: String, signer: Signer? = nil) throws -> RollbackResult {
        guard !reason.trimmingCharacters(in: " \t\n").isEmpty else {
            throw MregError.invalid("rollback needs --reason: say why, for the record")
        }
        try TextRules.checkOneLine(reason, what: "--reason", limit: TextRules.reasonLimit)
        let (_, head) = try headEntry(m)
        guard let current = head.state.champions[stage.value] else {
            throw MregError.invalid("\(m) has no champion of \(stage) to roll back")
        }
        let target: Champion
        if let to {
            let v = try resolve(to)
            guard v.model == m else { throw MregError.invalid("--to \(to): \(v.name) is a version of model \(v.model), not \(m)") }
            guard v.version != current.version else { throw MregError.invalid("--to \(to): \(v.name) already is the champion of \(stage)") }
            let changes = try championChanges(m, stage)
            guard changes.contains(where: { $0.1.version == v.version }) else {
                throw MregError.invalid("--to \(to): \(v.name) was never champion of \(stage); rollback only restores an earlier champion")
            }
            target = Champion(version: v.version, record: v.recordID)
        } else {
            guard let previous = try rollbackTarget(m, stage) else {
                throw MregError.invalid("\(m)@\(stage) (\(m)@\(current.version)) has no earlier champion to roll back to")
            }
            target = previous
        }
        let targetVersion = ResolvedVersion(model: m, version: target.version, recordID: target.record)
        let verifiedTarget = try record(target.record)
        try verifyBeforeChampionChange(targetVersion, record: verifiedTarget, action: "rollback of \(m)@\(stage) to \(targetVersion.name)")
        let targetRecord = signer == nil ? nil : verifiedTarget
        let (entryID, entry) = try append(m) { _, cur in
            var state = cur!.state
            guard state.champions[stage.value] == current else {
                throw MregError.conflict("the champion of \(stage) changed while rolling back; nothing changed; retry")
            }
            state.champions[stage.value] = target
            var details: [String: JSON] = ["stage": .string(stage.value), "version": .number(Double(target.version)),
                                           "record": .string(target.record.description), "replaced": current.json,
                                           "replaced_record": .string(current.record.description), "reason": .string(reason)]
            if let targetRecord {  // --sign: the statement names this entry's sequence number
                details["signatures"] = try signatureDetail(signer, targetRecord, target.record, stage: stage, sequence: cur!.seq + 1)
            }
            return (.rolledBack, details, state)
        }
        return RollbackResult(stage: stage, from: current, to: target, entryID: entryID, entry: entry)
    }

    // MARK: - History

    /// The history of a model, newest first, optionally only the entries about one stage.
    public func log(_ m: ModelName, stage: StageName? = nil, limit: Int = .max) throws -> [(ObjectID, HistoryEntry)] {
        _ = try headEntry(m)
        var out: [(ObjectID, HistoryEntry)] = []
        try walkHistory(m) { id, e in
            if stage == nil || e.stage == stage!.value { out.append((id, e)) }
            return out.count < limit
        }
        return out
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s.removeFirst() }
        while let l = s.last, chars.contains(l) { s.removeLast() }
        return String(s)
    }
}
