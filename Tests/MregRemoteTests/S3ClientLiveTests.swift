import Foundation
import MregCore
import Testing
import _MregTestSupport
@testable import MregRemote

/// The S3 client against a real server: SeaweedFS on 127.0.0.1, started by scripts/s3-server.sh
/// (scripts/test.sh does it). Skipped, loudly, without it.
@Suite("S3 client against SeaweedFS", .enabled(if: S3TestServer.available, "needs SeaweedFS: run scripts/test.sh"))
struct S3ClientLiveTests {
    static func client(secret: String? = nil) throws -> S3Client {
        let server = S3TestServer.current!
        let config = try S3Config(
            credentials: AWSCredentials(accessKeyID: server.accessKey, secretAccessKey: secret ?? server.secretKey),
            region: server.region, endpoint: server.endpoint)
        return S3Client(config: config, retry: RetryPolicy(attempts: 3, baseDelay: 0.05))
    }

    static func bucket(_ label: String) throws -> (S3Client, String) {
        let client = try client()
        let bucket = S3TestServer.uniqueBucket(label)
        try client.createBucket(bucket)
        return (client, bucket)
    }

    /// Runs `body(i)` on `n` threads that start together; returns what each gave, in order of i.
    static func concurrently<T: Sendable>(_ n: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
        let results = Locked([T?](repeating: nil, count: n))
        let start = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        for i in 0..<n {
            group.enter()
            Thread {
                start.wait()
                let value = body(i)
                results.update { $0[i] = value }
                group.leave()
            }.start()
        }
        for _ in 0..<n { start.signal() }
        group.wait()
        return results.value.map { $0! }
    }

    @Test("a wrong secret is refused by the server: HTTP 403 in one line")
    func badSecret() throws {
        let client = try Self.client(secret: "not-the-secret")
        do {
            _ = try client.list(bucket: "mreg-anything", prefix: "")
            Issue.record("a request signed with a wrong secret was accepted")
        } catch let e as MregError {
            #expect(e.message.contains("HTTP 403"), "\(e.message)")
            #expect(e.message.hasPrefix("S3 list s3://mreg-anything"), "\(e.message)")
            #expect(!e.message.contains("\n"))
            #expect(e.kind == .operational)
        }
    }

    @Test("put, get, head, delete; a missing key is nil, not an error")
    func roundTrip() throws {
        let (client, bucket) = try Self.bucket("rt")
        let data = Data("hello, registry\n".utf8)
        guard case .written(let etag) = try client.put(bucket: bucket, key: "a/b c.txt", data: data) else {
            Issue.record("put did not write"); return
        }
        #expect(!etag.isEmpty)
        let got = try #require(try client.get(bucket: bucket, key: "a/b c.txt"))
        #expect(got.data == data)
        #expect(got.etag == etag)
        #expect(try client.head(bucket: bucket, key: "a/b c.txt")?.size == Int64(data.count))
        #expect(try client.get(bucket: bucket, key: "missing") == nil)
        #expect(try client.head(bucket: bucket, key: "missing") == nil)
        try client.delete(bucket: bucket, key: "a/b c.txt")
        #expect(try client.get(bucket: bucket, key: "a/b c.txt") == nil)
    }

    @Test("put-if-absent: 12 concurrent writers of one key, exactly one wins and its bytes stay")
    func putIfAbsentRace() throws {
        let (client, bucket) = try Self.bucket("absent")
        let outcomes = Self.concurrently(12) { i in
            Result { try client.put(bucket: bucket, key: "objects/x", data: Data("writer \(i)".utf8), condition: .absent) }
        }
        let winners = outcomes.indices.filter { if case .success(.written) = outcomes[$0] { return true } else { return false } }
        let losers = outcomes.filter { if case .success(.preconditionFailed) = $0 { return true } else { return false } }
        #expect(winners.count == 1, "\(outcomes)")
        #expect(losers.count == 11, "\(outcomes)")
        let stored = try #require(try client.get(bucket: bucket, key: "objects/x"))
        #expect(stored.data == Data("writer \(winners.first ?? -1)".utf8))
    }

