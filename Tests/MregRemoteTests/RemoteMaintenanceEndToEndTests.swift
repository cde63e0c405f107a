import Foundation
import MregCore
import Testing
import _MregTestSupport
@testable import MregRemote

/// `mreg fsck` and `mreg gc` on a registry in a SeaweedFS bucket, through the built binary; the
/// bucket damaged and filled with garbage by the S3 client directly.
@Suite("fsck and gc of a registry in S3, end to end", .enabled(if: S3TestServer.available, "needs SeaweedFS: run scripts/test.sh"))
struct RemoteMaintenanceEndToEndTests {
    let t = TemporaryDirectory("mreg-s3-maint")
    let server = S3TestServer.current!
    let client: S3Client
    let bucket: String
    let prefix = "teams/fraud"
    var url: String { "s3://\(bucket)/\(prefix)" }

    init() throws {
        (client, bucket) = try S3ClientLiveTests.bucket("maint")
    }

    @discardableResult
    func mreg(_ args: [String], home: String = "alice", extra: [String: String] = [:]) -> CommandResult {
        let dir = t.mkdir(home)
        var env = server.awsEnvironment
        env["HOME"] = dir
        for (k, v) in extra { env[k] = v }
        return Mreg.run(args, cwd: t.path, env: env, registry: url)
    }

