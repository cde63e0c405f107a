/// The alert engine (docs/monitoring.md, "States"): a pure, deterministic function from a policy,
/// a reference profile, the serving version's evaluation, a sequence of windows and the previous
/// state, to the new state and the transitions to report. No I/O, no clock.
public enum AlertEngine {
    /// What one run produced.
    public struct Run: Equatable, Sendable {
        public var state: AlertState
        /// Fired and resolved alerts, in window order, then by rule and column.
        public var transitions: [AlertTransition]
        /// Windows evaluated (those ending after the previous state's `lastWindowEnd`).
        public var windowsEvaluated: Int
        /// Earlier windows whose late labels a performance rule waited for and decided in this
        /// run (their starts, in order).
        public var windowsRevisited: [String] = []
        /// Whether an alert newly fired (`monitor` exits 5).
        public var fired: Bool { transitions.contains { $0.kind == .fired } }
    }

    /// What a rule saw in one window.
    enum Observation: Equatable {
        case breach(Double, threshold: Double)
        case clean(Double, threshold: Double)
        case insufficient
        case noData
    }

    /// Evaluates `windows` (in time order; those ending at or before `previous.lastWindowEnd`
    /// are skipped) and returns the new state and the transitions.
    ///
    /// Per alert and window: a breach adds to `breaches` and fires once `breaches` reaches the
    /// rule's `for:`; a clean window resets `breaches`, and a firing alert resolves after
    /// `resolve_after:` clean windows in a row. An insufficient-data or no-data window neither
    /// breaches nor cleans, and leaves a firing alert firing. While an integrity or schema alert
    /// (missing_rate, new_categories, out_of_range, schema_changes, rows) is pending or firing,
    /// drift and performance alerts do not newly fire (inhibition); they stay pending and may
    /// fire once the integrity alert clears. Alerts of rules no longer in the policy are dropped.
    ///
    /// Late labels: a performance rule's window that had rows but too few labelled rows
    /// (insufficient data, or no labelled row at all) is remembered in the alert's
    /// `awaitingLabels`. When `windows` holds such an earlier window again (ending at or before
    /// `lastWindowEnd`), the rule observes it once more, and once it has enough labelled rows it
    /// is decided (breach or clean, counted in the order windows are decided) and forgotten, so a
    /// window is decided once. Windows more than `lateLabelHorizon` before the newest window's end
    /// stop waiting.
    public static func run(policy: AlertPolicy, reference: Profile?, evaluation: EvaluationBounds,
                           windows: [WindowEvidence], previous: AlertState) -> Run {
        var state = previous
        var transitions: [AlertTransition] = []
        var evaluated = 0
        var revisited: [String] = []
        let keys = Set(policy.rules.flatMap { keysOf($0, reference) }.map(\.key))
        state.alerts = state.alerts.filter { keys.contains($0.key) }
        func integrityHolds() -> Bool {
            state.alerts.contains { key, record in
                policy.rules.first { $0.text == key.rule }?.inhibits == true && (record.status == .pending || record.status == .firing)
            }
        }
        // Windows beyond the late-label horizon of the newest window stop waiting, before any is revisited.
        func forgetOldWaits() {
            let ends = (windows.map(\.end) + [state.lastWindowEnd].compactMap { $0 }).compactMap(TimeText.parse)
            guard let newest = ends.max() else { return }
            for (key, record) in state.alerts where !record.awaitingLabels.isEmpty {
                state.alerts[key]!.awaitingLabels = record.awaitingLabels.filter { (TimeText.parse($0) ?? 0) >= newest - lateLabelHorizon }
            }
        }
        forgetOldWaits()
        for window in windows {
            if let last = state.lastWindowEnd, window.end <= last {
                // An earlier window: only performance alerts waiting for its labels look again.
                let inhibited = integrityHolds()
                var decided = false
                for rule in policy.rules where rule.condition.measure.isPerformance {
                    let key = AlertKey(rule: rule.text)
                    guard var record = state.alerts[key], record.awaitingLabels.contains(window.start) else { continue }
                    let observation = observe(rule, column: nil, reference: reference, evaluation: evaluation, window: window)
                    if awaitsLabels(observation, window) { continue }
                    record.awaitingLabels.removeAll { $0 == window.start }
                    let (updated, transition) = update(record, rule: rule, key: key, observation: observation, window: window, inhibited: inhibited)
                    state.alerts[key] = updated
                    if let transition { transitions.append(transition) }
                    decided = true
                }
                if decided { revisited.append(window.start) }
                continue
            }
            evaluated += 1
            // Integrity rules first: they decide whether the others are held back.
            let ordered = policy.rules.filter(\.inhibits) + policy.rules.filter { !$0.inhibits }
            var inhibited = false
            var decidedInhibition = false
            for rule in ordered {
                if !rule.inhibits && !decidedInhibition {
                    decidedInhibition = true
                    inhibited = integrityHolds()
                }
                for (key, column) in keysOf(rule, reference) {
                    let observation = observe(rule, column: column, reference: reference, evaluation: evaluation, window: window)
                    var (record, transition) = update(state.alerts[key], rule: rule, key: key, observation: observation,
                                                      window: window, inhibited: inhibited && !rule.inhibits)
                    if rule.condition.measure.isPerformance && awaitsLabels(observation, window) && !record.awaitingLabels.contains(window.start) {
                        record.awaitingLabels.append(window.start)
                    }
                    state.alerts[key] = record
                    if let transition { transitions.append(transition) }
                }
            }
            state.lastWindowEnd = window.end
        }
        forgetOldWaits()
        return Run(state: state, transitions: transitions, windowsEvaluated: evaluated, windowsRevisited: revisited)
    }

