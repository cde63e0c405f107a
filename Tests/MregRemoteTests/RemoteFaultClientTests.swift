import Foundation
import MregCore
import Testing
import _MregTestSupport
@testable import MregRemote

/// The S3 client through `FaultProxy` to SeaweedFS: which faults are retried, and how a retried
/// conditional write whose first try was applied (its answer lost) is told from a lost race.
@Suite("S3 client through the fault proxy", .enabled(if: S3TestServer.available, "needs SeaweedFS: run scripts/test.sh"))
final class RemoteFaultClientTests {
    let server = S3TestServer.current!
    let proxy: FaultProxy
    /// Through the proxy; 5 tries, short pauses.
    let client: S3Client
    /// Straight to the server, to see what really is there.
    let direct: S3Client
    let bucket = S3TestServer.uniqueBucket("faultc")

    init() throws {
        proxy = try FaultProxy(upstream: S3TestServer.current!.endpoint)
        let config = try S3Config(credentials: AWSCredentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey),
                                  region: server.region, endpoint: proxy.endpoint)
        client = S3Client(config: config, retry: RetryPolicy(attempts: 5, baseDelay: 0.01, maxTotal: 20))
        direct = try S3ClientLiveTests.client()
        try direct.createBucket(bucket)
    }

    /// The bucket goes when the test ends: SeaweedFS gives each bucket its own volumes, and a
    /// server shared by many runs runs out of them.
    deinit { proxy.stop(); direct.removeBucket(bucket) }

    @Test("the proxy forwards real bytes, counts requests and logs the faults it applied")
    func proxyPassesAndCounts() throws {
        #expect(try client.put(bucket: bucket, key: "a", data: Data("hello".utf8)) != .preconditionFailed)
        #expect(try client.get(bucket: bucket, key: "a")?.data == Data("hello".utf8))
        #expect(proxy.count == 2)
        #expect(proxy.requests.map(\.method) == ["PUT", "GET"])
        #expect(proxy.requests[0].path == "/\(bucket)/a")
        proxy.set([.nth(1, .answer(503))])
        #expect(try client.get(bucket: bucket, key: "a")?.data == Data("hello".utf8))
        #expect(proxy.count == 2, "\(proxy.requests)")
        #expect(proxy.faulted.map(\.index) == [1])
        proxy.set([.nth(2, method: "GET", pathContains: "/a", .answer(500))])
        for _ in 0..<3 { _ = try client.get(bucket: bucket, key: "a") }
        #expect(proxy.requests.map(\.fault) == [nil, "answer 500", nil, nil], "\(proxy.requests)")
    }

    @Test("every kind of fault on a GET, a LIST and a DELETE is absorbed by one retry", arguments: FaultProxy.Fault.sweep.indices)
    func readsRetried(_ kind: Int) throws {
        let fault = FaultProxy.Fault.sweep[kind]
        let body = randomBytes(100_000, seed: 7)
        _ = try direct.put(bucket: bucket, key: "objects/x", data: body)
        for operation in ["get", "head", "list", "delete"] {
            proxy.set([.nth(1, fault)])
            switch operation {
            case "get": #expect(try client.get(bucket: bucket, key: "objects/x")?.data == body, "\(fault.name)")
            case "head": #expect(try client.head(bucket: bucket, key: "objects/x")?.size == 100_000, "\(fault.name)")
            case "list": #expect(try client.list(bucket: bucket, prefix: "objects/").map(\.key) == ["objects/x"], "\(fault.name)")
            default: try client.delete(bucket: bucket, key: "objects/x")
            }
            #expect(proxy.count == 2, "\(operation), \(fault.name): \(proxy.requests)")
        }
        #expect(try direct.head(bucket: bucket, key: "objects/x") == nil)
    }

    @Test("a create-only PUT applied but unanswered: the retry's 412 finds our bytes, so it is written")
    func createOnlyLostAnswer() throws {
        for fault in [FaultProxy.Fault.dropAfterForwarding, .answerAfterForwarding(500), .answerAfterForwarding(503)] {
            let key = "objects/\(UUID().uuidString)"
            proxy.set([.nth(1, fault)])
            let outcome = try client.put(bucket: bucket, key: key, data: Data("mine".utf8), condition: .absent)
            guard case .written = outcome else { Issue.record("\(fault.name): \(outcome)"); continue }
            // The PUT, its repeat (412), the read that settles it.
            #expect(proxy.requests.map(\.method) == ["PUT", "PUT", "GET"], "\(fault.name): \(proxy.requests)")
            #expect(try direct.get(bucket: bucket, key: key)?.data == Data("mine".utf8))
        }
        // Someone else's bytes under the name: a true "exists", even after a lost answer.
        let key = "models/m/versions/1"
        _ = try direct.put(bucket: bucket, key: key, data: Data("theirs".utf8), condition: .absent)
        proxy.set([.nth(1, .dropBeforeForwarding)])
        #expect(try client.put(bucket: bucket, key: key, data: Data("mine".utf8), condition: .absent) == .preconditionFailed)
        #expect(try direct.get(bucket: bucket, key: key)?.data == Data("theirs".utf8))
    }

    @Test("a compare-and-swap applied but unanswered is a win, not a lost race; a real race is still lost")
    func casLostAnswer() throws {
        let key = "models/fraud/HEAD"
        guard case .written(let v1) = try direct.put(bucket: bucket, key: key, data: Data("entry-1\n".utf8), condition: .absent) else {
            Issue.record("setup"); return
        }
        proxy.set([.nth(1, .dropAfterForwarding)])
        let outcome = try client.put(bucket: bucket, key: key, data: Data("entry-2\n".utf8), condition: .matches(v1))
        guard case .written(let v2) = outcome else { Issue.record("a CAS that won was reported as \(outcome)"); return }
        #expect(proxy.requests.map(\.method) == ["PUT", "PUT", "GET"], "\(proxy.requests)")
        #expect(try direct.get(bucket: bucket, key: key)?.etag == v2)

        // Another writer moves it; our CAS on v1 after a lost (never sent) try loses, and changes nothing.
        _ = try direct.put(bucket: bucket, key: key, data: Data("entry-3\n".utf8), condition: .matches(v2))
        proxy.set([.nth(1, .dropBeforeForwarding)])
        #expect(try client.put(bucket: bucket, key: key, data: Data("entry-4\n".utf8), condition: .matches(v1)) == .preconditionFailed)
        #expect(try direct.get(bucket: bucket, key: key)?.data == Data("entry-3\n".utf8))
        // Without a fault, a stale CAS is one request and no read-back.
        proxy.set([])
        #expect(try client.put(bucket: bucket, key: key, data: Data("entry-4\n".utf8), condition: .matches(v1)) == .preconditionFailed)
        #expect(proxy.count == 1)
    }

    @Test("a server that stays down: one-line error naming operation, key, last status and tries, within the time bound")
    func persistentFailure() throws {
        proxy.set([.from(1, .answer(503))])
        let start = Date()
        do {
            _ = try client.get(bucket: bucket, key: "objects/gone")
            Issue.record("a GET succeeded through a server answering 503")
        } catch let e as MregError {
            #expect(e.message == "S3 get s3://\(bucket)/objects/gone: HTTP 503 SlowDown: Please reduce your request rate. (after 5 tries)")
            #expect(e.kind == .operational)
        }
        #expect(proxy.count == 5)
        proxy.set([.from(1, .dropBeforeForwarding)])
        do {
            _ = try client.put(bucket: bucket, key: "models/x/HEAD", data: Data("e\n".utf8), condition: .matches("\"abc\""))
            Issue.record("a PUT succeeded through a server that drops every connection")
        } catch let e as MregError {
            #expect(e.message.hasPrefix("S3 put s3://\(bucket)/models/x/HEAD: connection failed"), "\(e.message)")
            #expect(e.message.contains("after 5 tries"), "\(e.message)")
            #expect(e.message.hasSuffix("; the write may or may not have been applied"), "\(e.message)")
            #expect(!e.message.contains("\n"))
        }
        // The total time bound stops retrying before the tries run out.
        let bounded = S3Client(config: client.config, retry: RetryPolicy(attempts: 100, baseDelay: 0.05, maxDelay: 0.05, maxTotal: 0.3))
        proxy.set([.from(1, .answer(500))])
        #expect(throws: MregError.self) { _ = try bounded.get(bucket: bucket, key: "k") }
        #expect(proxy.count < 100 && proxy.count >= 2, "\(proxy.count)")
        #expect(Date().timeIntervalSince(start) < 15)
    }

    @Test("multipart: a part and the completion are retried; a completion whose answer was lost still gives the whole object")
    func multipartFaults() throws {
        let dir = TemporaryDirectory("mreg-s3-fault-multipart")
        let source = dir.write("big", randomBytes(S3Client.singlePutLimit + 3 * 1024 * 1024, seed: 11))
        for (n, fault) in [FaultProxy.Fault.dropBeforeForwarding, .cutResponseBody, .dropAfterForwarding].enumerated() {
            let key = "objects/big\(n)"
            proxy.set([.nth(2, method: "PUT", pathContains: "partNumber", fault),
                       .nth(1, method: "POST", pathContains: "uploadId=", fault)])
            let outcome = try client.upload(bucket: bucket, key: key, from: source, condition: .absent)
            guard case .written = outcome else { Issue.record("\(fault.name): our completed upload reported as \(outcome)"); continue }
            #expect(proxy.faulted.count == 2, "\(fault.name): \(proxy.requests)")
            let back = dir.join("back\(n)")
            #expect(try direct.download(bucket: bucket, key: key, to: back)?.size == Int64(S3Client.singlePutLimit + 3 * 1024 * 1024))
            #expect(FileManager.default.contents(atPath: back) == FileManager.default.contents(atPath: source), "\(fault.name)")
        }
        // Other bytes under the same name, the completion's first try lost: the key was someone else's.
        let other = dir.write("other", randomBytes(S3Client.singlePutLimit + 1024 * 1024, seed: 12))
        proxy.set([.nth(1, method: "POST", pathContains: "uploadId=", .dropBeforeForwarding)])
        #expect(try client.upload(bucket: bucket, key: "objects/big0", from: other, condition: .absent) == .preconditionFailed)
        #expect(try direct.head(bucket: bucket, key: "objects/big0")?.size == Int64(S3Client.singlePutLimit + 3 * 1024 * 1024))
    }

    @Test("an upload abandoned by a killed process is aborted by abortIncompleteUploads; a younger one is kept")
    func abandonedUploads() throws {
        for key in ["objects/aa/abandoned", "objects/bb/abandoned"] {
            let created = try direct.send(S3Client.Call(method: .POST, bucket: bucket, key: key, operation: "create multipart upload",
                                                        query: [("uploads", "")]), idempotent: true)
            #expect(created.status == .ok, "\(created)")
        }
        #expect(try client.abortIncompleteUploads(bucket: bucket, prefix: "objects/", startedBefore: Date().addingTimeInterval(-3600)).isEmpty)
        let aborted = try client.abortIncompleteUploads(bucket: bucket, prefix: "objects/", startedBefore: Date().addingTimeInterval(60))
        #expect(aborted.sorted() == ["objects/aa/abandoned", "objects/bb/abandoned"])
        #expect(try client.abortIncompleteUploads(bucket: bucket, prefix: "objects/", startedBefore: Date().addingTimeInterval(60)).isEmpty)
    }
}

extension S3Client {
    /// Deletes a test bucket with everything in it (best effort).
    func removeBucket(_ bucket: String) {
        _ = try? abortIncompleteUploads(bucket: bucket, prefix: "", startedBefore: Date().addingTimeInterval(3600))
        for info in (try? list(bucket: bucket, prefix: "")) ?? [] { try? delete(bucket: bucket, key: info.key) }
        _ = try? send(Call(method: .DELETE, bucket: bucket, key: "", operation: "delete bucket"), idempotent: true)
    }
}
