import MregCore

/// The monitoring sections of `RegistryEvidence`: the alerts `mreg monitor` last recorded, and the
/// drift and integrity of the production champion's windows measured from the batch profiles
/// `mreg observe` keeps, against the champion's reference profile (docs/dashboard.md).
extension RegistryEvidence {
    /// Firing alerts of the newest `monitored` history entry of the production stage; nil when
    /// the model has neither an alert policy nor a monitor run.
    public func alerts(_ registry: Registry, _ model: ModelName) throws -> AlertsPanel? {
        let policy = try registry.alertPolicy(model)
        let monitored = try registry.alertState(model, stage: .production)
        guard policy != nil || monitored != nil else { return nil }
        let rules = policy?.policy ?? AlertPolicy.default
        let words = policy.map { "alert policy \($0.id.description.prefix(19))" } ?? "the default alert policy"
        guard let m = monitored else { return AlertsPanel(policy: words, lastRun: nil, firing: []) }
        let firing = m.state.firing.compactMap { key -> AlertsPanel.Alert? in
            guard let r = m.state.alerts[key] else { return nil }
            let severity = AlertsPanel.Severity(rawValue: r.severity.rawValue) ?? .warning
            let rule = rules.rules.first { $0.text == key.rule }
            let measured = key.column.isEmpty ? Self.measureText(key.rule) : Self.measureText(key.rule).replacingOccurrences(of: "(*)", with: "(\(key.column))")
            var reason = r.value.map { "\(measured) = \(Self.number($0))" } ?? measured
            reason += " in the last window measured; \(r.breaches) window\(r.breaches == 1 ? "" : "s") in breach"
            if let rule, rule.forWindows > 1 { reason += " (fires after \(rule.forWindows))" }
            return AlertsPanel.Alert(rule: key.description, severity: severity, since: r.since, reason: reason)
        }
        return AlertsPanel(policy: words, lastRun: "\(m.time) (windows up to \(m.state.lastWindowEnd ?? "–") of \(model)@\(m.version))", firing: firing)
    }

    /// Psi per numeric feature × window of the production champion; nil without a reference
    /// profile or batch profiles.
    public func drift(_ registry: Registry, _ model: ModelName) throws -> DriftPanel? {
        guard let (reference, windows) = try profiledWindows(registry, model) else { return nil }
        let features = reference.columns.keys.sorted().filter { if case .numeric = reference.columns[$0]! { return true }; return false }
        guard !features.isEmpty else { return nil }
        let policy = try registry.alertPolicy(model)?.policy ?? AlertPolicy.default
        let threshold = policy.rules.lazy.compactMap { rule -> Double? in
            guard case .column(.psi, _) = rule.condition.measure, case .number(let n) = rule.condition.threshold else { return nil }
            return n
        }.first ?? 0.25
        let values = features.map { f in
            windows.map { w -> Double? in
                guard case .numeric(let r)? = reference.columns[f], case .numeric(let c)? = w.profile?.columns[f] else { return nil }
                return DriftMeasures.psi(r, c)
            }
        }
        return DriftPanel(measure: "psi", threshold: threshold, features: features, windows: windows.map(\.start), values: values)
    }

