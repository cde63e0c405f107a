import Foundation
import MregCore
import Testing
import _MregTestSupport
@testable import MregRemote

/// The built `mreg` talking to SeaweedFS through `FaultProxy`: for each command, a fault at each of
/// its requests in turn. One fault is absorbed by the retries (the command completes, with the right
/// result); a server that stays down from some request on makes the command fail with one line and
/// change nothing visible (refs as before), unless it failed past its commit point, which it then
/// says. After each sweep, a clone of the bucket passes `fsck`.
@Suite("mreg commands through the fault proxy", .enabled(if: S3TestServer.available, "needs SeaweedFS: run scripts/test.sh"))
final class RemoteFaultEndToEndTests {
    let t = TemporaryDirectory("mreg-s3-fault")
    let server = S3TestServer.current!
    let proxy: FaultProxy
    let direct: S3Client
    let bucket = S3TestServer.uniqueBucket("fault")
    var url: String { "s3://\(bucket)/reg" }

    init() throws {
        proxy = try FaultProxy(upstream: S3TestServer.current!.endpoint)
        direct = try S3ClientLiveTests.client()
        try direct.createBucket(bucket)
    }

    /// The bucket goes when the test ends: SeaweedFS gives each bucket its own volumes, and a
    /// server shared by many runs runs out of them.
    deinit { proxy.stop(); direct.removeBucket(bucket) }

    /// `mreg ARGS`, through the proxy unless `direct`, with its own HOME (and so its own cache).
    @discardableResult
    func mreg(_ args: [String], registry: String? = nil, direct: Bool = false, home: String = "home") -> CommandResult {
        var env = server.awsEnvironment
        env["HOME"] = t.mkdir(home)
        if !direct { env["AWS_ENDPOINT_URL"] = proxy.endpoint }
        return Mreg.run(args, cwd: t.path, env: env, registry: registry)
    }

    /// Every ref of the registry in the bucket (key → bytes), read straight from the server.
    func refs() throws -> [String: Data] {
        var refs: [String: Data] = [:]
        for info in try direct.list(bucket: bucket, prefix: "reg/models/") {
            refs[info.key] = try direct.get(bucket: bucket, key: info.key)?.data
        }
        return refs
    }

    /// The refs and the object names of the registry in the bucket.
    struct State: Equatable {
        var refs: [String: Data]
        var objects: Set<String>
    }

    func state() throws -> State {
        State(refs: try refs(), objects: Set(try direct.list(bucket: bucket, prefix: "reg/objects/").map(\.key)))
    }

    /// Puts the bucket back as it was (refs and objects), straight through the server, so that
    /// every run of a sweep starts from the same state and makes the same requests.
    func restore(_ saved: State) throws {
        let now = try state()
        for (key, bytes) in saved.refs where now.refs[key] != bytes {
            _ = try direct.put(bucket: bucket, key: key, data: bytes)
        }
        for key in now.refs.keys where saved.refs[key] == nil { try direct.delete(bucket: bucket, key: key) }
        for key in now.objects.subtracting(saved.objects) { try direct.delete(bucket: bucket, key: key) }
    }

    /// A clone of the bucket (straight from the server) passes fsck.
    func expectClean(_ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let dir = "clone-\(UUID().uuidString.prefix(8))"
        let cloned = mreg(["clone", url, dir], direct: true, home: "checker")
        #expect(cloned.status == 0, "\(label): \(cloned)", sourceLocation: sourceLocation)
        let fsck = mreg(["fsck"], registry: t.join(dir), direct: true, home: "checker")
        #expect(fsck.status == 0, "\(label): \(fsck)", sourceLocation: sourceLocation)
        try? FileManager.default.removeItem(atPath: t.join(dir))
    }

