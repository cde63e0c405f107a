import Foundation
import Testing
import _MregTestSupport

/// Crash and I/O-fault injection at every system call of a kind (MREG_FAULT, see
/// Sources/MregCore/System/FaultInjection.swift), then: fsck clean, each ref old or new, a command
/// that reported success durable, and the next command works (stale locks are recovered).
@Suite("Crash safety")
struct CrashSafetyTests {
    static let kinds = ["open", "write", "fsync", "rename", "link", "mkdir"]

    /// A registry with fraud@1 registered, and a directory for fraud@2.
    static func base() -> TemporaryDirectory {
        let t = TemporaryDirectory("mreg-crash")
        t.write("m1.json", #"{"metrics": {"f1": 0.80, "latency": 12}, "lower_is_better": ["latency"]}"#)
        t.write("m2.json", #"{"metrics": {"f1": 0.85, "latency": 11}, "lower_is_better": ["latency"]}"#)
        t.write("v1/weights.bin", randomBytes(300_000, seed: 1))
        t.write("v2/weights.bin", randomBytes(2_500_000, seed: 2))  // > 1 MiB: the pipelined writer
        t.write("v2/vocab.txt", String(repeating: "token ", count: 20_000))
        t.write("v2/run.sh", "#!/bin/sh\necho ok\n", executable: true)
        for i in 0..<24 { t.write("many/part-\(i).bin", randomBytes(3000, seed: UInt64(1000 + i))) }
        #expect(Mreg.run(["init", "reg"], cwd: t.path).status == 0)
        #expect(Mreg.run(["register", "fraud", "v1", "--metrics", "m1.json"], cwd: t.path, registry: "reg").status == 0)
        return t
    }

    func copy(_ from: String, _ to: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/cp")
        p.arguments = ["-a", from, to]
        try! p.run()
        p.waitUntilExit()
    }

    func head(_ reg: String) -> String {
        String(decoding: FileManager.default.contents(atPath: reg + "/models/fraud/HEAD") ?? Data(), as: UTF8.self)
    }

    @Test("register survives a crash or an I/O error at every step", arguments: kinds)
    func registerFaults(kind: String) throws {
        try registerFaults(kind: kind, tree: "v2", actions: ["crash", "eio", "enospc"])
    }

    @Test("a many-file register (one batch, syncfs) survives a crash or an I/O error at every step", arguments: ["fsync", "link", "rename", "write"])
    func batchedRegisterFaults(kind: String) throws {
        try registerFaults(kind: kind, tree: "many", actions: ["crash", "eio"])
    }

    func registerFaults(kind: String, tree: String, actions: [String]) throws {
        let t = Self.base()
        let pristine = t.join("reg")
        let oldHead = head(pristine)
        for action in actions {
            var n = 1
            while n < 400 {
                let work = t.join("work-\(action)-\(n)")
                copy(pristine, work)
                let r = Mreg.run(["register", "fraud", tree, "--metrics", "m2.json"], cwd: t.path,
                                 env: ["MREG_FAULT": "\(kind):\(n):\(action)"], registry: work)
                let fsck = Mreg.run(["fsck"], cwd: t.path, registry: work)
                #expect(fsck.status == 0, "fsck after \(action) at \(kind) #\(n): \(fsck)")
                let latest = Mreg.run(["resolve", "fraud"], cwd: t.path, registry: work)
                let newHead = head(work)
                if r.status == 0 {
                    // Success was reported: it must be there (and the fault point was never reached).
                    #expect(latest.stdout.hasPrefix("fraud@2 "), "\(r)")
                    try? FileManager.default.removeItem(atPath: work)
                    break
                }
                if action == "crash" {
                    #expect(r.status == 86, "\(kind) #\(n): \(r)")
                } else {
                    #expect(r.status == 1, "\(action) at \(kind) #\(n) must exit 1: \(r)")
                    #expect(r.stderr.hasPrefix("mreg: error: "), "\(r)")
                    #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r)")
                }
                // The ref holds its old value or its new one, nothing else.
                let isOld = newHead == oldHead
                #expect(isOld || latest.stdout.hasPrefix("fraud@2 "), "\(kind) #\(n): HEAD neither old nor new")
                if isOld { #expect(latest.stdout.hasPrefix("fraud@1 "), "\(latest)") }
                // The next register works (a stale lock is recovered) and takes the next number.
                let next = Mreg.run(["register", "fraud", tree, "--metrics", "m2.json", "--json"], cwd: t.path, registry: work)
                #expect(next.status == 0, "register after \(action) at \(kind) #\(n): \(next)")
                #expect(next.json["version"] as? Int == (isOld ? 2 : 3), "\(next)")
                #expect(Mreg.run(["fsck"], cwd: t.path, registry: work).status == 0)
                try? FileManager.default.removeItem(atPath: work)
                n += 1
            }
            #expect(n > 1, "the fault at \(kind) was never reached")
        }
    }

    @Test("when only the last directory fsync after moving HEAD fails, the change is reported made, with a warning")
    func failureAfterCommit() throws {
        let t = Self.base()
        let pristine = t.join("reg")
        // The last fsync a register makes is that of the model directory after HEAD's rename:
        // find it as the highest fault point that is reached, and judge that very run (a second
        // run at the same point could count its fsyncs differently on a loaded machine).
        var last: (n: Int, result: CommandResult, work: String)?
        for n in 1..<200 {
            let work = t.join("probe-\(n)")
            copy(pristine, work)
            let r = Mreg.run(["register", "fraud", "v2", "--metrics", "m2.json"], cwd: t.path,
                             env: ["MREG_FAULT": "fsync:\(n):eio"], registry: work)
            if r.status == 0 && r.stderr.isEmpty {
                try? FileManager.default.removeItem(atPath: work)
                break
            }
            if let previous = last { try? FileManager.default.removeItem(atPath: previous.work) }
            last = (n, r, work)
        }
        guard let (n, r, work) = last else { Issue.record("no fsync fault was reached"); return }
        #expect(n > 1)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.hasPrefix("fraud@2 "), "\(r)")
        #expect(r.stderr.hasPrefix("mreg: warning: fraud: the change is made and visible"), "\(r)")
        #expect(r.stderr.contains("may not survive a power loss"), "\(r)")
        #expect(Mreg.run(["resolve", "fraud"], cwd: t.path, registry: work).stdout.hasPrefix("fraud@2 "))
        #expect(Mreg.run(["fsck"], cwd: t.path, registry: work).status == 0)
    }

    @Test("a first register that fails (any error before its commit) leaves what fsck accepts and gc removes")
    func failedFirstRegister() throws {
        let t = Self.base()
        let pristine = t.join("reg")
        for kind in ["rename", "fsync", "write"] {
            var n = 1
            while n < 100 {
                let work = t.join("first-\(kind)-\(n)")
                copy(pristine, work)
                let r = Mreg.run(["register", "churn", "v1", "--metrics", "m1.json"], cwd: t.path,
                                 env: ["MREG_FAULT": "\(kind):\(n):eio"], registry: work)
                defer { try? FileManager.default.removeItem(atPath: work) }
                if r.status == 0 { break }
                #expect(r.status == 1, "\(kind) #\(n): \(r)")
                let fsck = Mreg.run(["fsck"], cwd: t.path, registry: work)
                #expect(fsck.status == 0, "fsck after a failed first register (\(kind) #\(n)): \(fsck)")
                #expect(!FileManager.default.fileExists(atPath: work + "/models/churn/versions/1"), "\(kind) #\(n)")
                let gc = Mreg.run(["gc", "--grace", "0"], cwd: t.path, registry: work)
                #expect(gc.status == 0, "\(kind) #\(n): \(gc)")
                #expect(!FileManager.default.fileExists(atPath: work + "/models/churn"), "\(kind) #\(n)")
                #expect(Mreg.run(["register", "churn", "v1", "--metrics", "m1.json"], cwd: t.path, registry: work).status == 0)
                n += 1
            }
            #expect(n > 1)
        }
    }

    @Test("a first register killed, then another attempt that fails or is killed at any step: fsck passes, gc cleans, a third commits",
          arguments: ["open", "fsync", "link", "rename", "mkdir", "write"])
    func killedThenFailedFirstRegister(kind: String) throws {
        let t = Self.base()
        let killed = t.join("killed")
        copy(t.join("reg"), killed)
        let first = Mreg.run(["register", "churn", "v1", "--metrics", "m1.json"], cwd: t.path,
                             env: ["MREG_FAULT": "rename:2:crash"], registry: killed)
        #expect(first.status == 86, "\(first)")
        for action in ["eio", "crash"] {
            var n = 1
            while n < 100 {
                let work = t.join("twice-\(kind)-\(action)-\(n)")
                copy(killed, work)
                defer { try? FileManager.default.removeItem(atPath: work) }
                let again = Mreg.run(["register", "churn", "v1", "--metrics", "m1.json"], cwd: t.path,
                                     env: ["MREG_FAULT": "\(kind):\(n):\(action)"], registry: work)
                if again.status == 0 { break }
                let fsck = Mreg.run(["fsck"], cwd: t.path, registry: work)
                #expect(fsck.status == 0, "\(action) at \(kind) #\(n): \(fsck)")
                // Killed after its commit, the second attempt made churn@1; otherwise nothing.
                let committed = FileManager.default.fileExists(atPath: work + "/models/churn/HEAD")
                if committed { #expect(action == "crash", "an error after the commit is a warning: \(kind) #\(n): \(again)") }
                let gc = Mreg.run(["gc", "--grace", "0"], cwd: t.path, registry: work)
                #expect(gc.status == 0, "\(action) at \(kind) #\(n): \(gc)")
                #expect(FileManager.default.fileExists(atPath: work + "/models/churn") == committed, "\(action) at \(kind) #\(n)")
                let third = Mreg.run(["register", "churn", "v1", "--metrics", "m1.json"], cwd: t.path, registry: work)
                #expect(third.status == 0 && third.stdout.hasPrefix(committed ? "churn@2 " : "churn@1 "), "\(action) at \(kind) #\(n): \(third)")
                #expect(!FileManager.default.fileExists(atPath: work + "/models/churn/CREATING"))
                #expect(Mreg.run(["fsck"], cwd: t.path, registry: work).status == 0)
                n += 1
            }
            #expect(n > 1, "the fault at \(kind) was never reached")
        }
    }

    /// A registry with fraud@1 champion of production and fraud@2 registered (better).
    static func promotionBase() -> TemporaryDirectory {
        let t = base()
        #expect(Mreg.run(["register", "fraud", "v2", "--metrics", "m2.json"], cwd: t.path, registry: "reg").status == 0)
        #expect(Mreg.run(["promote", "fraud@1"], cwd: t.path, registry: "reg").status == 0)
        return t
    }

    @Test("promote and rollback survive a crash or an I/O error at every step", arguments: ["fsync", "rename", "link", "write", "open"])
    func lifecycleFaults(kind: String) throws {
        let t = Self.promotionBase()
        let pristine = t.join("reg")
        // Step 1: promote fraud@2 (old champion fraud@1). Step 2 (from the promoted state): rollback.
        let promoted = t.join("promoted")
        copy(pristine, promoted)
        #expect(Mreg.run(["promote", "fraud@2"], cwd: t.path, registry: promoted).status == 0)
        let cases: [(String, [String], String, String)] = [
            (pristine, ["promote", "fraud@2"], "fraud@1", "fraud@2"),
            (promoted, ["rollback", "fraud", "--reason", "test"], "fraud@2", "fraud@1"),
        ]
        for (start, command, old, new) in cases {
            for action in ["crash", "eio"] {
                var n = 1
                while n < 300 {
                    let work = t.join("w-\(command[0])-\(action)-\(n)")
                    copy(start, work)
                    let r = Mreg.run(command, cwd: t.path, env: ["MREG_FAULT": "\(kind):\(n):\(action)"], registry: work)
                    #expect(Mreg.run(["fsck"], cwd: t.path, registry: work).status == 0, "\(command[0]) \(action) at \(kind) #\(n)")
                    let champion = String(Mreg.run(["resolve", "fraud@production"], cwd: t.path, registry: work).stdout.split(separator: " ").first ?? "")
                    if r.status == 0 {
                        #expect(champion == new, "reported success must be durable")
                        try? FileManager.default.removeItem(atPath: work)
                        break
                    }
                    #expect(r.status == (action == "crash" ? 86 : 1), "\(command[0]) \(action) at \(kind) #\(n): \(r)")
                    #expect(champion == old || champion == new, "\(command[0]) \(action) at \(kind) #\(n): champion \(champion)")
                    // The same command can be run again and completes.
                    let again = Mreg.run(command, cwd: t.path, registry: work)
                    if champion == old {
                        #expect(again.status == 0, "retry after \(action) at \(kind) #\(n): \(again)")
                    }
                    #expect(String(Mreg.run(["resolve", "fraud@production"], cwd: t.path, registry: work).stdout.split(separator: " ").first ?? "") == new)
                    #expect(Mreg.run(["fsck"], cwd: t.path, registry: work).status == 0)
                    try? FileManager.default.removeItem(atPath: work)
                    n += 1
                }
                #expect(n > 1, "the fault at \(kind) was never reached by \(command[0])")
            }
        }
    }
}
