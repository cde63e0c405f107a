import Foundation
import Testing
import _MregTestSupport

/// A temporary registry and helpers to register versions with given metrics.
final class Lab {
    let t = TemporaryDirectory("mreg-life")
    var registry: String { t.join("reg") }
    private var counter = 0

    init() {
        #expect(Mreg.run(["init", "reg"], cwd: t.path).status == 0)
    }

    @discardableResult
    func run(_ args: [String], env: [String: String] = [:]) -> CommandResult { Mreg.run(args, cwd: t.path, env: env, registry: registry) }

    /// Registers a version of `model` with these metrics (JSON text of the manifest).
    @discardableResult
    func register(_ manifest: String) -> Int { register(model: "fraud", manifest) }

    @discardableResult
    func register(model: String, _ manifest: String) -> Int {
        counter += 1
        t.write("m\(counter).json", manifest)
        t.write("a\(counter)/w.bin", randomBytes(1000, seed: UInt64(counter)))
        let r = run(["register", model, "a\(counter)", "--metrics", "m\(counter).json", "--json"])
        #expect(r.status == 0, "\(r)")
        return r.json["version"] as? Int ?? -1
    }

    func policy(_ yaml: String, model: String = "fraud") -> CommandResult {
        counter += 1
        t.write("p\(counter).yaml", yaml)
        return run(["gates", model, "--set", "p\(counter).yaml"])
    }

    func baseline(_ name: String, _ manifest: String, model: String = "fraud") -> CommandResult {
        counter += 1
        t.write("b\(counter).json", manifest)
        return run(["baseline", model, name, "--metrics", "b\(counter).json"])
    }

    func champion(_ stage: String = "production", model: String = "fraud") -> String {
        let r = run(["resolve", "\(model)@\(stage)"])
        return r.status == 0 ? String(r.stdout.split(separator: " ").first ?? "") : "none"
    }

    func snapshot() -> TreeSnapshot { TreeSnapshot(registry) }

    func rules(_ r: CommandResult) -> [[String: Any]] {
        (r.json["report"] as? [String: Any])?["rules"] as? [[String: Any]] ?? []
    }

    func verdict(_ r: CommandResult, _ rule: String) -> String? {
        rules(r).first { $0["rule"] as? String == rule }?["verdict"] as? String
    }
}

