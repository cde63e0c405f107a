import Foundation
import Testing
import _MregTestSupport

/// `mreg perf`, `mreg ab` and `production.METRIC` gate rules on observed rows (docs/production.md).
@Suite("Production perf and ab")
struct ProductionPerfTests {
    /// Rows of one day: `caught` of `positives` positives scored 0.9, the rest 0.1; `negatives`
    /// negatives scored 0.1. `label`: label column filled; `human`: every row has a human
    /// decision equal to the model's except `disagree` rows.
    static func day(_ d: Int, positives: Int, caught: Int, negatives: Int, label: Bool = true, version: Int? = nil,
                    idPrefix: String = "r", humanDisagree: Int? = nil, outcomes: Int? = nil) -> String {
        var s = "id,time,score,label,human,outcome,version\n"
        var i = 0
        func row(_ y: Int, _ score: Double) {
            let t = String(format: "2026-01-%02dT%02d:%02d:00Z", d, (i / 60) % 24, i % 60)
            let decision = score >= 0.5 ? 1 : 0
            let human = humanDisagree.map { i < $0 ? String(1 - decision) : String(decision) } ?? ""
            let outcome = outcomes.map { i < $0 ? "1" : "0" } ?? ""
            s += "\(idPrefix)\(d)-\(i),\(t),\(score),\(label ? String(y) : ""),\(human),\(outcome),\(version.map(String.init) ?? "")\n"
            i += 1
        }
        for k in 0..<positives { row(1, k < caught ? 0.9 : 0.1) }
        for _ in 0..<negatives { row(0, 0.1) }
        return s
    }

    static func wilsonClose(_ a: Any?, _ lo: Double, _ hi: Double) -> Bool {
        guard let i = a as? [Double], i.count == 2 else { return false }
        return abs(i[0] - lo) < 1e-9 && abs(i[1] - hi) < 1e-9
    }

