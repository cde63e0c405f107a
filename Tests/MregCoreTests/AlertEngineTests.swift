import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// Synthetic feature tables for the alert engine: amount (log-normal), age (normal), merchant
/// (five values), from a fixed seed.
struct SyntheticFeed {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return (Double(state >> 11) + 0.5) / Double(1 << 53)
    }

    mutating func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }

    /// CSV text of `rows` rows; `amountScale` multiplies amounts (drift), `missingAge` empties
    /// that share of ages (1: a broken feed).
    mutating func csv(rows: Int, amountScale: Double = 1, missingAge: Double = 0) -> String {
        let merchants = ["grocery", "fuel", "travel", "online", "pharmacy"]
        var out = "amount,age,merchant\n"
        for _ in 0..<rows {
            let amount = exp(3 + 0.8 * normal()) * amountScale
            let age = uniform() < missingAge ? "" : String(Int((40 + 12 * normal()).rounded()))
            let u = uniform()
            let m = merchants[u < 0.4 ? 0 : u < 0.6 ? 1 : u < 0.7 ? 2 : u < 0.9 ? 3 : 4]
            out += "\(String(format: "%.2f", amount)),\(age),\(m)\n"
        }
        return out
    }
}

@Suite("Monitoring: alert engine")
struct AlertEngineTests {
    let dir = TemporaryDirectory("mreg-alerts")

    func profile(_ csv: String, reference: Profile? = nil) throws -> Profile {
        let path = dir.write("w-\(UUID().uuidString).csv", csv)
        return try Profiler.profile(path: path, source: "window", format: .csv, reference: reference)
    }

    static func day(_ d: Int) -> String {
        let base = 1_767_225_600 + d * 86_400  // 2026-01-01
        return UTCTime.format(Int64(base))
    }

    func window(_ d: Int, _ csv: String, reference: Profile, rows: Int) throws -> WindowEvidence {
        WindowEvidence(start: Self.day(d), end: Self.day(d + 1), rows: rows, profile: try profile(csv, reference: reference))
    }

    static func policy(_ text: String) -> AlertPolicy { try! AlertPolicy.parse(text, source: "test") }

    // MARK: - Fatigue controls, one at a time

    @Test("for: N consecutive windows: pending, then firing once; a clean window resets the count")
    func forWindows() throws {
        var feed = SyntheticFeed(seed: 1)
        let ref = try profile(feed.csv(rows: 2000))
        let p = Self.policy("alerts:\n  - when: psi(amount) > 0.25\n    for: 3 windows\n")
        let drift = { (d: Int) in try self.window(d, feed.csv(rows: 500, amountScale: 3), reference: ref, rows: 500) }
        let quiet = { (d: Int) in try self.window(d, feed.csv(rows: 500), reference: ref, rows: 500) }
        let windows = [try drift(0), try drift(1), try quiet(2), try drift(3), try drift(4), try drift(5), try drift(6)]
        var state = AlertState()
        var fired: [Int] = []
        for (i, w) in windows.enumerated() {
            let run = AlertEngine.run(policy: p, reference: ref, evaluation: .init(), windows: [w], previous: state)
            state = run.state
            if run.fired { fired.append(i) }
            let status = state.alerts[AlertKey(rule: "psi(amount) > 0.25", column: "amount")]?.status
            let expected: AlertStatus = [0: .pending, 1: .pending, 2: .ok, 3: .pending, 4: .pending][i] ?? .firing
            #expect(status == expected, "window \(i)")
        }
        #expect(fired == [5])
    }

    @Test("resolve_after: N clean windows before a firing alert resolves (hysteresis)")
    func resolveAfter() throws {
        var feed = SyntheticFeed(seed: 2)
        let ref = try profile(feed.csv(rows: 2000))
        let p = Self.policy("alerts:\n  - when: psi(amount) > 0.25\n    resolve_after: 2 windows\n")
        let windows = try [3.0, 1, 3, 1, 1, 1].enumerated().map { try window($0.offset, feed.csv(rows: 500, amountScale: $0.element), reference: ref, rows: 500) }
        let run = AlertEngine.run(policy: p, reference: ref, evaluation: .init(), windows: windows, previous: AlertState())
        #expect(run.transitions.map(\.kind) == [.fired, .resolved])
        #expect(run.transitions.map(\.windowEnd) == [Self.day(1), Self.day(5)])
        #expect(run.transitions[0].severity == .warning && run.transitions[0].value! > 0.25 && run.transitions[0].threshold == 0.25)
        #expect(run.state.alerts.values.first?.status == .ok && run.state.alerts.values.first?.lastNotified == Self.day(5))
    }

