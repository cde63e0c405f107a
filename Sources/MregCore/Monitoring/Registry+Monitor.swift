/// What `monitor` is asked (docs/monitoring.md, "mreg monitor").
public struct MonitorRequest: Sendable {
    public var model: ModelName
    /// The stage whose champion serves (default production).
    public var stage: StageName
    /// Window length in seconds, a whole number of hours (`PerfRequest.parseWindow`).
    public var window: Int64

    public init(model: ModelName, stage: StageName = .production, window: Int64 = 86_400) {
        self.model = model; self.stage = stage; self.window = window
    }
}

/// What `monitor` did.
public struct MonitorReport: Sendable {
    public var served: ResolvedVersion
    public var stage: StageName
    public var window: Int64
    /// The alert policy in force; nil when the default applies.
    public var policyID: ObjectID?
    /// The windows evaluated, oldest first (complete windows ending after the previous run's last).
    public var windows: [WindowEvidence]
    /// Fired and resolved alerts, in window order.
    public var transitions: [AlertTransition]
    /// The alert state after the run (the previous one when nothing was new).
    public var state: AlertState
    /// The `monitored` history entry recorded; nil when there was nothing new to evaluate.
    public var entry: ObjectID?
    /// The serving version has no observed rows at all (nothing was evaluated or recorded).
    public var noObservations: Bool
    /// At least one alert newly fired (`monitor` exits 5).
    public var fired: Bool { transitions.contains { $0.kind == .fired } }

    /// `{"model", "stage", "version", "window", "windows", "fired", "entry", "transitions"}`: what
    /// `--json` prints and `--exec` reads on standard input.
    public var json: JSON {
        .object(["model": .string(served.model.value), "stage": .string(stage.value), "version": .number(Double(served.version)),
                 "window_seconds": .number(Double(window)), "windows": .number(Double(windows.count)), "fired": .bool(fired),
                 "entry": entry.map { .string($0.description) } ?? .null, "no_observations": .bool(noObservations),
                 "transitions": .array(transitions.map(\.json))])
    }
}

/// The alert state `monitor` last recorded for a stage of a model.
public struct MonitoredState: Sendable {
    /// The `monitored` history entry, its time, and the version it evaluated.
    public var entry: ObjectID
    public var time: String
    public var version: Int
    public var state: AlertState
}

extension Registry {
    /// The newest alert state recorded by `monitor` for a stage of a model (walking the history
    /// back from `start`, default HEAD), or nil when monitor never recorded one. What a
    /// dashboard reads for the firing alerts: `state.firing`, and per alert `state.alerts[key]`.
    public func alertState(_ m: ModelName, stage: StageName, from start: ObjectID? = nil) throws -> MonitoredState? {
        var found: MonitoredState?
        try walkHistory(m, from: start) { id, e in
            guard e.event == .monitored, e.stage == stage.value else { return true }
            guard let s = e.details["alert_state"] else { throw MregError.corrupt("history entry \(id) of \(m): monitored without an alert state") }
            found = MonitoredState(entry: id, time: e.time, version: e.version ?? 0,
                                   state: try AlertState(json: s, source: "history entry \(id) of \(m)"))
            return false
        }
        return found
    }