@Suite("Promotion lifecycle")
struct LifecycleTests {
    @Test("first promotion: no champion, champion-relative rules not applicable, absolute rules apply")
    func firstPromotion() {
        let lab = Lab()
        lab.register(#"{"f1": 0.80, "precision": 0.95}"#)
        #expect(lab.policy("stages:\n  production:\n    gates:\n      - f1 > champion\n      - precision >= 0.9\n").status == 0)
        let r = lab.run(["promote", "fraud@1", "--json"])
        #expect(r.status == 0, "\(r)")
        #expect(r.json["outcome"] as? String == "promoted")
        #expect(lab.verdict(r, "f1 > champion") == "not_applicable")
        #expect(lab.verdict(r, "precision >= 0.9") == "pass")
        let notes = (r.json["report"] as? [String: Any])?["notes"] as? [String] ?? []
        #expect(notes.contains { $0.contains("first promotion") })
        #expect(lab.champion() == "fraud@1")
    }

    @Test("first promotion still fails an absolute floor")
    func firstPromotionFloor() {
        let lab = Lab()
        lab.register(#"{"f1": 0.80, "precision": 0.85}"#)
        lab.policy("stages:\n  production:\n    gates:\n      - precision >= 0.9\n")
        let r = lab.run(["promote", "fraud@1"])
        #expect(r.status == 3, "\(r)")
        #expect(lab.champion() == "none")
    }

    @Test("a better candidate replaces the champion; a worse one is blocked, recorded, and changes nothing else")
    func betterAndWorse() {
        let lab = Lab()
        lab.register(#"{"f1": 0.80}"#)
        lab.register(#"{"f1": 0.85}"#)
        lab.register(#"{"f1": 0.82}"#)
        lab.policy("stages:\n  production:\n    gates:\n      - f1 > champion + 0.005\n")
        #expect(lab.run(["promote", "fraud@1"]).status == 0)
        let better = lab.run(["promote", "fraud@2"])
        #expect(better.status == 0, "\(better)")
        #expect(better.stdout.contains("PROMOTED"))
        #expect(lab.champion() == "fraud@2")
        let headsBefore = lab.t.read("reg/models/fraud/HEAD")
        let worse = lab.run(["promote", "fraud@3", "--json"])
        #expect(worse.status == 3, "\(worse)")
        #expect(worse.json["outcome"] as? String == "blocked")
        #expect(lab.champion() == "fraud@2")
        #expect(lab.t.read("reg/models/fraud/HEAD") != headsBefore, "the blocked attempt is in the history")
        let log = lab.run(["log", "fraud", "--json"])
        let entries = log.json["entries"] as? [[String: Any]] ?? []
        #expect(entries.first?["event"] as? String == "blocked")
        let details = entries.first?["details"] as? [String: Any]
        #expect(((details?["report"] as? [String: Any])?["passed"] as? Bool) == false)
        #expect(details?["policy"] as? String != nil)
        #expect(lab.run(["log", "fraud"]).stdout.contains("blocked fraud@3 from production: 1 rule failed: f1 > champion + 0.005"))
    }

    @Test("check evaluates as promote would and changes nothing")
    func checkChangesNothing() {
        let lab = Lab()
        lab.register(#"{"f1": 0.80}"#)
        lab.register(#"{"f1": 0.79}"#)
        lab.run(["promote", "fraud@1"])
        let before = lab.snapshot()
        let r = lab.run(["check", "fraud@2"])
        #expect(r.status == 3)
        #expect(r.stdout.contains("BLOCK"))
        #expect(lab.snapshot() == before)
        #expect(lab.run(["check", "fraud@1"]).status == 0)
    }

    @Test("margins: absolute, percent and ratio, on higher- and lower-is-better metrics")
    func margins() {
        let lab = Lab()
        lab.register(#"{"metrics": {"f1": 0.80, "latency": 10.0}, "lower_is_better": ["latency"]}"#)
        lab.register(#"{"metrics": {"f1": 0.81, "latency": 10.9}, "lower_is_better": ["latency"]}"#)  // within 10%
        lab.register(#"{"metrics": {"f1": 0.81, "latency": 11.1}, "lower_is_better": ["latency"]}"#)  // beyond 10%
        lab.register(#"{"metrics": {"f1": 0.79, "latency": 9.0}, "lower_is_better": ["latency"]}"#)   // f1 -1.25%
        #expect(lab.policy("lower_is_better: [latency]\nstages:\n  production:\n    gates:\n      - latency <= champion * 1.10\n      - f1 >= champion - 1%\n").status == 0)
        lab.run(["promote", "fraud@1"])
        #expect(lab.run(["check", "fraud@2"]).status == 0)
        let over = lab.run(["check", "fraud@3", "--json"])
        #expect(over.status == 3)
        #expect(lab.verdict(over, "latency <= champion * 1.10") == "fail")
        let f1 = lab.run(["check", "fraud@4", "--json"])
        #expect(f1.status == 3)
        #expect(lab.verdict(f1, "f1 >= champion - 1%") == "fail")
        let threshold = lab.rules(f1).first { $0["rule"] as? String == "f1 >= champion - 1%" }?["threshold"] as? Double
        #expect(abs((threshold ?? 0) - 0.792) < 1e-12)
    }

    @Test("negative metrics: relative margins are taken on the magnitude, so the rule does not flip")
    func negativeMetrics() {
        let lab = Lab()
        lab.register(#"{"score": -10.0}"#)
        lab.register(#"{"score": -9.5}"#)   // better than -10 by 5%
        lab.register(#"{"score": -10.5}"#)  // worse
        lab.policy("stages:\n  production:\n    gates:\n      - score >= champion * 1.02\n")
        lab.run(["promote", "fraud@1"])
        // threshold = -10 + 0.02 * 10 = -9.8
        let ok = lab.run(["check", "fraud@2", "--json"])
        #expect(ok.status == 0, "\(ok)")
        let th = lab.rules(ok).first?["threshold"] as? Double
        #expect(abs((th ?? 0) - (-9.8)) < 1e-12)
        #expect(lab.run(["check", "fraud@3"]).status == 3)
    }

    @Test("ties: > is strict, >= is not; the default policy needs one better metric")
    func ties() {
        let lab = Lab()
        lab.register(#"{"f1": 0.80, "auc": 0.90}"#)
        lab.register(#"{"f1": 0.80, "auc": 0.90}"#)
        lab.run(["promote", "fraud@1"])
        let dflt = lab.run(["check", "fraud@2", "--json"])
        #expect(dflt.status == 3, "a tie does not beat the champion under the default policy")
        #expect(lab.verdict(dflt, "better than champion on at least one shared metric") == "fail")
        lab.policy("stages:\n  production:\n    gates:\n      - f1 > champion\n")
        #expect(lab.run(["check", "fraud@2"]).status == 3)
        lab.policy("stages:\n  production:\n    gates:\n      - f1 >= champion\n")
        #expect(lab.run(["check", "fraud@2"]).status == 0)
    }

    @Test("default policy: never worse on a shared metric, better on at least one")
    func defaultPolicy() {
        let lab = Lab()
        lab.register(#"{"metrics": {"f1": 0.80, "latency": 10}, "lower_is_better": ["latency"]}"#)
        lab.register(#"{"metrics": {"f1": 0.85, "latency": 11}, "lower_is_better": ["latency"]}"#)
        lab.register(#"{"metrics": {"f1": 0.85, "latency": 9}, "lower_is_better": ["latency"]}"#)
        #expect(lab.run(["promote", "fraud@1"]).status == 0)
        let worseLatency = lab.run(["check", "fraud@2", "--json"])
        #expect(worseLatency.status == 3)
        #expect(lab.verdict(worseLatency, "latency <= champion") == "fail")
        #expect(lab.run(["promote", "fraud@3"]).status == 0)
        #expect(lab.run(["gates", "fraud"]).stdout.contains("default"))
    }

    @Test("a metric the rule needs but one side lacks fails the rule, saying which")
    func missingMetric() {
        let lab = Lab()
        lab.register(#"{"f1": 0.80}"#)
        lab.register(#"{"f1": 0.85, "recall": 0.7}"#)
        lab.register(#"{"auc": 0.9}"#)
        lab.policy("stages:\n  production:\n    gates:\n      - recall >= champion\n      - f1 > 0.5\n")
        lab.run(["promote", "fraud@1", "--override", "bootstrap"])
        let r = lab.run(["check", "fraud@2", "--json"])
        #expect(r.status == 3)
        let row = lab.rules(r).first { $0["rule"] as? String == "recall >= champion" }
        #expect(row?["verdict"] as? String == "fail")
        #expect((row?["reason"] as? String)?.contains("champion fraud@1 does not report recall") == true)
        let c = lab.run(["check", "fraud@3", "--json"])
        let f1 = lab.rules(c).first { $0["rule"] as? String == "f1 > 0.5" }
        #expect((f1?["reason"] as? String)?.contains("fraud@3 does not report f1") == true)
    }

    @Test("an evaluation-set mismatch fails every champion-relative rule")
    func evalSetMismatch() {
        let lab = Lab()
        lab.register(#"{"metrics": {"f1": 0.80}, "eval_set": {"name": "holdout-a"}}"#)
        lab.register(#"{"metrics": {"f1": 0.95}, "eval_set": {"name": "holdout-b"}}"#)
        lab.policy("stages:\n  production:\n    gates:\n      - f1 > champion\n      - f1 > 0.5\n")
        lab.run(["promote", "fraud@1"])
        let r = lab.run(["check", "fraud@2", "--json"])
        #expect(r.status == 3)
        let row = lab.rules(r).first { $0["rule"] as? String == "f1 > champion" }
        #expect((row?["reason"] as? String)?.contains("evaluation sets differ") == true)
        #expect(lab.verdict(r, "f1 > 0.5") == "pass")
        // Default policy too.
        lab.policy("stages:\n  production:\n    gates: []\n")
        let diff = lab.run(["diff", "fraud@2", "fraud@1", "--json"])
        #expect(((diff.json["eval_set"] as? [String: Any])?["mismatch"] as? String)?.contains("differ") == true)
    }

    @Test("baselines: a candidate must beat a named baseline whatever the champion")
    func baselines() {
        let lab = Lab()
        lab.register(#"{"f1": 0.70}"#)
        lab.register(#"{"f1": 0.80}"#)
        // A policy naming a baseline the model lacks is refused, naming the file and the line.
        let early = lab.policy("stages:\n  production:\n    gates:\n      - f1 > baseline.rules-v1\n")
        #expect(early.status == 2, "\(early)")
        #expect(early.stderr.contains(".yaml: line 4, column 9: the policy refers to baseline \"rules-v1\""), "\(early)")
        // The line named is the one with that baseline, not one with a longer name that starts alike.
        #expect(lab.baseline("rules-v1-extra", #"{"f1": 0.5}"#).status == 0)
        let second = lab.policy("stages:\n  production:\n    gates:\n      - f1 > baseline.rules-v1-extra  # not baseline.rules-v1\n      - f1 > baseline.rules-v1\n")
        #expect(second.stderr.contains(".yaml: line 5, column 9: the policy refers to baseline \"rules-v1\""), "\(second)")
        #expect(lab.baseline("rules-v1", #"{"f1": 0.75}"#).status == 0)
        #expect(lab.policy("stages:\n  production:\n    gates:\n      - f1 > baseline.rules-v1\n").status == 0)
        let r1 = lab.run(["promote", "fraud@1", "--json"])
        #expect(r1.status == 3, "first promotion still has to beat the baseline: \(r1)")
        #expect(lab.run(["promote", "fraud@2"]).status == 0)
        let log = lab.run(["log", "fraud"]).stdout
        #expect(log.contains("baseline rules-v1 set to sha256:"))
    }

    @Test("stage order: after staging requires having been champion of staging")
    func stageOrder() {
        let lab = Lab()
        lab.register(#"{"f1": 0.80}"#)
        lab.policy("stages:\n  staging:\n    gates:\n      - f1 > 0.5\n  production:\n    after: staging\n    gates:\n      - f1 > 0.5\n")
        let r = lab.run(["promote", "fraud@1", "--json"])
        #expect(r.status == 3)
        #expect(lab.verdict(r, "after staging") == "fail")
        #expect(lab.run(["promote", "fraud@1", "--stage", "staging"]).status == 0)
        #expect(lab.run(["promote", "fraud@1"]).status == 0)
        #expect(lab.champion() == "fraud@1" && lab.champion("staging") == "fraud@1")
        // A stage the policy does not have.
        let canary = lab.run(["promote", "fraud@1", "--stage", "canary"])
        #expect(canary.status == 2)
        #expect(canary.stderr.contains("canary"))
    }

    @Test("override promotes despite failed gates, recording the reason and the failed rules")
    func override() {
        let lab = Lab()
        lab.register(#"{"f1": 0.80}"#)
        lab.register(#"{"f1": 0.70}"#)
        lab.run(["promote", "fraud@1"])
        let r = lab.run(["promote", "fraud@2", "--override", "hotfix for INC-7", "--json"])
        #expect(r.status == 0, "\(r)")
        #expect(r.json["outcome"] as? String == "overridden")
        #expect(lab.champion() == "fraud@2")
        let entries = lab.run(["log", "fraud", "--json"]).json["entries"] as? [[String: Any]] ?? []
        let details = entries.first?["details"] as? [String: Any]
        #expect(entries.first?["event"] as? String == "overridden")
        #expect(details?["reason"] as? String == "hotfix for INC-7")
        #expect((details?["failed_rules"] as? [String])?.contains("f1 >= champion") == true)
    }

    @Test("rollback twice in a row goes two promotions back; ~K counts every champion change")
    func rollbackTwice() {
        let lab = Lab()
        for f1 in [0.80, 0.81, 0.82, 0.83] { lab.register("{\"f1\": \(f1)}") }
        for v in 1...4 { #expect(lab.run(["promote", "fraud@\(v)"]).status == 0) }
        #expect(lab.run(["resolve", "fraud@production~1"]).stdout.hasPrefix("fraud@3 "))
        #expect(lab.run(["resolve", "fraud@production~3"]).stdout.hasPrefix("fraud@1 "))
        #expect(lab.run(["resolve", "fraud@production~4"]).status == 2)
        #expect(lab.run(["rollback", "fraud", "--reason", "bad canary"]).status == 0)
        #expect(lab.champion() == "fraud@3")
        #expect(lab.run(["rollback", "fraud", "--reason", "still bad"]).status == 0)
        #expect(lab.champion() == "fraud@2")
        // ~1 is the champion the newest change (the second rollback) replaced.
        #expect(lab.run(["resolve", "fraud@production~1"]).stdout.hasPrefix("fraud@3 "))
        // The history is never rewound: two new entries.
        let entries = lab.run(["log", "fraud", "--stage", "production", "--json"]).json["entries"] as? [[String: Any]] ?? []
        #expect(entries.prefix(2).allSatisfy { $0["event"] as? String == "rolled_back" })
        #expect(entries.count == 6)
        let two = lab.run(["log", "fraud", "-n", "2", "--json"]).json["entries"] as? [[String: Any]] ?? []
        #expect(two.count == 2)
        #expect(lab.run(["log", "fraud", "--max-count", "0"]).status == 2)
        // --to a version that was champion before.
        #expect(lab.run(["rollback", "fraud", "--to", "fraud@4", "--reason", "fixed upstream"]).status == 0)
        #expect(lab.champion() == "fraud@4")
        #expect(lab.run(["fsck"]).status == 0)
    }

    @Test("gc keeps the whole history of a model promoted on several stages, rolled back and re-gated")
    func gcKeepsHistory() {
        let lab = Lab()
        for f1 in [0.80, 0.81, 0.82] { lab.register("{\"f1\": \(f1)}") }
        // Each promotion names the stage's earlier champion changes (prior_changes); an entry that
        // is named that way must not end the walk of the older history.
        #expect(lab.run(["promote", "fraud@1"]).status == 0)
        #expect(lab.run(["promote", "fraud@2", "--stage", "staging"]).status == 0)
        #expect(lab.run(["promote", "fraud@2"]).status == 0)
        #expect(lab.baseline("heuristic", "{\"f1\": 0.5}").status == 0)
        #expect(lab.policy("stages:\n  production:\n    gates:\n      - f1 >= champion\n").status == 0)
        #expect(lab.run(["promote", "fraud@3"]).status == 0)
        #expect(lab.run(["rollback", "fraud", "--reason", "canary"]).status == 0)
        let before = lab.run(["fsck", "--json"])
        #expect(before.status == 0, "\(before)")
        let gc = lab.run(["gc", "--grace", "0", "--json"])
        #expect(gc.status == 0, "\(gc)")
        #expect(gc.json["removed_objects"] as? Int == 0, "\(gc)")
        #expect(lab.run(["fsck"]).status == 0)
        for v in 1...3 { #expect(lab.run(["fetch", "fraud@\(v)", "--out", "out\(v)"]).status == 0) }
        #expect(lab.champion() == "fraud@2")
        #expect(lab.run(["resolve", "fraud@production~1"]).status == 0)
        #expect((lab.run(["log", "fraud", "--json"]).json["entries"] as? [[String: Any]])?.count == 10)
    }

    @Test("huge metric values: a threshold beyond a double blocks, and the history stays readable")
    func hugeValues() {
        let lab = Lab()
        lab.register("{\"f1\": 1.5e308, \"loss\": -1.5e308}")
        lab.register("{\"f1\": 1.7e308, \"loss\": 1.5e308}")
        #expect(lab.run(["promote", "fraud@1"]).status == 0)
        #expect(lab.policy("stages:\n  production:\n    gates:\n      - f1 >= champion * 2\n").status == 0)
        let blocked = lab.run(["promote", "fraud@2", "--json"])
        #expect(blocked.status == 3, "\(blocked)")
        #expect(lab.verdict(blocked, "f1 >= champion * 2") == "fail")
        #expect(lab.rules(blocked).first?["threshold"] is NSNull, "\(blocked.stdout)")
        // The blocked attempt is in the history, and every command still reads it.
        let log = lab.run(["log", "fraud", "--json"])
        #expect(log.status == 0, "\(log)")
        #expect((log.json["entries"] as? [[String: Any]])?.first?["event"] as? String == "blocked")
        #expect(lab.run(["fsck"]).status == 0)
        let diff = lab.run(["diff", "fraud@2", "fraud@1", "--json"])
        #expect(diff.status == 0, "\(diff)")
        let loss = (diff.json["metrics"] as? [[String: Any]])?.first { $0["name"] as? String == "loss" }
        #expect(loss?["delta"] is NSNull, "\(diff.stdout)")
        #expect(lab.run(["promote", "fraud@2", "--override", "huge values"]).status == 0)
        #expect(lab.champion() == "fraud@2")
    }

    @Test("diff: deltas marked by direction, params, files, and the gate verdict against the champion")
    func diff() {
        let lab = Lab()
        lab.t.write("p1.json", #"{"lr": 0.1, "depth": 6}"#)
        lab.t.write("p2.json", #"{"lr": 0.05, "depth": 6, "trees": 300}"#)
        lab.t.write("m1.json", #"{"metrics": {"f1": 0.80, "latency": 10}, "lower_is_better": ["latency"]}"#)
        lab.t.write("m2.json", #"{"metrics": {"f1": 0.82, "latency": 12}, "lower_is_better": ["latency"]}"#)
        lab.t.write("v1/w.bin", randomBytes(100, seed: 1))
        lab.t.write("v1/old.txt", "x")
        lab.t.write("v2/w.bin", randomBytes(200, seed: 2))
        lab.t.write("v2/new.txt", "y")
        #expect(lab.run(["register", "fraud", "v1", "--metrics", "m1.json", "--params", "p1.json"]).status == 0)
        #expect(lab.run(["register", "fraud", "v2", "--metrics", "m2.json", "--params", "p2.json"]).status == 0)
        lab.run(["promote", "fraud@1"])
        let d = lab.run(["diff", "fraud@2", "--json"])
        #expect(d.status == 0, "\(d)")
        let metrics = d.json["metrics"] as? [[String: Any]] ?? []
        #expect(metrics.first { $0["name"] as? String == "f1" }?["change"] as? String == "better")
        #expect(metrics.first { $0["name"] as? String == "latency" }?["change"] as? String == "worse")
        let params = d.json["params"] as? [[String: Any]] ?? []
        #expect(Set(params.compactMap { $0["key"] as? String }) == ["lr", "trees"])
        let files = d.json["artifacts"] as? [[String: Any]] ?? []
        #expect(Set(files.map { "\($0["key"]!):\($0["change"]!)" }) == ["new.txt:added", "old.txt:removed", "w.bin:changed"])
        #expect((d.json["gates"] as? [String: Any])?["outcome"] as? String == "would_block")
        #expect(lab.run(["diff", "fraud@2", "--fail-on-regression"]).status == 3)
        #expect(lab.run(["diff", "fraud@1", "fraud@1", "--fail-on-regression"]).status == 0)
        #expect(lab.run(["diff", "fraud@2"]).stdout.contains("worse"))
    }

    @Test("diff reads directions from the gate policy and baselines too, as the gates do")
    func diffPolicyDirections() {
        let lab = Lab()
        for model in ["fraud", "churn"] {
            lab.register(model: model, #"{"f1": 0.80, "log_loss": 0.40}"#)
            lab.register(model: model, #"{"f1": 0.80, "log_loss": 0.35}"#)
        }
        func change(_ model: String) -> String? {
            let d = lab.run(["diff", "\(model)@2", "\(model)@1", "--json"])
            let m = (d.json["metrics"] as? [[String: Any]])?.first { $0["name"] as? String == "log_loss" }
            return m?["change"] as? String
        }
        #expect(change("fraud") == "worse", "no direction known: higher is better")
        #expect(lab.policy("lower_is_better: [log_loss]\nstages:\n  production:\n    gates:\n      - log_loss <= champion\n").status == 0)
        #expect(change("fraud") == "better")
        #expect(lab.run(["diff", "fraud@2", "fraud@1", "--fail-on-regression"]).status == 0)
        // A baseline manifest that declares the direction counts too, as it does for the gates.
        #expect(change("churn") == "worse")
        #expect(lab.baseline("h", #"{"metrics": {"log_loss": 0.5}, "lower_is_better": ["log_loss"]}"#, model: "churn").status == 0)
        #expect(change("churn") == "better")
        let evalSet = lab.run(["diff", "fraud@2", "fraud@1", "--json"]).json["eval_set"] as? [String: Any]
        #expect(evalSet?["a"] is NSNull && evalSet?["b"] is NSNull, "no evaluation set named: null, \(evalSet ?? [:])")
    }

    @Test("list NAME -n shows only the newest versions; -n without NAME or below 1 is refused")
    func listNewest() {
        let lab = Lab()
        for f1 in [0.80, 0.81, 0.82, 0.83] { lab.register("{\"f1\": \(f1)}") }
        let two = lab.run(["list", "fraud", "-n", "2", "--json"])
        #expect(two.status == 0, "\(two)")
        #expect((two.json["versions"] as? [[String: Any]])?.compactMap { $0["version"] as? Int } == [4, 3])
        let all = lab.run(["list", "fraud", "--max-count", "10", "--json"])
        #expect((all.json["versions"] as? [[String: Any]])?.count == 4)
        #expect(lab.run(["list", "fraud", "-n", "0"]).status == 2)
        let noName = lab.run(["list", "-n", "2"])
        #expect(noName.status == 2 && noName.stderr.contains("give NAME"), "\(noName)")
    }

    @Test("show and list name the champions")
    func showAndList() {
        let lab = Lab()
        lab.register(#"{"f1": 0.80}"#)
        lab.run(["promote", "fraud@1", "--stage", "staging"])
        #expect(lab.run(["show", "fraud@staging"]).stdout.contains("champion  staging"))
        let list = lab.run(["list", "--json"])
        let models = list.json["models"] as? [[String: Any]] ?? []
        #expect((models.first?["champions"] as? [String: String])?["staging"] == "fraud@1")
    }
}

@Suite("Lifecycle bad input")
struct LifecycleBadInputTests {
    /// Each: exit 2, one line naming the thing, registry unchanged.
    func expectRefused(_ lab: Lab, _ args: [String], mentioning needle: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let before = lab.snapshot()
        let r = lab.run(args)
        #expect(r.status == 2, "\(args): \(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("mreg: error: "), "\(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1, "one line: \(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(needle), "should mention \(needle): \(r)", sourceLocation: sourceLocation)
        #expect(lab.snapshot() == before, "\(args) changed the registry", sourceLocation: sourceLocation)
    }

    static let badPolicies: [(String, String)] = [
        ("stages: [unclosed", "not valid YAML"),
        ("stages:\n  production:\n    gates:\n      - f1 => 0.8\n", "unknown operator \"=>\""),
        ("stages:\n  production:\n    gates:\n      - f1 >\n", "missing right-hand side"),
        ("stages:\n  production:\n    gates:\n      - f1 > champ + 1\n", "unknown reference \"champ\""),
        ("stages:\n  production:\n    gates:\n      - f1 > champion + abc\n", "not a number"),
        ("stages:\n  production:\n    gates:\n      - f1 > champion * 0\n", "factor must be greater than 0"),
        ("stages:\n  production:\n    gates:\n      - f1 > baseline.nope\n", "baseline \"nope\""),
        ("stages:\n  \"2024\":\n    gates: []\n", "all digits"),
        ("stages:\n  Prod:\n    gates: []\n", "upper-case"),
        ("stages:\n  production:\n    after: staging\n    gates: []\n", "not a stage of this policy"),
        ("stages:\n  a:\n    after: b\n  b:\n    after: a\n", "cycle"),
        ("stages:\n  a:\n    after: a\n", "cycle"),
        ("stages:\n  production:\n    gate: []\n", "unknown key \"gate\""),
        ("stagez: {}\n", "unknown key \"stagez\""),
        ("- just a list\n", "mapping"),
        ("stages:\n  production:\n    gates: f1 > 0\n", "list of rules"),
    ]

    @Test("bad policies are refused with the line and the reason", arguments: 0..<badPolicies.count)
    func badPolicy(index: Int) {
        let (yaml, needle) = Self.badPolicies[index]
        let lab = Lab()
        lab.register(#"{"f1": 0.80}"#)
        lab.t.write("bad.yaml", yaml)
        expectRefused(lab, ["gates", "fraud", "--set", "bad.yaml"], mentioning: needle)
    }

    @Test("a rule error names the line and column")
    func lineAndColumn() {
        let lab = Lab()
        lab.register(#"{"f1": 0.80}"#)
        lab.t.write("bad.yaml", "stages:\n  production:\n    gates:\n      - f1 => 0.8\n")
        let r = lab.run(["gates", "fraud", "--set", "bad.yaml"])
        #expect(r.stderr.contains("line 4, column 12"), "\(r)")
    }

    @Test("promotion, rollback and override bad input")
    func lifecycleRefusals() {
        let lab = Lab()
        lab.register(#"{"f1": 0.80}"#)
        lab.register(#"{"f1": 0.90}"#)
        lab.register(model: "other", #"{"f1": 0.80}"#)
        expectRefused(lab, ["promote", "fraud@1", "--stage", "123"], mentioning: "all digits")
        expectRefused(lab, ["promote", "fraud@1", "--stage", "Prod"], mentioning: "upper-case")
        expectRefused(lab, ["promote", "fraud@9"], mentioning: "unknown version fraud@9")
        expectRefused(lab, ["promote", "nope@1"], mentioning: "unknown model \"nope\"")
        expectRefused(lab, ["promote", "fraud@1", "--override", ""], mentioning: "--override needs a reason")
        expectRefused(lab, ["rollback", "fraud", "--reason", "x"], mentioning: "no champion")
        #expect(lab.run(["promote", "fraud@1"]).status == 0)
        expectRefused(lab, ["rollback", "fraud", "--reason", "x"], mentioning: "no earlier champion")
        expectRefused(lab, ["rollback", "fraud", "--reason", ""], mentioning: "--reason")
        #expect(lab.run(["promote", "fraud@2"]).status == 0)
        expectRefused(lab, ["rollback", "fraud", "--to", "fraud@3", "--reason", "x"], mentioning: "unknown version")
        lab.register(#"{"f1": 0.95}"#)
        expectRefused(lab, ["rollback", "fraud", "--to", "fraud@3", "--reason", "x"], mentioning: "never champion of production")
        expectRefused(lab, ["rollback", "fraud", "--to", "other@1", "--reason", "x"], mentioning: "version of model other")
        expectRefused(lab, ["rollback", "fraud", "--to", "fraud@2", "--reason", "x"], mentioning: "already is the champion")
        expectRefused(lab, ["baseline", "fraud", "Rules", "--metrics", "m1.json"], mentioning: "baseline name")
        expectRefused(lab, ["gates", "fraud", "--set", "missing.yaml"], mentioning: "missing.yaml")
        expectRefused(lab, ["log", "nope"], mentioning: "unknown model")
        expectRefused(lab, ["resolve", "fraud@staging"], mentioning: "no champion")
    }
}
