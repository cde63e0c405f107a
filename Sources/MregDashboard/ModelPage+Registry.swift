import MregCore

extension ModelPage {
    /// Reads one model's page from the registry: champions and their signatures, the newest
    /// `versionLimit` versions (and every champion) with their metrics and intervals, the history
    /// as a timeline, and the newest version's gate report; the production and monitoring
    /// sections come from `evidence`.
    ///
    /// - Throws: `MregError` as the registry reads do (an unknown model is invalid input, exit 2).
    public static func load(_ registry: Registry, _ model: ModelName, evidence: DashboardEvidence = NoEvidenceYet(),
                            versionLimit: Int = 100, now: String = Clock.nowISO()) throws -> ModelPage {
        let log = try registry.log(model)  // newest first
        guard let head = log.first?.1 else { throw MregError(.operational, "\(model): no history") }
        let state = head.state
        var page = ModelPage(model: model.value, generated: now, versionCount: state.versions)

        // Versions: their record ids from the registrations, blocks from the history.
        var recordIDs: [Int: ObjectID] = [:]
        var blocked: [Int: [String]] = [:]
        for (_, e) in log {
            guard let v = e.version else { continue }
            if e.event == .registered, let id = e.record { recordIDs[v] = id }
            if e.event == .blocked, let s = e.stage, !(blocked[v] ?? []).contains(s) { blocked[v, default: []].append(s) }
        }
        var championOf: [Int: [String]] = [:]
        for (s, c) in state.champions.sorted(by: { $0.key < $1.key }) { championOf[c.version, default: []].append(s) }
        let newest = Set(max(1, state.versions - versionLimit + 1)...max(1, state.versions))
        let plotted = newest.union(championOf.keys).filter { recordIDs[$0] != nil }.sorted()
        var records: [Int: VersionRecord] = [:]
        for v in plotted { records[v] = try registry.record(recordIDs[v]!) }

        // Champions: the entry that made each one champion, and the signatures over it.
        for (s, c) in state.champions.sorted(by: { stageOrder($0.key) < stageOrder($1.key) }) {
            let change = log.first { $0.1.event.changesChampion && $0.1.stage == s && $0.1.version == c.version }?.1
            let sigs = try registry.championSignatures(model, StageName(s))?.signatures ?? []
            page.champions.append(StageChampion(
                stage: s, version: c.version, since: change?.time ?? "", how: change?.event.rawValue ?? "promoted",
                reason: change?.details["reason"]?.string, message: records[c.version]?.message ?? "",
                signers: sigs.filter { $0.problem == nil }.map(\.signer), badSignatures: sigs.filter { $0.problem != nil }.count))
        }

        // The newest version's gate report.
        page.newestGate = try newestGate(registry, model, log: log, latest: state.versions, championOf: championOf[state.versions] ?? [])

        page.keyMetrics = keyMetrics(report: page.newestGate?.report, newest: records[state.versions])
        page.versions = plotted.compactMap { v in
            guard let r = records[v] else { return nil }
            var values: [String: MetricValue] = [:]
            for name in page.keyMetrics {
                guard let x = r.metrics.values[name] else { continue }
                let i = r.evaluation?.intervals[name]
                values[name] = MetricValue(x, low: i?.low, high: i?.high)
            }
            return VersionPoint(version: v, created: r.created, message: r.message, metrics: values,
                                championOf: championOf[v] ?? [], blockedFor: blocked[v] ?? [])
        }

        page.timeline = log.lazy.map(\.1).filter { $0.event != .registered }.prefix(200).map { e in
            TimelineEvent(seq: e.seq, time: e.time, event: e.event.rawValue, stage: e.stage, version: e.version,
                          user: e.user, reason: reason(of: e))
        }

        page.production = try evidence.production(registry, model)
        page.drift = try evidence.drift(registry, model)
        page.integrity = try evidence.integrity(registry, model)
        page.alerts = try evidence.alerts(registry, model)
        return page
    }

    /// production first, then staging, then the rest by name.
    static func stageOrder(_ s: String) -> String { s == "production" ? "0" : s == "staging" ? "1" : "2" + s }

    /// Why an event happened, in words: the reason given, or the failed rules of a block.
    static func reason(of e: HistoryEntry) -> String? {
        if let r = e.details["reason"]?.string, !r.isEmpty { return r }
        if e.event == .blocked, let report = e.details["report"].flatMap({ try? GateReport(json: $0) }) {
            let failed = report.results.filter { $0.verdict == .fail }.map { "\($0.rule): \($0.reason)" }
            return failed.isEmpty ? nil : failed.joined(separator: "; ")
        }
        return nil
    }

    /// The report stored by the newest version's latest promotion attempt, else what the gates of
    /// the next stage say now (read only, as `mreg check` does).
    static func newestGate(_ registry: Registry, _ model: ModelName, log: [(ObjectID, HistoryEntry)], latest: Int,
                           championOf: [String]) throws -> GateSummary? {
        guard latest >= 1 else { return nil }
        let attempts: Set<HistoryEntry.Event> = [.promoted, .blocked, .overridden]
        if let e = log.first(where: { attempts.contains($0.1.event) && $0.1.version == latest })?.1,
           let json = e.details["report"] {
            let report = try GateReport(json: json)
            return GateSummary(version: latest, context: "\(e.event.rawValue) for \(report.stage) at \(e.time)", report: report)
        }
        // The next stage: staging first when the policy has one, else production, else the policy's first.
        let stages = try registry.policy(model).map { Array($0.policy.stages.keys) } ?? ["production"]
        let order = stages.sorted { stageOrder($0) < stageOrder($1) }
        let next = order.contains("staging") && !championOf.contains("staging") ? "staging"
                 : order.first { !championOf.contains($0) && $0 != "staging" }
        guard let stage = next else { return nil }
        do {
            let ev = try registry.evaluate(.number(model, latest), stage: StageName(stage))
            return GateSummary(version: latest, context: "not promoted yet; what `mreg check` says for \(stage) now", report: ev.report)
        } catch let e as MregError {
            return GateSummary(version: latest, context: "the gates of \(stage) could not be evaluated: \(e.message)", report: nil)
        }
    }

    /// Up to four metrics: those the gates compare, then the usual headline metrics the newest
    /// version has, then any other it has.
    static func keyMetrics(report: GateReport?, newest: VersionRecord?) -> [String] {
        var names: [String] = []
        func add(_ n: String) {
            guard names.count < 4, !n.isEmpty, !n.contains("{"), !names.contains(n), !["n", "positives"].contains(n) else { return }
            if let newest, newest.metrics.values[n] == nil { return }
            names.append(n)
        }
        for r in report?.results ?? [] { add(r.metric) }
        for n in ["roc_auc", "f1", "recall", "precision", "average_precision", "accuracy", "mae", "rmse", "r2"] { add(n) }
        for n in (newest?.metrics.values.keys).map(Array.init)?.sorted() ?? [] { add(n) }
        return names
    }
}
