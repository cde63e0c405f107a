#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation

/// AWS credentials: an access key, its secret, and the session token of temporary credentials.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// Signature Version 4 for requests signed in the `Authorization` header. Pure: no clock, no
/// network; the caller gives the time and the request, and gets the headers to add.
///
/// S3 flavour: the path is URI-encoded once per segment (`/` kept) and never normalised (no `.`,
/// `..` or `//` folding), as S3 wants; the other AWS services' test suite paths used here are
/// already normal.
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The hex SHA-256 of the empty payload.
    public static let emptyPayloadHash = hex(Data(SHA256.hash(data: Data())))
    /// What `x-amz-content-sha256` says when the body is not hashed (streamed uploads over TLS).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// A request as signing sees it. `path` is the decoded path (`/bucket/key with space`);
    /// `headers` must include `host`.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [(String, String)]
        public var headers: [(String, String)]
        public var payloadHash: String

        public init(method: String, path: String, query: [(String, String)] = [],
                    headers: [(String, String)], payloadHash: String) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// The headers to add to `request` at `date`: `x-amz-date`, `x-amz-security-token` (temporary
    /// credentials) and `Authorization`. The caller adds `x-amz-content-sha256` itself when the
    /// service wants it (S3 does), and must put it in `request.headers` so that it is signed.
    public func sign(_ request: Request, at date: Date) -> [(String, String)] {
        let amzDate = Self.amzDate(date)
        var added: [(String, String)] = [("x-amz-date", amzDate)]
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        var full = request
        full.headers += added
        let (canonical, signedHeaders) = canonicalRequest(full)
        let scope = "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
        let toSign = stringToSign(canonicalRequest: canonical, amzDate: amzDate, scope: scope)
        let signature = Self.hex(Data(HMAC<SHA256>.authenticationCode(
            for: Data(toSign.utf8), using: signingKey(day: String(amzDate.prefix(8))))))
        added.append(("Authorization",
                      "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
                      + "SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return added
    }

    /// The canonical request and the signed-header list (lower-case names, sorted, `;`-joined).
    public func canonicalRequest(_ request: Request) -> (String, String) {
        var merged: [String: [String]] = [:]
        for (name, value) in request.headers {
            merged[name.lowercased(), default: []].append(Self.trimmed(value))
        }
        let names = merged.keys.sorted()
        let headerLines = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        let signed = names.joined(separator: ";")
        let query = Self.canonicalQuery(request.query)
        let path: String = Self.uriEncode(request.path, keepSlash: true)
        let parts: [String] = [request.method, path, query, headerLines, signed, request.payloadHash]
        let text = parts.joined(separator: "\n")
        return (text, signed)
    }

    /// Names and values encoded, sorted by name then value, `name=value` joined by `&`.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        var pairs: [(String, String)] = []
        for (name, value) in query {
            pairs.append((uriEncode(name, keepSlash: false), uriEncode(value, keepSlash: false)))
        }
        pairs.sort { (a: (String, String), b: (String, String)) -> Bool in a.0 != b.0 ? a.0 < b.0 : a.1 < b.1 }
        var items: [String] = []
        for (name, value) in pairs { items.append(name + "=" + value) }
        return items.joined(separator: "&")
    }

    public func stringToSign(canonicalRequest: String, amzDate: String, scope: String) -> String {
        let digest = Self.hex(Data(SHA256.hash(data: Data(canonicalRequest.utf8))))
        return "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(digest)"
    }

    /// HMAC chain of `"AWS4" + secret` over the day, the region, the service and `aws4_request`.
    /// The last key made is kept (it changes once a day), so that a request costs one HMAC, not five.
    public func signingKey(day: String) -> SymmetricKey {
        let scope = [credentials.secretAccessKey, day, region, service].joined(separator: "\n")
        return SigningKeyCache.shared.key(for: scope) {
            var key = SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8))
            for part in [day, region, service, "aws4_request"] {
                key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
            }
            return key
        }
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC (the second the date falls in).
    public static func amzDate(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var c = tm()
        gmtime_r(&t, &c)
        var out: [UInt8] = []
        out.reserveCapacity(16)
        func digits(_ value: Int32, _ width: Int) {
            var v = Int(value)
            var d = [UInt8](repeating: UInt8(ascii: "0"), count: width)
            for i in stride(from: width - 1, through: 0, by: -1) {
                d[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
            out += d
        }
        digits(c.tm_year + 1900, 4); digits(c.tm_mon + 1, 2); digits(c.tm_mday, 2)
        out.append(UInt8(ascii: "T"))
        digits(c.tm_hour, 2); digits(c.tm_min, 2); digits(c.tm_sec, 2)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else `%XX`
    /// (upper-case hex) of its UTF-8 bytes; `/` kept in paths.
    public static func uriEncode(_ text: String, keepSlash: Bool) -> String {
        let upper = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), upper[Int(byte >> 4)], upper[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func sha256Hex(_ data: Data) -> String { hex(Data(SHA256.hash(data: data))) }
    public static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String { hex(Data(SHA256.hash(data: bytes))) }

    static func hex(_ data: Data) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count * 2)
        for b in data { bytes.append(digits[Int(b >> 4)]); bytes.append(digits[Int(b & 15)]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Leading and trailing blanks removed, inner runs of blanks folded to one space.
    static func trimmed(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
    }
}

/// The signing key of the last scope signed for (secret, day, region, service).
private final class SigningKeyCache: @unchecked Sendable {
    static let shared = SigningKeyCache()
    private let lock = NSLock()
    private var last: (scope: String, key: SymmetricKey)?

    func key(for scope: String, make: () -> SymmetricKey) -> SymmetricKey {
        if let last = lock.withLock({ last }), last.scope == scope { return last.key }
        let key = make()
        lock.withLock { last = (scope, key) }
        return key
    }
}
