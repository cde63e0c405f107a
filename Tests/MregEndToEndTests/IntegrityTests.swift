import Foundation
import Testing
import _MregTestSupport

/// What the registry reads and changes is checked against what the history says: a HEAD moved
/// back, a version index pointing at another version, a champion change on damaged data, a record
/// whose size does not match its object, and bad numeric environment variables.
@Suite("Integrity")
struct IntegrityTests {
    /// A registry with fraud@1…fraud@`versions` (f1 0.80, 0.81, …), each with its own artifact.
    static func make(versions: Int = 3) -> TemporaryDirectory {
        let t = TemporaryDirectory("mreg-integrity")
        #expect(Mreg.run(["init", "reg"], cwd: t.path).status == 0)
        for n in 1...versions { register(t, n) }
        return t
    }

    static func register(_ t: TemporaryDirectory, _ n: Int, model: String = "fraud") {
        t.write("m\(n).json", #"{"f1": \#(0.80 + Double(n) / 100)}"#)
        t.write("v\(n)/weights.bin", randomBytes(20_000, seed: UInt64(n)))
        let r = Mreg.run(["register", model, "v\(n)", "--metrics", "m\(n).json"], cwd: t.path, registry: "reg")
        #expect(r.status == 0, "\(r)")
    }

    func run(_ t: TemporaryDirectory, _ args: [String], env: [String: String] = [:]) -> CommandResult {
        Mreg.run(args, cwd: t.path, env: env, registry: t.join("reg"))
    }

    func head(_ t: TemporaryDirectory) -> String {
        String(decoding: t.read("reg/models/fraud/HEAD") ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func setHead(_ t: TemporaryDirectory, _ id: String) {
        FileManager.default.createFile(atPath: t.join("reg/models/fraud/HEAD"), contents: Data((id + "\n").utf8))
    }

    func objectPath(_ t: TemporaryDirectory, _ id: String) -> String {
        let hex = String(id.dropFirst(7))
        return t.join("reg/objects/\(hex.prefix(2))/\(hex.dropFirst(2))")
    }

    func artifact(_ t: TemporaryDirectory, _ ref: String) -> String {
        let arts = run(t, ["show", ref, "--json"]).json["artifacts"] as? [[String: Any]] ?? []
        return arts.first?["object"] as? String ?? ""
    }

    func objectCount(_ t: TemporaryDirectory) -> Int {
        (FileManager.default.enumerator(atPath: t.join("reg/objects"))?.allObjects as? [String] ?? []).filter { $0.count == 65 }.count
    }

    // MARK: - 4: HEAD moved back

    @Test("a HEAD restored from an older copy: fsck reports it rewound naming the newest entry, gc removes nothing, writing that entry back recovers")
    func headRewound() {
        let t = Self.make(versions: 1)
        let stale = head(t)
        Self.register(t, 2)
        Self.register(t, 3)
        let newest = head(t)
        setHead(t, stale)
        let fsck = run(t, ["fsck"])
        #expect(fsck.status == 1, "\(fsck)")
        #expect(fsck.stdout.contains("HEAD is rewound"), "\(fsck)")
        #expect(fsck.stdout.contains(newest), "fsck should name the newest entry: \(fsck)")
        let before = TreeSnapshot(t.join("reg"))
        let gc = run(t, ["gc", "--grace", "0"])
        #expect(gc.status == 1, "\(gc)")
        #expect(gc.stderr.contains("gc stopped, nothing removed") && gc.stderr.contains(newest), "\(gc)")
        #expect(TreeSnapshot(t.join("reg")) == before)
        // A register on the rewound HEAD continues the history from the older entry: still found.
        Self.register(t, 4)
        let forked = run(t, ["fsck"])
        #expect(forked.status == 1 && forked.stdout.contains("moved back"), "\(forked)")
        #expect(run(t, ["gc", "--grace", "0"]).status == 1)
        // The recovery docs/operations.md describes for the simple case.
        let t2 = Self.make(versions: 1)
        let stale2 = head(t2)
        Self.register(t2, 2)
        Self.register(t2, 3)
        let newest2 = head(t2)
        setHead(t2, stale2)
        #expect(run(t2, ["fsck"]).status == 1)
        setHead(t2, newest2)
        let fixed = run(t2, ["fsck"])
        #expect(fixed.status == 0, "\(fixed)")
        #expect(run(t2, ["gc", "--grace", "0"]).status == 0)
        #expect(run(t2, ["fetch", "fraud@3", "--out", t2.join("out")]).status == 0)
    }

    @Test("a HEAD moved back by one entry (or a commit cut short): fsck notes the entry, gc keeps it and its objects")
    func headBackOneEntry() {
        let t = Self.make(versions: 1)
        let stale = head(t)
        Self.register(t, 2)
        let newest = head(t)
        setHead(t, stale)
        let fsck = run(t, ["fsck"])
        #expect(fsck.status == 0, "\(fsck)")
        #expect(fsck.stdout.contains("note: models/fraud/HEAD names entry") && fsck.stdout.contains(newest), "\(fsck)")
        let objects = objectCount(t)
        let gc = run(t, ["gc", "--grace", "0"])
        #expect(gc.status == 0, "\(gc)")
        #expect(objectCount(t) == objects, "gc removed objects of the entry HEAD no longer names")
        #expect(t.exists("reg/models/fraud/versions/2"))
        setHead(t, newest)
        #expect(run(t, ["fsck"]).status == 0)
        #expect(run(t, ["fetch", "fraud@2", "--out", t.join("out")]).status == 0)
    }

    @Test("fsck notes the leftovers it promises: unreferenced objects, versions/N beyond the count, lock staging files; gc removes them")
    func leftoversNoted() throws {
        let t = Self.make(versions: 1)
        // A well-formed object that nothing references.
        let bytes = Data("orphan bytes\n".utf8)
        let hex = shaHex(bytes)
        t.write("reg/objects/\(hex.prefix(2))/\(hex.dropFirst(2))", Data("MREG1 raw \(bytes.count)\n".utf8) + bytes)
        try FileManager.default.copyItem(atPath: t.join("reg/models/fraud/versions/1"), toPath: t.join("reg/models/fraud/versions/7"))
        t.write("reg/models/fraud/HEAD.lock.tmp-999-123", "pid 999\n")
        let fsck = run(t, ["fsck"])
        #expect(fsck.status == 0, "\(fsck)")
        #expect(fsck.stdout.contains("note: 1 object is not referenced by any history (\(bytes.count) bytes)"), "\(fsck)")
        #expect(fsck.stdout.contains("versions/7: beyond the 1 committed version"), "\(fsck)")
        #expect(fsck.stdout.contains("HEAD.lock.tmp-999-123"), "\(fsck)")
        let gc = run(t, ["gc", "--grace", "0"])
        #expect(gc.status == 0, "\(gc)")
        let after = run(t, ["fsck"])
        #expect(after.status == 0 && !after.stdout.contains("note:"), "\(after)")
    }

    func shaHex(_ d: Data) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let inp = Pipe(), out = Pipe()
        p.standardInput = inp
        p.standardOutput = out
        try! p.run()
        inp.fileHandleForWriting.write(d)
        try! inp.fileHandleForWriting.close()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return String(text.prefix(64))
    }

    // MARK: - 8: the version index is checked

    @Test("versions/2 overwritten with versions/3: every reader of the index refuses fraud@2")
    func indexSwapped() throws {
        let t = Self.make(versions: 3)
        let v3 = t.read("reg/models/fraud/versions/3")!
        FileManager.default.createFile(atPath: t.join("reg/models/fraud/versions/2"), contents: v3)
        let before = TreeSnapshot(t.join("reg"))
        for args in [["resolve", "fraud@2"], ["show", "fraud@2"], ["fetch", "fraud@2", "--out", t.join("out")],
                     ["diff", "fraud@1", "fraud@2"], ["check", "fraud@2"], ["promote", "fraud@2"], ["list", "fraud"]] {
            let r = run(t, args)
            #expect(r.status == 1, "\(args): \(r)")
            #expect(r.stderr.contains("fraud@2") && r.stderr.contains("record of fraud@3"), "\(args): \(r)")
        }
        #expect(!t.exists("out"))
        #expect(TreeSnapshot(t.join("reg")) == before)
        #expect(run(t, ["resolve", "fraud@3"]).status == 0)
    }

    @Test("rollback --to a version whose index was swapped is refused")
    func rollbackToSwappedIndex() {
        let t = Self.make(versions: 3)
        #expect(run(t, ["promote", "fraud@1"]).status == 0)
        #expect(run(t, ["promote", "fraud@2"]).status == 0)
        #expect(run(t, ["promote", "fraud@3"]).status == 0)
        let v2 = t.read("reg/models/fraud/versions/2")!
        FileManager.default.createFile(atPath: t.join("reg/models/fraud/versions/1"), contents: v2)
        let before = TreeSnapshot(t.join("reg"))
        let r = run(t, ["rollback", "fraud", "--to", "fraud@1", "--reason", "test"])
        #expect(r.status == 1 && r.stderr.contains("record of fraud@2"), "\(r)")
        #expect(TreeSnapshot(t.join("reg")) == before)
    }

    // MARK: - 9: a champion change verifies what it promotes

    @Test("promote (with and without --override) refuses a candidate whose artifact object is missing or damaged",
          arguments: ["missing", "damaged"])
    func promoteDamagedCandidate(damage: String) throws {
        let t = Self.make(versions: 2)
        #expect(run(t, ["promote", "fraud@1"]).status == 0)
        let p = objectPath(t, artifact(t, "fraud@2"))
        chmod(p, 0o644)
        if damage == "missing" {
            try FileManager.default.removeItem(atPath: p)
        } else {
            var d = try Data(contentsOf: URL(fileURLWithPath: p))
            d[d.count - 10] ^= 0xFF
            try d.write(to: URL(fileURLWithPath: p))
        }
        let before = TreeSnapshot(t.join("reg"))
        for args in [["promote", "fraud@2"], ["promote", "fraud@2", "--override", "hotfix"], ["promote", "fraud@2", "--stage", "staging"]] {
            let r = run(t, args)
            #expect(r.status == 1, "\(args): \(r)")
            #expect(r.stderr.contains("promote fraud@2 to") && r.stderr.contains("refused") && r.stderr.contains("weights.bin"), "\(r)")
            #expect(r.stderr.contains(damage == "missing" ? "missing" : "corrupt"), "\(r)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r)")
        }
        #expect(TreeSnapshot(t.join("reg")) == before)
    }

    @Test("promote and rollback refuse to append to a history with an entry missing from its middle")
    func brokenChain() throws {
        let t = Self.make(versions: 3)
        #expect(run(t, ["promote", "fraud@1"]).status == 0)
        #expect(run(t, ["promote", "fraud@3"]).status == 0)
        // Entry #2 (the register of fraud@2) is in the middle of the chain.
        let log = run(t, ["log", "fraud", "--json"]).json["entries"] as? [[String: Any]] ?? []
        let middle = log.first { ($0["seq"] as? Int) == 2 }?["id"] as? String ?? ""
        #expect(!middle.isEmpty, "\(log)")
        try FileManager.default.removeItem(atPath: objectPath(t, middle))
        let before = TreeSnapshot(t.join("reg"))
        for args in [["promote", "fraud@2", "--override", "x"], ["rollback", "fraud", "--reason", "x"]] {
            let r = run(t, args)
            #expect(r.status == 1, "\(args): \(r)")
            #expect(r.stderr.contains("history of fraud is broken") && r.stderr.contains(middle), "\(args): \(r)")
        }
        #expect(TreeSnapshot(t.join("reg")) == before)
    }

    @Test("rollback refuses to restore a champion whose artifact object is missing")
    func rollbackToDamaged() throws {
        let t = Self.make(versions: 2)
        #expect(run(t, ["promote", "fraud@1"]).status == 0)
        #expect(run(t, ["promote", "fraud@2"]).status == 0)
        let p = objectPath(t, artifact(t, "fraud@1"))
        try FileManager.default.removeItem(atPath: p)
        let before = TreeSnapshot(t.join("reg"))
        let r = run(t, ["rollback", "fraud", "--reason", "bad model"])
        #expect(r.status == 1 && r.stderr.contains("rollback of fraud@production to fraud@1 refused") && r.stderr.contains("missing"), "\(r)")
        #expect(TreeSnapshot(t.join("reg")) == before)
    }

    // MARK: - 11: sizes and the stat cache

    @Test("a stat cache entry pointing at another object is not trusted: the file is hashed and stored as itself")
    func poisonedStatCache() throws {
        let t = Self.make(versions: 1)
        let big = artifact(t, "fraud@1")  // 20,000 bytes
        t.write("small/f.bin", randomBytes(5_000, seed: 99))
        let file = t.join("small/f.bin")
        var times = [timespec(tv_sec: time(nil) - 600, tv_nsec: 0), timespec(tv_sec: time(nil) - 600, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        var st = stat()
        #expect(lstat(file, &st) == 0)
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, 255)
        let hostName = String(cString: host).map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }
        let line = "\(st.st_dev) \(st.st_ino) \(st.st_size) \(st.st_mtim.tv_sec) \(st.st_mtim.tv_nsec) \(st.st_ctim.tv_sec) \(st.st_ctim.tv_nsec) \(time(nil) + 3600) \(big.dropFirst(7))\n"
        t.write("reg/cache/stat.\(String(hostName))", line)
        #expect(run(t, ["register", "fraud", "small", "--metrics", "m1.json"]).status == 0)
        #expect(artifact(t, "fraud@2") != big)
        let fsck = run(t, ["fsck"])
        #expect(fsck.status == 0, "\(fsck)")
        let f = run(t, ["fetch", "fraud@2", "--out", t.join("out")])
        #expect(f.status == 0, "\(f)")
        #expect(t.read("out/f.bin") == randomBytes(5_000, seed: 99))
    }

    // MARK: - 14: numeric environment variables

    @Test("bad numeric environment variables: one-line error naming the variable, exit 2, nothing changed",
          arguments: [("MREG_LOCK_TIMEOUT", "nan"), ("MREG_LOCK_TIMEOUT", "-1"), ("MREG_LOCK_TIMEOUT", "ten"),
                      ("MREG_LOCK_TIMEOUT", "inf"), ("MREG_LOCK_TIMEOUT", "1e3"), ("MREG_LOCK_TIMEOUT", "0x10"),
                      ("MREG_LOCK_TIMEOUT", " 5"), ("MREG_LOCK_TIMEOUT", "100000"), ("MREG_NO_STAT_CACHE", "yes"),
                      ("MREG_FAULT", "write:0:eio"), ("MREG_FAULT", "write:1:explode")])
    func badEnvironment(variable: String, value: String) {
        let t = Self.make(versions: 1)
        let before = TreeSnapshot(t.join("reg"))
        for args in [["list"], ["register", "fraud", "v1", "--metrics", "m1.json"], ["gc"], ["promote", "fraud@1"]] {
            let r = run(t, args, env: [variable: value])
            #expect(r.status == 2, "\(variable)=\(value) \(args): \(r)")
            #expect(r.stderr.hasPrefix("mreg: error: \(variable)="), "\(r)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r)")
        }
        #expect(TreeSnapshot(t.join("reg")) == before)
        let i = Mreg.run(["init", "other"], cwd: t.path, env: [variable: value])
        #expect(i.status == 2 && !t.exists("other"), "\(i)")
    }

    @Test("good values are accepted", arguments: ["0", "2.5", "10", ""])
    func goodLockTimeout(value: String) {
        let t = Self.make(versions: 1)
        let r = run(t, ["register", "fraud", "v1", "--metrics", "m1.json"], env: ["MREG_LOCK_TIMEOUT": value])
        #expect(r.status == 0, "\(r)")
    }
}
