import Foundation
import MregCore
import NIOHTTP1

/// What `fsck` and `gc` need of a bucket beyond the registry's everyday requests: listings with
/// LastModified, the server's clock, and incomplete multipart uploads.
extension S3Client {
    /// A listed key with its size and LastModified (Unix seconds).
    public struct ListedObject: Sendable, Equatable {
        public var key: String
        public var size: Int64
        public var modified: Double
    }

    /// An incomplete multipart upload: its key, id and when it was started (Unix seconds; nil when
    /// the server did not say).
    public struct Upload: Sendable, Equatable {
        public var key: String
        public var id: String
        public var initiated: Double?
    }

    /// Every key under `prefix` with size and LastModified (ListObjectsV2, 1,000 keys a page).
    public func listDetailed(bucket: String, prefix: String, pageSize: Int = 1000) throws -> [ListedObject] {
        var all: [ListedObject] = []
        var token: String? = nil
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(pageSize))]
            if let token { query.append(("continuation-token", token)) }
            let response = try send(Call(method: .GET, bucket: bucket, key: "", operation: "list", query: query), idempotent: true)
            try check(response, "list", bucket, prefix)
            let text = String(decoding: response.body, as: UTF8.self)
            for entry in S3XML.elements("Contents", in: text) {
                guard let key = S3XML.value("Key", in: entry) else { continue }
                let modified = S3XML.value("LastModified", in: entry).flatMap(S3Time.iso8601)
                guard let modified else {
                    throw MregError(.operational, "S3 list s3://\(bucket)/\(prefix): no readable LastModified for \(key)")
                }
                all.append(ListedObject(key: key, size: Int64(S3XML.value("Size", in: entry) ?? "") ?? 0, modified: modified))
            }
            let truncated = S3XML.value("IsTruncated", in: text) == "true"
            token = truncated ? S3XML.value("NextContinuationToken", in: text) : nil
            if truncated && token == nil {
                throw MregError(.operational, "S3 list s3://\(bucket)/\(prefix): a truncated page without a continuation token")
            }
        } while token != nil
        return all
    }

    /// The server's clock (the `Date` of a HEAD request), so that ages compare LastModified with
    /// the clock that wrote it, not with this machine's.
    public func serverTime(bucket: String, key: String) throws -> Double {
        let response = try send(Call(method: .HEAD, bucket: bucket, key: key, operation: "head"), idempotent: true)
        if response.status != .notFound { try check(response, "head", bucket, key) }
        guard let date = response.headers.first(name: "date").flatMap(S3Time.http) else {
            throw MregError(.operational, "S3 head s3://\(bucket)/\(key): no readable Date header in the answer")
        }
        return date
    }

    /// Incomplete multipart uploads under `prefix` (ListMultipartUploads, following markers).
    public func uploads(bucket: String, prefix: String) throws -> [Upload] {
        var all: [Upload] = []
        var markers: (key: String, id: String)? = nil
        repeat {
            var query = [("uploads", ""), ("prefix", prefix)]
            if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.id)] }
            let response = try send(Call(method: .GET, bucket: bucket, key: "", operation: "list multipart uploads", query: query),
                                    idempotent: true)
            try check(response, "list multipart uploads", bucket, prefix)
            let text = String(decoding: response.body, as: UTF8.self)
            for entry in S3XML.elements("Upload", in: text) {
                guard let key = S3XML.value("Key", in: entry), let id = S3XML.value("UploadId", in: entry) else { continue }
                let initiated = S3XML.value("Initiated", in: entry).flatMap(S3Time.iso8601)
                all.append(Upload(key: key, id: id, initiated: initiated))
            }
            let truncated = S3XML.value("IsTruncated", in: text) == "true"
            if truncated, let key = S3XML.value("NextKeyMarker", in: text), let id = S3XML.value("NextUploadIdMarker", in: text),
               markers.map({ $0.key != key || $0.id != id }) ?? true {
                markers = (key, id)
            } else {
                markers = nil
            }
        } while markers != nil
        return all
    }

    /// Aborts an incomplete multipart upload (its parts are freed). A 404 means it is gone already.
    public func abortUpload(bucket: String, key: String, uploadID: String) throws {
        let response = try send(Call(method: .DELETE, bucket: bucket, key: key, operation: "abort multipart upload",
                                     query: [("uploadId", uploadID)]), idempotent: true)
        if response.status == .notFound { return }
        try check(response, "abort multipart upload", bucket, key)
    }

    /// Starts a multipart upload and returns its id (tests leave one incomplete for gc).
    public func startUpload(bucket: String, key: String) throws -> String {
        let created = try send(Call(method: .POST, bucket: bucket, key: key, operation: "create multipart upload",
                                    query: [("uploads", "")]), idempotent: true)
        try check(created, "create multipart upload", bucket, key)
        guard let id = S3XML.value("UploadId", in: created.body) else {
            throw MregError(.operational, "S3 create multipart upload s3://\(bucket)/\(key): no UploadId in the answer")
        }
        return id
    }
}

extension S3XML {
    /// The inner texts of every `<tag>…</tag>` in `text`.
    static func elements(_ tag: String, in text: String) -> [String] {
        text.components(separatedBy: "<\(tag)>").dropFirst().map { $0.components(separatedBy: "</\(tag)>").first ?? $0 }
    }
}

/// The two time formats of S3 answers, as Unix seconds.
enum S3Time {
    /// `2026-12-02T03:40:00.000Z` (LastModified, Initiated), with or without fractional seconds.
    static func iso8601(_ text: String) -> Double? {
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = full.date(from: text) { return d.timeIntervalSince1970 }
        return ISO8601DateFormatter().date(from: text)?.timeIntervalSince1970
    }

    /// `Wed, 02 Dec 2026 03:40:00 GMT` (the HTTP Date header).
    static func http(_ text: String) -> Double? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: text)?.timeIntervalSince1970
    }
}
