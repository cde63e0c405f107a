import Foundation
import Testing
import MregCore
import MregDashboard
import _MregTestSupport

/// The alerts, drift and integrity panels of `RegistryEvidence` on a registry that `mreg monitor`
/// ran over: the firing alert of the history's newest monitor state, psi per feature and window
/// equal to the value `monitor` fired on, integrity checks with the policy's limits.
@Suite("DashboardMonitoring")
struct DashboardMonitoringTests {
    /// Deterministic uniform numbers (SplitMix64).
    struct Gen {
        var s: UInt64
        mutating func u() -> Double {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        mutating func normal() -> Double { (0..<12).reduce(0) { a, _ in a + u() } - 6 }
        /// amount (log-normal times `scale`), age (empty when `ageMissing`), merchant.
        mutating func features(scale: Double = 1, ageMissing: Bool = false) -> String {
            let amount = String(format: "%.2f", exp(3 + 0.5 * normal()) * scale)
            let age = ageMissing ? "" : String(format: "%.0f", 40 + 10 * normal())
            return "\(amount),\(age),\(["grocery", "travel", "online", "fuel"][Int(u() * 4)])"
        }
    }

    /// One day of 400 rows in March 2026; drifted days have amounts × 3, broken days no age.
    static func day(_ d: Int, drift: Bool, broken: Bool) -> String {
        var g = Gen(s: UInt64(1000 + d))
        var s = "id,time,score,amount,age,merchant\n"
        for i in 0..<400 {
            let t = String(format: "2026-03-%02dT%02d:%02d:00Z", d, (i * 24) / 400, i % 60)
            s += "d\(d)-\(i),\(t),\(String(format: "%.2f", g.u())),\(g.features(scale: drift ? 3 : 1, ageMissing: broken))\n"
        }
        return s
    }

    /// fraud@1 with a 2,000-row reference in production; days 1–5 quiet, 6–8 drifted amounts,
    /// 9–10 without age; `mreg monitor` each morning.
    static func registry() throws -> (TemporaryDirectory, String, [CommandResult]) {
        let t = TemporaryDirectory("mreg-dashboard-monitor")
        #expect(Mreg.run(["init", "reg"], cwd: t.path).status == 0)
        let reg = t.join("reg")
        func run(_ args: [String], _ env: [String: String] = [:]) -> CommandResult { Mreg.run(args, cwd: t.path, env: env, registry: reg) }
        var g = Gen(s: 7)
        t.write("ref.csv", "amount,age,merchant\n" + (0..<2000).map { _ in g.features() + "\n" }.joined())
        t.write("art/w.bin", Data("weights".utf8))
        let r = run(["register", "fraud", "art", "--predictions", FixturePaths.path("evaluation/cases/binary_medium.csv"), "--bootstrap", "50", "--reference", "ref.csv"])
        #expect(r.status == 0, "\(r)")
        #expect(run(["promote", "fraud@1"]).status == 0)
        var monitors: [CommandResult] = []
        for d in 1...10 {
            t.write("day\(d).csv", day(d, drift: (6...8).contains(d), broken: d >= 9))
            let o = run(["observe", "fraud@production", "day\(d).csv"], ["MREG_TIME": "2026-04-30T00:00:00Z"])
            #expect(o.status == 0, "\(o)")
            monitors.append(run(["monitor", "fraud", "--json"], ["MREG_TIME": String(format: "2026-03-%02dT06:10:00Z", d + 1)]))
        }
        return (t, reg, monitors)
    }

