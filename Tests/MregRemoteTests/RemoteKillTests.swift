#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MregCore
import Testing
import _MregTestSupport
@testable import MregRemote

/// `mreg push` and `mreg pull` killed with SIGKILL at a request chosen by a seeded generator (the
/// proxy holds that request, the test kills the process, the connection drops), then run again:
/// the rerun completes, and the destination has the source's refs and objects and passes fsck.
/// No timing: the kill point is a request count.
@Suite("push and pull killed with -9 and rerun", .enabled(if: S3TestServer.available, "needs SeaweedFS: run scripts/test.sh"))
final class RemoteKillTests {
    let t = TemporaryDirectory("mreg-s3-kill")
    let server = S3TestServer.current!
    let proxy: FaultProxy
    let direct: S3Client
    let bucket = S3TestServer.uniqueBucket("kill")
    static let seeds: [UInt64] = [1, 2, 3, 4, 5]

    init() throws {
        proxy = try FaultProxy(upstream: S3TestServer.current!.endpoint)
        direct = try S3ClientLiveTests.client()
        try direct.createBucket(bucket)
    }

    /// The bucket goes when the test ends: SeaweedFS gives each bucket its own volumes, and a
    /// server shared by many runs runs out of them.
    deinit { proxy.stop(); direct.removeBucket(bucket) }

    func environment(direct: Bool) -> [String: String] {
        var env = server.awsEnvironment
        env["HOME"] = t.mkdir("home")
        if !direct { env["AWS_ENDPOINT_URL"] = proxy.endpoint }
        return env
    }

    @discardableResult
    func mreg(_ args: [String], registry: String? = nil, direct: Bool = true, extra: [String: String] = [:]) -> CommandResult {
        Mreg.run(args, cwd: t.path, env: environment(direct: direct).merging(extra) { $1 }, registry: registry)
    }