    @Test("compare-and-swap: 12 concurrent swaps from one ETag, exactly one wins; a stale or missing ETag loses")
    func casRace() throws {
        let (client, bucket) = try Self.bucket("cas")
        guard case .written(let etag) = try client.put(bucket: bucket, key: "refs/HEAD", data: Data("v0".utf8)) else {
            Issue.record("setup put did not write"); return
        }
        let outcomes = Self.concurrently(12) { i in
            Result { try client.put(bucket: bucket, key: "refs/HEAD", data: Data("v1 by \(i)".utf8), condition: .matches(etag)) }
        }
        let winners = outcomes.indices.filter { if case .success(.written) = outcomes[$0] { return true } else { return false } }
        #expect(winners.count == 1, "\(outcomes)")
        #expect(outcomes.filter { if case .success(.preconditionFailed) = $0 { return true } else { return false } }.count == 11)
        #expect(try client.get(bucket: bucket, key: "refs/HEAD")?.data == Data("v1 by \(winners.first ?? -1)".utf8))
        // The old ETag again: lost, nothing changed.
        #expect(try client.put(bucket: bucket, key: "refs/HEAD", data: Data("late".utf8), condition: .matches(etag)) == .preconditionFailed)
        #expect(try client.put(bucket: bucket, key: "refs/none", data: Data("x".utf8), condition: .matches(etag)) == .preconditionFailed)
        #expect(try client.get(bucket: bucket, key: "refs/none") == nil)
    }

    @Test("multipart: a 20 MiB file goes up in parts, create-only, and comes down byte for byte")
    func multipart() throws {
        let (client, bucket) = try Self.bucket("multi")
        let dir = TemporaryDirectory("mreg-s3-multipart")
        let payload = randomBytes(20 << 20 + 12345, seed: 7)
        let source = dir.write("big.bin", payload)
        let outcome = try client.upload(bucket: bucket, key: "objects/big", from: source, condition: .absent)
        guard case .written = outcome else { Issue.record("upload: \(outcome)"); return }
        // Three parts: the ETag of a multipart object ends in -3 on S3 and SeaweedFS.
        let info = try #require(try client.head(bucket: bucket, key: "objects/big"))
        #expect(info.size == Int64(payload.count))
        #expect(info.etag.hasSuffix("-3\""), "\(info.etag)")
        let copy = dir.join("copy.bin")
        #expect(try client.download(bucket: bucket, key: "objects/big", to: copy)?.size == Int64(payload.count))
        #expect(FileManager.default.contents(atPath: copy) == payload)
        // A second create-only upload of the same name finds it there; no upload is left behind.
        #expect(try client.upload(bucket: bucket, key: "objects/big", from: source, condition: .absent) == .preconditionFailed)
        #expect(try client.download(bucket: bucket, key: "objects/none", to: dir.join("none")) == nil)
        #expect(!dir.exists("none"))
    }

    @Test("list follows continuation tokens: 23 keys in pages of 5, in order, and only under the prefix")
    func listPagination() throws {
        let (client, bucket) = try Self.bucket("list")
        for i in 0..<23 { _ = try client.put(bucket: bucket, key: String(format: "p/k%02d", i), data: Data([UInt8(i)])) }
        _ = try client.put(bucket: bucket, key: "q/other", data: Data("x".utf8))
        let keys = try client.list(bucket: bucket, prefix: "p/", pageSize: 5).map(\.key)
        #expect(keys == (0..<23).map { String(format: "p/k%02d", $0) })
        #expect(try client.list(bucket: bucket, prefix: "p/k1", pageSize: 5).map(\.size) == Array(repeating: 1, count: 10))
    }
}

/// A value shared between test threads.
final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T { lock.withLock { stored } }
    func update(_ body: (inout T) -> Void) { lock.withLock { body(&stored) } }
}
