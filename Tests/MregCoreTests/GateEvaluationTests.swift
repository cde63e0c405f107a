import Foundation
import Testing
@testable import MregCore

private func ms(_ values: [String: Double], lower: Set<String> = [], eval: EvalSet? = nil) -> MetricSet {
    MetricSet(values: values, lowerIsBetter: lower, evalSet: eval)
}

private func context(_ candidate: MetricSet, champion: MetricSet? = nil, baselines: [String: MetricSet] = [:],
                     championed: Set<String> = [], stage: String = "production") -> GateContext {
    GateContext(stage: stage, candidate: candidate, candidateLabel: "fraud@8", champion: champion,
                championLabel: champion == nil ? nil : "fraud@7", baselines: baselines, stagesChampioned: championed)
}

private func evaluate(_ rules: [String], _ ctx: GateContext) throws -> GateReport {
    try GateEvaluator.evaluate(policy: try onePolicy(rules, stage: ctx.stage), context: ctx)
}

private extension GateReport {
    func row(_ rule: String) -> RuleResult? { results.first { $0.rule == rule } }
    func verdict(_ rule: String) -> Verdict? { row(rule)?.verdict }
    func reason(_ rule: String) -> String { row(rule)?.reason ?? "<no row \(rule)>" }
}

@Suite("Gate evaluation")
struct GateEvaluationTests {
    static let fraudPolicy: GatePolicy = {
        let text = try! GateFixtures.text("policies/fraud.yaml")
        return try! GatePolicy.parse(text, source: "policy fraud.yaml")
    }()

    static let champion = ms(["f1": 0.80, "precision": 0.91, "recall": 0.75, "latency_p99_ms": 10])
    static let rules = ms(["f1": 0.70, "precision": 0.95, "recall": 0.40])

