import AsyncHTTPClient
import Foundation
import MregCore
import NIOCore
import NIOHTTP1

/// A small synchronous S3 client: the requests the registry needs, signed with Signature Version 4,
/// over AsyncHTTPClient. Every call blocks its thread until the answer (`EventLoopFuture.wait()`),
/// which is safe because the registry never runs on one of the client's event loops.
///
/// Errors are `MregError`s with one line naming the operation, the bucket and key, the HTTP status
/// and S3's error code: 403 and the like are operational (exit 1); a compare-and-swap that lost is
/// `.conflict` (exit 4).
public final class S3Client: Sendable {
    public let config: S3Config
    let http: HTTPClient
    let retry: RetryPolicy

    /// One HTTP client for the process: no redirects followed, no decompression, bounded timeouts.
    /// Never shut down (it lives as long as the process, like `HTTPClient.shared`).
    static let processClient = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(120)),
            connectionPool: .init(idleTimeout: .seconds(60)),
            decompression: .disabled))

    public init(config: S3Config, retry: RetryPolicy = RetryPolicy()) {
        self.config = config
        self.http = Self.processClient
        self.retry = retry
    }

    /// What a conditional write asks for.
    public enum Condition: Sendable, Equatable {
        case none
        /// `If-None-Match: *`: create only.
        case absent
        /// `If-Match: ETAG`: replace only that version.
        case matches(String)
    }

    /// What a conditional write found.
    public enum WriteOutcome: Sendable, Equatable {
        case written(etag: String)
        /// The precondition failed: the key exists (create-only) or changed (compare-and-swap).
        case preconditionFailed
    }

    public struct ObjectInfo: Sendable, Equatable {
        public var key: String
        public var etag: String
        public var size: Int64
    }

    // MARK: - Objects

    /// The object's bytes and ETag, or nil when there is no such key.
    public func get(bucket: String, key: String) throws -> (data: Data, etag: String)? {
        let response = try send(Call(method: .GET, bucket: bucket, key: key, operation: "get"), idempotent: true)
        if response.status == .notFound { return nil }
        try check(response, "get", bucket, key)
        return (response.body, response.etag ?? "")
    }

    /// Size and ETag, or nil when there is no such key.
    public func head(bucket: String, key: String) throws -> ObjectInfo? {
        let response = try send(Call(method: .HEAD, bucket: bucket, key: key, operation: "head"), idempotent: true)
        if response.status == .notFound { return nil }
        try check(response, "head", bucket, key)
        let size = response.headers.first(name: "content-length").flatMap { Int64($0) } ?? 0
        return ObjectInfo(key: key, etag: response.etag ?? "", size: size)
    }

    /// Writes `data` to `key` under `condition`. A create-only write is retried (a retry that finds
    /// the object answers "exists", which for a content-addressed name means the same bytes); a
    /// compare-and-swap is sent once, since a retry of one that succeeded would report a loss.
    public func put(bucket: String, key: String, data: Data, condition: Condition = .none) throws -> WriteOutcome {
        var call = Call(method: .PUT, bucket: bucket, key: key, operation: "put", body: data)
        switch condition {
        case .none: break
        case .absent: call.headers.append(("If-None-Match", "*"))
        case .matches(let etag): call.headers.append(("If-Match", etag))
        }
        let response = try send(call, idempotent: !isCAS(condition))
        return try writeOutcome(response, condition: condition, "put", bucket, key)
    }

    public func delete(bucket: String, key: String) throws {
        let response = try send(Call(method: .DELETE, bucket: bucket, key: key, operation: "delete"), idempotent: true)
        if response.status == .notFound { return }
        try check(response, "delete", bucket, key)
    }

    /// Every key under `prefix` (ListObjectsV2, following continuation tokens), in key order.
    public func list(bucket: String, prefix: String, pageSize: Int = 1000) throws -> [ObjectInfo] {
        var all: [ObjectInfo] = []
        var token: String? = nil
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(pageSize))]
            if let token { query.append(("continuation-token", token)) }
            let response = try send(Call(method: .GET, bucket: bucket, key: "", operation: "list", query: query),
                                    idempotent: true)
            try check(response, "list", bucket, prefix)
            let page = S3XML.listPage(response.body)
            all += page.objects
            token = page.truncated ? page.nextToken : nil
            if page.truncated && token == nil {
                throw MregError(.operational, "S3 list s3://\(bucket)/\(prefix): a truncated page without a continuation token")
            }
        } while token != nil
        return all
    }

    public func createBucket(_ bucket: String) throws {
        let response = try send(Call(method: .PUT, bucket: bucket, key: "", operation: "create bucket"), idempotent: true)
        if response.status == .conflict, ["BucketAlreadyOwnedByYou", "BucketAlreadyExists"].contains(response.errorCode) { return }
        try check(response, "create bucket", bucket, "")
    }

    func isCAS(_ condition: Condition) -> Bool {
        if case .matches = condition { return true }
        return false
    }

    func writeOutcome(_ response: Response, condition: Condition, _ operation: String, _ bucket: String, _ key: String) throws -> WriteOutcome {
        switch (response.status, condition) {
        case (.preconditionFailed, .absent), (.preconditionFailed, .matches):
            return .preconditionFailed
        // A compare-and-swap on a missing key (404 on some servers) or raced by another write (409).
        case (.notFound, .matches), (.conflict, .matches):
            return .preconditionFailed
        default:
            try check(response, operation, bucket, key)
            return .written(etag: response.etag ?? "")
        }
    }

    func check(_ response: Response, _ operation: String, _ bucket: String, _ key: String) throws {
        guard !(200..<300).contains(response.status.code) else { return }
        throw S3Client.failure(response, operation, bucket, key)
    }

    static func failure(_ response: Response, _ operation: String, _ bucket: String, _ key: String) -> MregError {
        let code = response.errorCode.map { " \($0)" } ?? ""
        let message = S3XML.value("Message", in: response.body).map { ": \($0)" } ?? ""
        let target = key.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(key)"
        if response.errorCode == "NoSuchBucket" {
            return MregError(.invalidInput, "S3 bucket \(bucket) does not exist (\(operation) \(target): HTTP \(response.status.code) NoSuchBucket)")
        }
        return MregError(.operational, "S3 \(operation) \(target): HTTP \(response.status.code)\(code)\(message)")
    }
}