    /// How long a performance rule waits for a window's late labels: 60 days from the window's
    /// start to the newest window's end.
    public static let lateLabelHorizon: Double = 60 * 86_400

    /// A window with rows whose labels have not arrived (enough) for a performance rule.
    static func awaitsLabels(_ observation: Observation, _ window: WindowEvidence) -> Bool {
        window.rows > 0 && (observation == .insufficient || (observation == .noData && window.labelledRows == 0))
    }

    /// Refuses a run the policy cannot be evaluated for: column or schema rules with no reference
    /// profile for the serving version (exit 2, naming the version and what to do), or a column
    /// rule the reference cannot answer (`AlertPolicy.validate`). `monitor` calls this first.
    public static func check(policy: AlertPolicy, reference: Profile?, servingVersion: String, policySource: String) throws {
        guard let reference else {
            if policy.needsReference {
                throw MregError.invalid("\(servingVersion) has no reference profile, and the \(policySource) has column or schema rules; register the version with --reference FILE, or set a policy without them (docs/monitoring.md)")
            }
            return
        }
        try policy.validate(against: reference, referenceName: servingVersion, source: policySource)
    }

    /// The alerts a rule stands for: one per column for a column rule (`*`: every reference
    /// column of a kind the measure applies to), else one.
    static func keysOf(_ rule: AlertRule, _ reference: Profile?) -> [(key: AlertKey, column: String?)] {
        guard case .column(let m, let column) = rule.condition.measure else { return [(AlertKey(rule: rule.text), nil)] }
        if let column { return [(AlertKey(rule: rule.text, column: column), column)] }
        let columns = (reference?.columns ?? [:]).filter { m.kinds.contains($0.value.kind) }.keys.sorted()
        return columns.map { (AlertKey(rule: rule.text, column: $0), $0) }
    }

