import AsyncHTTPClient
import Crypto
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

    /// Writes `data` to `key` under `condition`, retried on transient failures like every request.
    ///
    /// A repeat of a conditional write whose first try was applied but whose answer was lost (a
    /// dropped connection, a 5xx) finds its own write: 412 to a create-only PUT, 412 (or 409) to a
    /// compare-and-swap, which would read as "exists" or "lost the race". So a 412 after such a try
    /// is settled by reading the key: holding exactly `data`, the write is ours (`.written`);
    /// anything else, the precondition truly failed. The bytes of a `HEAD` name a history entry
    /// unique to its writer, so equal bytes mean our write. If that read fails too, the outcome is
    /// unknown, and the error says so.
    public func put(bucket: String, key: String, data: Data, condition: Condition = .none) throws -> WriteOutcome {
        var call = Call(method: .PUT, bucket: bucket, key: key, operation: "put", body: data)
        switch condition {
        case .none: break
        case .absent: call.headers.append(("If-None-Match", "*"))
        case .matches(let etag): call.headers.append(("If-Match", etag))
        }
        let response: Response
        do {
            response = try send(call, idempotent: true)
        } catch let error as MregError where condition != .none {
            throw MregError(error.kind, error.message + "; the write may or may not have been applied")
        }
        let outcome: WriteOutcome
        do {
            outcome = try writeOutcome(response, condition: condition, "put", bucket, key)
        } catch let error as MregError where condition != .none && response.uncertain {
            throw MregError(error.kind, error.message + "; an earlier try may have been applied")
        }
        guard outcome == .preconditionFailed, response.uncertain else { return outcome }
        do {
            if let now = try get(bucket: bucket, key: key), now.data == data { return .written(etag: now.etag) }
        } catch let error as MregError {
            throw MregError(error.kind, "S3 put s3://\(bucket)/\(key): a retry after a lost answer found the key changed, and reading it back failed (\(error.message)); the write may or may not have been applied")
        }
        return .preconditionFailed
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

    /// Multipart uploads under `prefix` started before `before` and never completed or aborted (a
    /// process killed while uploading leaves one: invisible under its key, but stored), aborted.
    /// Returns the keys whose uploads were aborted. For gc; a running upload is younger than any
    /// sensible `before` (e.g. a day ago).
    @discardableResult
    public func abortIncompleteUploads(bucket: String, prefix: String, startedBefore before: Date) throws -> [String] {
        var aborted: [String] = []
        var markers: [(String, String)] = []
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        while true {
            let response = try send(Call(method: .GET, bucket: bucket, key: "", operation: "list multipart uploads",
                                         query: [("uploads", ""), ("prefix", prefix)] + markers), idempotent: true)
            try check(response, "list multipart uploads", bucket, prefix)
            let text = String(decoding: response.body, as: UTF8.self)
            for chunk in text.components(separatedBy: "<Upload>").dropFirst() {
                let entry = chunk.components(separatedBy: "</Upload>").first ?? chunk
                guard let key = S3XML.value("Key", in: entry), let id = S3XML.value("UploadId", in: entry),
                      let started = S3XML.value("Initiated", in: entry).flatMap({ parser.date(from: $0) ?? plain.date(from: $0) }),
                      started < before else { continue }
                abort(bucket: bucket, key: key, uploadID: id)
                aborted.append(key)
            }
            let head = text.components(separatedBy: "<Upload>").first ?? text
            guard S3XML.value("IsTruncated", in: head) == "true" || S3XML.value("IsTruncated", in: text.components(separatedBy: "</Upload>").last ?? "") == "true",
                  let key = S3XML.value("NextKeyMarker", in: text), let id = S3XML.value("NextUploadIdMarker", in: text)
            else { return aborted }
            markers = [("key-marker", key), ("upload-id-marker", id)]
        }
    }

    /// A create-only CompleteMultipartUpload answered 412, or 404 NoSuchUpload (a repeat of one
    /// that was applied finds the upload gone): whose object is under the key? Ours if a try of
    /// ours may have been applied and the object's ETag is the one S3 gives our parts (the MD5 of
    /// their MD5s, `-N`); else the key truly existed. Nil for any other answer.
    func settleCompletion(_ response: Response, bucket: String, key: String, partETags: [String], condition: Condition) throws -> WriteOutcome? {
        guard case .absent = condition,
              response.status == .preconditionFailed || (response.status == .notFound && response.errorCode == "NoSuchUpload"),
              let there = try head(bucket: bucket, key: key)
        else { return nil }
        if response.uncertain, Self.unquote(there.etag) == Self.multipartETag(partETags) { return .written(etag: there.etag) }
        return .preconditionFailed
    }

    /// The ETag S3 gives a multipart object: hex MD5 of the parts' binary MD5s, `-` part count.
    static func multipartETag(_ partETags: [String]) -> String {
        var digests: [UInt8] = []
        for etag in partETags {
            let hex = Array(unquote(etag).utf8)
            guard hex.count == 32 else { return "" }
            for i in stride(from: 0, to: 32, by: 2) { digests.append(UInt8(String(decoding: hex[i..<i + 2], as: UTF8.self), radix: 16) ?? 0) }
        }
        let md5 = Insecure.MD5.hash(data: digests).map { String(format: "%02x", $0) }.joined()
        return "\(md5)-\(partETags.count)"
    }

    static func unquote(_ etag: String) -> String { etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }

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
        let tried = response.attempts > 1 ? " (after \(response.attempts) tries)" : ""
        if response.errorCode == "NoSuchBucket" {
            return MregError(.invalidInput, "S3 bucket \(bucket) does not exist (\(operation) \(target): HTTP \(response.status.code) NoSuchBucket)")
        }
        return MregError(.operational, "S3 \(operation) \(target): HTTP \(response.status.code)\(code)\(message)\(tried)")
    }
}