    /// Missing rate, new categories and out-of-range share per feature, and schema changes, of
    /// the newest three windows with rows, with the limits of the alert policy in force.
    public func integrity(_ registry: Registry, _ model: ModelName) throws -> IntegrityPanel? {
        guard let (reference, windows) = try profiledWindows(registry, model) else { return nil }
        let policy = try registry.alertPolicy(model)?.policy ?? AlertPolicy.default
        var checks: [IntegrityPanel.Check] = []
        for w in windows.filter({ $0.profile != nil }).suffix(3) {
            let p = w.profile!
            let day = String(w.start.prefix(10))
            let schema = DriftMeasures.schema(reference, p)
            let schemaLimit = Self.limit(policy, rows: w.rows) { m in m == .schemaChanges ? 0 : nil }
            var detail: [String] = []
            if !schema.missing.isEmpty { detail.append("missing: " + schema.missing.joined(separator: ", ")) }
            if !schema.added.isEmpty { detail.append("added: " + schema.added.joined(separator: ", ")) }
            if !schema.changedKind.isEmpty { detail.append("other kind: " + schema.changedKind.joined(separator: ", ")) }
            checks.append(.init(check: "schema", window: day, value: Double(schema.count), limit: schemaLimit?.limit,
                                ok: schemaLimit.map { !$0.breach(Double(schema.count)) } ?? true, detail: detail.joined(separator: "; ")))
            for f in reference.columns.keys.sorted() {
                guard let r = reference.columns[f], let c = p.columns[f] else { continue }
                var measures: [(ColumnMeasure, Double?)] = [(.missingRate, DriftMeasures.missingRate(c))]
                if case .categorical(let a) = r, case .categorical(let b) = c { measures.append((.newCategories, DriftMeasures.newCategories(a, b))) }
                if case .numeric(let a) = r, case .numeric(let b) = c { measures.append((.outOfRange, DriftMeasures.outOfRange(a, b))) }
                for (m, value) in measures {
                    guard let value else { continue }
                    let lim = Self.limit(policy, rows: w.rows, column: f) { measure in
                        guard case .column(let cm, _) = measure, cm == m else { return nil }
                        return m == .missingRate ? DriftMeasures.missingRate(r) : 0
                    }
                    checks.append(.init(check: "\(m.rawValue)(\(f))", window: day, value: value, limit: lim?.limit,
                                        ok: lim.map { !$0.breach(value) } ?? true,
                                        detail: lim == nil ? "no rule in the alert policy" : lim!.rule))
                }
            }
        }
        return checks.isEmpty ? nil : IntegrityPanel(checks: checks)
    }

    /// The production champion's reference profile and its windows with their merged batch
    /// profiles (`monitor`'s windows, from the first observed row to the newest window with rows);
    /// nil when either is missing.
    func profiledWindows(_ registry: Registry, _ model: ModelName) throws -> (Profile, [WindowEvidence])? {
        let state = try registry.headEntry(model).entry.state
        guard let c = state.champions["production"] else { return nil }
        let served = try registry.resolve(.number(model, c.version))
        let record = try registry.record(of: served)
        guard let reference = try registry.referenceProfile(of: record),
              let windows = try registry.monitorWindows(served, window: window, after: nil, now: (TimeText.parse(Clock.nowISO()) ?? 0) + Double(window),
                                                        reference: record.referenceProfile),
              let last = windows.lastIndex(where: { $0.rows > 0 }), windows.contains(where: { $0.profile != nil }) else { return nil }
        // Up to the newest window with rows (the current one included), not the empty days since.
        return (reference, Array(windows[...last]))
    }

    /// The limit of the first rule of `policy` on this measure (and column), as a number, when the
    /// window has the rows the rule needs.
    static func limit(_ policy: AlertPolicy, rows: Int, column: String? = nil,
                      _ referenceValue: (Measure) -> Double?) -> (limit: Double, rule: String, breach: (Double) -> Bool)? {
        for rule in policy.rules {
            if case .column(_, let col?) = rule.condition.measure, col != column { continue }
            guard let base = referenceValue(rule.condition.measure) else { continue }
            let limit: Double
            switch rule.condition.threshold {
            case .number(let n): limit = n
            case .reference(let plus): limit = base + plus
            case .evaluation: continue
            }
            let op = rule.condition.op
            let enough = rows >= rule.minRows
            return (limit, rule.text + (enough ? "" : " (fewer rows than its min_rows \(rule.minRows))"), { enough && op.holds($0, limit) })
        }
        return nil
    }

    /// `psi(*)` of `psi(*) > 0.25`: the rule's measure, before its operator.
    static func measureText(_ rule: String) -> String {
        for op in [" >= ", " <= ", " > ", " < "] { if let r = rule.range(of: op) { return String(rule[..<r.lowerBound]) } }
        return rule
    }

    static func number(_ x: Double) -> String {
        let s = String(format: "%.3g", x)
        return s
    }
}