    func writeVersion(_ n: Int) {
        t.write("m\(n).json", #"{"f1": 0.8}"#)
        t.write("a\(n)/model.bin", randomBytes(2000 + n, seed: UInt64(n)))
        t.write("a\(n)/config.json", "{\"n\": \(n)}")
    }

    func setUpRegistry(versions: Int) {
        #expect(mreg(["init", url], direct: true).status == 0)
        for n in 1...versions {
            writeVersion(n)
            #expect(mreg(["register", "fraud", "a\(n)", "--metrics", "m\(n).json"], registry: url, direct: true).status == 0)
        }
    }

    /// Runs `command(i)` with one fault at request k = 1, 2, … until k is past the command's last
    /// request, from the same state each time (`restore`); each run must complete (`check` says
    /// whether with the right result), and every third leaves a bucket whose clone passes fsck.
    func sweepSingleFaults(_ label: String, kinds: [FaultProxy.Fault], _ command: (Int) -> CommandResult,
                           check: (Int, CommandResult) throws -> Void) throws {
        let base = try state()
        var i = 0
        for fault in kinds {
            var k = 1
            while true {
                i += 1
                proxy.set([.nth(k, fault)])
                let r = command(i)
                let requests = proxy.requests
                #expect(r.status == 0, "\(label), \(fault.name) at request \(k) of \(requests): \(r)")
                try check(i, r)
                if k % 3 == 0 { expectClean("\(label), \(fault.name) at request \(k)") }
                try restore(base)
                if requests.allSatisfy({ $0.fault == nil }) { break }  // k was past the last request
                k += 1
            }
            #expect(k > 3, "\(label): the command made fewer requests than expected")
        }
    }

    /// A server that stays down from request k on: the command fails with one line naming an S3
    /// operation, and the refs are as before, unless the error says the write may have been applied
    /// or the command committed (exit 0, warning about what follows its commit point).
    func sweepOutages(_ label: String, fault: FaultProxy.Fault, ks: [Int], _ command: (Int) -> CommandResult) throws {
        let base = try state()
        for (i, k) in ks.enumerated() {
            proxy.set([.from(k, fault)])
            let r = command(1000 + i)
            let after = try refs()
            if r.status == 0 {
                #expect(after != base.refs || proxy.faulted.isEmpty, "\(label): exit 0 but nothing changed: \(r)")
            } else {
                #expect(r.status == 1, "\(label), \(fault.name) from request \(k): \(r)")
                let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("mreg: error: ") }
                #expect(errors.count == 1 && errors[0].hasPrefix("mreg: error: S3 "), "\(label): \(r.stderr)")
                #expect(r.stdout.isEmpty, "\(label): a failed command printed a result: \(r)")
                if after != base.refs {
                    #expect(r.stderr.contains("may or may not have been applied"), "\(label), from request \(k): refs changed by a failed command: \(r)")
                }
            }
            expectClean("\(label), \(fault.name) from request \(k)")
            try restore(base)
        }
    }

    @Test("register: one fault of each kind at every request is absorbed; outages change nothing")
    func register() throws {
        setUpRegistry(versions: 1)
        try sweepSingleFaults("register", kinds: FaultProxy.Fault.sweep, { i in
            writeVersion(100 + i)
            return mreg(["register", "fraud", "a\(100 + i)", "--metrics", "m\(100 + i).json", "--json"], registry: url)
        }, check: { i, r in
            #expect(r.json["version"] as? Int == 2, "\(r)")
            let fetched = mreg(["fetch", "fraud@2", "--out", "out\(i)"], registry: url, direct: true, home: "checker")
            #expect(fetched.status == 0, "\(fetched)")
            #expect(t.read("out\(i)/model.bin") == randomBytes(2100 + i, seed: UInt64(100 + i)))
        })
        try sweepOutages("register", fault: .answer(503), ks: [1, 2, 3, 6, 9, 12, 15]) { i in
            writeVersion(i)
            return mreg(["register", "fraud", "a\(i)", "--metrics", "m\(i).json"], registry: url)
        }
        try sweepOutages("register", fault: .dropAfterForwarding, ks: [4, 8, 10, 12, 14, 16]) { i in
            writeVersion(i)
            return mreg(["register", "fraud", "a\(i)", "--metrics", "m\(i).json"], registry: url)
        }
    }

    @Test("promote and rollback: faults absorbed, the champion is what the command said; outages change nothing")
    func promoteAndRollback() throws {
        setUpRegistry(versions: 2)
        #expect(mreg(["promote", "fraud@1", "--stage", "production", "--override", "setup"], registry: url, direct: true).status == 0)
        let kinds = FaultProxy.Fault.sweep
        try sweepSingleFaults("promote", kinds: [kinds[1], kinds[3], kinds[5]], { _ in
            mreg(["promote", "fraud@2", "--stage", "production", "--override", "fault test"], registry: url)
        }, check: { _, r in
            let champion = mreg(["resolve", "fraud@production"], registry: url, direct: true, home: "checker")
            #expect(champion.stdout.hasPrefix("fraud@2 "), "\(champion)")
        })
        try sweepOutages("promote", fault: .dropBeforeForwarding, ks: [1, 3, 5, 7, 9, 11]) { _ in
            mreg(["promote", "fraud@2", "--stage", "production", "--override", "fault test"], registry: url)
        }
        // 1, then 2 champions: roll back to 1.
        #expect(mreg(["promote", "fraud@2", "--stage", "production", "--override", "setup"], registry: url, direct: true).status == 0)
        try sweepSingleFaults("rollback", kinds: [kinds[0], kinds[2], kinds[4]], { _ in
            mreg(["rollback", "fraud", "--stage", "production", "--to", "fraud@1", "--reason", "fault test"], registry: url)
        }, check: { _, r in
            let champion = mreg(["resolve", "fraud@production"], registry: url, direct: true, home: "checker")
            #expect(champion.stdout.hasPrefix("fraud@1 "), "\(champion)")
        })
    }

