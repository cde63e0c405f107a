import Foundation
import Testing
import _MregTestSupport

/// What a new user runs into on the first day (issue 12): a policy written down before the first
/// version, global options before the subcommand, `~K` after a rollback, and `--help` texts.
/// The commands are the ones of the issue, run as a user types them (a `.registry` found from the
/// working directory, or `--registry` before the subcommand).
@Suite("Usability")
struct UsabilityTests {
    static let policy = "stages:\n  production:\n    gates:\n      - f1 >= 0.70\n      - f1 > baseline.rules-v1\n"

    /// A directory with `.registry`, the files the commands name, and no model yet.
    static func fresh() -> TemporaryDirectory {
        let t = TemporaryDirectory("mreg-usability")
        #expect(Mreg.run(["init"], cwd: t.path).status == 0)
        t.write("gates.yaml", policy)
        t.write("rules.json", #"{"f1": 0.60}"#)
        t.write("m1.json", #"{"f1": 0.80}"#)
        t.write("model/weights.bin", randomBytes(4000, seed: 12))
        return t
    }

    func objects(_ t: TemporaryDirectory) throws -> Set<String> {
        Set(try FileManager.default.subpathsOfDirectory(atPath: t.join(".registry/objects")))
    }

    // MARK: - 1. A model comes into being when first named

    @Test("baseline and gates --set on a model with no version create it; list, show, check and resolve say so")
    func policyBeforeFirstVersion() throws {
        let t = Self.fresh()
        let base = Mreg.run(["baseline", "fraud", "rules-v1", "--metrics", "rules.json"], cwd: t.path)
        #expect(base.status == 0, "\(base)")
        let gates = Mreg.run(["gates", "fraud", "--set", "gates.yaml"], cwd: t.path)
        #expect(gates.status == 0, "\(gates)")
        #expect(gates.stdout.hasPrefix("policy of fraud set to sha256:"), "\(gates)")
        #expect(t.exists(".registry/models/fraud/HEAD") && t.exists(".registry/models/fraud/versions"))
        #expect(!t.exists(".registry/models/fraud/CREATING"))

        let list = Mreg.run(["list"], cwd: t.path)
        #expect(list.status == 0)
        #expect(list.stdout.contains("fraud  0         no versions yet (has a gate policy and baseline rules-v1)"), "\(list)")
        let listJSON = Mreg.run(["list", "--json"], cwd: t.path).json["models"] as? [[String: Any]] ?? []
        #expect(listJSON.first?["versions"] as? Int == 0 && listJSON.first?["latest"] is NSNull)
        #expect((listJSON.first?["policy"] as? String)?.hasPrefix("sha256:") == true)
        #expect(listJSON.first?["baselines"] as? [String] == ["rules-v1"])
        let versions = Mreg.run(["list", "fraud"], cwd: t.path)
        #expect(versions.status == 0 && versions.stdout.hasPrefix("fraud: no versions yet"), "\(versions)")

        for args in [["show", "fraud"], ["check", "fraud"], ["resolve", "fraud"], ["resolve", "fraud@production"],
                     ["resolve", "fraud@1"], ["diff", "fraud"], ["promote", "fraud"]] {
            let r = Mreg.run(args, cwd: t.path)
            #expect(r.status == 2, "\(args): \(r)")
            #expect(r.stderr.hasPrefix("mreg: error: ") && r.stderr.contains("fraud has no versions yet"), "\(args): \(r)")
        }
        let shown = Mreg.run(["gates", "fraud"], cwd: t.path)
        #expect(shown.stdout.contains("f1 > baseline.rules-v1"), "\(shown)")

        // fsck and gc take it as it is: nothing to note, nothing to remove.
        let fsck = Mreg.run(["fsck", "--json"], cwd: t.path)
        #expect(fsck.status == 0 && (fsck.json["notes"] as? [String]) == [], "\(fsck)")
        #expect(fsck.json["models"] as? Int == 1 && fsck.json["entries"] as? Int == 2)
        let before = try objects(t)
        let gc = Mreg.run(["gc", "--grace", "0", "--json"], cwd: t.path)
        #expect(gc.status == 0 && gc.json["removed_objects"] as? Int == 0 && gc.json["removed_temps"] as? Int == 0, "\(gc)")
        #expect(try objects(t) == before && t.exists(".registry/models/fraud/HEAD"))

        // The first version is gated by the policy written before it.
        #expect(Mreg.run(["register", "fraud", "model", "--metrics", "m1.json"], cwd: t.path).stdout.hasPrefix("fraud@1 "))
        let check = Mreg.run(["check", "fraud", "--json"], cwd: t.path)
        #expect(check.status == 0 && check.json["outcome"] as? String == "would_pass", "\(check)")
        #expect((check.json["report"] as? [String: Any])?["rules"].map { "\($0)" }?.contains("baseline.rules-v1") == true)
        let log = Mreg.run(["log", "fraud", "--json"], cwd: t.path).json["entries"] as? [[String: Any]] ?? []
        #expect(log.map { $0["event"] as? String ?? "" } == ["registered", "policy", "baseline"])
        #expect(log.map { $0["seq"] as? Int ?? 0 } == [3, 2, 1])
        #expect(Mreg.run(["fsck"], cwd: t.path).status == 0)
    }

    @Test("a policy that refers to a baseline the new model lacks is refused and creates nothing")
    func refusedFirstPolicy() {
        let t = Self.fresh()
        let before = TreeSnapshot(t.join(".registry"))
        let r = Mreg.run(["gates", "fraud", "--set", "gates.yaml"], cwd: t.path)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("gates.yaml: line 5") && r.stderr.contains("mreg baseline fraud rules-v1"), "\(r)")
        #expect(TreeSnapshot(t.join(".registry")) == before)
        t.write("bad.json", #"{"f1": "high"}"#)
        for args in [["baseline", "fraud", "rules-v1", "--metrics", "bad.json"], ["baseline", "fraud", "Rules", "--metrics", "rules.json"],
                     ["baseline", "Fraud", "rules-v1", "--metrics", "rules.json"], ["gates", "fraud", "--set", "missing.yaml"]] {
            let bad = Mreg.run(args, cwd: t.path)
            #expect(bad.status == 2 && bad.stderr.hasPrefix("mreg: error: "), "\(args): \(bad)")
            #expect(TreeSnapshot(t.join(".registry")) == before, "\(args)")
        }
        #expect(Mreg.run(["list"], cwd: t.path).stdout.hasPrefix("no models yet"))
    }

    @Test("a model with a policy and no version whose HEAD was lost: fsck reports it, gc and writes refuse")
    func lostHeadWithoutVersions() throws {
        let t = Self.fresh()
        t.write("other.yaml", "stages:\n  production:\n    gates:\n      - f1 >= 0.5\n")
        #expect(Mreg.run(["gates", "fraud", "--set", "other.yaml"], cwd: t.path).status == 0)
        let before = try objects(t)
        try FileManager.default.removeItem(atPath: t.join(".registry/models/fraud/HEAD"))
        let fsck = Mreg.run(["fsck"], cwd: t.path)
        #expect(fsck.status == 1, "\(fsck)")
        #expect(fsck.stdout.contains("HEAD is missing but the model has a history"), "\(fsck)")
        let gc = Mreg.run(["gc", "--grace", "0"], cwd: t.path)
        #expect(gc.status == 1 && gc.stderr.contains("gc stopped, nothing removed"), "\(gc)")
        #expect(try objects(t) == before)
        for args in [["gates", "fraud", "--set", "other.yaml"], ["baseline", "fraud", "rules-v1", "--metrics", "rules.json"],
                     ["register", "fraud", "model", "--metrics", "m1.json"]] {
            let r = Mreg.run(args, cwd: t.path)
            #expect(r.status == 1 && r.stderr.contains("fraud cannot be written"), "\(args): \(r)")
        }
        #expect(!t.exists(".registry/models/fraud/HEAD") && !t.exists(".registry/models/fraud/CREATING"))
    }

    @Test("a first gates --set cut short at any step leaves a leftover that fsck notes and gc removes",
          arguments: ["open", "write", "fsync", "rename", "link", "mkdir"])
    func firstPolicyCrash(kind: String) throws {
        var n = 1
        while n < 100 {
            let t = Self.fresh()
            t.write("other.yaml", "stages:\n  production:\n    gates:\n      - f1 >= 0.5\n")
            let r = Mreg.run(["gates", "fraud", "--set", "other.yaml"], cwd: t.path, env: ["MREG_FAULT": "\(kind):\(n):crash"])
            if r.status == 0 { break }
            #expect(r.status == 86, "\(kind) #\(n): \(r)")
            let committed = t.exists(".registry/models/fraud/HEAD")
            let fsck = Mreg.run(["fsck"], cwd: t.path)
            #expect(fsck.status == 0, "\(kind) #\(n): \(fsck)")
            #expect(Mreg.run(["gc", "--grace", "0"], cwd: t.path).status == 0, "\(kind) #\(n)")
            #expect(t.exists(".registry/models/fraud") == committed, "\(kind) #\(n)")
            #expect(!t.exists(".registry/models/fraud/CREATING"), "\(kind) #\(n)")
            let again = Mreg.run(["gates", "fraud", "--set", "other.yaml"], cwd: t.path)
            #expect(again.status == 0, "\(kind) #\(n): \(again)")
            #expect(again.stdout.contains(committed ? "unchanged" : "set to"), "\(kind) #\(n): \(again)")
            #expect(Mreg.run(["fsck"], cwd: t.path).status == 0, "\(kind) #\(n)")
            n += 1
        }
        #expect(n > 1, "the fault at \(kind) was never reached")
    }

    // MARK: - 2. Global options before the subcommand

    @Test("--registry and --json before the subcommand mean what they mean after it")
    func globalOptionsFirst() {
        let t = Self.fresh()
        let elsewhere = t.mkdir("elsewhere")
        #expect(Mreg.run(["init", "srv-reg"], cwd: t.path).status == 0)
        let reg = t.join("srv-reg")
        #expect(Mreg.run(["--registry", reg, "register", "fraud", "model", "--metrics", "m1.json"], cwd: t.path).status == 0)

        let list = Mreg.run(["--registry", reg, "list"], cwd: elsewhere)
        #expect(list.status == 0 && list.stdout.contains("fraud@1"), "\(list)")
        #expect(list.stdout == Mreg.run(["list", "--registry", reg], cwd: elsewhere).stdout)
        let eq = Mreg.run(["--registry=\(reg)", "list"], cwd: elsewhere)
        #expect(eq.status == 0 && eq.stdout == list.stdout, "\(eq)")

        let json = Mreg.run(["--json", "list"], cwd: t.path)
        #expect(json.status == 0, "\(json)")
        #expect(json.json["models"] as? [[String: Any]] != nil && json.stdout == Mreg.run(["list", "--json"], cwd: t.path).stdout)
        let both = Mreg.run(["--json", "--registry", reg, "show", "fraud@1"], cwd: elsewhere)
        #expect(both.status == 0 && both.json["name"] as? String == "fraud@1", "\(both)")
        // init takes them too (--registry DIR is where to create it).
        let made = Mreg.run(["--registry", "new-reg", "--json", "init"], cwd: t.path)
        #expect(made.status == 0 && (made.json["registry"] as? String)?.hasSuffix("/new-reg") == true, "\(made)")

        // Errors stay usage errors (exit 2), before or after.
        let unknown = Mreg.run(["--registry", reg, "--bogus", "list"], cwd: t.path)
        #expect(unknown.status == 2 && unknown.stderr.contains("--bogus"), "\(unknown)")
        let missing = Mreg.run(["--registry", t.join("nowhere"), "list"], cwd: t.path)
        #expect(missing.status == 2 && missing.stderr.contains("nowhere"), "\(missing)")
        let alone = Mreg.run(["--json"], cwd: t.path)
        #expect(alone.status == 2, "\(alone)")
    }

    @Test("mreg help, --help, help COMMAND and --version still work, and the help shows the global options")
    func helpWithGlobalOptions() {
        let t = TemporaryDirectory("mreg-usability")
        for args in [["help"], ["--help"], ["--json", "--help"]] {
            let r = Mreg.run(args, cwd: t.path)
            #expect(r.status == 0, "\(args): \(r)")
            #expect(r.stdout.contains("--registry <path>") && r.stdout.contains("--json"), "\(args): \(r)")
            #expect(r.stdout.contains("before or after the subcommand"), "\(args): \(r)")
        }
        let sub = Mreg.run(["--registry", "x", "help", "list"], cwd: t.path)
        #expect(sub.status == 0 && sub.stdout.contains("USAGE: mreg list"), "\(sub)")
        #expect(Mreg.run(["help", "list"], cwd: t.path).stdout == sub.stdout)
        let version = Mreg.run(["--version"], cwd: t.path)
        #expect(version.status == 0 && version.stdout.split(separator: "\n").count == 1, "\(version)")
    }

    // MARK: - 3. NAME@STAGE~K counts champion changes

    @Test("after a rollback from fraud@2 to fraud@1, fraud@production~1 is fraud@2; rollback twice still goes two promotions back")
    func tildeCountsChanges() {
        let lab = Lab()
        for f1 in [0.80, 0.81, 0.82] { lab.register("{\"f1\": \(f1)}") }
        #expect(lab.run(["promote", "fraud@1"]).status == 0)
        #expect(lab.run(["promote", "fraud@2"]).status == 0)
        #expect(lab.run(["rollback", "fraud", "--reason", "bad canary"]).status == 0)
        #expect(lab.champion() == "fraud@1")
        let r = lab.run(["resolve", "fraud@production~1"])
        #expect(r.status == 0 && r.stdout.hasPrefix("fraud@2 "), "\(r)")
        #expect(lab.run(["resolve", "fraud@production~2"]).stdout.hasPrefix("fraud@1 "))
        #expect(lab.run(["resolve", "fraud@production~3"]).status == 2)
        let diff = lab.run(["diff", "fraud@production~1", "fraud@production", "--json"])
        #expect(diff.status == 0 && (diff.json["a"] as? [String: Any])?["name"] as? String == "fraud@2", "\(diff)")

        // The table of docs/cli.md: three promotions, then two rollbacks.
        let lab2 = Lab()
        for f1 in [0.80, 0.81, 0.82] { lab2.register("{\"f1\": \(f1)}") }
        for v in 1...3 { #expect(lab2.run(["promote", "fraud@\(v)"]).status == 0) }
        func lineage() -> [String] {
            (1...4).map { k in
                let r = lab2.run(["resolve", "fraud@production~\(k)"])
                return r.status == 0 ? String(r.stdout.split(separator: " ")[0]) : "-"
            }
        }
        #expect(lineage() == ["fraud@2", "fraud@1", "-", "-"])
        #expect(lab2.run(["rollback", "fraud", "--reason", "latency spike"]).status == 0)
        #expect(lab2.champion() == "fraud@2")
        #expect(lineage() == ["fraud@3", "fraud@2", "fraud@1", "-"])
        #expect(lab2.run(["rollback", "fraud", "--reason", "still bad"]).status == 0)
        #expect(lab2.champion() == "fraud@1", "rollback; rollback goes two promotions back")
        #expect(lineage() == ["fraud@2", "fraud@3", "fraud@2", "fraud@1"])
        let third = lab2.run(["rollback", "fraud", "--reason", "again"])
        #expect(third.status == 2 && third.stderr.contains("no earlier champion"), "\(third)")
        // `~` alone is ~1; an override is a step like a promotion; blocked attempts are not steps.
        #expect(lab2.run(["resolve", "fraud@production~"]).stdout.hasPrefix("fraud@2 "))
        #expect(lab2.policy("stages:\n  production:\n    gates:\n      - f1 >= 0.9\n").status == 0)
        #expect(lab2.run(["promote", "fraud@3"]).status == 3)
        #expect(lab2.run(["resolve", "fraud@production~1"]).stdout.hasPrefix("fraud@2 "))
        #expect(lab2.run(["promote", "fraud@3", "--override", "INC-9 hotfix"]).status == 0)
        #expect(lab2.run(["resolve", "fraud@production~1"]).stdout.hasPrefix("fraud@1 "))
        #expect(lab2.run(["resolve", "fraud@production~2"]).stdout.hasPrefix("fraud@2 "))
        #expect(lab2.run(["fsck"]).status == 0)
    }

    // MARK: - Help texts as a newcomer reads them

    @Test("--help texts: defaults said once, required options and limits stated")
    func helpTexts() {
        let t = TemporaryDirectory("mreg-usability")
        func help(_ c: String) -> String { Mreg.run(["help", c], cwd: t.path).stdout }
        for c in ["promote", "check", "rollback"] {
            let h = help(c)
            #expect(h.contains("(default: production)") && !h.contains("(default production)"), "\(c): \(h)")
        }
        let gc = help("gc")
        #expect(gc.contains("900") && !gc.contains("900.0"), "\(gc)")
        let register = help("register")
        #expect(register.contains("<name> <path> ...") && !register.contains("[<path> ...]"), "\(register)")
        #expect(register.contains("required, unless --predictions is given") && register.contains("1,024 bytes") && register.contains("4,096"), "\(register)")
        let none = Mreg.run(["register", "fraud", "--metrics", "m.json"], cwd: t.path)
        #expect(none.status == 2 && none.stderr.contains("<path>"), "\(none)")
        #expect(help("diff").contains("fraud@production~1") && help("log").contains("~K"))
    }

    @Test("diff says how many files and params it leaves out as unchanged; show flattens params as diff does")
    func diffCountsUnchanged() {
        let lab = Lab()
        lab.t.write("p1.json", #"{"model": {"depth": 6, "eta": 0.1}, "seed": 1}"#)
        lab.t.write("p2.json", #"{"model": {"depth": 8, "eta": 0.1}, "seed": 1}"#)
        lab.t.write("m.json", #"{"f1": 0.8}"#)
        lab.t.write("v1/a.bin", "a")
        lab.t.write("v1/b.bin", "b")
        lab.t.write("v1/c.bin", "c")
        lab.t.write("v2/a.bin", "a")
        lab.t.write("v2/b.bin", "b")
        lab.t.write("v2/c.bin", "changed")
        #expect(lab.run(["register", "fraud", "v1", "--metrics", "m.json", "--params", "p1.json"]).status == 0)
        #expect(lab.run(["register", "fraud", "v2", "--metrics", "m.json", "--params", "p2.json"]).status == 0)
        let d = lab.run(["diff", "fraud@2", "fraud@1"])
        #expect(d.stdout.contains("(2 unchanged files not shown)") && d.stdout.contains("(2 unchanged params not shown)"), "\(d)")
        #expect(d.stdout.contains("model.depth"), "\(d)")
        let j = lab.run(["diff", "fraud@2", "fraud@1", "--json"]).json
        #expect(j["unchanged_files"] as? Int == 2 && j["unchanged_params"] as? Int == 2)
        let same = lab.run(["diff", "fraud@1", "fraud@1"])
        #expect(same.stdout.contains("artifacts: identical (3 files)") && same.stdout.contains("params: identical (3)"), "\(same)")
        let show = lab.run(["show", "fraud@2"])
        #expect(show.stdout.contains("model.depth  8") && show.stdout.contains("model.eta    0.1"), "\(show)")
    }
}