    @Test("perf: per-day windows with Wilson intervals, degradation, too few labelled rows, late labels, human acceptance")
    func perf() throws {
        let lab = Lab()
        lab.register(#"{"recall": 0.8, "precision": 0.9}"#)
        #expect(lab.run(["promote", "fraud@1"]).status == 0)
        lab.t.write("d1.csv", Self.day(1, positives: 40, caught: 36, negatives: 60, humanDisagree: 10))
        lab.t.write("d2.csv", Self.day(2, positives: 40, caught: 16, negatives: 60))
        lab.t.write("d3.csv", Self.day(3, positives: 5, caught: 5, negatives: 5))
        lab.t.write("d4.csv", Self.day(4, positives: 40, caught: 36, negatives: 60, label: false))
        for f in ["d1.csv", "d2.csv", "d3.csv", "d4.csv"] { #expect(lab.run(["observe", "fraud@production", f]).status == 0) }
        let before = lab.run(["perf", "fraud", "--json"])
        #expect(before.status == 0, "\(before)")
        var windows = before.json["windows"] as? [[String: Any]] ?? []
        #expect(windows.count == 4)
        #expect(windows.last?["too_few_labelled"] as? Bool == true && windows.last?["labelled"] as? Double == 0)
        // Late labels for day 4, given a week later, count in day 4's window.
        lab.t.write("late.csv", "id,label\n" + (0..<100).map { "r4-\($0),\($0 < 40 ? 1 : 0)" }.joined(separator: "\n") + "\n")
        #expect(lab.run(["observe", "fraud", "--labels", "late.csv"]).status == 0)
        let r = lab.run(["perf", "fraud", "--window", "1d", "--json"])
        windows = r.json["windows"] as? [[String: Any]] ?? []
        #expect(windows.map { $0["from"] as? String } == ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"])
        func metric(_ w: Int, _ name: String) -> [String: Any]? { (windows[w]["metrics"] as? [String: Any])?[name] as? [String: Any] }
        // Day 1: recall 36/40 with scipy's Wilson interval, not degraded; acceptance 90/100.
        #expect(metric(0, "recall")?["value"] as? Double == 0.9)
        #expect(Self.wilsonClose(metric(0, "recall")?["interval"], 0.769482247724777, 0.9604204713173935), "\(String(describing: metric(0, "recall")))")
        #expect(metric(0, "recall")?["evaluation"] as? Double == 0.8)
        #expect(metric(0, "recall")?["degraded"] as? Bool == false)
        #expect(metric(0, "acceptance_rate")?["value"] as? Double == 0.9)
        // Day 2: recall 16/40, interval [0.263, 0.554] entirely below 0.8: degraded.
        #expect(Self.wilsonClose(metric(1, "recall")?["interval"], 0.26348325684291923, 0.554041063396538))
        #expect(windows[1]["degraded"] as? [String] == ["recall"])
        // Day 3: 10 labelled rows, fewer than 30: no label metrics.
        #expect(windows[2]["too_few_labelled"] as? Bool == true && metric(2, "recall") == nil)
        // Day 4: the late labels, joined.
        #expect(windows[3]["labelled"] as? Double == 100 && metric(3, "recall")?["value"] as? Double == 0.9)
        let text = lab.run(["perf", "fraud"])
        #expect(text.stdout.contains("DEGRADED: recall") && text.stdout.contains("too few labelled rows"), "\(text)")
        #expect(lab.run(["perf", "fraud", "--window", "2d", "--json"]).json["windows"].map { ($0 as? [Any])?.count } == 2)
        #expect(lab.run(["perf", "fraud", "--since", "2026-01-03", "--json"]).json["windows"].map { ($0 as? [Any])?.count } == 2)
        let bad = lab.run(["perf", "fraud", "--window", "90m"])
        #expect(bad.status == 2 && bad.stderr.contains("--window \"90m\": expected a number of hours, days or weeks"), "\(bad)")
        let none = lab.run(["perf", "fraud", "--stage", "staging"])
        #expect(none.status == 2 && none.stderr.contains("no champion at staging"), "\(none)")
    }

    @Test("ab: B better with interval and p-value (exit 0); not established with rows still needed (exit 3); no overlap (exit 2)")
    func ab() throws {
        let lab = Lab()
        lab.register(#"{"recall": 0.8}"#)
        lab.register(#"{"recall": 0.8}"#)
        lab.register(#"{"recall": 0.8}"#)
        lab.t.write("a.csv", Self.day(1, positives: 0, caught: 0, negatives: 1000, version: 1, idPrefix: "a", outcomes: 100))
        lab.t.write("b.csv", Self.day(1, positives: 0, caught: 0, negatives: 1000, version: 2, idPrefix: "b", outcomes: 150))
        #expect(lab.run(["observe", "fraud@1", "a.csv", "--source", "ab"]).status == 0)
        #expect(lab.run(["observe", "fraud@1", "b.csv", "--source", "ab"]).status == 0)
        let r = lab.run(["ab", "fraud@1", "fraud@2", "--json"])
        #expect(r.status == 0, "\(r)")
        #expect(r.json["metric"] as? String == "outcome" && r.json["verdict"] as? String == "B better")
        #expect(abs((r.json["difference"] as? Double ?? 0) - 0.05) < 1e-12)
        #expect(abs((r.json["p_value"] as? Double ?? 0) - 0.0007232327164301953) < 1e-12, "\(r)")  // scipy, see docs/production.md
        #expect((r.json["a"] as? [String: Any])?["n"] as? Double == 1000)
        let text = lab.run(["ab", "fraud@1", "fraud@2"])
        #expect(text.status == 0 && text.stdout.contains("verdict: B better") && text.stdout.contains("p = 0.0007"), "\(text)")

        lab.t.write("c.csv", Self.day(2, positives: 0, caught: 0, negatives: 100, version: 1, idPrefix: "c", outcomes: 10))
        lab.t.write("d.csv", Self.day(2, positives: 0, caught: 0, negatives: 100, version: 2, idPrefix: "d", outcomes: 12))
        #expect(lab.run(["observe", "fraud@1", "c.csv"]).status == 0)
        #expect(lab.run(["observe", "fraud@1", "d.csv"]).status == 0)
        let weak = lab.run(["ab", "fraud@1", "fraud@2", "--since", "2026-01-02", "--json"])
        #expect(weak.status == 3, "\(weak)")
        #expect(weak.json["verdict"] as? String == "not established")
        #expect(weak.json["rows_needed_per_version"] as? Double == 3841 && weak.json["rows_still_needed"] as? Double == 3741, "\(weak)")
        let weakText = lab.run(["ab", "fraud@1", "fraud@2", "--since", "2026-01-02"])
        #expect(weakText.status == 3 && weakText.stdout.contains("needs 3841 rows with an outcome per version at 80% power, 3741 more"), "\(weakText)")

        lab.t.write("e.csv", Self.day(9, positives: 0, caught: 0, negatives: 10, version: 3, idPrefix: "e", outcomes: 1))
        #expect(lab.run(["observe", "fraud@1", "e.csv"]).status == 0)
        let before = lab.snapshot()
        let apart = lab.run(["ab", "fraud@1", "fraud@3"])
        #expect(apart.status == 2 && apart.stderr.contains("no overlapping period"), "\(apart)")
        #expect(apart.stderr.split(separator: "\n").count == 1)
        #expect(lab.snapshot() == before)
        let unknown = lab.run(["ab", "fraud@1", "fraud@2", "--metric", "revenue"])
        #expect(unknown.status == 2 && unknown.stderr.contains("--metric \"revenue\": ab compares accuracy, recall"), "\(unknown)")
    }

    @Test("production.recall > champion with 95% confidence: fails without production rows, fails on one week, passes on a month")
    func gate() throws {
        let lab = Lab()
        lab.register(#"{"recall": 0.8}"#)
        lab.register(#"{"recall": 0.8}"#)
        #expect(lab.policy("stages:\n  production:\n    gates:\n      - production.recall > champion with 95% confidence\n").status == 0)
        #expect(lab.run(["promote", "fraud@1", "--override", "first champion"]).status == 0)
        let none = lab.run(["check", "fraud@2", "--json"])
        #expect(none.status == 3)
        #expect(lab.rules(none).first?["reason"] as? String == "fraud@2 has no production rows (observe its canary or A/B traffic with `mreg observe`)", "\(none)")
        // Week 1: 50/50, recall 30/40 (A) vs 34/40 (B): not significant.
        lab.t.write("w1a.csv", Self.day(1, positives: 40, caught: 30, negatives: 20, version: 1, idPrefix: "a"))
        lab.t.write("w1b.csv", Self.day(1, positives: 40, caught: 34, negatives: 20, version: 2, idPrefix: "b"))
        #expect(lab.run(["observe", "fraud@production", "w1a.csv", "--source", "ab"]).status == 0)
        #expect(lab.run(["observe", "fraud@production", "w1b.csv", "--source", "ab"]).status == 0)
        let week = lab.run(["check", "fraud@2", "--json"])
        #expect(week.status == 3, "\(week)")
        #expect((lab.rules(week).first?["reason"] as? String ?? "").contains("is not > 0"), "\(week)")
        // The rest of the month: A 0.7, B 0.85 on 400 positives each.
        lab.t.write("ma.csv", Self.day(20, positives: 400, caught: 280, negatives: 100, version: 1, idPrefix: "a"))
        lab.t.write("mb.csv", Self.day(20, positives: 400, caught: 340, negatives: 100, version: 2, idPrefix: "b"))
        #expect(lab.run(["observe", "fraud@production", "ma.csv", "--source", "ab"]).status == 0)
        #expect(lab.run(["observe", "fraud@production", "mb.csv", "--source", "ab"]).status == 0)
        let month = lab.run(["check", "fraud@2", "--json"])
        #expect(month.status == 0, "\(month)")
        #expect(lab.verdict(month, "production.recall > champion with 95% confidence") == "pass", "\(month)")
        #expect(lab.run(["promote", "fraud@2"]).status == 0)
    }
}