    @Test("min_rows: a small window is insufficient data, neither a breach nor clean; no rows is no data")
    func minRowsAndNoData() throws {
        var feed = SyntheticFeed(seed: 3)
        let ref = try profile(feed.csv(rows: 2000))
        let p = Self.policy("alerts:\n  - when: psi(amount) > 0.25\n    min_rows: 200\n  - when: rows < 1\n    severity: critical\n")
        let key = AlertKey(rule: "psi(amount) > 0.25", column: "amount")
        let small = try window(0, feed.csv(rows: 50, amountScale: 3), reference: ref, rows: 50)
        var run = AlertEngine.run(policy: p, reference: ref, evaluation: .init(), windows: [small], previous: AlertState())
        #expect(run.state.alerts[key]?.status == .insufficientData && run.transitions.isEmpty)
        let empty = WindowEvidence(start: Self.day(1), end: Self.day(2), rows: 0)
        run = AlertEngine.run(policy: p, reference: ref, evaluation: .init(), windows: [empty], previous: run.state)
        #expect(run.state.alerts[key]?.status == .noData)
        #expect(run.transitions.map(\.key.rule) == ["rows < 1"] && run.transitions[0].severity == .critical)
    }

    @Test("performance: recall below the evaluation interval, counted on labelled rows")
    func performance() throws {
        let p = Self.policy("alerts:\n  - when: recall < evaluation.recall.low\n    min_rows: 100\n")
        let eval = EvaluationBounds(values: ["recall": 0.8], intervals: ["recall": (0.75, 0.85)])
        let windows = [
            WindowEvidence(start: Self.day(0), end: Self.day(1), rows: 1000, labelledRows: 50, metrics: ["recall": 0.5]),
            WindowEvidence(start: Self.day(1), end: Self.day(2), rows: 1000, labelledRows: 400, metrics: ["recall": 0.78]),
            WindowEvidence(start: Self.day(2), end: Self.day(3), rows: 1000, labelledRows: 400, metrics: ["recall": 0.7]),
        ]
        let run = AlertEngine.run(policy: p, reference: nil, evaluation: eval, windows: windows, previous: AlertState())
        #expect(run.transitions.count == 1 && run.transitions[0].windowEnd == Self.day(3) && run.transitions[0].threshold == 0.75)
        // No interval for the metric: no data, never an alert.
        let none = AlertEngine.run(policy: p, reference: nil, evaluation: .init(), windows: windows, previous: AlertState())
        #expect(none.transitions.isEmpty && none.state.alerts.values.first?.status == .noData)
    }

    @Test("inhibition: an integrity alert holds back drift alerts of the same model until it clears")
    func inhibition() throws {
        var feed = SyntheticFeed(seed: 4)
        let ref = try profile(feed.csv(rows: 2000))
        let p = Self.policy("""
            alerts:
              - when: missing_rate(age) > 0.5
                severity: critical
              - when: psi(amount) > 0.25
            """)
        let broken = try window(0, feed.csv(rows: 500, amountScale: 3, missingAge: 1), reference: ref, rows: 500)
        let healed = try window(1, feed.csv(rows: 500, amountScale: 3), reference: ref, rows: 500)
        let first = AlertEngine.run(policy: p, reference: ref, evaluation: .init(), windows: [broken], previous: AlertState())
        #expect(first.transitions.map(\.key.rule) == ["missing_rate(age) > 0.5"])
        #expect(first.state.alerts[AlertKey(rule: "psi(amount) > 0.25", column: "amount")]?.status == .pending)
        let second = AlertEngine.run(policy: p, reference: ref, evaluation: .init(), windows: [healed], previous: first.state)
        #expect(second.transitions.map(\.kind) == [.resolved, .fired])
        #expect(second.transitions.map(\.key.rule) == ["missing_rate(age) > 0.5", "psi(amount) > 0.25"])
    }

    @Test("running twice on the same windows reports nothing new the second time")
    func idempotent() throws {
        var feed = SyntheticFeed(seed: 5)
        let ref = try profile(feed.csv(rows: 2000))
        let windows = try (0..<4).map { try window($0, feed.csv(rows: 500, amountScale: 3), reference: ref, rows: 500) }
        let first = AlertEngine.run(policy: .default, reference: ref, evaluation: .init(), windows: windows, previous: AlertState())
        #expect(first.fired && first.windowsEvaluated == 4)
        let second = AlertEngine.run(policy: .default, reference: ref, evaluation: .init(), windows: windows, previous: first.state)
        #expect(second.transitions.isEmpty && second.windowsEvaluated == 0 && second.state == first.state)
        // The same run from the same inputs gives the same result, and the state survives JSON.
        #expect(AlertEngine.run(policy: .default, reference: ref, evaluation: .init(), windows: windows, previous: AlertState()) == first)
        #expect(try AlertState(json: JSON.parse(first.state.json.canonicalBytes), source: "t") == first.state)
    }

