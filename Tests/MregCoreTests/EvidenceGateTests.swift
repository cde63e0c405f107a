import Foundation
import Testing
@testable import MregCore

/// The second release's gate language: `with P% confidence`, stage `confidence:` and `require:`,
/// slice rules; parsing, and evaluation of the rules that need no predictions (the paired
/// bootstrap itself runs end to end in SignificanceGateTests).
@Suite("Evidence gates")
struct EvidenceGateTests {
    static func policy(_ stage: String) throws -> GatePolicy {
        try GatePolicy.parse("stages:\n  production:\n" + stage, source: "policy p.yaml")
    }

    static func evaluation(computed: [String], intervals: [String: Evaluation.Interval] = [:],
                           time: Evaluation.TimeRange? = nil, train: Evaluation.TimeRange? = nil) -> Evaluation {
        Evaluation(task: .binary, predictions: ObjectID.of(Data("p".utf8)), format: "csv", columns: [:], rows: 10,
                   evalSet: String(repeating: "a", count: 64), timeRange: time, trainWindow: train,
                   intervals: intervals, computed: computed)
    }

    static func context(_ candidate: [String: Double], champion: [String: Double]? = nil,
                        candidateEvaluation: Evaluation? = nil, championEvaluation: Evaluation? = nil) -> GateContext {
        var c = GateContext(stage: "production", candidate: MetricSet(values: candidate), candidateLabel: "churn@3",
                            champion: champion.map { MetricSet(values: $0) }, championLabel: champion == nil ? nil : "churn@1",
                            baselines: [:], stagesChampioned: [])
        c.candidateEvaluation = candidateEvaluation
        c.championEvaluation = championEvaluation
        return c
    }

    @Test("with P% confidence, stage confidence and require parse; the rule's own level wins")
    func parses() throws {
        let p = try Self.policy("""
                confidence: 0.9
                require: [computed_metrics, temporal_split, computed_metrics]
                gates:
                  - f1 > champion + 0.005 with 97.5% confidence
                  - roc_auc >= champion
                  - precision >= 0.8
                  - recall{merchant="new \\"shop\\""} >= 0.6
                  - recall{merchant=*} >= champion - 0.02

            """)
        let stage = try #require(p.stages["production"])
        #expect(stage.require == [.computedMetrics, .temporalSplit])
        #expect(stage.confidence == 0.9)
        let rules = stage.gates
        #expect(rules[0].confidence == 0.975 && rules[0].reference == .champion(.absolute(0.005)))
        #expect(stage.confidence(of: rules[0]) == 0.975)
        #expect(stage.confidence(of: rules[1]) == 0.9)
        #expect(stage.confidence(of: rules[2]) == nil)
        #expect(rules[3].metric == #"recall{merchant="new \"shop\""}"#)
        #expect(rules[3].slice == SliceSelector(metric: "recall", column: "merchant", value: "new \"shop\""))
        #expect(rules[4].metric == "recall{merchant=*}" && rules[4].slice?.isWildcard == true)
        #expect(stage.confidence(of: rules[4]) == 0.9)
    }

    @Test("slice names read back as register writes them")
    func sliceNames() {
        let s = SliceSelector(metric: "recall", column: "city", value: "a\\b\"c\nd")
        #expect(s.name == #"recall{city="a\\b\"c\nd"}"#)
        #expect(SliceSelector(metricName: s.name) == s)
        #expect(SliceSelector(metricName: "recall") == nil)
        #expect(SliceSelector(metricName: #"recall{city="x"}y"#) == nil)
        #expect(SliceSelector(metric: "recall", column: "city", value: nil).matches(#"recall{city="x"}"#) == "x")
        #expect(SliceSelector(metric: "recall", column: "city", value: nil).matches(#"precision{city="x"}"#) == nil)
    }

