import Foundation
import MregCore
import Testing
import _MregTestSupport
@testable import MregRemote

/// The built `mreg` on a registry in a SeaweedFS bucket (`--registry s3://BUCKET/PREFIX`), each
/// "shell" with its own HOME and so its own local cache.
@Suite("Registry in S3, end to end", .enabled(if: S3TestServer.available, "needs SeaweedFS: run scripts/test.sh"))
struct RemoteRegistryEndToEndTests {
    let t = TemporaryDirectory("mreg-s3-e2e")
    let server = S3TestServer.current!
    let url: String

    init() throws {
        let bucket = S3TestServer.uniqueBucket("e2e")
        url = "s3://\(bucket)/teams/fraud"
        // The bucket, made by the client mreg uses (mreg itself does not create buckets).
        try S3ClientLiveTests.client().createBucket(bucket)
    }

    /// `mreg ARGS --registry URL` in the shell whose HOME (and cache) is `home`.
    @discardableResult
    func mreg(_ args: [String], home: String = "alice", extra: [String: String] = [:]) -> CommandResult {
        let dir = t.mkdir(home)
        var env = server.awsEnvironment
        env["HOME"] = dir
        for (k, v) in extra { env[k] = v }
        return Mreg.run(args, cwd: t.path, env: env, registry: url)
    }

