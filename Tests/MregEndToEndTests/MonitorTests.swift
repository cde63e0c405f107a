import Foundation
import Testing
import _MregTestSupport

/// `mreg monitor` on the built binary: observed daily batches, the default alert policy, the
/// alert state in the history, `--exec`, concurrency and bad invocations (docs/monitoring.md).
@Suite("Monitor")
struct MonitorTests {
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
        /// amount (log-normal, times `scale`), age (normal, empty when `ageMissing`), merchant.
        mutating func features(scale: Double = 1, ageMissing: Bool = false) -> String {
            let amount = String(format: "%.2f", exp(3 + 0.5 * normal()) * scale)
            let age = ageMissing ? "" : String(format: "%.0f", 40 + 10 * normal())
            return "\(amount),\(age),\(["grocery", "travel", "online", "fuel"][Int(u() * 4)])"
        }
    }

    enum Day { case quiet, drift, broken, driftBroken }

    /// One day of production rows: id, time (spread over the day), score, then the features.
    static func day(_ d: Int, _ kind: Day, rows: Int = 400) -> String {
        var g = Gen(s: UInt64(1000 + d))
        var s = "id,time,score,amount,age,merchant\n"
        for i in 0..<rows {
            let t = String(format: "2026-03-%02dT%02d:%02d:00Z", d, (i * 24) / rows, i % 60)
            s += "d\(d)-\(i),\(t),\(String(format: "%.2f", g.u())),\(g.features(scale: kind == .drift || kind == .driftBroken ? 3 : 1, ageMissing: kind == .broken || kind == .driftBroken))\n"
        }
        return s
    }

    /// Run time just after day `d` ends, as a morning cron job would run.
    static func morningAfter(_ d: Int) -> [String: String] { ["MREG_TIME": String(format: "2026-03-%02dT06:10:00Z", d + 1)] }
    static let late = ["MREG_TIME": "2026-04-30T00:00:00Z"]

    /// fraud@1 registered from predictions (evaluation intervals) with a 2,000-row reference, champion at production.
    static func lab(reference: Bool = true) -> Lab {
        let lab = Lab()
        var g = Gen(s: 7)
        lab.t.write("ref.csv", "amount,age,merchant\n" + (0..<2000).map { _ in g.features() + "\n" }.joined())
        lab.t.write("art/w.bin", "weights")
        let r = lab.run(["register", "fraud", "art", "--predictions", FixturePaths.path("evaluation/cases/binary_medium.csv"),
                         "--bootstrap", "200"] + (reference ? ["--reference", "ref.csv"] : []))
        #expect(r.status == 0, "\(r)")
        #expect(lab.run(["promote", "fraud@1"]).status == 0)
        return lab
    }

    static func observe(_ lab: Lab, _ d: Int, _ kind: Day, rows: Int = 400) {
        lab.t.write("day\(d).csv", day(d, kind, rows: rows))
        let r = lab.run(["observe", "fraud@production", "day\(d).csv"], env: late)
        #expect(r.status == 0, "\(r)")
    }

    static func monitorEntries(_ lab: Lab) -> [[String: Any]] {
        let log = lab.run(["log", "fraud", "--json"])
        return (log.json["entries"] as? [[String: Any]] ?? []).filter { $0["event"] as? String == "monitored" }
    }

    @Test("daily over quiet, drifted and broken days: silent, then exit 5 once for the drift and once for the broken feed; the state is in the history")
    func cronOverDays() throws {
        let lab = Self.lab()
        let kinds: [Day] = [.quiet, .quiet, .quiet, .quiet, .quiet, .drift, .drift, .drift, .broken, .broken]
        var fired: [Int: String] = [:], resolved: [Int: String] = [:]
        for (i, kind) in kinds.enumerated() {
            let d = i + 1
            Self.observe(lab, d, kind)
            let r = lab.run(["monitor", "fraud"], env: Self.morningAfter(d))
            #expect(r.status == 0 || r.status == 5, "\(r)")
            if r.status == 5 { fired[d] = r.stdout } else if !r.stdout.isEmpty { resolved[d] = r.stdout }
        }
        // The drift (psi and js of amount, for: 2 windows) fires on its second day; the broken
        // feed fires one critical alert (missing_rate of age) on its first; nothing else.
        #expect(fired.keys.sorted() == [7, 9], "\(fired)")
        #expect(fired[7]?.contains("psi(*) > 0.25 [amount]") == true && fired[7]?.contains("js(*) > 0.2 [amount]") == true, "\(fired)")
        #expect(fired[7]?.contains("[age]") == false && fired[7]?.contains("[merchant]") == false, "\(fired)")
        let broken = fired[9] ?? ""
        #expect(broken.contains("FIRED  critical  missing_rate(*) > reference + 0.1 [age]"), "\(broken)")
        #expect(broken.split(separator: "\n").filter { $0.hasPrefix("FIRED") }.count == 1, "\(broken)")
        // Amount is back to normal on the broken days: its drift alerts resolve after 2 clean windows.
        #expect(resolved.keys.sorted() == [10], "\(resolved)")
        let lines = resolved[10]?.split(separator: "\n").dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).prefix(6).joined(separator: " ") }
        #expect(lines == ["resolved warning psi(*) > 0.25 [amount]", "resolved warning js(*) > 0.2 [amount]"], "\(resolved)")
        // One monitored entry a day, newest first, with the state: age's missing rate firing.
        let entries = Self.monitorEntries(lab)
        #expect(entries.count == 10)
        let details = try #require(entries.first?["details"] as? [String: Any])
        #expect(details["stage"] as? String == "production" && details["version"] as? Int == 1 && details["to"] as? String == "2026-03-11T00:00:00Z")
        let alerts = (details["alert_state"] as? [String: Any])?["alerts"] as? [[String: Any]] ?? []
        let firing = alerts.filter { $0["status"] as? String == "firing" }.map { "\($0["rule"]!) [\($0["column"]!)]" }.sorted()
        #expect(firing == ["missing_rate(*) > reference + 0.1 [age]"], "\(firing)")
        // gc keeps the history; fsck reads the monitored entries as any other.
        #expect(lab.run(["gc"]).status == 0)
        let fsck = lab.run(["fsck"])
        #expect(fsck.status == 0, "\(fsck)")
        // --all shows every alert's state.
        let all = lab.run(["monitor", "fraud", "--all"], env: Self.morningAfter(10))
        #expect(all.status == 0 && all.stdout.contains("missing_rate(*) > reference + 0.1 [age]") && all.stdout.contains("firing"), "\(all)")
        #expect(all.stdout.contains("recall < evaluation.recall.low") && all.stdout.contains("insufficient_data"), "\(all)")
    }

    @Test("a second run over the same windows reports nothing and records nothing")
    func twiceNothingNew() throws {
        let lab = Self.lab()
        for d in 1...3 { Self.observe(lab, d, d == 1 ? .quiet : .drift) }
        let first = lab.run(["monitor", "fraud", "--json"], env: Self.morningAfter(3))
        #expect(first.status == 5, "\(first)")
        #expect((first.json["transitions"] as? [[String: Any]])?.count == 2 && first.json["windows"] as? Int == 3, "\(first)")
        let before = lab.snapshot()
        let again = lab.run(["monitor", "fraud"], env: Self.morningAfter(3))
        #expect(again.status == 0 && again.stdout.isEmpty && again.stderr.isEmpty, "\(again)")
        #expect(lab.snapshot() == before)
        // Later the same day, still nothing: the day in progress is not a complete window.
        let evening = lab.run(["monitor", "fraud", "--json"], env: ["MREG_TIME": "2026-03-04T23:00:00Z"])
        #expect(evening.status == 0 && evening.json["windows"] as? Int == 0 && evening.json["entry"] is NSNull, "\(evening)")
        #expect(lab.snapshot() == before)
    }

    @Test("two monitors at once: the firing is reported and recorded once")
    func concurrentMonitors() throws {
        let lab = Self.lab()
        for d in 1...3 { Self.observe(lab, d, d == 1 ? .quiet : .drift) }
        let env = Self.morningAfter(3)
        let results = ConcurrentBox()
        let (cwd, registry) = (lab.t.path, lab.registry)
        DispatchQueue.concurrentPerform(iterations: 2) { _ in results.append(Mreg.run(["monitor", "fraud"], cwd: cwd, env: env, registry: registry)) }
        let statuses = results.items.map(\.status).sorted()
        #expect(statuses == [0, 5], "\(results.items)")
        #expect(results.items.filter { $0.stdout.contains("FIRED") }.count == 1, "\(results.items)")
        #expect(Self.monitorEntries(lab).count == 1)
    }

    final class ConcurrentBox: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var items: [CommandResult] = []
        func append(_ r: CommandResult) { lock.lock(); items.append(r); lock.unlock() }
    }

    @Test("--exec gets the transitions as JSON; a failing --exec is reported and the state is kept")
    func exec() throws {
        let lab = Self.lab()
        for d in 1...3 { Self.observe(lab, d, d == 1 ? .quiet : .drift) }
        let r = lab.run(["monitor", "fraud", "--exec", "cat > hook.json"], env: Self.morningAfter(3))
        #expect(r.status == 5 && r.stderr.isEmpty, "\(r)")
        let hook = try #require(lab.t.read("hook.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: hook) as? [String: Any])
        #expect(json["model"] as? String == "fraud" && json["fired"] as? Bool == true)
        let transitions = json["transitions"] as? [[String: Any]] ?? []
        #expect(transitions.map { "\($0["kind"]!) \($0["rule"]!) [\($0["column"]!)] \($0["window_end"]!)" }.sorted()
                == ["fired js(*) > 0.2 [amount] 2026-03-04T00:00:00Z", "fired psi(*) > 0.25 [amount] 2026-03-04T00:00:00Z"], "\(transitions)")
        // Nothing new: the command is not run.
        #expect(lab.run(["monitor", "fraud", "--exec", "cat > hook2.json"], env: Self.morningAfter(3)).status == 0)
        #expect(!lab.t.exists("hook2.json"))
        // The broken feed with a failing command: exit 5 all the same, the failure on stderr, the state recorded.
        Self.observe(lab, 4, .broken)
        let failing = lab.run(["monitor", "fraud", "--exec", "cat > hook3.json; echo pager down >&2; exit 7"], env: Self.morningAfter(4))
        #expect(failing.status == 5, "\(failing)")
        #expect(failing.stderr.contains("mreg: warning: --exec cat > hook3.json; echo pager down >&2; exit 7 exited 7; the alert state is recorded"), "\(failing)")
        #expect(failing.stderr.contains("pager down") && failing.stdout.contains("missing_rate(*) > reference + 0.1 [age]"), "\(failing)")
        #expect(lab.t.read("hook3.json").map { String(decoding: $0, as: UTF8.self).contains("missing_rate") } == true)
        let again = lab.run(["monitor", "fraud"], env: Self.morningAfter(4))
        #expect(again.status == 0 && again.stdout.isEmpty, "\(again)")
        #expect(Self.monitorEntries(lab).count == 2)
    }

    @Test("inhibition: the feed breaks while a drift is pending; one alert fires (the broken feed), the drift waits")
    func inhibition() throws {
        let lab = Self.lab()
        Self.observe(lab, 1, .quiet)
        Self.observe(lab, 2, .drift)
        #expect(lab.run(["monitor", "fraud"], env: Self.morningAfter(2)).status == 0)
        Self.observe(lab, 3, .driftBroken)
        let r = lab.run(["monitor", "fraud", "--all", "--json"], env: Self.morningAfter(3))
        #expect(r.status == 5, "\(r)")
        let fired = (r.json["transitions"] as? [[String: Any]] ?? []).map { "\($0["rule"]!) [\($0["column"]!)]" }
        #expect(fired == ["missing_rate(*) > reference + 0.1 [age]"], "\(r)")
        let alerts = r.json["alerts"] as? [[String: Any]] ?? []
        let psi = alerts.first { $0["rule"] as? String == "psi(*) > 0.25" && $0["column"] as? String == "amount" }
        #expect(psi?["status"] as? String == "pending" && psi?["breaches"] as? Int == 2, "\(alerts)")
    }

    @Test("a window with fewer rows than min_rows is insufficient data, never an alert; a day without rows is no data")
    func insufficientData() throws {
        let lab = Self.lab()
        Self.observe(lab, 1, .drift, rows: 50)
        let r = lab.run(["monitor", "fraud", "--all", "--json"], env: Self.morningAfter(1))
        #expect(r.status == 0 && (r.json["transitions"] as? [[String: Any]])?.isEmpty == true, "\(r)")
        let alerts = r.json["alerts"] as? [[String: Any]] ?? []
        let psi = alerts.first { $0["rule"] as? String == "psi(*) > 0.25" && $0["column"] as? String == "amount" }
        #expect(psi?["status"] as? String == "insufficient_data", "\(alerts)")
        // The next day has no rows at all: `rows < 1` fires (critical), the column rules see no data.
        let empty = lab.run(["monitor", "fraud", "--all"], env: Self.morningAfter(2))
        #expect(empty.status == 5 && empty.stdout.contains("FIRED  critical  rows < 1"), "\(empty)")
    }

    @Test("a model with no observations: nothing to evaluate, nothing recorded")
    func noObservations() throws {
        let lab = Self.lab()
        let before = lab.snapshot()
        let r = lab.run(["monitor", "fraud"], env: Self.morningAfter(1))
        #expect(r.status == 0 && r.stdout.contains("fraud@1 (champion at production) has no observed rows yet"), "\(r)")
        #expect(lab.snapshot() == before)
    }

    @Test("bad invocations exit 2 and change nothing")
    func badInvocations() throws {
        let lab = Self.lab()
        Self.observe(lab, 1, .quiet)
        let before = lab.snapshot()
        let cases: [([String], String)] = [
            (["monitor", "nosuch"], "unknown model \"nosuch\""),
            (["monitor", "fraud", "--stage", "staging"], "fraud has no champion at staging (stages with one: production)"),
            (["monitor", "fraud", "--window", "3x"], "--window \"3x\": expected a number of hours, days or weeks"),
            (["monitor", "fraud", "--window", "0d"], "--window \"0d\": expected a number of hours, days or weeks"),
        ]
        for (args, message) in cases {
            let r = lab.run(args, env: Self.morningAfter(1))
            #expect(r.status == 2 && r.stderr.hasPrefix("mreg: error: ") && r.stderr.contains(message), "\(args): \(r)")
            #expect(r.stdout.isEmpty)
        }
        #expect(lab.snapshot() == before)
    }

    @Test("a champion without a reference profile is refused under a policy with column rules")
    func noReference() throws {
        let lab = Self.lab(reference: false)
        Self.observe(lab, 1, .quiet)
        let before = lab.snapshot()
        let r = lab.run(["monitor", "fraud"], env: Self.morningAfter(1))
        #expect(r.status == 2 && r.stderr.contains("fraud@1 (champion at production) has no reference profile"), "\(r)")
        #expect(lab.snapshot() == before)
    }
}