    /// Runs `mreg ARGS` through the proxy, killing it with SIGKILL when it sends request `k`.
    /// Returns its termination: a signal number (`killed`) or an exit status.
    func runKilled(_ args: [String], registry: String, atRequest k: Int) throws -> (killed: Bool, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Mreg.binary)
        process.arguments = [args[0], "--registry", registry] + args.dropFirst()
        process.currentDirectoryURL = URL(fileURLWithPath: t.path)
        process.environment = ["PATH": "/usr/bin:/bin", "MREG_USER": "tester", "MREG_HOST": "testhost"]
            .merging(environment(direct: false)) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let started = DispatchSemaphore(value: 0)
        let pid = PIDBox()
        proxy.set([.nth(k, .hold({
            started.wait()
            started.signal()
            kill(pid.value, SIGKILL)
        }))])
        try process.run()
        pid.value = process.processIdentifier
        started.signal()
        process.waitUntilExit()
        return (process.terminationReason == .uncaughtSignal, process.terminationStatus)
    }

    /// What a registry holds, as keys and bytes: every ref under `models/` (locks and the staging
    /// files a crash leaves beside them aside) and the
    /// names of its objects.
    func contents(of storage: RegistryStorage) throws -> (refs: [String: [UInt8]], objects: [String]) {
        var refs: [String: [UInt8]] = [:]
        for key in try storage.list("models/") where !key.hasSuffix(".lock") && !key.contains(".lock.tmp-") && !key.hasSuffix("/CREATING") { refs[key] = try storage.get(key)?.bytes }
        return (refs, try storage.list("objects/"))
    }

    func s3(_ prefix: String) -> S3Storage { S3Storage(client: direct, bucket: bucket, prefix: prefix) }

    func makeSource() {
        #expect(mreg(["init", "source"]).status == 0)
        for n in 1...4 {
            t.write("m\(n).json", #"{"f1": 0.8}"#)
            for f in 0..<3 { t.write("a\(n)/part\(f).bin", randomBytes(1500 + 100 * f + n, seed: UInt64(10 * n + f))) }
            #expect(mreg(["register", "fraud", "a\(n)", "--metrics", "m\(n).json"], registry: "source").status == 0)
            #expect(mreg(["register", "churn", "a\(n)", "--metrics", "m\(n).json"], registry: "source").status == 0)
        }
        #expect(mreg(["promote", "fraud@3", "--stage", "production", "--override", "kill test"], registry: "source").status == 0)
    }

    @Test("push to S3 killed at a seeded request, rerun: complete and identical", arguments: seeds)
    func pushKilled(_ seed: UInt64) throws {
        makeSource()
        // How many requests a whole push makes (into an empty registry, as below).
        #expect(mreg(["init", "s3://\(bucket)/dry"]).status == 0)
        proxy.set([])
        let dry = mreg(["push", "--to", "s3://\(bucket)/dry"], registry: "source", direct: false)
        #expect(dry.status == 0, "\(dry)")
        let total = proxy.count
        #expect(total > 20)
        guard total > 0 else { return }

        var generator = SeededGenerator(seed: seed)
        let target = "s3://\(bucket)/seed\(seed)"
        #expect(mreg(["init", target]).status == 0)
        // Two kills at increasing points, then a rerun to the end.
        for attempt in 0..<2 {
            let k = Int.random(in: 1...total, using: &generator)
            let outcome = try runKilled(["push", "--to", target], registry: "source", atRequest: k)
            // The first push makes the dry run's requests, so it reaches request k; the second
            // has less to do and may end before it.
            #expect(outcome.killed || (attempt == 1 && outcome.status == 0), "push killed at request \(k) of \(total): \(outcome)")
            if outcome.killed { #expect(proxy.faulted.map(\.index) == [k], "\(proxy.requests)") }
        }
        proxy.set([])
        let rerun = mreg(["push", "--to", target], registry: "source", direct: false)
        #expect(rerun.status == 0, "\(rerun)")
        let source = try contents(of: DirectoryStorage(root: t.join("source")))
        let destination = try contents(of: s3("seed\(seed)"))
        #expect(destination.refs == source.refs)
        #expect(destination.objects == source.objects)
        #expect(mreg(["clone", target, "check\(seed)"]).status == 0)
        let fsck = mreg(["fsck"], registry: "check\(seed)")
        #expect(fsck.status == 0, "\(fsck)")
    }

    @Test("pull from S3 killed at a seeded request, or crashed at a seeded link(2), rerun: complete and identical", arguments: seeds)
    func pullKilled(_ seed: UInt64) throws {
        makeSource()
        let remote = "s3://\(bucket)/pull\(seed)"
        #expect(mreg(["init", remote]).status == 0)
        #expect(mreg(["push", "--to", remote], registry: "source").status == 0)
        proxy.set([])
        #expect(mreg(["init", "dry"]).status == 0)
        let dry = mreg(["pull", "--from", remote], registry: "dry", direct: false)
        #expect(dry.status == 0, "\(dry)")
        let total = proxy.count
        guard total > 0 else { return }

        var generator = SeededGenerator(seed: seed)
        let mine = "mine\(seed)"
        #expect(mreg(["init", mine]).status == 0)
        let k = Int.random(in: 1...total, using: &generator)
        let outcome = try runKilled(["pull", "--from", remote], registry: mine, atRequest: k)
        #expect(outcome.killed, "pull killed at request \(k) of \(total): \(outcome)")
        // The same, ended by the crash seam at a link(2) into the directory (exit 86, no clean-up).
        let n = Int.random(in: 1...40, using: &generator)
        let crashed = mreg(["pull", "--from", remote], registry: mine, direct: false, extra: ["MREG_FAULT": "link:\(n):crash"])
        #expect(crashed.status == 86 || crashed.status == 0, "\(crashed)")
        proxy.set([])
        let rerun = mreg(["pull", "--from", remote], registry: mine, direct: false)
        #expect(rerun.status == 0, "\(rerun)")
        let source = try contents(of: s3("pull\(seed)"))
        let destination = try contents(of: DirectoryStorage(root: t.join(mine)))
        #expect(destination.refs == source.refs)
        #expect(destination.objects == source.objects)
        let fsck = mreg(["fsck"], registry: mine)
        #expect(fsck.status == 0, "\(fsck)")
        // What a crash left beside a lock in the directory (a `HEAD.lock.tmp-*` staging file) is no
        // ref: pushed on, it does not travel.
        #expect(mreg(["init", "s3://\(bucket)/back\(seed)"]).status == 0)
        #expect(mreg(["push", "--to", "s3://\(bucket)/back\(seed)"], registry: mine).status == 0)
        #expect(try contents(of: s3("back\(seed)")).refs == source.refs)
        #expect(try s3("back\(seed)").list("models/").allSatisfy { !$0.contains(".lock") })
    }
}

final class PIDBox: @unchecked Sendable {
    var value: pid_t = 0
}
