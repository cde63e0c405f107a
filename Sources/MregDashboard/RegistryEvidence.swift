import MregCore

/// The dashboard's evidence read from the registry itself: production performance from
/// `Registry.performance` (the numbers and the degradation rule of `mreg perf`); alerts, drift and
/// integrity in RegistryEvidence+Monitoring.swift.
///
/// Production: the production champion's windows, and those of any other version served in the
/// same period (a challenger in an A/B test or a canary), one series per metric the version's
/// evaluation has and `perf` reports with an interval for that version.
public struct RegistryEvidence: DashboardEvidence {
    /// Window length in seconds (`perf --window`), one day by default.
    public var window: Int64
    /// Fewest labelled rows for label metrics (`perf --min-labelled`).
    public var minLabelled: Int

    public init(window: Int64 = 86_400, minLabelled: Int = 30) {
        self.window = window; self.minLabelled = minLabelled
    }

    public func production(_ registry: Registry, _ model: ModelName) throws -> ProductionPanel? {
        // Each served version's period, from the batches' entries (their summaries are read once,
        // by `performance`, for the versions shown).
        var spans: [Int: (from: Double, to: Double)] = [:]
        for b in try registry.observations(of: model) {
            guard let from = b.timeFrom ?? TimeText.parse(b.observedAt) else { continue }
            let to = b.timeTo ?? from
            for v in b.versions { spans[v] = (min(spans[v]?.from ?? from, from), max(spans[v]?.to ?? to, to)) }
        }
        guard !spans.isEmpty else { return nil }
        let state = try registry.headEntry(model).entry.state
        // The champion first; then every version with rows in the champion's period, by number.
        var served: [(version: Int, role: String)] = []
        if let c = state.champions["production"], let span = spans[c.version] {
            served.append((c.version, "production champion"))
            for (v, s) in spans.sorted(by: { $0.key < $1.key }) where v != c.version && s.from <= span.to && s.to >= span.from {
                served.append((v, "served alongside"))
            }
        } else {
            served = spans.keys.sorted().map { ($0, "served") }
        }
        var series: [ProductionSeries] = []
        for (v, role) in served {
            let report = try registry.performance(PerfRequest(model: model, ref: .number(model, v), stage: try StageName("production"),
                                                              window: window, minLabelled: minLabelled))
            series += Self.series(report, version: "\(model)@\(v)", source: role)
        }
        return series.isEmpty ? nil : ProductionPanel(series: series)
    }

    /// One series per metric that has an evaluation value and a production interval in some window,
    /// in `perf`'s order; windows where `perf` gives no number say why.
    static func series(_ report: PerfReport, version: String, source: String) -> [ProductionSeries] {
        var names: [String] = []
        var evaluation: [String: MetricValue] = [:]
        for w in report.windows {
            for m in w.metrics where m.evaluation != nil && m.interval != nil && !names.contains(m.name) {
                names.append(m.name)
                evaluation[m.name] = MetricValue(m.evaluation!, low: m.evaluationInterval?.low, high: m.evaluationInterval?.high)
            }
        }
        return names.map { name in
            let windows = report.windows.map { w -> ProductionWindow in
                let start = TimeText.format(w.from), end = TimeText.format(w.to), rows = Int(w.counts.rows)
                guard let m = w.metrics.first(where: { $0.name == name }), let value = m.value else {
                    let why = w.tooFewLabelled ? "too few labelled rows (\(Int(w.counts.labelled)) < \(report.minLabelled))"
                                               : "no rows to compute \(name) on"
                    return ProductionWindow(start: start, end: end, rows: rows, value: nil, degraded: false, missing: why)
                }
                return ProductionWindow(start: start, end: end, rows: rows,
                                        value: MetricValue(value, low: m.interval?.low, high: m.interval?.high), degraded: m.degraded)
            }
            return ProductionSeries(metric: name, version: version, source: source, evaluation: evaluation[name], windows: windows)
        }
    }

}
