import MregCore
@testable import MregDashboard

/// A page with every section filled, the optional production and monitoring ones included, as the
/// lead's wiring will fill them; `s` goes into every string a user or a data file can set.
func syntheticPage(_ s: String = "", windows: Int = 30, features: Int = 6, versions: Int = 12) -> ModelPage {
    func day(_ i: Int) -> String { TimeText.format(1_790_000_000 + Double(i) * 86_400) }
    let metric = "recall" + s
    let series = ProductionSeries(
        metric: metric, version: "fraud@2" + s, source: "traffic", evaluation: MetricValue(0.72, low: 0.69, high: 0.75),
        windows: (0..<windows).map { (i: Int) -> ProductionWindow in
            let v: Double = i < windows - 3 ? 0.72 + 0.01 * Double(i % 3 - 1) : 0.60  // the last three degrade
            let value: MetricValue? = i == 4 ? nil : MetricValue(v, low: v - 0.02, high: v + 0.02)
            return ProductionWindow(start: day(i), end: day(i + 1), rows: 5000, value: value)
        })
    var values: [[Double?]] = []
    for f in 0..<features {
        var row: [Double?] = []
        for w in 0..<windows { row.append(w == 2 ? nil : Double(f * w % 17) / 30) }
        values.append(row)
    }
    let names: [String] = (0..<features).map { "feature_\($0)" + s }
    let drift = DriftPanel(measure: "psi", threshold: 0.25, features: names, windows: (0..<windows).map(day), values: values)
    let integrity = IntegrityPanel(checks: [
        .init(check: "missing_rate(amount" + s + ")", window: day(windows - 1), value: 0.07, limit: 0.02, ok: false, detail: "7% of rows" + s),
        .init(check: "schema", window: day(windows - 1), value: nil, limit: nil, ok: true, detail: "no change"),
    ])
    let alerts = AlertsPanel(policy: "policy set 2026-10-01" + s, lastRun: day(windows), firing: [
        .init(rule: "recall < evaluation.recall.low" + s, severity: .critical, since: day(windows - 3), reason: "recall 0.60 < 0.69 for 3 windows" + s),
        .init(rule: "psi(*) > 0.25", severity: .warning, since: day(windows - 5), reason: "psi(feature_3) = 0.41" + s),
    ])
    var points: [VersionPoint] = []
    for v in 1...versions {
        let x: Double = 0.7 + Double(v % 5) / 50
        let champ: [String] = v == 2 ? ["production"] : v == versions ? ["staging"] : []
        let blocked: [String] = v == 3 ? ["production"] : []
        points.append(VersionPoint(version: v, created: day(v), message: "v\(v)" + s,
                                   metrics: ["f1" + s: MetricValue(x, low: x - 0.02, high: x + 0.02)], championOf: champ, blockedFor: blocked))
    }
    let events: [TimelineEvent] = [
        .init(seq: 9, time: day(20), event: "rolled_back", stage: "production", version: 2, user: "ops" + s, reason: "INC-1" + s),
        .init(seq: 8, time: day(15), event: "overridden", stage: "production", version: 3, user: "ops" + s, reason: "hotfix" + s),
        .init(seq: 7, time: day(12), event: "blocked", stage: "production", version: 3, user: "ci", reason: "f1 >= 0.9: 0.8 < 0.9" + s),
        .init(seq: 6, time: day(10), event: "signed", stage: "production", version: 2, user: "rm"),
        .init(seq: 5, time: day(8), event: "promoted", stage: "production", version: 2, user: "ci"),
        .init(seq: 2, time: day(1), event: "policy", user: "ci"),
    ]
    let report = GateReport(stage: "production", passed: false, policyKind: "policy", notes: ["note" + s], results: [
        RuleResult(rule: "f1 > champion" + s, metric: "f1", candidate: 0.81, reference: 0.8, threshold: 0.8, verdict: .pass, reason: "0.81 > 0.8" + s),
        RuleResult(rule: "recall{plan=\"" + s + "\"} >= 0.6", metric: "recall{plan=\"" + s + "\"}", candidate: 0.5, reference: 0.6,
                   threshold: 0.6, verdict: .fail, reason: "0.5 < 0.6" + s),
    ])
    return ModelPage(model: "fraud", generated: "2026-12-01T00:00:00Z",
                     champions: [StageChampion(stage: "production", version: 2, since: day(20), how: "rolled_back", reason: "INC-1" + s,
                                               message: "more trees" + s, signers: ["SHA256:abc (rm" + s + ")"]),
                                 StageChampion(stage: "staging", version: versions, since: day(21), how: "promoted", message: "newest" + s)],
                     keyMetrics: ["f1" + s], versions: points, versionCount: versions, timeline: events,
                     newestGate: GateSummary(version: versions, context: "blocked for production" + s, report: report),
                     production: ProductionPanel(series: [series]), drift: drift, integrity: integrity, alerts: alerts)
}