    func registerVersion(_ n: Int, home: String = "alice", extra: [String: String] = [:]) -> CommandResult {
        t.write("m\(n).json", #"{"f1": 0.8, "latency_p99_ms": 12}"#)
        t.write("a\(n)/model.bin", randomBytes(3000 + n, seed: UInt64(n)))
        return mreg(["register", "fraud", "a\(n)", "--metrics", "m\(n).json", "--json"], home: home, extra: extra)
    }

    /// init, `count` versions, the last promoted to production.
    func lifecycle(_ count: Int) {
        let initialized = Mreg.run(["init", url], cwd: t.path, env: server.awsEnvironment.merging(["HOME": t.mkdir("alice")]) { $1 })
        #expect(initialized.status == 0, "\(initialized)")
        for n in 1...count { #expect(registerVersion(n).status == 0) }
        #expect(mreg(["promote", "fraud@\(count)", "--stage", "production"]).status == 0)
    }

    /// The object keys in the bucket (relative to the registry), with their sizes.
    func objects() throws -> [(key: String, size: Int64)] {
        try client.list(bucket: bucket, prefix: prefix + "/objects/").map { (String($0.key.dropFirst(prefix.count + 1)), $0.size) }
    }

    /// `fetch` of every version from a fresh cache gives the registered bytes.
    func fetchesEveryVersion(_ count: Int, home: String) {
        for n in 1...count {
            let r = mreg(["fetch", "fraud@\(n)", "--out", "out-\(home)-\(n)"], home: home)
            #expect(r.status == 0, "\(r)")
            #expect(t.read("out-\(home)-\(n)/model.bin") == randomBytes(3000 + n, seed: UInt64(n)))
        }
    }

    @Test("fsck of a fresh lifecycle is clean, from any cache; it reads every object in the bucket")
    func fsckClean() throws {
        lifecycle(2)
        let count = try objects().count
        for home in ["alice", "auditor"] {
            let r = mreg(["fsck"], home: home)
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout.hasPrefix("ok: \(count) objects"), "\(r)")
            #expect(r.stdout.contains("1 models, 2 versions"), "\(r)")
        }
        let json = mreg(["fsck", "--json"], home: "auditor")
        #expect(json.json["ok"] as? Bool == true, "\(json)")
        #expect(json.json["objects"] as? Int == count)
        #expect((json.json["problems"] as? [Any])?.isEmpty == true)
    }

    @Test("fsck names a replaced, a truncated and a missing object in the bucket, though the local cache holds good copies")
    func fsckFindsDamage() throws {
        lifecycle(3)
        #expect(mreg(["fetch", "fraud@1", "--out", "warm"]).status == 0)  // alice's cache holds every artifact
        // The three artifacts are the largest objects (3001, 3002, 3003 random bytes, stored raw).
        let artifacts = try objects().sorted { $0.size < $1.size }.suffix(3).map(\.key)
        let (replaced, truncated, missing) = (artifacts[0], artifacts[1], artifacts[2])
        let original = try #require(try client.get(bucket: bucket, key: prefix + "/" + replaced)).data
        var flipped = original
        flipped[flipped.count - 10] ^= 0xff
        _ = try client.put(bucket: bucket, key: prefix + "/" + replaced, data: flipped)
        let whole = try #require(try client.get(bucket: bucket, key: prefix + "/" + truncated)).data
        _ = try client.put(bucket: bucket, key: prefix + "/" + truncated, data: whole.prefix(whole.count / 2))
        try client.delete(bucket: bucket, key: prefix + "/" + missing)

        let r = mreg(["fsck"])
        #expect(r.status == 1, "\(r)")
        func id(_ key: String) -> String { "sha256:" + key.dropFirst("objects/".count).replacingOccurrences(of: "/", with: "") }
        let errors = r.stdout.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        // Each damaged object: named with its key in the bucket, and as what the history misses.
        for key in [replaced, truncated] {
            #expect(errors.contains { $0.contains(id(key)) && $0.contains("\(url)/\(key)") }, "\(key): \(r)")
            #expect(errors.contains { $0.contains("artifact") && $0.contains("object \(id(key)) is corrupt") }, "\(key): \(r)")
        }
        #expect(errors.contains { $0.contains("fraud@3 artifact") && $0.contains("object \(id(missing)) is missing") }, "\(r)")
        #expect(r.stdout.contains("\n\(errors.count) problems in "), "\(r)")
        #expect(r.stderr.isEmpty, "\(r)")
    }

    @Test("gc keeps reachable and young objects, removes old unreferenced ones and incomplete uploads; dry run changes nothing; fsck and fetch after")
    func gcRemovesOnlyOldGarbage() throws {
        lifecycle(2)
        let reachable = Set(try objects().map(\.key))
        // Garbage: the valid objects of another registry, uploaded under their names, and an
        // upload started and never completed.
        let other = t.path + "/other"
        #expect(Mreg.run(["init", other], cwd: t.path).status == 0)
        t.write("g.json", #"{"f1": 0.5}"#)
        t.write("g/garbage.bin", randomBytes(5000, seed: 99))
        #expect(Mreg.run(["register", "junk", "g", "--metrics", "g.json"], cwd: t.path, registry: other).status == 0)
        var garbage: [String] = []
        for fan in try FileManager.default.contentsOfDirectory(atPath: other + "/objects") {
            for name in try FileManager.default.contentsOfDirectory(atPath: other + "/objects/" + fan) {
                let key = "objects/\(fan)/\(name)"
                guard !reachable.contains(key) else { continue }
                _ = try client.put(bucket: bucket, key: prefix + "/" + key, data: try Data(contentsOf: URL(fileURLWithPath: other + "/" + key)))
                garbage.append(key)
            }
        }
        let uploadKey = prefix + "/" + garbage[0] + ".part"
        _ = try client.startUpload(bucket: bucket, key: uploadKey)
        // Leftovers of a dead command in the local cache, and the working copy of a live one.
        let cache = t.path + "/cache"
        let root = cache + "/s3/\(bucket)/\(prefix)"
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        t.mkdir("cache/s3/\(bucket)/\(prefix)/work/\(dead.processIdentifier)-7/objects")
        t.write("cache/s3/\(bucket)/\(prefix)/tmp/get-\(dead.processIdentifier)-8", "partial")
        t.mkdir("cache/s3/\(bucket)/\(prefix)/work/\(getpid())-9")
        let env = ["MREG_CACHE": cache]

        let everything = Set(try objects().map(\.key))
        #expect(everything == reachable.union(garbage))
        // Dry run, everything old: says what it would remove, removes nothing.
        let dry = mreg(["gc", "--grace", "0", "--dry-run"], extra: env)
        #expect(dry.status == 0, "\(dry)")
        #expect(dry.stdout.hasPrefix("would remove \(garbage.count) objects ("), "\(dry)")
        #expect(dry.stdout.hasSuffix("and 3 leftover files of interrupted commands; kept \(reachable.count)\n"), "\(dry)")
        #expect(Set(try objects().map(\.key)) == everything)
        #expect(try client.uploads(bucket: bucket, prefix: prefix + "/").count == 1)
        #expect(FileManager.default.fileExists(atPath: root + "/work/\(dead.processIdentifier)-7"))
        // The default grace (two weeks) and an hour: the garbage is young, nothing goes.
        for grace in [[], ["--grace", "3600"]] {
            let young = mreg(["gc", "--json"] + grace, extra: env)
            #expect(young.status == 0, "\(young)")
            #expect(young.json["removed_objects"] as? Int == 0, "\(young)")
            #expect(young.json["kept"] as? Int == everything.count, "\(young)")
        }
        #expect(Set(try objects().map(\.key)) == everything)
        // Two hours later (the clock moved by the test seam), an hour's grace: the garbage goes.
        let old = mreg(["gc", "--grace", "3600", "--json"], extra: env.merging(["MREG_TEST_GC_CLOCK_OFFSET": "7200"]) { $1 })
        #expect(old.status == 0, "\(old)")
        #expect(old.json["removed_objects"] as? Int == garbage.count, "\(old)")
        #expect(old.json["removed_temps"] as? Int == 1, "the upload; the cache's leftovers went at the first gc: \(old)")
        #expect(old.json["kept"] as? Int == reachable.count, "\(old)")
        #expect(Set(try objects().map(\.key)) == reachable)
        #expect(try client.uploads(bucket: bucket, prefix: prefix + "/").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: root + "/work/\(dead.processIdentifier)-7"))
        #expect(!FileManager.default.fileExists(atPath: root + "/tmp/get-\(dead.processIdentifier)-8"))
        #expect(FileManager.default.fileExists(atPath: root + "/work/\(getpid())-9"))

        let fsck = mreg(["fsck"], home: "auditor")
        #expect(fsck.status == 0, "\(fsck)")
        #expect(!fsck.stdout.contains("note:"), "\(fsck)")
        fetchesEveryVersion(2, home: "deployer")
    }

    /// A register that has uploaded its objects and waits before its commit, while gc runs.
    func registerRacingGC(grace: [String]) throws -> (gc: CommandResult, register: CommandResult) {
        lifecycle(1)
        let barrier = t.mkdir("barrier")
        let register = Locked<CommandResult?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            register.update { $0 = registerVersion(2, home: "writer", extra: ["MREG_TEST_REMOTE_BARRIER": barrier]) }
            done.signal()
        }.start()
        while ((try? FileManager.default.contentsOfDirectory(atPath: barrier)) ?? []).filter({ $0.hasPrefix("ready.") }).isEmpty {
            usleep(10_000)
        }
        let gc = mreg(["gc", "--json"] + grace, home: "janitor")
        _ = FileManager.default.createFile(atPath: barrier + "/go", contents: nil)
        done.wait()
        return (gc, register.value!)
    }

    @Test("a register racing gc --grace 0, stopped after its uploads and before its commit: its entry is built on HEAD, so gc keeps it and all it names; fsck clean")
    func registerRacingGCWithoutGrace() throws {
        let (gc, register) = try registerRacingGC(grace: ["--grace", "0"])
        #expect(gc.status == 0, "\(gc)")
        #expect(gc.json["removed_objects"] as? Int == 0, "\(gc)")
        #expect(register.status == 0, "\(register)")
        let fsck = mreg(["fsck"], home: "auditor")
        #expect(fsck.status == 0, "\(fsck)")
        fetchesEveryVersion(2, home: "deployer")
    }

    @Test("a register racing gc with the default grace: nothing of it is removed, fsck clean, every version fetches")
    func registerRacingGCWithGrace() throws {
        let (gc, register) = try registerRacingGC(grace: [])
        #expect(gc.status == 0, "\(gc)")
        #expect(gc.json["removed_objects"] as? Int == 0, "\(gc)")
        #expect(register.status == 0, "\(register)")
        let fsck = mreg(["fsck"], home: "auditor")
        #expect(fsck.status == 0, "\(fsck)")
        fetchesEveryVersion(2, home: "deployer")
    }

    @Test("a stray key under objects/ is a problem; fsck and gc of a missing registry exit 2")
    func straysAndMissing() throws {
        lifecycle(1)
        _ = try client.put(bucket: bucket, key: prefix + "/objects/zz/not-an-object", data: Data("x".utf8))
        let r = mreg(["fsck"])
        #expect(r.status == 1, "\(r)")
        #expect(r.stdout.contains("error: \(url)/objects/zz/not-an-object: unexpected key in the object store"), "\(r)")
        for command in ["fsck", "gc"] {
            let missing = Mreg.run([command], cwd: t.path, env: server.awsEnvironment.merging(["HOME": t.mkdir("x")]) { $1 },
                                   registry: "s3://\(bucket)/nothing-here")
            #expect(missing.status == 2, "\(missing)")
            #expect(missing.stderr.hasPrefix("mreg: error: s3://\(bucket)/nothing-here is not an mreg registry"), "\(missing)")
        }
    }
}
