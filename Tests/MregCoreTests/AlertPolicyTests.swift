import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// The alert policy language (Monitoring/AlertPolicy.swift): rules, fatigue controls, the default
/// policy, and the bad-input corpus in Fixtures/bad/alerts with line/column errors.
@Suite("Monitoring: alert policy")
struct AlertPolicyTests {
    static let reference: Profile = try! Profiler.profile(path: FixturePaths.path("monitoring/reference.csv"), source: "reference.csv", format: .csv)

    static func error(_ text: String, source: String = "alert policy a.yaml") -> MregError? {
        do {
            let p = try AlertPolicy.parse(text, source: source)
            try p.validate(against: reference, referenceName: "fraud@1", source: source)
            return nil
        } catch let e as MregError { return e } catch { return MregError(.operational, "\(error)") }
    }

    @Test("a policy with every form of rule")
    func parses() throws {
        let p = try AlertPolicy.parse("""
            alerts:
              - when: psi(*) > 0.25
                for: 3 windows
                severity: warning
              - when: recall < evaluation.recall.low
                min_rows: 500
                severity: critical
              - when: missing_rate(amount) > reference + 0.02
                resolve_after: 2 windows
              - when: "p99(amount) >= 1000"
              - when: schema_changes > 0
              - when: rows < 1
            """, source: "a.yaml")
        #expect(p.rules.count == 6)
        #expect(p.rules[0].condition == AlertCondition(measure: .column(.psi, column: nil), op: .greater, threshold: .number(0.25)))
        #expect(p.rules[0].forWindows == 3 && p.rules[0].severity == .warning && p.rules[0].resolveAfter == 1)
        #expect(p.rules[1].condition == AlertCondition(measure: .metric("recall"), op: .less, threshold: .evaluation(metric: "recall", bound: .low)))
        #expect(p.rules[1].minRows == 500 && p.rules[1].severity == .critical)
        #expect(p.rules[2].condition.threshold == .reference(plus: 0.02) && p.rules[2].resolveAfter == 2)
        #expect(p.rules[3].condition == AlertCondition(measure: .column(.p99, column: "amount"), op: .greaterOrEqual, threshold: .number(1000)))
        #expect(p.rules[4].inhibits && p.rules[5].inhibits && p.rules[2].inhibits && !p.rules[0].inhibits && !p.rules[1].inhibits)
        #expect(p.rules[0].line == 2 && p.rules[0].column == 11)
        try p.validate(against: Self.reference, referenceName: "fraud@1", source: "a.yaml")
    }

    @Test("the default policy parses and fits any reference")
    func defaultPolicy() throws {
        #expect(AlertPolicy.default.rules.count == 8)
        try AlertPolicy.default.validate(against: Self.reference, referenceName: "fraud@1", source: "default")
        #expect(AlertPolicy.default.rules.first { $0.text == "schema_changes > 0" }?.severity == .critical)
    }

    static let badFiles: [String] = (try? FileManager.default.contentsOfDirectory(atPath: FixturePaths.path("bad/alerts")).sorted()) ?? []

    @Test("every bad policy is refused with its error, at its line and column", arguments: badFiles)
    func badFixture(_ name: String) throws {
        let text = try String(contentsOfFile: FixturePaths.path("bad/alerts/\(name)"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let expect = try #require(lines.first.flatMap { $0.hasPrefix("# expect: ") ? String($0.dropFirst(10)) : nil })
        let at = try #require(lines.dropFirst().first.flatMap { $0.hasPrefix("# at: ") ? String($0.dropFirst(6)) : nil })
        let error = try #require(Self.error(text, source: "alert policy \(name)"), "\(name) was accepted")
        #expect(error.kind == .invalidInput)
        #expect(error.message.hasPrefix("alert policy \(name): \(at): "), "\(error.message)")
        #expect(error.message.contains(expect), "\(name): \(error.message)")
        #expect(!error.message.contains("\n"))
    }

    @Test("the corpus has the bad inputs the issue lists")
    func corpusComplete() {
        for name in ["unknown-column.yaml", "psi-of-categorical.yaml", "new-categories-of-numeric.yaml", "unknown-measure.yaml",
                     "for-zero.yaml", "unknown-severity.yaml", "duplicate-rule.yaml"] {
            #expect(Self.badFiles.contains(name), "\(name)")
        }
    }

    @Test("structural errors", arguments: [
        ("", "the policy is empty"),
        ("alerts: []\n", "`alerts:` must be a list of rules"),
        ("rules:\n  - when: rows < 1\n", "line 1, column 1: unknown key \"rules\" (expected alerts)"),
        ("alerts:\n  - for: 2 windows\n", "line 2, column 5: a rule needs `when:`"),
        ("alerts:\n  - when: psi > 0.2\n", "line 2, column 14: psi is measured on a column: write psi(COLUMN) or psi(*)"),
        ("alerts:\n  - when: psi(amount) > 0.2\n    window: 3\n", "line 3, column 5: unknown key \"window\" in a rule"),
        ("alerts:\n  - when: recall < evaluation.recall\n", "expected evaluation.METRIC.low, evaluation.METRIC.high or evaluation.METRIC.value"),
        ("alerts:\n  - when: psi(amount) > evaluation.auc.low\n", "only a production metric (like recall) compares with the evaluation"),
        ("alerts:\n  - when: psi(amount) > 0.2 or 3\n", "line 2, column 29: unexpected \"or 3\" after the threshold"),
        ("alerts:\n  - when: psi(amount) > 0.2\n    min_rows: -1\n", "line 3, column 15: `min_rows:` is a whole number of rows"),
        ("alerts:\n  - when: psi(amount) > 0.2\n    resolve_after: 0\n", "`resolve_after:` must be at least 1 window, not 0"),
    ])
    func structural(text: String, expected: String) {
        let e = Self.error(text)
        #expect(e?.message.contains(expected) == true, "\(String(describing: e))")
        #expect(e?.message.hasPrefix("alert policy a.yaml: ") == true)
    }
}
