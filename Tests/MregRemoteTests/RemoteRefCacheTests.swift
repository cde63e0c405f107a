import Foundation
import MregCore
import Testing
import _MregTestSupport
@testable import MregRemote

/// A command on a bucket lists the refs with their ETags and reads only those its local cache does
/// not hold at that ETag (MregCore/Remote/RefCache.swift). Counted by the fault proxy (no faults)
/// in front of SeaweedFS.
@Suite("Refs read from the local cache when unchanged", .enabled(if: S3TestServer.available, "needs SeaweedFS: run scripts/test.sh"))
final class RemoteRefCacheTests {
    let t = TemporaryDirectory("mreg-s3-refcache")
    let server = S3TestServer.current!
    let proxy: FaultProxy
    let direct: S3Client
    let bucket = S3TestServer.uniqueBucket("refcache")
    var url: String { "s3://\(bucket)/reg" }

    init() throws {
        proxy = try FaultProxy(upstream: S3TestServer.current!.endpoint)
        direct = try S3ClientLiveTests.client()
        try direct.createBucket(bucket)
    }

    deinit { proxy.stop(); direct.removeBucket(bucket) }

    /// `mreg ARGS --registry URL` with the cache `cache`, through the proxy.
    @discardableResult
    func mreg(_ args: [String], cache: String) -> CommandResult {
        var env = server.awsEnvironment
        env["HOME"] = t.mkdir("home-" + cache)
        env["MREG_CACHE"] = t.join("cache-" + cache)
        env["AWS_ENDPOINT_URL"] = proxy.endpoint
        return Mreg.run(args, cwd: t.path, env: env, registry: url)
    }

    /// The refs the last command read with a GET (not a LIST).
    func refsRead() -> [String] {
        proxy.requests.filter { $0.method == "GET" && $0.path.contains("/reg/models/") && !$0.path.contains("list-type") }
            .map { String($0.path[$0.path.range(of: "/reg/")!.upperBound...]) }.sorted()
    }

    func run(_ args: [String], cache: String) -> (CommandResult, [String]) {
        proxy.set([])
        let r = mreg(args, cache: cache)
        return (r, refsRead())
    }

    @Test("a warm cache reads no ref; a moved HEAD is read alone; a damaged entry is read again")
    func refsFromCache() throws {
        #expect(mreg(["init", url], cache: "a").status == 0)
        for n in 1...3 {
            t.write("m\(n).json", #"{"f1": 0.8}"#)
            t.write("a\(n)/model.bin", randomBytes(2000 + n, seed: UInt64(n)))
            #expect(mreg(["register", "fraud", "a\(n)", "--metrics", "m\(n).json"], cache: "a").status == 0)
        }
        // A cache that has never seen the registry reads every ref.
        let (cold, coldRefs) = run(["list", "fraud"], cache: "b")
        #expect(cold.status == 0)
        #expect(coldRefs == ["models/fraud/HEAD", "models/fraud/versions/1", "models/fraud/versions/2", "models/fraud/versions/3"])
        // The same command again: no ref read, the same output.
        let (warm, warmRefs) = run(["list", "fraud"], cache: "b")
        #expect(warm.status == 0 && warm.stdout == cold.stdout)
        #expect(warmRefs == [])
        // A change made on refs from the cache: its compare-and-swap sends the cached ETag, and wins.
        let (staged, stagedRefs) = run(["promote", "fraud@1", "--stage", "staging"], cache: "b")
        #expect(staged.status == 0, "\(staged)")
        #expect(stagedRefs == [])
        #expect(mreg(["resolve", "fraud@staging"], cache: "a").stdout.hasPrefix("fraud@1 sha256:"))
        // Another shell promotes: only the HEAD that moved is read, and its new value is used.
        #expect(mreg(["promote", "fraud@2", "--stage", "production"], cache: "a").status == 0)
        let (moved, movedRefs) = run(["resolve", "fraud@production"], cache: "b")
        #expect(moved.status == 0 && moved.stdout.hasPrefix("fraud@2 sha256:"), "\(moved)")
        #expect(movedRefs == ["models/fraud/HEAD"])
        // A damaged cache entry is not used: the ref is read again, the answer is right.
        let entry = t.join("cache-b/s3/\(bucket)/reg/refs/models/fraud/versions/1")
        var bytes = try #require(FileManager.default.contents(atPath: entry))
        bytes[bytes.count - 3] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: entry))
        let (damaged, damagedRefs) = run(["resolve", "fraud@1"], cache: "b")
        #expect(damaged.status == 0 && damaged.stdout.hasPrefix("fraud@1 sha256:"), "\(damaged)")
        #expect(damagedRefs == ["models/fraud/versions/1"])
    }
}