    @Test("a wildcard slice rule gives one row per candidate slice value; a value the champion lacks fails")
    func wildcard() throws {
        let p = try Self.policy("    gates:\n      - recall{plan=*} >= champion - 0.02\n")
        let ctx = Self.context([#"recall{plan="basic"}"#: 0.7, #"recall{plan="premium"}"#: 0.5, "recall": 0.6],
                               champion: [#"recall{plan="basic"}"#: 0.71, "recall": 0.6])
        let r = try GateEvaluator.evaluate(policy: p, context: ctx)
        #expect(r.results.map(\.rule) == [#"recall{plan="basic"} >= champion - 0.02"#, #"recall{plan="premium"} >= champion - 0.02"#])
        #expect(r.results[0].verdict == .pass)
        #expect(r.results[1].verdict == .fail)
        #expect(r.results[1].reason == #"the champion churn@1 does not report recall{plan="premium"}"#)
        // A candidate without the slice: one failing row that says how to get it.
        let none = try GateEvaluator.evaluate(policy: p, context: Self.context(["recall": 0.6], champion: ["recall": 0.6]))
        #expect(none.results.count == 1 && none.results[0].verdict == .fail)
        #expect(none.results[0].reason.contains("--slice-by plan"))
        // Against a constant, every value.
        let floor = try Self.policy("    gates:\n      - recall{plan=*} >= 0.6\n")
        let f = try GateEvaluator.evaluate(policy: floor, context: ctx)
        #expect(f.results.map(\.verdict) == [.pass, .fail])
    }

    @Test("require computed_metrics fails on reported numbers, on either side of a champion rule")
    func computedMetrics() throws {
        let p = try Self.policy("    require: [computed_metrics]\n    gates:\n      - f1 > champion\n      - latency <= 10\n")
        let computed = Self.evaluation(computed: ["f1"])
        let r = try GateEvaluator.evaluate(policy: p, context: Self.context(["f1": 0.8, "latency": 5], champion: ["f1": 0.7],
                                                                            candidateEvaluation: computed))
        #expect(r.results[0].rule == "require computed_metrics")
        #expect(r.results[0].verdict == .fail)
        #expect(r.results[0].reason == "churn@3: latency is not computed from its predictions; the champion churn@1 was registered without predictions, so f1 is reported, not computed")
        #expect(!r.passed)
        let both = Self.evaluation(computed: ["f1", "latency"])
        let ok = try GateEvaluator.evaluate(policy: p, context: Self.context(["f1": 0.8, "latency": 5], champion: ["f1": 0.7],
                                                                             candidateEvaluation: both, championEvaluation: both))
        #expect(ok.results[0].verdict == .pass)
        #expect(ok.passed)
    }

    @Test("require temporal_split: evaluation rows strictly after the training window, else a reason")
    func temporalSplit() throws {
        let p = try Self.policy("    require: [temporal_split]\n    gates:\n      - f1 >= 0.5\n")
        func run(_ e: Evaluation?) throws -> RuleResult {
            try GateEvaluator.evaluate(policy: p, context: Self.context(["f1": 0.8], candidateEvaluation: e)).results[0]
        }
        let train = Evaluation.TimeRange(from: "2026-07-01T00:00:00Z", to: "2026-09-30T23:59:59Z")
        let after = try run(Self.evaluation(computed: ["f1"], time: .init(from: "2026-10-01T00:00:00Z", to: "2026-10-31T00:00:00Z"), train: train))
        #expect(after.verdict == .pass, "\(after.reason)")
        let overlap = try run(Self.evaluation(computed: ["f1"], time: .init(from: "2026-09-30T23:59:59Z", to: "2026-10-31T00:00:00Z"), train: train))
        #expect(overlap.verdict == .fail)
        #expect(overlap.reason.contains("not after the end of the training window"))
        #expect(try run(Self.evaluation(computed: ["f1"], train: train)).reason.contains("no time column"))
        #expect(try run(Self.evaluation(computed: ["f1"], time: train)).reason.contains("--train-window"))
        #expect(try run(nil).reason.contains("registered without predictions"))
        #expect(try run(nil).verdict == .fail)
    }

    @Test("a confidence rule without predictions fails with the reason, never passes on the point values")
    func confidenceWithoutPredictions() throws {
        let p = try Self.policy("    gates:\n      - f1 > champion with 95% confidence\n")
        let r = try GateEvaluator.evaluate(policy: p, context: Self.context(["f1": 0.9], champion: ["f1": 0.5]))
        #expect(r.results[0].verdict == .fail)
        #expect(r.results[0].reason == "`with 95% confidence` needs both versions' predictions on the same rows: churn@3 was registered with reported metrics only")
        #expect(r.results[0].evidence.confidence == 0.95)
        // First promotion: not applicable, as every champion rule.
        let first = try GateEvaluator.evaluate(policy: p, context: Self.context(["f1": 0.9]))
        #expect(first.results[0].verdict == .notApplicable)
    }

    @Test("intervals ride along in the report and read back; old reports read without them")
    func reportIntervals() throws {
        let p = try Self.policy("    gates:\n      - f1 >= champion\n")
        let ev = Self.evaluation(computed: ["f1"], intervals: ["f1": .init(low: 0.7, high: 0.9)])
        let champ = Self.evaluation(computed: ["f1"], intervals: ["f1": .init(low: 0.6, high: 0.8)])
        let r = try GateEvaluator.evaluate(policy: p, context: Self.context(["f1": 0.8], champion: ["f1": 0.7],
                                                                            candidateEvaluation: ev, championEvaluation: champ))
        #expect(r.results[0].evidence.candidateInterval == .init(low: 0.7, high: 0.9))
        #expect(r.results[0].evidence.referenceInterval == .init(low: 0.6, high: 0.8))
        #expect(try GateReport(json: r.json) == r)
        #expect(r.table().contains("[0.7, 0.9]"))
        #expect(r.table().split(separator: "\n")[0].contains("CANDIDATE CI"))
        // A report stored before these fields existed.
        var old = r.json
        if case .object(var o) = old, case .array(var rules) = o["rules"], case .object(var row) = rules[0] {
            for k in ["candidate_interval", "reference_interval", "confidence", "difference", "difference_interval", "paired"] { row[k] = nil }
            rules[0] = .object(row); o["rules"] = .array(rules); old = .object(o)
        }
        let back = try GateReport(json: old)
        #expect(back.results[0].evidence.isEmpty)
        #expect(!back.table().contains("CI"))
    }
}