    func registerVersion(_ n: Int, home: String = "alice") -> CommandResult {
        t.write("m\(n).json", #"{"f1": 0.8, "latency_p99_ms": 12}"#)
        t.write("a\(n)/model.bin", randomBytes(3000 + n, seed: UInt64(n)))
        return mreg(["register", "fraud", "a\(n)", "--metrics", "m\(n).json", "--json"], home: home)
    }

    @Test("init, register, list, show, promote, resolve, fetch; a second shell with its own cache sees it all")
    func lifecycle() throws {
        let initialized = Mreg.run(["init", url], cwd: t.path, env: server.awsEnvironment.merging(["HOME": t.mkdir("alice")]) { $1 })
        #expect(initialized.status == 0, "\(initialized)")
        #expect(initialized.stdout == "Initialized empty mreg registry in \(url)\n")
        #expect(mreg(["init"]).status == 2)  // already a registry
        for n in 1...2 {
            let r = registerVersion(n)
            #expect(r.status == 0, "\(r)")
            #expect(r.json["version"] as? Int == n)
        }
        let list = mreg(["list"], home: "bob")
        #expect(list.status == 0, "\(list)")
        #expect(list.stdout.contains("fraud"), "\(list)")
        let show = mreg(["show", "fraud@2", "--json"], home: "bob")
        #expect(show.status == 0, "\(show)")
        #expect((show.json["version"] as? Int) == 2, "\(show.stdout)")
        let promoted = mreg(["promote", "fraud@2", "--stage", "production"], home: "bob")
        #expect(promoted.status == 0, "\(promoted)")
        let resolved = mreg(["resolve", "fraud@production"], home: "carol")
        #expect(resolved.status == 0, "\(resolved)")
        #expect(resolved.stdout.hasPrefix("fraud@2 sha256:"), "\(resolved)")
        let fetched = mreg(["fetch", "fraud@production", "--out", "deploy"], home: "carol")
        #expect(fetched.status == 0, "\(fetched)")
        #expect(t.read("deploy/model.bin") == randomBytes(3002, seed: 2))
        // The bucket holds the directory layout.
        #expect(mreg(["log", "fraud"], home: "alice").stdout.contains("promoted"))
    }

    @Test("gates, baseline, promote, rollback, sign on S3; diff, check, log, show, gates read the same from the bucket as from a clone of it")
    func commandsMatchADirectory() throws {
        #expect(mreg(["init", url]).status == 0)
        for n in 1...3 { #expect(registerVersion(n).status == 0) }
        t.write("base.json", #"{"f1": 0.7, "latency_p99_ms": 30}"#)
        #expect(mreg(["baseline", "fraud", "rules-v1", "--metrics", "base.json"]).status == 0)
        t.write("policy.yaml", """
            lower_is_better: [latency_p99_ms]
            stages:
              production:
                gates:
                  - f1 > baseline.rules-v1
                  - latency_p99_ms <= champion * 1.10
            """)
        let gates = mreg(["gates", "fraud", "--set", "policy.yaml"], home: "bob")
        #expect(gates.status == 0, "\(gates)")
        for n in 1...2 {
            let r = mreg(["promote", "fraud@\(n)", "--stage", "production"], home: n == 1 ? "alice" : "bob")
            #expect(r.status == 0, "\(r)")
        }
        let rolled = mreg(["rollback", "fraud", "--stage", "production", "--to", "fraud@1", "--reason", "parity test"], home: "carol")
        #expect(rolled.status == 0, "\(rolled)")
        var env = server.awsEnvironment
        env["HOME"] = t.mkdir("erin")
        #expect(Mreg.run(["key", "generate", "--out", t.join("signer")], cwd: t.path, env: env).status == 0)
        let signed = mreg(["sign", "fraud@production", "--key", t.join("signer"), "--json"], home: "alice")
        #expect(signed.status == 0, "\(signed)")

        // A clone of the bucket, and the same questions asked of both.
        let cloned = Mreg.run(["clone", url, t.join("copy")], cwd: t.path, env: env)
        #expect(cloned.status == 0, "\(cloned)")
        let questions: [[String]] = [
            ["log", "fraud", "--json"], ["diff", "fraud@3", "fraud@1", "--json"], ["diff", "fraud@production~1", "fraud@production"],
            ["check", "fraud@3", "--json"], ["gates", "fraud", "--json"], ["show", "fraud@production", "--json"],
            ["list", "fraud", "--json"], ["resolve", "fraud@production"],
        ]
        for q in questions {
            let remote = mreg(q, home: "erin")
            let local = Mreg.run(q, cwd: t.path, env: env, registry: t.join("copy"))
            #expect(remote.status == local.status && remote.stdout == local.stdout, "\(q): \(remote) against \(local)")
            #expect(remote.status == 0 || remote.status == 3, "\(q): \(remote)")
        }
        #expect(mreg(["log", "fraud"], home: "erin").stdout.contains("signed"))
        let fsck = Mreg.run(["fsck"], cwd: t.path, env: env, registry: t.join("copy"))
        #expect(fsck.status == 0, "\(fsck)")
    }

    @Test("a missing registry, a wrong secret: one-line errors, exit 2, 1")
    func errors() {
        let missing = mreg(["list"])
        #expect(missing.status == 2, "\(missing)")
        #expect(missing.stderr == "mreg: error: \(url) is not an mreg registry: config is missing; run `mreg init \(url)` to create one\n")
        let refused = mreg(["list"], extra: ["AWS_SECRET_ACCESS_KEY": "wrong"])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.hasPrefix("mreg: error: S3 get \(url)/config: HTTP 403"), "\(refused)")
        #expect(refused.stderr.filter { $0 == "\n" }.count == 1)
    }

    @Test("6 concurrent registers through S3, each shell its own cache: 6 distinct versions")
    func concurrentRegisters() throws {
        #expect(Mreg.run(["init", url], cwd: t.path, env: server.awsEnvironment.merging(["HOME": t.mkdir("z")]) { $1 }).status == 0)
        let results = Locked([Int](repeating: 0, count: 6))
        DispatchQueue.concurrentPerform(iterations: 6) { i in
            let r = registerVersion(i + 1, home: "shell\(i)")
            results.update { $0[i] = r.status == 0 ? (r.json["version"] as? Int ?? -1) : -Int(r.status) }
        }
        #expect(results.value.sorted() == [1, 2, 3, 4, 5, 6], "\(results.value)")
        let log = mreg(["list", "fraud", "--json"], home: "check")
        #expect(log.status == 0, "\(log)")
    }

    @Test("racing promotions built on the same HEAD: exactly one wins, the others exit 4 and change nothing")
    func racingPromotions() throws {
        #expect(Mreg.run(["init", url], cwd: t.path, env: server.awsEnvironment.merging(["HOME": t.mkdir("z")]) { $1 }).status == 0)
        for n in 1...3 { #expect(registerVersion(n).status == 0) }
        let before = mreg(["log", "fraud", "--json"], home: "check").stdout
        let barrier = t.mkdir("barrier")
        let outcomes = Locked([CommandResult?](repeating: nil, count: 3))
        let group = DispatchGroup()
        for i in 0..<3 {
            group.enter()
            Thread {
                let r = mreg(["promote", "fraud@\(i + 1)", "--stage", "production"], home: "racer\(i)",
                             extra: ["MREG_TEST_REMOTE_BARRIER": barrier])
                outcomes.update { $0[i] = r }
                group.leave()
            }.start()
        }
        // All three have built their promotion on the same HEAD before any commits.
        while ((try? FileManager.default.contentsOfDirectory(atPath: barrier)) ?? []).filter({ $0.hasPrefix("ready.") }).count < 3 {
            usleep(10_000)
        }
        _ = FileManager.default.createFile(atPath: barrier + "/go", contents: nil)
        group.wait()
        let results = outcomes.value.map { $0! }
        #expect(results.filter { $0.status == 0 }.count == 1, "\(results)")
        let losers = results.filter { $0.status == 4 }
        #expect(losers.count == 2, "\(results)")
        for loser in losers {
            #expect(loser.stdout.isEmpty, "a loser printed a result: \(loser)")
            #expect(loser.stderr.contains("by another writer"), "\(loser)")
        }
        let winner = results.firstIndex { $0.status == 0 }!
        #expect(mreg(["resolve", "fraud@production"], home: "check").stdout.hasPrefix("fraud@\(winner + 1) "))
        let after = mreg(["log", "fraud", "--json"], home: "check").stdout
        #expect(after != before)
    }
}
