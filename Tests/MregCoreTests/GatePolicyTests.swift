import Foundation
import Testing
@testable import MregCore

/// The policy corpora under `Fixtures/`, found from this file.
enum GateFixtures {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.appendingPathComponent("Fixtures")
            }
        }
        fatalError("Fixtures/ not found above \(#filePath)")
    }()

    static func names(_ dir: String) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(dir).path)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.sorted()
    }

    static func text(_ relative: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
    }

    static var good: [String] { names("policies") }
    static var bad: [String] { names("bad/policies") }
}

/// The error `GatePolicy.parse` throws, or nil when the text parses.
func policyError(_ text: String, source: String = "policy p.yaml") -> MregError? {
    do {
        _ = try GatePolicy.parse(text, source: source)
        return nil
    } catch let e as MregError {
        return e
    } catch {
        Issue.record("not an MregError: \(error)")
        return nil
    }
}

/// A one-stage policy with these rules.
func onePolicy(_ rules: [String], stage: String = "production") throws -> GatePolicy {
    let yaml = "stages:\n  \(stage):\n    gates:\n" + rules.map { "      - \($0)\n" }.joined()
    return try GatePolicy.parse(yaml, source: "policy test.yaml")
}

@Suite("Gate policy parsing")
struct GatePolicyTests {
    @Test("the fraud policy of docs/gates.md parses to its stages, order and rules")
    func fraudPolicy() throws {
        let text = try GateFixtures.text("policies/fraud.yaml")
        let p = try GatePolicy.parse(text, source: "policy fraud.yaml")
        #expect(p.text == text)
        #expect(p.lowerIsBetter == ["latency_p99_ms", "log_loss"])
        #expect(Set(p.stages.keys) == ["staging", "production"])
        #expect(p.stages["staging"]?.after == nil)
        #expect(p.stages["production"]?.after == "staging")
        #expect(p.referencedBaselines == ["rules-v1"])
        let gates = try #require(p.stages["production"]?.gates)
        #expect(gates.map(\.text) == [
            "f1 > champion + 0.005", "precision >= 0.90", "recall >= champion - 0.01",
            "latency_p99_ms <= champion * 1.10", "f1 > baseline.rules-v1", "f1 >= champion - 1%",
        ])
        #expect(gates[0] == GateRule(text: "f1 > champion + 0.005", line: 11, column: 9, metric: "f1", op: .greater,
                                     reference: .champion(.absolute(0.005))))
        #expect(gates[1].reference == .constant(0.9))
        #expect(gates[2].reference == .champion(.absolute(-0.01)))
        #expect(gates[3].reference == .champion(.relative(0.1)))
        #expect(gates[4].reference == .baseline("rules-v1", .none))
        #expect(gates[5].reference == .champion(.relative(-0.01)))
        #expect(gates.map(\.line) == [11, 12, 13, 14, 15, 16])
    }

    static let everyConstruct: [(String, ComparisonOp, Reference)] = [
        ("f1", .greater, .constant(0.8)),
        ("f1", .greaterOrEqual, .constant(0.8)),
        ("latency_p99_ms", .less, .constant(250)),
        ("latency_p99_ms", .lessOrEqual, .constant(1000)),
        ("calibration", .equal, .constant(1)),
        ("pnl_delta", .greaterOrEqual, .constant(-2.5)),
        ("test.f1", .greater, .champion(.none)),
        ("test.f1", .greaterOrEqual, .champion(.absolute(0.005))),
        ("recall", .greaterOrEqual, .champion(.absolute(-0.01))),
        ("auc", .greaterOrEqual, .champion(.relative(0.02))),
        ("auc", .greaterOrEqual, .champion(.relative(-0.005))),
        ("latency_p99_ms", .lessOrEqual, .champion(.relative(0.1))),
        ("test.log_loss", .lessOrEqual, .champion(.relative(-0.05))),
        ("f1", .greater, .baseline("rules-v1", .none)),
        ("f1", .greater, .baseline("rules-v1", .absolute(0.02))),
        ("recall", .greaterOrEqual, .baseline("naive_2", .relative(-0.01))),
        ("precision", .greaterOrEqual, .champion(.absolute(-0.01))),
        ("precision", .greater, .champion(.relative(0.01))),
        ("f1", .greater, .constant(0.15)),
        ("score", .greaterOrEqual, .champion(.absolute(100))),
    ]

    @Test("every construct: operators, constants, margins, baselines, dotted metrics, quoting, no spaces")
    func everyConstruct() throws {
        let p = try GatePolicy.parse(try GateFixtures.text("policies/every-construct.yaml"), source: "policy every-construct.yaml")
        #expect(p.lowerIsBetter == ["latency_p99_ms", "test.log_loss"])
        #expect(p.stages["dev"] == StagePolicy(after: nil, gates: []))
        #expect(p.stages["staging"] == StagePolicy(after: "dev", gates: []))
        #expect(p.stages["production"]?.after == "staging")
        #expect(p.referencedBaselines == ["rules-v1", "naive_2"])
        let gates = try #require(p.stages["production"]?.gates)
        try #require(gates.count == Self.everyConstruct.count)
        for (n, (rule, (metric, op, reference))) in zip(gates, Self.everyConstruct).enumerated() {
            #expect(rule.metric == metric, "\(rule.text)")
            #expect(rule.op == op, "\(rule.text)")
            #expect(rule.reference == reference, "\(rule.text)")
            #expect(rule.line == gates[0].line + n, "one rule per line: \(rule.text)")
        }
        // Quoted rules: the text is the content, and the column is where it starts.
        #expect(gates[18].text == "f1 > 1.5e-1")
        #expect(gates[18].column == 10)
        #expect(gates[0].column == 9)
    }

    @Test("every good policy in Fixtures/policies parses and keeps its text", arguments: GateFixtures.good)
    func goodFixture(_ name: String) throws {
        let text = try GateFixtures.text("policies/\(name)")
        let p = try GatePolicy.parse(text, source: "policy \(name)")
        #expect(p.text == text)
        #expect(!p.stages.isEmpty)
        for (stage, s) in p.stages {
            #expect((try? StageName(stage)) != nil)
            if let after = s.after { #expect(p.stages[after] != nil) }
        }
    }

    @Test("the corpus has good and bad policies")
    func corpusPresent() {
        #expect(GateFixtures.good.count >= 5)
        #expect(GateFixtures.bad.count >= 60)
    }

    @Test("every bad policy in Fixtures/bad/policies is refused, naming the file, the place and the reason",
          arguments: GateFixtures.bad)
    func badFixture(_ name: String) throws {
        let text = try GateFixtures.text("bad/policies/\(name)")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let expect = try #require(lines.first.flatMap { $0.hasPrefix("# expect: ") ? $0.dropFirst(10) : nil },
                                  "\(name) must start with `# expect: SUBSTRING`")
        let at = lines.dropFirst().first.flatMap { $0.hasPrefix("# at: ") ? String($0.dropFirst(6)) : nil }
        let error = try #require(policyError(text, source: "policy \(name)"), "\(name) was accepted")
        #expect(error.kind == .invalidInput)
        #expect(error.message.hasPrefix("policy \(name): "), "\(error.message)")
        #expect(error.message.contains(expect), "\(name): \(error.message)")
        #expect(!error.message.contains("\n"), "one line: \(error.message)")
        if let at { #expect(error.message.contains(at + ":"), "\(name) should point at \(at): \(error.message)") }
    }

    @Test("a rule error names source, line, column of the offending token, rule and what was expected")
    func ruleErrorFormat() {
        let e = policyError("stages:\n  production:\n    gates:\n      - f1 => 0.8\n")
        #expect(e?.message == "policy p.yaml: line 4, column 12: unknown operator \"=>\" in rule \"f1 => 0.8\" (expected >, >=, <, <=, ==)")
        // Quoted: the column still points into the text.
        let q = policyError("stages:\n  production:\n    gates:\n      - \"f1 => 0.8\"\n")
        #expect(q?.message.contains("line 4, column 13:") == true, "\(q?.message ?? "")")
        // A rule folded over two lines: the column of the rule.
        let folded = policyError("stages:\n  production:\n    gates:\n      - f1 =>\n        0.8\n")
        #expect(folded?.message.contains("line 4, column 9:") == true, "\(folded?.message ?? "")")
        #expect(folded?.message.contains("in rule \"f1 => 0.8\"") == true)
    }

    @Test("structure errors name the line and column of the key or value")
    func structureErrorPlaces() {
        #expect(policyError("stages:\n  production:\n    gatez: []\n")?.message
            == "policy p.yaml: line 3, column 5: unknown key \"gatez\" in stage production (expected gates, after, confidence, require)")
        #expect(policyError("lower_is_better: [a]\n")?.message.contains("line 1, column 1: the policy has no `stages:`") == true)
        let yaml = policyError("stages: [unclosed")?.message ?? ""
        #expect(yaml.hasPrefix("policy p.yaml: line 2, column 1: not valid YAML: "), "\(yaml)")
        #expect(policyError("stages:\n  production:\n    gates:\n      - recall: 0.7\n")?.message
            .contains("line 4, column 9: a rule is one line of text") == true)
    }

    @Test("one-line rules in flow style, comments after rules, spaces around margins optional")
    func spacing() throws {
        let p = try GatePolicy.parse("stages: {production: {gates: ['f1>champion+0.5%', recall >=champion -0.01]}}  # x\n",
                                     source: "p")
        let gates = try #require(p.stages["production"]?.gates)
        #expect(gates.map(\.reference) == [.champion(.relative(0.005)), .champion(.absolute(-0.01))])
        #expect(gates.map(\.op) == [.greater, .greaterOrEqual])
        let q = try onePolicy(["f1 > champion   # a comment", "latency <= baseline.rules-v1 - 2"])
        #expect(q.stages["production"]?.gates.map(\.text) == ["f1 > champion", "latency <= baseline.rules-v1 - 2"])
        #expect(q.stages["production"]?.gates[1].reference == .baseline("rules-v1", .absolute(-2)))
    }

    @Test("a stage with no body, or an empty list of gates, is allowed")
    func emptyStages() throws {
        let p = try GatePolicy.parse("stages:\n  dev:\n  sandbox:\n    gates: []\n  canary:\n    gates:\n", source: "p")
        #expect(p.stages.count == 3)
        #expect(p.stages.values.allSatisfy { $0 == StagePolicy() })
        #expect(p.referencedBaselines.isEmpty)
    }

    @Test("margins become the documented fractions, rounded to clean decimals")
    func marginValues() throws {
        let rules = ["a > champion * 1.10", "a > champion * 0.95", "a > champion + 2%", "a > champion - 0.5%",
                     "a > champion * 1", "a > champion + 0", "a > champion * 2", "a > champion + 1e-3"]
        let gates = try #require(try onePolicy(rules).stages["production"]?.gates)
        #expect(gates.map(\.reference) == [
            .champion(.relative(0.1)), .champion(.relative(-0.05)), .champion(.relative(0.02)), .champion(.relative(-0.005)),
            .champion(.relative(0)), .champion(.absolute(0)), .champion(.relative(1)), .champion(.absolute(0.001)),
        ])
    }

    @Test("thresholds: margins on the magnitude of the reference, to 15 significant digits")
    func thresholds() {
        #expect(Margin.relative(0.1).apply(to: 0.8) == 0.88)
        #expect(Margin.relative(0.1).apply(to: -10) == -9)
        #expect(Margin.relative(-0.05).apply(to: -10) == -10.5)
        #expect(Margin.relative(0.02).apply(to: -10) == -9.8)
        #expect(Margin.absolute(0.005).apply(to: 0.8) == 0.805)
        #expect(Margin.absolute(-0.01).apply(to: 0.8) == 0.79)
        #expect(Margin.none.apply(to: 0.1 + 0.2) == 0.1 + 0.2)
        #expect(Margin.relative(0.5).apply(to: 0) == 0)
    }

    @Test("numbers with a bare point read as the grammar says: .5 is 0.5, 5. is 5")
    func barePoint() throws {
        let p = try GatePolicy.parse("stages:\n  production:\n    gates:\n      - f1 >= .5\n      - auc > 5.\n      - x > champion - .01\n",
                                     source: "policy p.yaml")
        let gates = try #require(p.stages["production"]?.gates)
        #expect(gates[0].reference == .constant(0.5))
        #expect(gates[1].reference == .constant(5))
        #expect(gates[2].reference == .champion(.absolute(-0.01)))
        #expect(RuleParser.number(".") == nil && RuleParser.number("-") == nil && RuleParser.number("1..2") == nil)
    }

    @Test("operators: strict and non-strict")
    func operators() {
        #expect(ComparisonOp.greater.holds(1, 0.5) && !ComparisonOp.greater.holds(1, 1))
        #expect(ComparisonOp.greaterOrEqual.holds(1, 1) && !ComparisonOp.greaterOrEqual.holds(0.9, 1))
        #expect(ComparisonOp.less.holds(0.5, 1) && !ComparisonOp.less.holds(1, 1))
        #expect(ComparisonOp.lessOrEqual.holds(1, 1) && !ComparisonOp.lessOrEqual.holds(1.1, 1))
        #expect(ComparisonOp.equal.holds(1, 1) && !ComparisonOp.equal.holds(1, 1.000001))
        #expect(ComparisonOp.allCases.map(\.rawValue) == [">", ">=", "<", "<=", "=="])
    }

    @Test("equal policies compare equal; the text is part of a policy")
    func equality() throws {
        let a = try GatePolicy.parse("stages: {production: {gates: [f1 > 0.5]}}\n", source: "a")
        let b = try GatePolicy.parse("stages: {production: {gates: [f1 > 0.5]}}\n", source: "b")
        let c = try GatePolicy.parse("stages: {production: {gates: [f1 > 0.5]}}  \n", source: "c")
        #expect(a == b)
        #expect(a != c)
        #expect(a.stages == c.stages)
    }
}