    @Test("a better candidate passes every rule of the fraud policy, with values and thresholds")
    func betterCandidate() throws {
        let cand = ms(["f1": 0.85, "precision": 0.92, "recall": 0.745, "latency_p99_ms": 10.9])
        let r = try GateEvaluator.evaluate(policy: Self.fraudPolicy,
                                           context: context(cand, champion: Self.champion, baselines: ["rules-v1": Self.rules],
                                                            championed: ["staging"]))
        #expect(r.passed)
        #expect(r.policyKind == "policy")
        #expect(r.stage == "production")
        #expect(r.results.map(\.rule) == ["after staging", "f1 > champion + 0.005", "precision >= 0.90", "recall >= champion - 0.01",
                                          "latency_p99_ms <= champion * 1.10", "f1 > baseline.rules-v1", "f1 >= champion - 1%"])
        #expect(r.results.allSatisfy { $0.verdict == .pass && !$0.reason.isEmpty })
        let f1 = try #require(r.row("f1 > champion + 0.005"))
        #expect(f1 == RuleResult(rule: "f1 > champion + 0.005", metric: "f1", candidate: 0.85, reference: 0.8, threshold: 0.805,
                                 verdict: .pass, reason: "0.85 > 0.805 (champion fraud@7 0.8 + 0.005); better by 0.05 (higher is better)"))
        #expect(r.row("recall >= champion - 0.01")?.threshold == 0.74)
        #expect(r.reason("recall >= champion - 0.01").contains("worse by 0.005 (higher is better)"))
        #expect(r.row("latency_p99_ms <= champion * 1.10")?.threshold == 11)
        #expect(r.reason("latency_p99_ms <= champion * 1.10") == "10.9 <= 11 (champion fraud@7 10 + 10%); worse by 0.9 (lower is better)")
        #expect(r.row("precision >= 0.90")?.reference == 0.9)
        #expect(r.row("f1 > baseline.rules-v1")?.reference == 0.7)
        #expect(r.reason("f1 > baseline.rules-v1").contains("(baseline rules-v1 0.7)"))
        #expect(r.row("f1 >= champion - 1%")?.threshold == 0.792)
        #expect(r.notes.isEmpty)
    }

    @Test("a worse candidate is blocked, and the failing rules say why")
    func worseCandidate() throws {
        let cand = ms(["f1": 0.80, "precision": 0.85, "recall": 0.70, "latency_p99_ms": 12])
        let r = try GateEvaluator.evaluate(policy: Self.fraudPolicy,
                                           context: context(cand, champion: Self.champion, baselines: ["rules-v1": Self.rules],
                                                            championed: ["staging"]))
        #expect(!r.passed)
        #expect(r.verdict("f1 > champion + 0.005") == .fail)
        #expect(r.reason("f1 > champion + 0.005") == "0.8 is not > 0.805 (champion fraud@7 0.8 + 0.005); same value as the champion")
        #expect(r.reason("precision >= 0.90") == "0.85 is not >= 0.9")
        #expect(r.verdict("recall >= champion - 0.01") == .fail)
        #expect(r.reason("latency_p99_ms <= champion * 1.10").contains("worse by 2 (lower is better)"))
        #expect(r.verdict("f1 > baseline.rules-v1") == .pass)
        #expect(r.verdict("after staging") == .pass)
        let table = r.table()
        #expect(table.contains("FAIL"))
        #expect(table.hasSuffix("verdict: FAIL (4 of 7 failed: f1 > champion + 0.005; precision >= 0.90; recall >= champion - 0.01; latency_p99_ms <= champion * 1.10)"))
    }

    @Test("first promotion: champion-relative rules are not applicable; absolute and baseline rules still decide")
    func firstPromotion() throws {
        let cand = ms(["f1": 0.85, "precision": 0.92, "recall": 0.75, "latency_p99_ms": 10])
        let r = try GateEvaluator.evaluate(policy: Self.fraudPolicy,
                                           context: context(cand, baselines: ["rules-v1": Self.rules], championed: ["staging"]))
        #expect(r.passed)
        for rule in ["f1 > champion + 0.005", "recall >= champion - 0.01", "latency_p99_ms <= champion * 1.10", "f1 >= champion - 1%"] {
            #expect(r.verdict(rule) == .notApplicable)
            #expect(r.reason(rule).contains("no champion of production yet (first promotion)"))
            #expect(r.row(rule)?.reference == nil && r.row(rule)?.threshold == nil)
            #expect(r.row(rule)?.candidate != nil)
        }
        #expect(r.verdict("precision >= 0.90") == .pass)
        #expect(r.verdict("f1 > baseline.rules-v1") == .pass)
        #expect(r.notes == ["first promotion to production: no champion yet, so champion-relative rules are not applicable"])
        #expect(r.table().hasSuffix("verdict: pass (3 passed, 4 not applicable)"))

        // Still blocked by an absolute floor or a baseline.
        let weak = ms(["f1": 0.65, "precision": 0.85, "recall": 0.75, "latency_p99_ms": 10])
        let b = try GateEvaluator.evaluate(policy: Self.fraudPolicy,
                                           context: context(weak, baselines: ["rules-v1": Self.rules], championed: ["staging"]))
        #expect(!b.passed)
        #expect(b.verdict("precision >= 0.90") == .fail)
        #expect(b.verdict("f1 > baseline.rules-v1") == .fail)
        #expect(b.reason("f1 > baseline.rules-v1") == "0.65 is not > 0.7 (baseline rules-v1 0.7); worse by 0.05 (higher is better)")

        // A stage without champion-relative rules says so differently.
        let s = try GateEvaluator.evaluate(policy: Self.fraudPolicy, context: context(cand, stage: "staging"))
        #expect(s.notes == ["first promotion to staging: no champion yet, so nothing is compared with a champion"])
    }

    @Test("absolute margins: + N and - N move the champion's value")
    func absoluteMargins() throws {
        let champ = ms(["recall": 0.80, "f1": 0.80])
        let rules = ["recall >= champion - 0.01", "f1 > champion + 0.005"]
        let at = try evaluate(rules, context(ms(["recall": 0.79, "f1": 0.8051]), champion: champ))
        #expect(at.passed, "\(at.results)")
        #expect(at.row("recall >= champion - 0.01")?.threshold == 0.79)
        let below = try evaluate(rules, context(ms(["recall": 0.7899, "f1": 0.805]), champion: champ))
        #expect(below.verdict("recall >= champion - 0.01") == .fail)
        #expect(below.verdict("f1 > champion + 0.005") == .fail)
        #expect(below.reason("f1 > champion + 0.005").contains("a tie does not pass >"))
    }

    @Test("relative margins: + N%, - N% and * F on the champion's magnitude")
    func relativeMargins() throws {
        let champ = ms(["f1": 0.80, "auc": 0.90])
        let rules = ["f1 >= champion - 1%", "auc >= champion + 2%", "f1 >= champion * 1.10"]
        let r = try evaluate(rules, context(ms(["f1": 0.88, "auc": 0.918]), champion: champ))
        #expect(r.row("f1 >= champion - 1%")?.threshold == 0.792)
        #expect(r.row("auc >= champion + 2%")?.threshold == 0.918)
        #expect(r.row("f1 >= champion * 1.10")?.threshold == 0.88)
        #expect(r.passed, "0.88 ties 0.8 * 1.10 exactly, in decimal: \(r.results)")
        #expect(r.reason("auc >= champion + 2%").contains("(champion fraud@7 0.9 + 2%)"))
        let low = try evaluate(rules, context(ms(["f1": 0.7919, "auc": 0.9179]), champion: champ))
        #expect(low.results.allSatisfy { $0.verdict == .fail })
    }

    @Test("a threshold beyond the range of a number fails the rule, and the report stays valid JSON")
    func overflowingThreshold() throws {
        let champ = ms(["f1": 1.5e308, "auc": 1e308])
        let rules = ["f1 >= champion * 2", "auc > champion + 1e308", "f1 >= champion"]
        let r = try evaluate(rules, context(ms(["f1": 1.6e308, "auc": 1.7e308]), champion: champ))
        #expect(r.verdict("f1 >= champion * 2") == .fail)
        #expect(r.row("f1 >= champion * 2")?.threshold == nil)
        #expect(r.reason("f1 >= champion * 2").contains("beyond the range of a number"), "\(r.reason("f1 >= champion * 2"))")
        #expect(r.verdict("auc > champion + 1e308") == .fail)
        #expect(r.verdict("f1 >= champion") == .pass)
        #expect(!r.passed)
        let bytes = r.json.canonicalBytes
        #expect(!String(decoding: bytes, as: UTF8.self).contains("inf"))
        #expect(try GateReport(json: try JSON.parse(bytes)) == r)
        // A difference beyond a double is said without an amount.
        let far = try evaluate(["x >= champion"], context(ms(["x": 1.5e308]), champion: ms(["x": -1.5e308])))
        #expect(far.reason("x >= champion").hasSuffix("better (higher is better)"), "\(far.reason("x >= champion"))")
    }

    @Test("ratio rules on lower-is-better metrics: * 1.10 allows 10% worse, * 0.95 demands 5% better")
    func lowerIsBetterRatios() throws {
        let champ = ms(["latency": 10, "log_loss": 0.40], lower: ["latency"])
        let rules = ["latency <= champion * 1.10", "log_loss <= champion * 0.95", "latency < champion * 0.95"]
        let policy = try GatePolicy.parse("lower_is_better: [log_loss]\nstages:\n  production:\n    gates:\n"
                                          + rules.map { "      - \($0)\n" }.joined(), source: "p")
        let ok = try GateEvaluator.evaluate(policy: policy, context: context(ms(["latency": 9, "log_loss": 0.38]), champion: champ))
        #expect(ok.row("latency <= champion * 1.10")?.threshold == 11)
        #expect(ok.row("log_loss <= champion * 0.95")?.threshold == 0.38)
        #expect(ok.row("latency < champion * 0.95")?.threshold == 9.5)
        #expect(ok.passed, "\(ok.results)")
        #expect(ok.reason("latency <= champion * 1.10") == "9 <= 11 (champion fraud@7 10 + 10%); better by 1 (lower is better)")
        #expect(ok.reason("log_loss <= champion * 0.95").contains("better by 0.02 (lower is better)"), "policy's lower_is_better")
        let slow = try GateEvaluator.evaluate(policy: policy, context: context(ms(["latency": 11.1, "log_loss": 0.39]), champion: champ))
        #expect(slow.verdict("latency <= champion * 1.10") == .fail)
        #expect(slow.verdict("log_loss <= champion * 0.95") == .fail)
        let edge = try GateEvaluator.evaluate(policy: policy, context: context(ms(["latency": 9.5, "log_loss": 0.38]), champion: champ))
        #expect(edge.verdict("latency < champion * 0.95") == .fail)
        #expect(edge.reason("latency < champion * 0.95").contains("a tie does not pass <"))
    }

    @Test("negative metrics: relative margins do not flip the rule")
    func negativeMetrics() throws {
        let champ = ms(["score": -10, "pnl": -200])
        let rules = ["score >= champion * 1.02", "pnl >= champion + 5%", "score >= champion - 10%"]
        let better = try evaluate(rules, context(ms(["score": -9.8, "pnl": -190]), champion: champ))
        #expect(better.row("score >= champion * 1.02")?.threshold == -9.8)
        #expect(better.row("pnl >= champion + 5%")?.threshold == -190)
        #expect(better.row("score >= champion - 10%")?.threshold == -11)
        #expect(better.passed, "\(better.results)")
        #expect(better.reason("pnl >= champion + 5%").contains("better by 10 (higher is better)"))
        let worse = try evaluate(rules, context(ms(["score": -10.1, "pnl": -201]), champion: champ))
        #expect(worse.verdict("score >= champion * 1.02") == .fail)
        #expect(worse.verdict("pnl >= champion + 5%") == .fail)
        #expect(worse.verdict("score >= champion - 10%") == .pass)
        // Negative constants.
        let c = try evaluate(["pnl > -250", "pnl < -100"], context(ms(["pnl": -200])))
        #expect(c.passed)
    }

    @Test("ties: > and < are strict, >=, <= and == accept a tie", arguments: [
        (">", false), (">=", true), ("<", false), ("<=", true), ("==", true),
    ])
    func ties(op: String, passes: Bool) throws {
        let constant = try evaluate(["f1 \(op) 0.8"], context(ms(["f1": 0.8])))
        #expect(constant.passed == passes)
        let champion = try evaluate(["f1 \(op) champion"], context(ms(["f1": 0.8]), champion: ms(["f1": 0.8])))
        #expect(champion.passed == passes)
        if !passes {
            #expect(champion.results[0].reason == "0.8 is not \(op) 0.8 (champion fraud@7 0.8); a tie does not pass \(op)")
        }
    }

    @Test("a metric missing on either side fails the rule, naming which side lacks it")
    func missingMetrics() throws {
        let rules = ["recall >= champion", "f1 > 0.5", "auc > baseline.rules-v1", "latency <= champion"]
        let r = try evaluate(rules, context(ms(["f1": 0.8, "auc": 0.9, "recall": 0.7]), champion: ms(["f1": 0.8]),
                                            baselines: ["rules-v1": ms(["f1": 0.7])]))
        #expect(!r.passed)
        #expect(r.reason("recall >= champion") == "the champion fraud@7 does not report recall")
        #expect(r.verdict("f1 > 0.5") == .pass)
        #expect(r.reason("auc > baseline.rules-v1") == "the baseline rules-v1 does not report auc")
        #expect(r.reason("latency <= champion") == "neither fraud@8 nor the champion fraud@7 reports latency")
        let c = try evaluate(rules, context(ms(["auc": 0.9]), champion: ms(["f1": 0.8, "recall": 0.7]),
                                            baselines: ["rules-v1": ms(["auc": 0.7])]))
        #expect(c.reason("recall >= champion") == "fraud@8 does not report recall")
        #expect(c.row("recall >= champion")?.reference == 0.7)
        #expect(c.reason("f1 > 0.5") == "fraud@8 does not report f1")
        #expect(c.verdict("f1 > 0.5") == .fail)
        #expect(c.verdict("auc > baseline.rules-v1") == .pass)
        // On a first promotion a missing metric on the candidate still fails absolute rules.
        let first = try evaluate(rules, context(ms(["auc": 0.9]), baselines: ["rules-v1": ms(["auc": 0.7])]))
        #expect(first.verdict("f1 > 0.5") == .fail)
        #expect(first.verdict("recall >= champion") == .notApplicable)
    }

    @Test("an evaluation-set mismatch fails every champion-relative rule; constants still apply")
    func evalSetMismatch() throws {
        let a = EvalSet(name: "holdout-a", sha256: nil), b = EvalSet(name: "holdout-b", sha256: nil)
        let rules = ["f1 > champion", "f1 >= champion - 5%", "f1 > 0.5"]
        let r = try evaluate(rules, context(ms(["f1": 0.95], eval: b), champion: ms(["f1": 0.8], eval: a)))
        #expect(!r.passed)
        for rule in rules.prefix(2) {
            #expect(r.verdict(rule) == .fail)
            #expect(r.reason(rule) == "evaluation sets differ: holdout-b vs holdout-a; fraud@8 and the champion fraud@7 cannot be compared")
            #expect(r.row(rule)?.candidate == 0.95 && r.row(rule)?.reference == 0.8)
            #expect(r.row(rule)?.threshold == nil, "no comparison was made")
        }
        #expect(r.verdict("f1 > 0.5") == .pass)
        #expect(r.notes.first?.hasPrefix("evaluation sets differ: holdout-b vs holdout-a; every champion-relative rule fails") == true)
        // Same set, or one side naming none: compared.
        #expect(try evaluate(rules, context(ms(["f1": 0.95], eval: a), champion: ms(["f1": 0.8], eval: a))).passed)
        #expect(try evaluate(rules, context(ms(["f1": 0.95]), champion: ms(["f1": 0.8], eval: a))).passed)
        // Hashes decide over names.
        let h1 = EvalSet(name: "holdout", sha256: String(repeating: "a", count: 64))
        let h2 = EvalSet(name: "holdout", sha256: String(repeating: "b", count: 64))
        #expect(try !evaluate(rules, context(ms(["f1": 0.95], eval: h1), champion: ms(["f1": 0.8], eval: h2))).passed)
    }

    @Test("baselines: pass, fail, margins, mismatch, and an unknown baseline is an error")
    func baselines() throws {
        let base = ["rules-v1": ms(["f1": 0.75], eval: EvalSet(name: "h", sha256: nil))]
        let rules = ["f1 > baseline.rules-v1", "f1 >= baseline.rules-v1 + 0.05"]
        let pass = try evaluate(rules, context(ms(["f1": 0.80]), baselines: base))
        #expect(pass.passed)
        #expect(pass.row("f1 >= baseline.rules-v1 + 0.05")?.threshold == 0.8)
        let fail = try evaluate(rules, context(ms(["f1": 0.75]), champion: ms(["f1": 0.5]), baselines: base))
        #expect(fail.verdict("f1 > baseline.rules-v1") == .fail, "a baseline is beaten whatever the champion")
        #expect(fail.reason("f1 > baseline.rules-v1").contains("a tie does not pass >"))
        let mismatch = try evaluate(rules, context(ms(["f1": 0.9], eval: EvalSet(name: "other", sha256: nil)), baselines: base))
        #expect(mismatch.verdict("f1 > baseline.rules-v1") == .fail)
        #expect(mismatch.reason("f1 > baseline.rules-v1").hasPrefix("baseline rules-v1: evaluation sets differ: other vs h"))
        let e = #expect(throws: MregError.self) {
            _ = try evaluate(["f1 > 0.5", "f1 > baseline.rules-v2"], context(ms(["f1": 0.9]), baselines: base))
        }
        #expect(e?.kind == .invalidInput)
        #expect(e?.message.hasPrefix("rule `f1 > baseline.rules-v2` (line 5): no baseline \"rules-v2\"") == true, "\(e?.message ?? "")")
    }

    @Test("after: passes only when the candidate has been champion of the earlier stage")
    func after() throws {
        let policy = try GatePolicy.parse(try GateFixtures.text("policies/chain.yaml"), source: "p")
        let cand = ms(["f1": 0.9, "recall": 0.8])
        let no = try GateEvaluator.evaluate(policy: policy, context: context(cand, stage: "canary"))
        #expect(!no.passed)
        #expect(no.results == [RuleResult(rule: "after staging", metric: "", candidate: nil, reference: nil, threshold: nil,
                                          verdict: .fail, reason: "fraud@8 has not been champion of staging")])
        let yes = try GateEvaluator.evaluate(policy: policy, context: context(cand, championed: ["staging"], stage: "canary"))
        #expect(yes.passed)
        #expect(yes.results[0].reason == "fraud@8 has been champion of staging")
        // Only the direct predecessor is checked; the lifecycle guarantees the rest of the chain.
        let prod = try GateEvaluator.evaluate(policy: policy, context: context(cand, championed: ["canary"]))
        #expect(prod.passed)
        #expect(prod.results.first?.rule == "after canary")
    }

    @Test("a stage not in the policy is an error naming the stages")
    func unknownStage() throws {
        let e = #expect(throws: MregError.self) {
            _ = try GateEvaluator.evaluate(policy: Self.fraudPolicy, context: context(ms(["f1": 1]), stage: "canary"))
        }
        #expect(e?.kind == .invalidInput)
        #expect(e?.message == "stage \"canary\" is not in the gate policy (stages: production, staging)")
    }

    @Test("a stage with no gates passes every candidate, and says so")
    func openStage() throws {
        let policy = try GatePolicy.parse(try GateFixtures.text("policies/open-stage.yaml"), source: "p")
        let r = try GateEvaluator.evaluate(policy: policy, context: context(ms([:]), champion: ms(["f1": 0.9]), stage: "sandbox"))
        #expect(r.passed)
        #expect(r.results.isEmpty)
        #expect(r.notes == ["stage sandbox has no gates: every candidate passes"])
        #expect(r.table() == "(no rules)\nnote: stage sandbox has no gates: every candidate passes\nverdict: pass (0 passed)")
    }

    @Test("passed means no failed row; not-applicable rows block nothing")
    func passedDefinition() throws {
        let r = try evaluate(["f1 > champion"], context(ms(["f1": 0.1])))
        #expect(r.passed)
        #expect(r.results.map(\.verdict) == [.notApplicable])
    }
}

