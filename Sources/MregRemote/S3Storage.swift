#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MregCore

/// A registry in an S3 bucket, under a prefix: `s3://BUCKET/PREFIX` holds `PREFIX/config`,
/// `PREFIX/objects/…` and `PREFIX/models/…`, the layout of a registry directory.
///
/// Objects and version indexes are written create-only (`If-None-Match: *`); a model's `HEAD` is
/// replaced by compare-and-swap on its ETag (`If-Match`), created with `If-None-Match: *`.
public final class S3Storage: RegistryStorage {
    public let client: S3Client
    public let bucket: String
    /// Empty, or ends in `/`.
    public let prefix: String

    public var location: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/" + prefix.dropLast()) }

    public init(client: S3Client, bucket: String, prefix: String) {
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
    }

    /// `s3://BUCKET[/PREFIX]` with the configuration of the environment, or nil for another URL.
    public static func forURL(_ url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Storage? {
        guard url.hasPrefix("s3://") else { return nil }
        let rest = url.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = rest.dropFirst(bucket.count).drop { $0 == "/" }
        guard bucket.count >= 3, bucket.count <= 63,
              bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") })
        else { throw MregError(.invalidInput, "registry \(url): \"\(bucket)\" is not an S3 bucket name (3-63 lower-case letters, digits, '-' and '.')") }
        let trimmed = prefix.hasSuffix("/") ? String(prefix.dropLast()) : String(prefix)
        if trimmed.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }), !trimmed.isEmpty {
            throw MregError(.invalidInput, "registry \(url): the prefix \"\(trimmed)\" has an empty, . or .. component")
        }
        return S3Storage(client: S3Client(config: try S3Config.fromEnvironment(environment)), bucket: bucket, prefix: trimmed)
    }

    public func get(_ key: String) throws -> (bytes: [UInt8], version: String)? {
        try client.get(bucket: bucket, key: prefix + key).map { (Array($0.data), $0.etag) }
    }

    public func putIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool {
        try client.put(bucket: bucket, key: prefix + key, data: Data(bytes), condition: .absent) != .preconditionFailed
    }

    public func compareAndSwap(_ key: String, _ bytes: [UInt8], expected: String?) throws -> Bool {
        try client.put(bucket: bucket, key: prefix + key, data: Data(bytes),
                       condition: expected.map { .matches($0) } ?? .absent) != .preconditionFailed
    }

    public func list(_ keyPrefix: String) throws -> [String] {
        try client.list(bucket: bucket, prefix: prefix + keyPrefix).map { String($0.key.dropFirst(prefix.count)) }.sorted()
    }

    /// One LIST per 1,000 keys; the versions are the listing's ETags, which are a GET's.
    public func listVersions(_ keyPrefix: String) throws -> [(key: String, version: String?)] {
        try client.list(bucket: bucket, prefix: prefix + keyPrefix)
            .map { (key: String($0.key.dropFirst(prefix.count)), version: $0.etag.isEmpty ? nil : $0.etag) }
            .sorted { $0.key < $1.key }
    }

    public func delete(_ key: String) throws { try client.delete(bucket: bucket, key: prefix + key) }

    public func download(_ key: String, to path: String) throws -> Bool {
        try client.download(bucket: bucket, key: prefix + key, to: path) != nil
    }

    /// Large files are asked for first (a HEAD request), so bytes already there are not sent again.
    public func uploadIfAbsent(_ key: String, from path: String, verifying: (@Sendable () throws -> Void)?) throws -> Bool {
        var st = stat()
        let size = stat(path, &st) == 0 ? Int(st.st_size) : 0
        if size > 1 << 20, try client.head(bucket: bucket, key: prefix + key) != nil {
            try verifying?()
            return false
        }
        return try client.upload(bucket: bucket, key: prefix + key, from: path, condition: .absent, verifying: verifying) != .preconditionFailed
    }
}

/// `fsck` and `gc` on a bucket: listings with LastModified, the server's clock, incomplete uploads.
extension S3Storage: MaintainedStorage {
    public func listDetailed(_ keyPrefix: String) throws -> [StoredKey] {
        try client.listDetailed(bucket: bucket, prefix: prefix + keyPrefix)
            .map { StoredKey(key: String($0.key.dropFirst(prefix.count)), size: $0.size, modified: $0.modified) }
            .sorted { $0.key < $1.key }
    }

    public func serverTime() throws -> Double { try client.serverTime(bucket: bucket, key: prefix + Registry.configName) }

    public func pendingUploads(_ keyPrefix: String) throws -> [PendingUpload] {
        try client.uploads(bucket: bucket, prefix: prefix + keyPrefix)
            .map { PendingUpload(key: String($0.key.dropFirst(prefix.count)), id: $0.id, initiated: $0.initiated) }
    }

    public func abortUpload(_ upload: PendingUpload) throws {
        try client.abortUpload(bucket: bucket, key: prefix + upload.key, uploadID: upload.id)
    }
}
