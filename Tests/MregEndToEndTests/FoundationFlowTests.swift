import Foundation
import Testing
import _MregTestSupport

@Suite("Foundation flow")
struct FoundationFlowTests {
    /// A model directory: nested folders, an executable script, a multi-MiB random file, text.
    static func modelTree(_ t: TemporaryDirectory) {
        t.write("model/weights.bin", randomBytes(3 * 1_048_576 + 17, seed: 11))
        t.write("model/vocab.txt", String(repeating: "token ", count: 100_000))
        t.write("model/bin/predict.sh", "#!/bin/sh\necho ok\n", executable: true)
        t.write("model/conf/deep/er/config.json", #"{"depth": 6}"#)
        t.write("m.json", #"{"metrics": {"f1": 0.87}, "eval_set": {"name": "holdout"}}"#)
    }

    func files(_ root: String) -> [String: (Data, Bool)] {
        var out: [String: (Data, Bool)] = [:]
        let e = FileManager.default.enumerator(atPath: root)!
        for case let rel as String in e {
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: root + "/" + rel, isDirectory: &isDir)
            if isDir.boolValue { continue }
            out[rel] = (FileManager.default.contents(atPath: root + "/" + rel)!, FileManager.default.isExecutableFile(atPath: root + "/" + rel))
        }
        return out
    }

    @Test("register a tree, fetch it back byte-identical, fsck catches a flipped byte in any object")
    func doneWhen() throws {
        let t = TemporaryDirectory()
        Self.modelTree(t)
        #expect(Mreg.run(["init"], cwd: t.path).stdout.contains("Initialized empty mreg registry"))
        let reg = Mreg.run(["register", "fraud", "model", "--metrics", "m.json", "-m", "first", "--json"], cwd: t.path)
        #expect(reg.status == 0, "\(reg)")
        #expect(reg.json["name"] as? String == "fraud@1")
        #expect(reg.json["files"] as? Int == 4)
        #expect((reg.json["id"] as? String)?.hasPrefix("sha256:") == true)
        let fetch = Mreg.run(["fetch", "fraud@1", "--out", "out"], cwd: t.path)
        #expect(fetch.status == 0, "\(fetch)")
        let a = files(t.join("model")), b = files(t.join("out"))
        #expect(Set(a.keys) == Set(b.keys))
        for (k, v) in a {
            #expect(b[k]?.0 == v.0, "\(k) differs")
            #expect(b[k]?.1 == v.1, "\(k) executable bit differs")
        }
        #expect(Mreg.run(["fsck"], cwd: t.path).stdout.hasPrefix("ok: "))
        // Flip one byte in each object in turn.
        let objects = t.join(".registry/objects")
        var checked = 0
        for fan in try FileManager.default.contentsOfDirectory(atPath: objects) {
            for name in try FileManager.default.contentsOfDirectory(atPath: objects + "/" + fan) {
                let p = objects + "/" + fan + "/" + name
                let original = try Data(contentsOf: URL(fileURLWithPath: p))
                var damaged = original
                damaged[damaged.count - 1] ^= 0x01
                chmod(p, 0o644)
                try damaged.write(to: URL(fileURLWithPath: p))
                let r = Mreg.run(["fsck"], cwd: t.path)
                #expect(r.status == 1, "flipped \(fan)\(name): \(r)")
                #expect(r.stdout.contains(fan + name), "fsck must name \(fan)\(name): \(r)")
                try original.write(to: URL(fileURLWithPath: p))
                checked += 1
            }
        }
        #expect(checked >= 7)
        #expect(Mreg.run(["fsck"], cwd: t.path).status == 0)
    }

    @Test("versions count up; unchanged files store no new bytes; list, show, resolve")
    func listShowResolve() throws {
        let t = TemporaryDirectory()
        Self.modelTree(t)
        Mreg.run(["init"], cwd: t.path)
        Mreg.run(["register", "fraud", "model", "--metrics", "m.json", "--label", "team=risk", "--data", "s3://d/1", "--code-revision", "abc123"], cwd: t.path)
        let second = Mreg.run(["register", "fraud", "model", "--metrics", "m.json", "--json"], cwd: t.path)
        #expect(second.json["version"] as? Int == 2)
        #expect(second.json["new_bytes"] as? Int == 0)
        let list = Mreg.run(["list", "--json"], cwd: t.path)
        let model = (list.json["models"] as? [[String: Any]])?.first
        #expect(model?["model"] as? String == "fraud" && model?["versions"] as? Int == 2 && model?["latest"] as? String == "fraud@2")
        let show = Mreg.run(["show", "fraud@1", "--json"], cwd: t.path)
        #expect((show.json["labels"] as? [String: String]) == ["team": "risk"])
        #expect(((show.json["lineage"] as? [String: Any])?["data"] as? [String]) == ["s3://d/1"])
        #expect(((show.json["artifacts"] as? [[String: Any]])?.map { $0["path"] as! String }) == ["bin/predict.sh", "conf/deep/er/config.json", "vocab.txt", "weights.bin"])
        let human = Mreg.run(["show", "fraud@1"], cwd: t.path).stdout
        #expect(human.contains("bin/predict.sh") && human.contains("755") && human.contains("eval set  holdout"))
        let resolve = Mreg.run(["resolve", "fraud"], cwd: t.path)
        #expect(resolve.stdout.hasPrefix("fraud@2 sha256:"))
        #expect(Mreg.run(["list", "fraud"], cwd: t.path).stdout.contains("fraud@1"))
    }

    @Test("the registry is found by --registry, MREG_REGISTRY, or walking up")
    func discovery() {
        let t = TemporaryDirectory()
        Self.modelTree(t)
        Mreg.run(["init", "elsewhere"], cwd: t.path)
        Mreg.run(["init"], cwd: t.path)
        t.mkdir("a/b/c")
        #expect(Mreg.run(["register", "walked", t.join("model"), "--metrics", t.join("m.json")], cwd: t.join("a/b/c")).status == 0)
        #expect(Mreg.run(["list"], cwd: t.path).stdout.contains("walked"))
        #expect(Mreg.run(["register", "viaenv", "model", "--metrics", "m.json"], cwd: t.path, env: ["MREG_REGISTRY": t.join("elsewhere")]).status == 0)
        #expect(Mreg.run(["list", "--registry", "elsewhere"], cwd: t.path).stdout.contains("viaenv"))
        #expect(!Mreg.run(["list"], cwd: t.path).stdout.contains("viaenv"))
    }

    @Test("fetch --force replaces contents atomically; a non-empty --out is refused without it")
    func fetchForce() {
        let t = TemporaryDirectory()
        Self.modelTree(t)
        Mreg.run(["init"], cwd: t.path)
        Mreg.run(["register", "fraud", "model", "--metrics", "m.json"], cwd: t.path)
        t.write("small/only.txt", "one file")
        Mreg.run(["register", "fraud", "small", "--metrics", "m.json"], cwd: t.path)
        t.write("out/stale.txt", "old")
        let refused = Mreg.run(["fetch", "fraud@1", "--out", "out"], cwd: t.path)
        #expect(refused.status == 2 && refused.stderr.contains("--force"))
        #expect(Mreg.run(["fetch", "fraud@2", "--out", "out", "--force"], cwd: t.path).status == 0)
        #expect(try! FileManager.default.contentsOfDirectory(atPath: t.join("out")) == ["only.txt"])
        #expect(try! FileManager.default.contentsOfDirectory(atPath: t.path).allSatisfy { !$0.contains("mreg-fetch") })
        t.mkdir("empty")
        #expect(Mreg.run(["fetch", "fraud@2", "--out", "empty"], cwd: t.path).status == 0)
    }

    @Test("gc removes unreferenced objects and old temporary files, keeps the rest")
    func gc() throws {
        let t = TemporaryDirectory()
        Self.modelTree(t)
        Mreg.run(["init"], cwd: t.path)
        Mreg.run(["register", "fraud", "model", "--metrics", "m.json"], cwd: t.path)
        // An unreferenced object: a valid object copied from another registry.
        Mreg.run(["init", "other"], cwd: t.path)
        t.write("lonely/x.bin", randomBytes(5000, seed: 99))
        let other = Mreg.run(["register", "x", "lonely", "--metrics", "m.json", "--registry", "other", "--json"], cwd: t.path)
        #expect(other.status == 0)
        let show = Mreg.run(["show", "x@1", "--json", "--registry", "other"], cwd: t.path)
        let id = String(((show.json["artifacts"] as? [[String: Any]])?.first?["object"] as? String ?? "").dropFirst(7))
        t.mkdir(".registry/objects/\(id.prefix(2))")
        try FileManager.default.copyItem(atPath: t.join("other/objects/\(id.prefix(2))/\(id.dropFirst(2))"),
                                         toPath: t.join(".registry/objects/\(id.prefix(2))/\(id.dropFirst(2))"))
        t.write(".registry/tmp/obj-1-2", "leftover")
        t.write(".registry/models/fraud/HEAD.lock.tmp-99-1", "pid 99\n")
        t.write(".registry/models/fraud/versions/2", "sha256:" + String(repeating: "0", count: 64) + "\n")
        // The directory a first register of "ghost" left when it was interrupted before its commit,
        // and a marker that outlived the commit of fraud@1.
        t.write(".registry/models/ghost/versions/1", "sha256:" + String(repeating: "0", count: 64) + "\n")
        t.write(".registry/models/ghost/HEAD.lock", "pid 99\n")
        t.write(".registry/models/ghost/CREATING", "")
        t.write(".registry/models/fraud/CREATING", "")
        #expect(Mreg.run(["fsck"], cwd: t.path).stdout.contains("ghost: no HEAD"))
        let dry = Mreg.run(["gc", "--grace", "0", "--dry-run", "--json"], cwd: t.path)
        #expect(dry.json["removed_objects"] as? Int == 1 && dry.json["dry_run"] as? Bool == true)
        #expect(t.exists(".registry/objects/\(id.prefix(2))/\(id.dropFirst(2))"))
        let kept = Mreg.run(["gc", "--json"], cwd: t.path)
        #expect(kept.json["removed_objects"] as? Int == 0, "young objects are kept by the default grace period")
        let r = Mreg.run(["gc", "--grace", "0", "--json"], cwd: t.path)
        #expect(r.json["removed_objects"] as? Int == 1)
        #expect(r.json["removed_temps"] as? Int == 5)
        #expect(!t.exists(".registry/models/ghost"))
        #expect(!t.exists(".registry/models/fraud/CREATING") && t.exists(".registry/models/fraud/HEAD"))
        #expect(!t.exists(".registry/models/fraud/HEAD.lock.tmp-99-1") && !t.exists(".registry/models/fraud/versions/2"))
        #expect(t.exists(".registry/models/fraud/versions/1"))
        #expect(!t.exists(".registry/objects/\(id.prefix(2))/\(id.dropFirst(2))"))
        #expect(Mreg.run(["fsck"], cwd: t.path).status == 0)
        #expect(Mreg.run(["fetch", "fraud@1", "--out", "out"], cwd: t.path).status == 0)
    }

    @Test("init takes DIR or --registry DIR, and warns when MREG_REGISTRY names another registry")
    func initPlaces() {
        let t = TemporaryDirectory()
        #expect(Mreg.run(["init", "--registry", "r1"], cwd: t.path).status == 0)
        #expect(t.exists("r1/config"))
        let both = Mreg.run(["init", "a", "--registry", "b"], cwd: t.path)
        #expect(both.status == 2, "\(both)")
        #expect(both.stderr.contains("DIR a and --registry b differ"), "\(both)")
        #expect(!t.exists("a") && !t.exists("b"))
        let env = Mreg.run(["init"], cwd: t.path, env: ["MREG_REGISTRY": t.join("r1")])
        #expect(env.status == 0, "\(env)")
        #expect(t.exists(".registry/config"), "init makes ./.registry whatever MREG_REGISTRY says")
        #expect(env.stderr.hasPrefix("mreg: warning: MREG_REGISTRY is set to \(t.join("r1"))"), "\(env)")
        let same = Mreg.run(["init", "r3"], cwd: t.path, env: ["MREG_REGISTRY": t.join("r3")])
        #expect(same.status == 0 && same.stderr.isEmpty, "\(same)")
    }

    @Test("an error quoting a path with a newline or an escape stays on one line")
    func errorsOneLine() {
        let t = TemporaryDirectory()
        t.write("m.json", #"{"f1": 0.5}"#)
        #expect(Mreg.run(["init"], cwd: t.path).status == 0)
        let r = Mreg.run(["register", "fraud", "no\nsuch\u{1b}[31m\u{9b}2J", "--metrics", "m.json"], cwd: t.path)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r)")
        #expect(r.stderr.contains(#"no\nsuch\u{1b}[31m\u{9b}2J"#), "\(r)")
    }

    @Test("usage errors exit 2, help exits 0")
    func usage() {
        let t = TemporaryDirectory()
        let missing = Mreg.run(["register", "fraud", "x"], cwd: t.path)
        #expect(missing.status == 2 && missing.stderr.contains("--metrics"))
        #expect(Mreg.run(["list", "--frobnicate"], cwd: t.path).status == 2)
        #expect(Mreg.run(["nosuchcommand"], cwd: t.path).status == 2)
        let help = Mreg.run(["--help"], cwd: t.path)
        #expect(help.status == 0 && help.stdout.contains("promote"))
        #expect(Mreg.run(["promote", "--help"], cwd: t.path).stdout.contains("--override"))
        #expect(Mreg.run(["--version"], cwd: t.path).status == 0)
    }
}