@Suite("Default gate policy")
struct DefaultGatePolicyTests {
    func evaluate(_ ctx: GateContext) throws -> GateReport { try GateEvaluator.evaluate(policy: nil, context: ctx) }

    @Test("no champion and no baseline: passes with a note")
    func nothingToCompare() throws {
        let r = try evaluate(context(ms(["f1": 0.1])))
        #expect(r.passed)
        #expect(r.policyKind == "default")
        #expect(r.results.map(\.verdict) == [.notApplicable])
        #expect(r.results[0].rule == "not worse than champion, better on one metric")
        #expect(r.notes.contains("default policy: no champion and no baseline to compare with, so the first promotion passes"))
        #expect(r.notes.contains { $0.hasPrefix("first promotion to production") })
    }

    @Test("better on one metric and not worse on any: passes, a row per shared metric")
    func better() throws {
        let champ = ms(["f1": 0.80, "latency": 10, "auc": 0.9], lower: ["latency"])
        let r = try evaluate(context(ms(["f1": 0.85, "latency": 10, "auc": 0.9, "extra": 1]), champion: champ))
        #expect(r.passed)
        #expect(r.results.map(\.rule) == ["auc >= champion", "f1 >= champion", "latency <= champion",
                                          "better than champion on at least one shared metric"])
        #expect(r.row("f1 >= champion") == RuleResult(rule: "f1 >= champion", metric: "f1", candidate: 0.85, reference: 0.8, threshold: 0.8,
                                                       verdict: .pass, reason: "0.85 >= 0.8: better than the champion fraud@7 by 0.05 (higher is better)"))
        #expect(r.reason("latency <= champion") == "10 <= 10: equal to the champion fraud@7, not worse")
        #expect(r.reason("better than champion on at least one shared metric") == "better on f1")
        #expect(r.notes == ["not compared with the champion fraud@7: only fraud@8 reports extra"])
    }

    @Test("worse on any shared metric: blocked, whatever else is better")
    func worse() throws {
        let champ = ms(["f1": 0.80, "latency": 10])
        let r = try evaluate(context(ms(["f1": 0.95, "latency": 11], lower: ["latency"]), champion: champ))
        #expect(!r.passed)
        #expect(r.verdict("latency <= champion") == .fail)
        #expect(r.reason("latency <= champion") == "11 is not <= 10: worse than the champion fraud@7 by 1 (lower is better)")
        #expect(r.verdict("better than champion on at least one shared metric") == .pass)
    }

    @Test("a tie on every metric does not beat the champion")
    func tie() throws {
        let r = try evaluate(context(ms(["f1": 0.8, "auc": 0.9]), champion: ms(["f1": 0.8, "auc": 0.9])))
        #expect(!r.passed)
        #expect(r.verdict("f1 >= champion") == .pass)
        #expect(r.reason("better than champion on at least one shared metric")
            == "not better than the champion fraud@7 on any of auc, f1 (a tie does not beat it)")
    }

    @Test("no shared metric: nothing to compare, blocked")
    func noSharedMetric() throws {
        let r = try evaluate(context(ms(["f1": 0.9]), champion: ms(["auc": 0.9])))
        #expect(!r.passed)
        #expect(r.results == [RuleResult(rule: "better than champion on at least one shared metric", metric: "", candidate: nil,
                                         reference: nil, threshold: nil, verdict: .fail,
                                         reason: "fraud@8 and the champion fraud@7 share no metric: nothing to compare")])
    }

    @Test("eval-set mismatch fails every champion row")
    func mismatch() throws {
        let r = try evaluate(context(ms(["f1": 0.9], eval: EvalSet(name: "b", sha256: nil)),
                                     champion: ms(["f1": 0.8], eval: EvalSet(name: "a", sha256: nil))))
        #expect(!r.passed)
        #expect(r.results.count == 2)
        #expect(r.results.allSatisfy { $0.verdict == .fail && $0.reason.hasPrefix("evaluation sets differ: b vs a") })
    }

    @Test("directions come from the champion's manifest too")
    func directionFromChampion() throws {
        let r = try evaluate(context(ms(["latency": 9]), champion: ms(["latency": 10], lower: ["latency"])))
        #expect(r.passed)
        #expect(r.results.first?.rule == "latency <= champion")
    }

    @Test("baselines: the same rows against each, even on a first promotion")
    func baselines() throws {
        let base = ["rules-v1": ms(["f1": 0.7, "recall": 0.9]), "naive": ms(["f1": 0.5])]
        let r = try evaluate(context(ms(["f1": 0.8, "recall": 0.8]), baselines: base))
        #expect(!r.passed)
        #expect(r.results.map(\.rule) == [
            "not worse than champion, better on one metric",
            "f1 >= baseline.naive", "better than baseline.naive on at least one shared metric",
            "f1 >= baseline.rules-v1", "recall >= baseline.rules-v1", "better than baseline.rules-v1 on at least one shared metric",
        ])
        #expect(r.verdict("recall >= baseline.rules-v1") == .fail)
        #expect(r.reason("recall >= baseline.rules-v1") == "0.8 is not >= 0.9: worse than the baseline rules-v1 by 0.1 (higher is better)")
        #expect(r.verdict("better than baseline.naive on at least one shared metric") == .pass)
        #expect(r.notes == ["first promotion to production: no champion yet, so the champion comparisons are not applicable",
                            "not compared with the baseline naive: only fraud@8 reports recall"])
        let ok = try evaluate(context(ms(["f1": 0.8, "recall": 0.95]), champion: ms(["f1": 0.79]), baselines: base))
        #expect(ok.passed, "\(ok.results)")
    }

    @Test("any stage name is accepted")
    func anyStage() throws {
        #expect(try evaluate(context(ms(["f1": 0.8]), stage: "canary")).stage == "canary")
    }
}

