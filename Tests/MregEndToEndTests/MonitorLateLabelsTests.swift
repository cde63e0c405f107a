import Foundation
import Testing
import _MregTestSupport

/// Performance alerts see windows whose labels arrive after the window was first evaluated
/// (docs/monitoring.md, "Late labels"): the window waits in the alert state and is decided once,
/// by the first run that finds its labels; running again or concurrently fires nothing twice.
@Suite("Monitor late labels")
struct MonitorLateLabelsTests {
    static let policy = """
        alerts:
          - when: recall < 0.6
            min_rows: 50
            severity: critical
        """

    /// 200 rows of one week (2026-01-01 is a Thursday: 7d windows start on it), ids `wN-i`,
    /// score i/200 (so the model decides class 1 for i >= 100).
    static func week(_ n: Int) -> String {
        var s = "id,time,score\n"
        for i in 0..<200 {
            s += "w\(n)-\(i),2026-01-\(String(format: "%02d", 1 + 7 * (n - 1) + i % 7))T\(String(format: "%02d", i % 24)):00:00Z,\(Double(i) / 200)\n"
        }
        return s
    }

    /// Labels for week `n`: 100 positives, `caught` of them among the rows the model decided positive.
    static func labels(_ n: Int, caught: Int) -> String {
        "id,label\n" + (0..<200).map { i in
            let positive = i >= 100 ? i < 100 + caught : i < 100 - caught
            return "w\(n)-\(i),\(positive ? 1 : 0)"
        }.joined(separator: "\n") + "\n"
    }

    static let observeTime = ["MREG_TIME": "2026-03-01T00:00:00Z"]
    static func morning(_ day: Int) -> [String: String] { ["MREG_TIME": String(format: "2026-01-%02dT06:00:00Z", day)] }

    /// fraud@1 champion at production with the policy, week 1 observed without labels, and a first
    /// monitor run after week 1 (recall cannot be decided: no labels).
    static func weekOne() -> Lab {
        let lab = Lab()
        lab.register(#"{"recall": 0.8}"#)
        #expect(lab.run(["promote", "fraud@1"]).status == 0)
        lab.t.write("policy.yaml", policy)
        #expect(lab.run(["alerts", "fraud", "--set", "policy.yaml"]).status == 0)
        lab.t.write("week1.csv", week(1))
        #expect(lab.run(["observe", "fraud@production", "week1.csv"], env: observeTime).status == 0)
        let first = lab.run(["monitor", "fraud", "--window", "7d", "--json"], env: morning(8))
        #expect(first.status == 0 && (first.json["transitions"] as? [Any])?.isEmpty == true, "\(first)")
        #expect(first.json["windows"] as? Int == 1, "\(first)")
        return lab
    }

    /// Week 2 observed (no labels yet) and week 1's labels arriving: recall 20/100 in week 1.
    static func weekTwo(_ lab: Lab) {
        lab.t.write("week2.csv", week(2))
        #expect(lab.run(["observe", "fraud@production", "week2.csv"], env: observeTime).status == 0)
        lab.t.write("labels1.csv", labels(1, caught: 20))
        let l = lab.run(["observe", "fraud", "--labels", "labels1.csv", "--json"], env: observeTime)
        #expect(l.status == 0 && (l.json["labels"] as? [String: Int])?["matched"] == 200, "\(l)")
    }

    static func monitored(_ lab: Lab) -> Int {
        let log = lab.run(["log", "fraud", "--json"])
        return (log.json["entries"] as? [[String: Any]] ?? []).filter { $0["event"] as? String == "monitored" }.count
    }

    @Test("labels for week 1 arriving in week 2 fire the recall alert for week 1 once; a second run reports nothing")
    func lateLabelsFire() throws {
        let lab = Self.weekOne()
        // The alert waits for week 1's labels.
        let state = lab.run(["monitor", "fraud", "--window", "7d", "--json"], env: Self.morning(8))
        #expect(state.status == 0 && state.json["entry"] is NSNull, "\(state)")
        Self.weekTwo(lab)
        let r = lab.run(["monitor", "fraud", "--window", "7d", "--json"], env: Self.morning(15))
        #expect(r.status == 5, "\(r)")
        let transitions = r.json["transitions"] as? [[String: Any]] ?? []
        #expect(transitions.count == 1, "\(r)")
        #expect(transitions.first?["kind"] as? String == "fired" && transitions.first?["rule"] as? String == "recall < 0.6")
        #expect(transitions.first?["window_start"] as? String == "2026-01-01T00:00:00Z", "\(r)")
        #expect(abs(((transitions.first?["value"] as? NSNumber)?.doubleValue ?? 0) - 0.2) < 1e-12, "\(r)")
        let entries = Self.monitored(lab)
        // Again, the same morning: nothing new, nothing recorded.
        let again = lab.run(["monitor", "fraud", "--window", "7d", "--json"], env: Self.morning(15))
        #expect(again.status == 0 && (again.json["transitions"] as? [Any])?.isEmpty == true && again.json["entry"] is NSNull, "\(again)")
        #expect(Self.monitored(lab) == entries)
        // Week 2's labels arrive later and are good: the alert resolves on week 2, once.
        lab.t.write("labels2.csv", Self.labels(2, caught: 90))
        #expect(lab.run(["observe", "fraud", "--labels", "labels2.csv"], env: Self.observeTime).status == 0)
        let week3 = lab.run(["monitor", "fraud", "--window", "7d", "--json"], env: Self.morning(22))
        let t3 = week3.json["transitions"] as? [[String: Any]] ?? []
        #expect(week3.status == 0 && t3.count == 1 && t3.first?["kind"] as? String == "resolved", "\(week3)")
        #expect(t3.first?["window_start"] as? String == "2026-01-08T00:00:00Z", "\(week3)")
        #expect(lab.run(["monitor", "fraud", "--window", "7d"], env: Self.morning(22)).stdout.isEmpty)
        #expect(lab.run(["fsck"]).status == 0)
    }

    @Test("labels arriving after the horizon are not waited for")
    func horizon() throws {
        let lab = Self.weekOne()
        lab.t.write("labels1.csv", Self.labels(1, caught: 20))
        #expect(lab.run(["observe", "fraud", "--labels", "labels1.csv"], env: Self.observeTime).status == 0)
        // Ten weeks later: week 1 is beyond the 60-day horizon; only the empty weeks are evaluated.
        let r = lab.run(["monitor", "fraud", "--window", "7d", "--json"], env: ["MREG_TIME": "2026-03-20T06:00:00Z"])
        #expect(r.status == 0 && (r.json["transitions"] as? [Any])?.isEmpty == true, "\(r)")
    }

    @Test("concurrent monitors after late labels: the alert fires in exactly one of them")
    func concurrentMonitors() throws {
        let lab = Self.weekOne()
        Self.weekTwo(lab)
        let before = Self.monitored(lab)
        let results = ConcurrencyTests.runAll((0..<6).map { _ in ["monitor", "fraud", "--window", "7d"] }, cwd: lab.t.path,
                                              registry: lab.registry, env: Self.morning(15))
        #expect(results.filter { $0.0 == 5 }.count == 1, "\(results)")
        #expect(results.allSatisfy { $0.0 == 0 || $0.0 == 5 }, "\(results)")
        #expect(Self.monitored(lab) == before + 1)
        #expect(lab.run(["fsck"]).status == 0)
    }
}