    static func observe(_ rule: AlertRule, column: String?, reference: Profile?, evaluation: EvaluationBounds,
                        window: WindowEvidence) -> Observation {
        let c = rule.condition
        var value: Double?
        var threshold: Double?
        switch c.measure {
        case .rows:
            value = Double(window.rows)
            if case .number(let n) = c.threshold { threshold = n }
        case .metric(let name):
            if window.rows == 0 { return .noData }
            if window.labelledRows < rule.minRows { return .insufficient }
            value = window.metrics[name]
            switch c.threshold {
            case .number(let n): threshold = n
            case .evaluation(let metric, let bound):
                switch bound {
                case .low: threshold = evaluation.intervals[metric]?.low
                case .high: threshold = evaluation.intervals[metric]?.high
                case .value: threshold = evaluation.values[metric]
                }
            case .reference: threshold = nil
            }
        case .schemaChanges:
            guard window.rows > 0, let reference, let profile = window.profile else { return .noData }
            if window.rows < rule.minRows { return .insufficient }
            value = Double(DriftMeasures.schema(reference, profile).count)
            if case .number(let n) = c.threshold { threshold = n }
        case .column(let m, _):
            guard window.rows > 0, let column, let r = reference?.columns[column], let w = window.profile?.columns[column] else { return .noData }
            if window.rows < rule.minRows { return .insufficient }
            value = measure(m, r, w)
            switch c.threshold {
            case .number(let n): threshold = n
            case .reference(let plus): threshold = measure(m, r, r).map { $0 + plus }
            case .evaluation: threshold = nil
            }
        }
        guard let value, let threshold, !value.isNaN else { return .noData }
        return c.op.holds(value, threshold) ? .breach(value, threshold: threshold) : .clean(value, threshold: threshold)
    }

    /// One column measure between a reference column and a window column (or the reference
    /// itself, for `reference + MARGIN`).
    static func measure(_ m: ColumnMeasure, _ r: ColumnProfile, _ w: ColumnProfile) -> Double? {
        switch (m, r, w) {
        case (.missingRate, _, _): return DriftMeasures.missingRate(w)
        case (.js, _, _): return DriftMeasures.js(r, w)
        case (.psi, .numeric(let a), .numeric(let b)): return DriftMeasures.psi(a, b)
        case (.ks, .numeric(let a), .numeric(let b)): return DriftMeasures.ks(a, b)
        case (.wasserstein, .numeric(let a), .numeric(let b)): return DriftMeasures.wasserstein(a, b)
        case (.outOfRange, .numeric(let a), .numeric(let b)): return DriftMeasures.outOfRange(a, b)
        case (.newCategories, .categorical(let a), .categorical(let b)): return DriftMeasures.newCategories(a, b)
        case (.mean, _, .numeric(let b)): return DriftMeasures.aggregate(.mean, b)
        case (.p50, _, .numeric(let b)): return DriftMeasures.aggregate(.p50, b)
        case (.p90, _, .numeric(let b)): return DriftMeasures.aggregate(.p90, b)
        case (.p99, _, .numeric(let b)): return DriftMeasures.aggregate(.p99, b)
        default: return nil
        }
    }

    static func update(_ previous: AlertRecord?, rule: AlertRule, key: AlertKey, observation: Observation,
                       window: WindowEvidence, inhibited: Bool) -> (AlertRecord, AlertTransition?) {
        var r = previous ?? AlertRecord(status: .ok, since: window.end, severity: rule.severity)
        r.severity = rule.severity
        func become(_ s: AlertStatus) {
            if r.status != s { r.status = s; r.since = window.end }
        }
        func transition(_ kind: AlertTransition.Kind, _ value: Double?, _ threshold: Double?, since: String) -> AlertTransition {
            r.lastNotified = window.end
            return AlertTransition(kind: kind, key: key, severity: rule.severity, windowStart: window.start, windowEnd: window.end,
                                   value: value, threshold: threshold, since: since)
        }
        switch observation {
        case .insufficient, .noData:
            if r.status != .firing { become(observation == .noData ? .noData : .insufficientData) }
            return (r, nil)
        case .breach(let v, let t):
            r.value = v
            r.breaches += 1
            r.clean = 0
            if r.status == .firing { return (r, nil) }
            if r.status != .pending { become(.pending) }
            let pendingSince = r.since
            guard r.breaches >= rule.forWindows, !inhibited else { return (r, nil) }
            become(.firing)
            let fired = transition(.fired, v, t, since: pendingSince)
            return (r, fired)
        case .clean(let v, let t):
            r.value = v
            r.breaches = 0
            guard r.status == .firing else {
                r.clean = 0
                become(.ok)
                return (r, nil)
            }
            r.clean += 1
            guard r.clean >= rule.resolveAfter else { return (r, nil) }
            let firedSince = r.since
            r.clean = 0
            become(.ok)
            let resolved = transition(.resolved, v, t, since: firedSince)
            return (r, resolved)
        }
    }
}