@Suite("Gate report")
struct GateReportTests {
    static func sample() throws -> GateReport {
        let policy = try onePolicy(["f1 > champion + 0.005", "precision >= 0.9", "recall >= champion"])
        return try GateEvaluator.evaluate(policy: policy, context: context(ms(["f1": 0.9, "precision": 0.85]),
                                                                           champion: ms(["f1": 0.8, "recall": 0.7])))
    }

    @Test("the JSON has the documented shape, absent numbers as null")
    func shape() throws {
        let r = try Self.sample()
        let json = r.json
        #expect(Set(json.object?.keys.map { $0 } ?? []) == ["stage", "passed", "policy", "notes", "rules"])
        #expect(json["stage"] == .string("production"))
        #expect(json["passed"] == .bool(false))
        #expect(json["policy"] == .string("policy"))
        let rows = try #require(json["rules"]?.array)
        #expect(rows.count == 3)
        #expect(rows[0] == .object([
            "rule": .string("f1 > champion + 0.005"), "metric": .string("f1"), "candidate": .number(0.9), "reference": .number(0.8),
            "threshold": .number(0.805), "verdict": .string("pass"),
            "reason": .string("0.9 > 0.805 (champion fraud@7 0.8 + 0.005); better by 0.1 (higher is better)"),
            // Evidence from computed metrics (docs/gates.md, "The report"): none for reported ones.
            "candidate_interval": .null, "reference_interval": .null, "confidence": .null, "difference": .null,
            "difference_interval": .null, "paired": .null,
        ]))
        #expect(rows[2]["candidate"] == .null)
        #expect(rows[2]["verdict"] == .string("fail"))
        let first = try GateEvaluator.evaluate(policy: nil, context: context(ms(["f1": 1])))
        #expect(first.json["rules"]?.array?.first?["verdict"] == .string("not_applicable"))
        #expect(first.json["policy"] == .string("default"))
    }

    @Test("the JSON reads back to the same report, through canonical bytes", arguments: [0, 1, 2])
    func roundTrip(_ which: Int) throws {
        let reports = [
            try Self.sample(),
            try GateEvaluator.evaluate(policy: nil, context: context(ms(["f1": 1]))),
            try GateEvaluator.evaluate(policy: nil, context: context(ms(["f1": 0.1 + 0.2, "x": -1e-7]), champion: ms(["f1": 0.3]),
                                                                      baselines: ["b": ms(["x": 5])])),
        ]
        let r = reports[which]
        let back = try GateReport(json: try JSON.parse(r.json.canonicalBytes))
        #expect(back == r)
        #expect(try GateReport(json: JSON.parse(Array(r.json.pretty().utf8))) == r)
    }

    @Test("a malformed stored report is refused, naming the field")
    func malformed() throws {
        var o = try #require(try Self.sample().json.object)
        let cases: [(String, JSON, String)] = [
            ("passed", .string("yes"), "passed"),
            ("policy", .string("other"), "policy"),
            ("rules", .array([.object(["rule": .string("x")])]), "rules[0]"),
            ("rules", .array([.object(["rule": .string("x"), "metric": .string(""), "reason": .string("r"), "verdict": .string("maybe")])]),
             "verdict"),
            ("rules", .array([.object(["rule": .string("x"), "metric": .string(""), "reason": .string("r"), "verdict": .string("pass"),
                                       "candidate": .string("1")])]), "rules[0].candidate"),
            ("notes", .array([.number(1)]), "notes"),
        ]
        for (key, value, needle) in cases {
            let saved = o[key]
            o[key] = value
            let e = #expect(throws: MregError.self) { _ = try GateReport(json: .object(o)) }
            #expect(e?.message.contains(needle) == true, "\(key): \(e?.message ?? "")")
            o[key] = saved
        }
        #expect(throws: MregError.self) { _ = try GateReport(json: .array([])) }
    }

    @Test("the table: aligned columns, one row per rule, notes, then the verdict")
    func table() throws {
        let r = try Self.sample()
        let lines = r.table().split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0].hasPrefix("RULE"))
        let verdictColumn = try #require(lines[0].range(of: "VERDICT")).lowerBound.utf16Offset(in: lines[0])
        for line in lines[1...3] {
            let cell = line.dropFirst(verdictColumn).prefix(4)
            #expect(["pass", "FAIL", "n/a "].contains(String(cell)), "\(line)")
        }
        #expect(lines[1].hasPrefix("f1 > champion + 0.005  0.9"))
        #expect(lines[3].contains("  -  "), "absent numbers as -")
        #expect(lines[4] == "verdict: FAIL (2 of 3 failed: precision >= 0.9; recall >= champion)")
    }
}