    @Test("observe: a batch appended once through faults at every request")
    func observe() throws {
        setUpRegistry(versions: 1)
        try sweepSingleFaults("observe", kinds: [.dropAfterForwarding, .answer(503), .cutResponseBody], { i in
            t.write("batch\(i).csv", "id,time,score\nr\(i)-1,2026-01-01T00:00:00Z,0.25\nr\(i)-2,2026-01-01T00:00:01Z,0.75\n")
            return mreg(["observe", "fraud@1", "batch\(i).csv", "--json"], registry: url)
        }, check: { _, r in
            #expect(r.json["duplicate"] as? Bool == false, "\(r)")
            #expect(r.json["seq"] as? Int == 1, "\(r)")
        })
    }

    @Test("fetch: through any single fault the bytes out are the registered bytes; through an outage, no output")
    func fetch() throws {
        setUpRegistry(versions: 1)
        try sweepSingleFaults("fetch", kinds: FaultProxy.Fault.sweep, { i in
            mreg(["fetch", "fraud@1", "--out", "out\(i)"], registry: url, home: "deploy\(i)")  // a cold cache each time
        }, check: { i, _ in
            #expect(t.read("out\(i)/model.bin") == randomBytes(2001, seed: 1))
        })
        proxy.set([.from(5, .answer(500))])
        let r = mreg(["fetch", "fraud@1", "--out", "down"], registry: url, home: "cold")
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.hasPrefix("mreg: error: S3 get "), "\(r)")
        #expect(r.stderr.contains("HTTP 500 InternalError") && r.stderr.contains("(after 5 tries)"), "\(r)")
        #expect(!t.exists("down/model.bin"))
    }

    @Test("push, pull and clone through faults at every request: complete, and the two sides agree")
    func copies() throws {
        setUpRegistry(versions: 2)
        #expect(mreg(["clone", url, "local"], direct: true).status == 0)
        writeVersion(3)
        #expect(mreg(["register", "fraud", "a3", "--metrics", "m3.json"], registry: "local", direct: true).status == 0)
        // push: the local registry is one version ahead of the bucket, pushed through a fault.
        try sweepSingleFaults("push", kinds: [.dropAfterForwarding, .answer(500), .cutResponseBody], { _ in
            mreg(["push", "--to", url], registry: "local")
        }, check: { _, r in
            #expect(r.stdout.contains("fraud: fast-forward"), "\(r)")
            #expect(mreg(["resolve", "fraud@3"], registry: url, direct: true, home: "checker").stdout
                    == mreg(["resolve", "fraud@3"], registry: "local", direct: true).stdout)
        })
        let before = try state()
        // clone and pull into fresh directories, a fault at each request.
        try sweepSingleFaults("clone", kinds: [.dropBeforeForwarding, .answer(503), .cutResponseBody], { i in
            mreg(["clone", url, "c\(i)"])
        }, check: { i, _ in
            #expect(mreg(["fsck"], registry: "c\(i)", direct: true).status == 0)
            #expect(mreg(["resolve", "fraud"], registry: "c\(i)", direct: true).stdout.hasPrefix("fraud@2 "))
        })
        try sweepSingleFaults("pull", kinds: [.dropAfterForwarding, .answer(500)], { i in
            _ = mreg(["init", "p\(i)"], direct: true)
            return mreg(["pull", "--from", url], registry: "p\(i)")
        }, check: { i, r in
            #expect(r.stdout.contains("fraud: new"), "\(r)")
            #expect(mreg(["fsck"], registry: "p\(i)", direct: true).status == 0)
            #expect(mreg(["resolve", "fraud"], registry: "p\(i)", direct: true).stdout.hasPrefix("fraud@2 "))
        })
        #expect(try state() == before)  // pulls and clones changed nothing in the bucket
    }
}
