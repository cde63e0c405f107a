import Foundation
import Testing
import MregCore
import MregDashboard
import _MregTestSupport

/// The production panel of `RegistryEvidence`: the numbers `mreg perf --json` reports, on a
/// temporary registry with observed batches (docs/dashboard.md).
@Suite("DashboardProduction")
struct DashboardProductionTests {
    /// One day of rows: `caught` of `positives` positives scored 0.9, the rest 0.1; `negatives` scored 0.1.
    static func day(_ d: Int, positives: Int, caught: Int, negatives: Int) -> String {
        var s = "id,time,score,label\n"
        var i = 0
        func row(_ y: Int, _ score: Double) {
            s += "r\(d)-\(i)," + String(format: "2026-01-%02dT%02d:%02d:00Z", d, (i / 60) % 24, i % 60) + ",\(score),\(y)\n"
            i += 1
        }
        for k in 0..<positives { row(1, k < caught ? 0.9 : 0.1) }
        for _ in 0..<negatives { row(0, 0.1) }
        return s
    }

    /// fraud@1 (recall 0.8, precision 0.9 at evaluation) in production: day 1 fine, day 2 recall
    /// 16/40 (degraded), day 3 only 10 labelled rows.
    static func registry() -> (TemporaryDirectory, String) {
        let t = TemporaryDirectory("mreg-dashboard-prod")
        #expect(Mreg.run(["init", "reg"], cwd: t.path).status == 0)
        let reg = t.join("reg")
        t.write("m.json", #"{"recall": 0.8, "precision": 0.9}"#)
        t.write("a/w.bin", Data("weights".utf8))
        #expect(Mreg.run(["register", "fraud", "a", "--metrics", "m.json"], cwd: t.path, registry: reg).status == 0)
        #expect(Mreg.run(["promote", "fraud@1"], cwd: t.path, registry: reg).status == 0)
        t.write("d1.csv", day(1, positives: 40, caught: 36, negatives: 60))
        t.write("d2.csv", day(2, positives: 40, caught: 16, negatives: 60))
        t.write("d3.csv", day(3, positives: 5, caught: 5, negatives: 5))
        for f in ["d1.csv", "d2.csv", "d3.csv"] {
            let r = Mreg.run(["observe", "fraud@production", f], cwd: t.path, registry: reg)
            #expect(r.status == 0, "\(r)")
        }
        return (t, reg)
    }

    @Test("the panel's windows, values, intervals, evaluation and degraded flags are perf --json's")
    func panelEqualsPerf() throws {
        let (t, reg) = Self.registry()
        let perf = Mreg.run(["perf", "fraud", "--json"], cwd: t.path, registry: reg)
        #expect(perf.status == 0, "\(perf)")
        let windows = perf.json["windows"] as? [[String: Any]] ?? []
        #expect(windows.count == 3)

        let panel = try #require(try RegistryEvidence().production(Registry.open(explicit: reg), ModelName("fraud")))
        #expect(Set(panel.series.map(\.metric)) == ["recall", "precision"], "the metrics the evaluation has")
        for s in panel.series {
            #expect(s.version == "fraud@1" && s.source == "production champion")
            #expect(s.windows.map(\.start) == windows.map { $0["from"] as? String ?? "" })
            #expect(s.windows.map(\.rows) == windows.map { Int($0["rows"] as? Double ?? -1) })
            for (w, pw) in zip(s.windows, windows) {
                let m = (pw["metrics"] as? [String: Any])?[s.metric] as? [String: Any]
                if pw["too_few_labelled"] as? Bool == true {
                    #expect(m == nil && w.value == nil, "no number for a window with too few labelled rows")
                    #expect(w.missing == "too few labelled rows (10 < 30)")
                    continue
                }
                let m1 = try #require(m)
                #expect(w.value?.value == m1["value"] as? Double)
                // The same Wilson interval (perf --json writes 16 significant digits).
                let iv = try #require(m1["interval"] as? [Double])
                #expect(abs((w.value?.low ?? -1) - iv[0]) < 1e-12 && abs((w.value?.high ?? -1) - iv[1]) < 1e-12, "\(String(describing: w.value)) vs \(iv)")
                #expect(w.degraded == m1["degraded"] as? Bool)
                #expect(s.evaluation?.value == m1["evaluation"] as? Double)
            }
        }
        let recall = try #require(panel.series.first { $0.metric == "recall" })
        #expect(recall.degradedWindows.map(\.start) == ["2026-01-02T00:00:00Z"], "perf's rule: 16/40 lies below 0.8")
        #expect(recall.windows[0].value?.value == 0.9)
    }

    @Test("the page: production panel filled, too-few windows said in words, the health line says degraded")
    func pageSaysDegraded() throws {
        let (t, reg) = Self.registry()
        let r = Mreg.run(["dashboard", "fraud", "--json"], cwd: t.path, registry: reg)
        #expect(r.status == 0, "\(r)")
        #expect(r.json["status"] as? String == "degraded", "the newest labelled window (day 2) is below evaluation: \(r)")
        let html = String(decoding: t.read("fraud.html") ?? Data(), as: UTF8.self)
        #expect(html.contains("recall of fraud@1") && html.contains("1 of 3 windows below the evaluation interval"))
        #expect(html.contains("too few labelled rows (10 &lt; 30)"))
        #expect(html.contains("in the newest labelled window (2026-01-02T00:00:00Z)"))
        #expect(!html.contains("No production rows recorded yet"))

        // Day 4 back to normal: the newest labelled window is fine, the page says it was degraded.
        t.write("d4.csv", Self.day(4, positives: 40, caught: 36, negatives: 60))
        #expect(Mreg.run(["observe", "fraud@production", "d4.csv"], cwd: t.path, registry: reg).status == 0)
        let again = Mreg.run(["dashboard", "fraud", "--json"], cwd: t.path, registry: reg)
        #expect(again.json["status"] as? String == "was degraded", "\(again)")
    }
}