    /// Evaluates the alert policy over the windows since the last run and records the new alert
    /// state as a `monitored` history entry (docs/monitoring.md, "mreg monitor").
    ///
    /// The windows are built outside the model's lock (they read the observation log); the engine
    /// runs again under the lock from the state the history holds then, so that of two concurrent
    /// monitors the second sees the first one's entry, finds no new window, and records nothing.
    public func monitor(_ r: MonitorRequest) throws -> MonitorReport {
        let m = r.model
        let state = try headEntry(m).entry.state
        guard let champion = state.champions[r.stage.value] else {
            let stages = state.champions.keys.sorted()
            throw MregError.invalid("\(m) has no champion at \(r.stage)" + (stages.isEmpty ? " (no stage has one)" : " (stages with one: \(stages.joined(separator: ", ")))"))
        }
        let served = ResolvedVersion(model: m, version: champion.version, recordID: champion.record)
        let record = try record(of: served)
        let reference = try referenceProfile(of: record)
        let policy = try alertPolicy(m, state: state)
        let rules = policy?.policy ?? AlertPolicy.default
        // No reference profile under column or schema rules, or a column rule the reference
        // cannot answer: refused (exit 2) before anything is read or written.
        try AlertEngine.check(policy: rules, reference: reference, servingVersion: "\(served.name) (champion at \(r.stage))",
                              policySource: policy.map { "alert policy \($0.id.short)" } ?? "default alert policy")
        var evaluation = EvaluationBounds(record: record)
        // The policy language says `auc`; evaluations and production windows report `roc_auc`.
        if evaluation.values["auc"] == nil { evaluation.values["auc"] = evaluation.values["roc_auc"] }
        if evaluation.intervals["auc"] == nil { evaluation.intervals["auc"] = evaluation.intervals["roc_auc"] }

        let previous = try alertState(m, stage: r.stage)?.state ?? AlertState()
        var report = MonitorReport(served: served, stage: r.stage, window: r.window, policyID: policy?.id, windows: [], transitions: [],
                                   state: previous, entry: nil, noObservations: false)
        // Earlier windows whose late labels a performance alert waits for are built again.
        let awaiting = Set(previous.alerts.values.flatMap(\.awaitingLabels))
        guard let windows = try monitorWindows(served, window: r.window, after: previous.lastWindowEnd.flatMap(TimeText.parse),
                                               now: Self.nowSeconds(), reference: record.referenceProfile, revisit: awaiting) else {
            report.noObservations = true
            return report
        }
        struct NothingNew: Error { let state: AlertState }
        var run: AlertEngine.Run?
        var evaluatedWindows: [WindowEvidence] = []
        do {
            let (id, _) = try append(m) { [self] headID, current in
                let before = try alertState(m, stage: r.stage, from: headID)?.state ?? AlertState()
                let result = AlertEngine.run(policy: rules, reference: reference, evaluation: evaluation, windows: windows, previous: before)
                guard result.windowsEvaluated > 0 || !result.windowsRevisited.isEmpty, let current else { throw NothingNew(state: before) }
                run = result
                let evaluated = windows.filter { w in before.lastWindowEnd.map { w.end > $0 } ?? true }
                let revisited = windows.filter { result.windowsRevisited.contains($0.start) }
                evaluatedWindows = revisited + evaluated
                var details: [String: JSON] = [
                    "stage": .string(r.stage.value), "version": .number(Double(served.version)), "record": .string(served.recordID.description),
                    "alert_policy": policy.map { .string($0.id.description) } ?? .null,
                    "window_seconds": .number(Double(r.window)), "windows": .number(Double(result.windowsEvaluated)),
                    "from": .string(evaluated.first?.start ?? ""), "to": .string(evaluated.last?.end ?? ""),
                    "transitions": .array(result.transitions.map(\.json)), "alert_state": result.state.json,
                ]
                if !revisited.isEmpty { details["late_labels_windows"] = .array(revisited.map { .string($0.start) }) }
                return (.monitored, details, current.state)
            }
            report.entry = id
            report.state = run!.state
            report.transitions = run!.transitions
            report.windows = evaluatedWindows
        } catch let n as NothingNew {
            report.state = n.state
        }
        return report
    }

    /// The complete windows of the serving version's rows that end after `after` and at or before
    /// `now`, from the window of its first observed row on; nil when it has no observed rows.
    /// `revisit`: starts of earlier windows to build again (first, oldest first), for the
    /// performance alerts waiting for their late labels.
    ///
    /// Counts and production metrics come from `performance` (the summaries' hour buckets, late
    /// labels included); a window's profile merges the feature profiles of the batches whose
    /// first row falls in it (`Profile.merged`), those binned on `reference` first.
    public func monitorWindows(_ served: ResolvedVersion, window: Int64, after: Double?, now: Double, reference: ObjectID?,
                               revisit: Set<String> = []) throws -> [WindowEvidence]? {
        let m = served.model
        let perf = try performance(PerfRequest(model: m, ref: try VersionRef(served.name), stage: .production, window: window, minLabelled: 1))
        guard let first = perf.windows.first(where: { $0.counts.rows > 0 }) else { return nil }
        let byStart = Dictionary(perf.windows.map { (Int64($0.from), $0) }, uniquingKeysWith: { a, _ in a })
        let w = Double(window)
        var start = first.from
        if let after { start = max(start, (after / w).rounded(.down) * w) }
        var out: [WindowEvidence] = []
        var starts: [Int64] = []
        while start + w <= now {
            if after.map({ start + w > $0 }) ?? true { starts.append(Int64(start)) }
            start += w
        }
        let earlier = revisit.compactMap { TimeText.parse($0).map { Int64($0) } }
            .filter { s in Double(s) + w <= (after ?? -.infinity) && s % window == 0 }.sorted()
        starts = earlier + starts
        guard let firstStart = starts.first else { return [] }
        // Feature profiles of the batches in these windows.
        var profiles: [Int64: [(matches: Bool, profile: Profile)]] = [:]
        for b in try observations(of: m) where b.versions.contains(served.version) {
            guard let t = b.timeFrom, t >= Double(firstStart) else { continue }
            let ws = Int64((t / w).rounded(.down)) * window
            guard let f = try BatchFeatures(json: try summary(of: b).features, source: "observation summary \(b.summaryObject)") else { continue }
            profiles[ws, default: []].append((f.reference == reference && reference != nil, f.profile))
        }
        for s in starts {
            let p = byStart[s]
            var metrics: [String: Double] = [:]
            for metric in p?.metrics ?? [] { if let v = metric.value { metrics[metric.name] = v } }
            if metrics["auc"] == nil { metrics["auc"] = metrics["roc_auc"] }
            // Batches binned on the reference first: the merged profile keeps the first batch's bins.
            let batches = (profiles[s] ?? []).filter(\.matches) + (profiles[s] ?? []).filter { !$0.matches }
            out.append(WindowEvidence(start: TimeText.format(Double(s)), end: TimeText.format(Double(s + window)),
                                      rows: Int(p?.counts.rows ?? 0), labelledRows: Int(p?.counts.labelled ?? 0), metrics: metrics,
                                      profile: Profile.merged(batches.map(\.profile))))
        }
        return out
    }
}
