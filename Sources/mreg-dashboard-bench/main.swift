// Benchmark of the dashboard at the scale of issue 17 (scripts/bench_dashboard.py runs it): reads a
// model's page from a real registry (1,000 versions made by mreg-populate), adds production (365
// daily windows), drift (50 features × 365 windows), integrity and alerts panels made up here —
// the shape the production and monitoring evidence will have — renders and writes the page, and
// prints the times. Not installed, not part of the command-line contract.
//
//   mreg-dashboard-bench REGISTRY MODEL OUT.html [WINDOWS FEATURES]
import Foundation
import MregCore
import MregDashboard

let args = CommandLine.arguments
guard args.count == 4 || args.count == 6 else {
    FileHandle.standardError.write(Data("usage: mreg-dashboard-bench REGISTRY MODEL OUT.html [WINDOWS FEATURES]\n".utf8))
    exit(2)
}
let windows = args.count == 6 ? Int(args[4]) ?? 365 : 365
let features = args.count == 6 ? Int(args[5]) ?? 50 : 50

struct Synthetic: DashboardEvidence {
    var windows: Int
    var features: Int
    func day(_ i: Int) -> String { TimeText.format(1_767_225_600 + Double(i) * 86_400) }
    func production(_ registry: Registry, _ model: ModelName) throws -> ProductionPanel? {
        ProductionPanel(series: [ProductionSeries(metric: "recall", version: "\(model)@1", evaluation: MetricValue(0.72, low: 0.69, high: 0.75),
            windows: (0..<windows).map { i in
                let v = 0.72 + 0.03 * sin(Double(i) / 9)
                return ProductionWindow(start: day(i), end: day(i + 1), rows: 4000, value: MetricValue(v, low: v - 0.02, high: v + 0.02))
            })])
    }
    func drift(_ registry: Registry, _ model: ModelName) throws -> DriftPanel? {
        var rng = SystemRandomNumberGenerator()
        let values: [[Double?]] = (0..<features).map { _ in (0..<windows).map { _ in Double.random(in: 0..<0.4, using: &rng) } }
        return DriftPanel(measure: "psi", threshold: 0.25, features: (0..<features).map { "feature_\($0)" }, windows: (0..<windows).map(day), values: values)
    }
    func integrity(_ registry: Registry, _ model: ModelName) throws -> IntegrityPanel? {
        IntegrityPanel(checks: (0..<features).map { f in .init(check: "missing_rate(feature_\(f))", window: day(windows - 1), value: 0.001, limit: 0.02, ok: true) })
    }
    func alerts(_ registry: Registry, _ model: ModelName) throws -> AlertsPanel? {
        AlertsPanel(policy: "default policy", lastRun: day(windows), firing: [.init(rule: "psi(*) > 0.25", severity: .warning, since: day(windows - 3), reason: "psi(feature_7) = 0.31")])
    }
}

do {
    let t0 = Date()
    let registry = try Registry.open(explicit: args[1])
    let page = try ModelPage.load(registry, try ModelName(args[2]), evidence: Synthetic(windows: windows, features: features))
    let t1 = Date()
    let html = DashboardPage.render(page)
    let t2 = Date()
    try PageFile.write(args[3], html)
    let t3 = Date()
    print(String(format: "versions=%d plotted=%d windows=%d features=%d load_s=%.3f render_s=%.3f write_s=%.3f total_s=%.3f bytes=%d",
                 page.versionCount, page.versions.count, windows, features, t1.timeIntervalSince(t0), t2.timeIntervalSince(t1),
                 t3.timeIntervalSince(t2), t3.timeIntervalSince(t0), html.utf8.count))
} catch let e as MregError {
    FileHandle.standardError.write(Data("mreg-dashboard-bench: \(e.message)\n".utf8))
    exit(e.exitCode)
}