    @Test("alerts from the newest monitor state, psi per feature × window as monitor measured it, integrity with the policy's limits")
    func panels() throws {
        let (t, reg, monitors) = try Self.registry()
        #expect(monitors.map(\.status) == [0, 0, 0, 0, 0, 0, 5, 0, 5, 0], "\(monitors.map(\.stdout))")
        let registry = try Registry.open(explicit: reg)
        let model = try ModelName("fraud")
        let evidence = RegistryEvidence()

        // Alerts: the broken feed's missing rate of age, firing since day 9's window end.
        let alerts = try #require(try evidence.alerts(registry, model))
        #expect(alerts.policy == "the default alert policy")
        #expect(alerts.firing.map(\.rule) == ["missing_rate(*) > reference + 0.1 [age]"], "\(alerts.firing)")
        #expect(alerts.firing.first?.severity == .critical && alerts.firing.first?.since == "2026-03-10T00:00:00Z")
        #expect(alerts.firing.first?.reason.hasPrefix("missing_rate(age) = 1 in the last window measured") == true, "\(alerts.firing)")
        #expect(alerts.lastRun?.hasPrefix("2026-03-11T06:10:00Z") == true, "\(String(describing: alerts.lastRun))")

        // Drift: psi of amount on day 7 is the value monitor fired on (its JSON transition).
        let drift = try #require(try evidence.drift(registry, model))
        #expect(drift.measure == "psi" && drift.threshold == 0.25 && drift.features == ["age", "amount"])
        #expect(drift.windows.first == "2026-03-01T00:00:00Z" && drift.windows.count == 10, "\(drift.windows)")
        let fired = (monitors[6].json["transitions"] as? [[String: Any]] ?? []).first { $0["rule"] as? String == "psi(*) > 0.25" && $0["column"] as? String == "amount" }
        let psi7 = try #require(drift.values[1][6])
        #expect(abs(psi7 - (fired?["value"] as? Double ?? -1)) < 1e-9, "psi(amount) on 2026-03-07: \(psi7) vs \(String(describing: fired))")
        #expect(drift.values[1][0...4].allSatisfy { ($0 ?? 1) < 0.25 } && drift.values[1][5...7].allSatisfy { ($0 ?? 0) >= 0.25 }, "\(drift.values[1])")
        #expect(drift.values[0][8] == nil, "age has no values on the broken days: no psi")

        // Integrity: the newest three windows; age missing on days 9 and 10 in breach of reference + 0.1.
        let integrity = try #require(try evidence.integrity(registry, model))
        let breaches = integrity.checks.filter { !$0.ok }.map { "\($0.check) \($0.window)" }.sorted()
        #expect(breaches == ["missing_rate(age) 2026-03-09", "missing_rate(age) 2026-03-10"], "\(breaches)")
        let merchant = try #require(integrity.checks.first { $0.check == "new_categories(merchant)" && $0.window == "2026-03-10" })
        #expect(merchant.value == 0 && merchant.limit == 0.05 && merchant.ok)

        // The page: the health line names the firing alert; every panel filled.
        let page = Mreg.run(["dashboard", "fraud", "--json"], cwd: t.path, env: ["MREG_TIME": "2026-03-11T07:00:00Z"], registry: reg)
        #expect(page.status == 0 && page.json["status"] as? String == "1 alert firing", "\(page)")
        let html = String(decoding: t.read("fraud.html") ?? Data(), as: UTF8.self)
        #expect(!html.contains("No drift measured yet") && !html.contains("No integrity checks yet") && !html.contains("No alert policy"))
        #expect(html.contains("Alerts firing (1)") && html.contains("missing_rate(*) &gt; reference + 0.1 [age]"))
    }

    @Test("no reference, no monitor run: alerts, drift and integrity stay empty and the page says so")
    func nothingRecorded() throws {
        let t = TemporaryDirectory("mreg-dashboard-monitor")
        #expect(Mreg.run(["init", "reg"], cwd: t.path).status == 0)
        let reg = t.join("reg")
        t.write("m.json", #"{"recall": 0.8}"#)
        t.write("a/w.bin", Data("w".utf8))
        #expect(Mreg.run(["register", "fraud", "a", "--metrics", "m.json"], cwd: t.path, registry: reg).status == 0)
        #expect(Mreg.run(["promote", "fraud@1"], cwd: t.path, registry: reg).status == 0)
        t.write("d1.csv", Self.day(1, drift: false, broken: false))
        #expect(Mreg.run(["observe", "fraud@production", "d1.csv"], cwd: t.path, registry: reg).status == 0)
        let registry = try Registry.open(explicit: reg)
        let e = RegistryEvidence()
        #expect(try e.alerts(registry, ModelName("fraud")) == nil)
        #expect(try e.drift(registry, ModelName("fraud")) == nil)
        #expect(try e.integrity(registry, ModelName("fraud")) == nil)
    }
}
