import Foundation
import MregCore
import Testing
import _MregTestSupport
@testable import MregRemote

/// `mreg clone`, `push` and `pull` between a directory and a SeaweedFS bucket, with the built binary.
@Suite("push, pull, clone through S3", .enabled(if: S3TestServer.available, "needs SeaweedFS: run scripts/test.sh"))
struct RemoteCopyEndToEndTests {
    let t = TemporaryDirectory("mreg-s3-copy")
    let server = S3TestServer.current!
    let url: String

    init() throws {
        let bucket = S3TestServer.uniqueBucket("copy")
        url = "s3://\(bucket)/shared"
        try S3ClientLiveTests.client().createBucket(bucket)
    }

    @discardableResult
    func mreg(_ args: [String], registry: String? = nil) -> CommandResult {
        var env = server.awsEnvironment
        env["HOME"] = t.mkdir("home")
        return Mreg.run(args, cwd: t.path, env: env, registry: registry)
    }

    func register(_ n: Int, in registry: String) {
        t.write("m\(n).json", #"{"f1": 0.8}"#)
        t.write("a\(n)/model.bin", randomBytes(2000 + n, seed: UInt64(100 + n)))
        let r = mreg(["register", "fraud", "a\(n)", "--metrics", "m\(n).json"], registry: registry)
        #expect(r.status == 0, "\(r)")
    }

    @Test("push a directory to S3, fast-forward it, clone it back: fsck passes and the bytes are the same")
    func pushCloneFastForward() throws {
        #expect(mreg(["init", "local"]).status == 0)
        for n in 1...2 { register(n, in: "local") }
        #expect(mreg(["init", url]).status == 0)
        let pushed = mreg(["push", "--to", url, "--json"], registry: "local")
        #expect(pushed.status == 0, "\(pushed)")
        #expect((pushed.json["models"] as? [[String: Any]])?.first?["outcome"] as? String == "new", "\(pushed.stdout)")
        register(3, in: "local")
        let again = mreg(["push", "fraud", "--to", url], registry: "local")
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.contains("fraud: fast-forward"), "\(again)")
        #expect(mreg(["push", "--to", url], registry: "local").stdout.contains("fraud: up to date"))

        let cloned = mreg(["clone", url, "copy"])
        #expect(cloned.status == 0, "\(cloned)")
        let fsck = mreg(["fsck"], registry: "copy")
        #expect(fsck.status == 0, "\(fsck)")
        #expect(mreg(["resolve", "fraud@3"], registry: "copy").stdout == mreg(["resolve", "fraud@3"], registry: "local").stdout)
        #expect(mreg(["fetch", "fraud@3", "--out", "out3"], registry: "copy").status == 0)
        #expect(t.read("out3/model.bin") == randomBytes(2003, seed: 103))
    }

    @Test("pull fast-forwards; a history that diverged is refused with exit 4 and changes nothing")
    func pullAndDiverge() throws {
        #expect(mreg(["init", url]).status == 0)
        register(1, in: url)
        #expect(mreg(["clone", url, "mine"]).status == 0)
        register(2, in: url)  // someone else, on the bucket
        let pulled = mreg(["pull", "--from", url], registry: "mine")
        #expect(pulled.status == 0, "\(pulled)")
        #expect(pulled.stdout.contains("fraud: fast-forward"), "\(pulled)")
        #expect(mreg(["resolve", "fraud"], registry: "mine").stdout.hasPrefix("fraud@2 "))

        // Both sides go on: the bucket and the copy now disagree on version 3.
        register(3, in: url)
        register(4, in: "mine")
        let before = TreeSnapshot(t.join("mine"))
        let refused = mreg(["pull", "--from", url], registry: "mine")
        #expect(refused.status == 4, "\(refused)")
        #expect(refused.stderr.contains("fraud diverged"), "\(refused)")
        #expect(refused.stdout.isEmpty)
        #expect(TreeSnapshot(t.join("mine")).entries.filter { $0.key.contains("models/") } == before.entries.filter { $0.key.contains("models/") })
        let push = mreg(["push", "--to", url], registry: "mine")
        #expect(push.status == 4, "\(push)")
        #expect(mreg(["fsck"], registry: "mine").status == 0)
    }
}