    @Test("a window with no reference profile: refused when the policy has column or schema rules")
    func noReference() throws {
        #expect(throws: MregError.self) {
            try AlertEngine.check(policy: .default, reference: nil, servingVersion: "fraud@3", policySource: "default alert policy")
        }
        do {
            try AlertEngine.check(policy: .default, reference: nil, servingVersion: "fraud@3", policySource: "default alert policy")
        } catch let e as MregError {
            #expect(e.kind == .invalidInput && e.message.hasPrefix("fraud@3 has no reference profile") && e.message.contains("--reference FILE"), "\(e)")
        }
        let performanceOnly = Self.policy("alerts:\n  - when: recall < evaluation.recall.low\n  - when: rows < 1\n")
        try AlertEngine.check(policy: performanceOnly, reference: nil, servingVersion: "fraud@3", policySource: "alert policy")
        var feed = SyntheticFeed(seed: 6)
        let ref = try profile(feed.csv(rows: 100))
        try AlertEngine.check(policy: .default, reference: ref, servingVersion: "fraud@3", policySource: "default alert policy")
        #expect(throws: MregError.self) {
            try AlertEngine.check(policy: Self.policy("alerts:\n  - when: psi(merchant) > 0.2\n"), reference: ref, servingVersion: "fraud@3", policySource: "alert policy")
        }
    }

    // MARK: - The simulated quarter

    /// A tuned policy for the simulation (docs/monitoring.md): faster on drift, tighter on missing values.
    static let tuned = policy("""
        alerts:
          - when: missing_rate(*) > reference + 0.05
            severity: critical
          - when: schema_changes > 0
            severity: critical
          - when: psi(*) > 0.2
            min_rows: 200
            resolve_after: 3 windows
          - when: wasserstein(*) > 0.3
            min_rows: 200
            for: 2 windows
        """)

    /// 90 quiet days, then amount drifts (×2) for 10 days, then age arrives all missing for 5.
    @Test("simulation: 90 quiet windows stay silent, drift alerts within 3 windows, a broken feed is one critical alert",
          arguments: ["default", "tuned"])
    func simulation(policyName: String) throws {
        let policy = policyName == "default" ? AlertPolicy.default : Self.tuned
        var feed = SyntheticFeed(seed: 20261202)
        let ref = try profile(feed.csv(rows: 5000))
        var windows: [WindowEvidence] = []
        for d in 0..<105 {
            let csv = d < 90 ? feed.csv(rows: 1000) : d < 100 ? feed.csv(rows: 1000, amountScale: 2) : feed.csv(rows: 1000, amountScale: 2, missingAge: 1)
            windows.append(try window(d, csv, reference: ref, rows: 1000))
        }
        // Daily, as cron would run it: one window a run.
        var state = AlertState()
        var transitions: [(day: Int, AlertTransition)] = []
        for (d, w) in windows.enumerated() {
            let run = AlertEngine.run(policy: policy, reference: ref, evaluation: .init(), windows: [w], previous: state)
            state = run.state
            transitions += run.transitions.map { (d, $0) }
        }
        let quiet = transitions.filter { $0.day < 90 }
        #expect(quiet.isEmpty, "false alerts in the quiet quarter: \(quiet.map { "\($0.day) \($0.1.key.description)" })")
        let drift = transitions.filter { $0.day >= 90 && $0.day < 100 && $0.1.kind == .fired }
        let untilDrift = drift.first.map { $0.day - 90 + 1 } ?? 99
        #expect(untilDrift <= 3, "windows until the drift alert: \(drift.map(\.day))")
        #expect(drift.allSatisfy { $0.1.key.column == "amount" }, "\(drift.map { $0.1.key.description })")
        let broken = transitions.filter { $0.day >= 100 && $0.1.kind == .fired }
        #expect(broken.count == 1 && broken.first?.1.severity == .critical && broken.first?.1.key.column == "age",
                "\(broken.map { "\($0.day) \($0.1.key.description) \($0.1.severity)" })")
        print("simulation (\(policyName) policy): false alerts in 90 quiet windows: \(quiet.count); windows until the drift alert: \(untilDrift) (\(drift.map { $0.1.key.description }.joined(separator: ", "))); alerts fired by the broken feed: \(broken.count) (\(broken.map { "\($0.1.severity) \($0.1.key.description)" }.joined(separator: ", ")))")
        // The whole quarter in one run gives the same transitions.
        let once = AlertEngine.run(policy: policy, reference: ref, evaluation: .init(), windows: windows, previous: AlertState())
        #expect(once.transitions == transitions.map(\.1) && once.state == state)
    }
}
