import AsyncHTTPClient
import Foundation
import MregCore
import NIOCore
import NIOHTTP1

/// Retries with exponential back-off and full jitter: on 5xx, throttling (429, SlowDown) and
/// dropped or refused connections, at most `attempts` tries and `maxTotal` seconds in all.
///
/// Every request the registry sends can be repeated safely, some only with care after a lost
/// answer: a create-only PUT or a compare-and-swap whose first try was applied answers 412 on the
/// repeat, which `S3Client.put` resolves by reading the key back (see there).
public struct RetryPolicy: Sendable {
    public var attempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    /// No new try starts past this many seconds since the first.
    public var maxTotal: Double

    public init(attempts: Int = 5, baseDelay: Double = 0.1, maxDelay: Double = 5, maxTotal: Double = 60) {
        self.attempts = attempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxTotal = maxTotal
    }

    /// The pause before retry number `retry` (1, 2, …): uniform in [0, min(max, base·2^retry)].
    public func delay(beforeRetry retry: Int) -> Double {
        Double.random(in: 0...min(maxDelay, baseDelay * pow(2, Double(retry))))
    }

    /// Whether an answer with this status (and S3 error code) is worth asking again.
    public static func isTransient(status: Int, code: String?) -> Bool {
        if status >= 500 || status == 429 { return true }
        return ["SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed"].contains(code ?? "")
    }

    /// Whether a failed try may have been applied by the server: the connection dropped after the
    /// request went out, or a 5xx (a proxy or gateway can answer 500 or 503 after the work was done
    /// behind it). A 429 refuses the request before doing anything.
    static func mayHaveApplied(status: Int?) -> Bool {
        guard let status else { return true }
        return status >= 500
    }
}

extension S3Client {
    /// One S3 request before signing.
    struct Call {
        var method: HTTPMethod
        var bucket: String
        var key: String
        var operation: String
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        var body: Data? = nil
        /// A body sent as it is, without a copy into the HTTP client's buffers (a multipart part);
        /// used instead of `body` when set.
        var bodyBuffer: ByteBuffer? = nil
    }

    /// An answer, its body read whole (error bodies and small objects).
    struct Response {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: Data
        /// How many tries it took (1: no retry).
        var attempts = 1
        /// An earlier try may have been applied by the server although its answer was lost (a
        /// dropped connection or a 5xx): a 412 to this one may be the echo of our own write.
        var uncertain = false
        var etag: String? { headers.first(name: "etag") }
        var errorCode: String? { S3XML.value("Code", in: body) }
    }

    /// The URL path (decoded, as signed) and the URL of a call, by the configured addressing.
    func target(_ call: Call) -> (host: String, path: String, url: String) {
        var host = config.authority
        var path: String
        switch config.addressing {
        case .path:
            path = "/" + call.bucket + (call.key.isEmpty ? "" : "/" + call.key)
            if call.key.isEmpty && call.bucket.isEmpty { path = "/" }
        case .virtual:
            host = call.bucket + "." + host
            path = "/" + call.key
        }
        let query = SigV4Signer.canonicalQuery(call.query)
        let url = "\(config.scheme)://\(host)\(SigV4Signer.uriEncode(path, keepSlash: true))" + (query.isEmpty ? "" : "?" + query)
        return (host, path, url)
    }

    /// Signs a call at the current time into an AsyncHTTPClient request.
    func request(_ call: Call) throws -> HTTPClient.Request {
        let (host, path, url) = target(call)
        let payloadHash = call.bodyBuffer.map { b in b.withUnsafeReadableBytes { SigV4Signer.sha256Hex($0) } }
            ?? SigV4Signer.sha256Hex(call.body ?? Data())
        var headers = [("Host", host), ("x-amz-content-sha256", payloadHash)] + call.headers
        let signer = SigV4Signer(credentials: config.credentials, region: config.region)
        headers += signer.sign(SigV4Signer.Request(method: call.method.rawValue, path: path, query: call.query,
                                                   headers: headers, payloadHash: payloadHash), at: Date())
        var httpHeaders = HTTPHeaders()
        for (name, value) in headers { httpHeaders.add(name: name, value: value) }
        let body: HTTPClient.Body? = call.bodyBuffer.map { .byteBuffer($0) } ?? call.body.map { .bytes($0) }
            ?? (call.method == .PUT || call.method == .POST ? .bytes(Data()) : nil)
        return try HTTPClient.Request(url: url, method: call.method, headers: httpHeaders, body: body)
    }

    /// Sends a call, reading the whole answer; repeats it on transient failures when `idempotent`.
    func send(_ call: Call, idempotent: Bool) throws -> Response {
        try withRetries(call, idempotent: idempotent) {
            let answer = try http.execute(request: try request(call), deadline: .now() + .seconds(300)).wait()
            let body = answer.body.map { Data($0.readableBytesView) } ?? Data()
            return Response(status: answer.status, headers: answer.headers, body: body)
        }
    }

    /// Runs `attempt` until it gives an answer that is not transient, or the attempts or the time
    /// run out; the answer says how many tries it took and whether an earlier one may have been
    /// applied. A connection failure on the last try is thrown as a one-line error naming the
    /// operation, the key, the tries and what failed.
    func withRetries(_ call: Call, idempotent: Bool, _ attempt: () throws -> Response) throws -> Response {
        let start = Date()
        var tries = 0
        var uncertain = false
        /// Sleeps before the next try; false when there is to be none.
        func again() -> Bool {
            guard idempotent, tries < retry.attempts else { return false }
            let pause = retry.delay(beforeRetry: tries)
            guard Date().timeIntervalSince(start) + pause <= retry.maxTotal else { return false }
            Thread.sleep(forTimeInterval: pause)
            return true
        }
        while true {
            tries += 1
            do {
                var response = try attempt()
                let code = response.errorCode
                if RetryPolicy.isTransient(status: Int(response.status.code), code: code), again() {
                    if RetryPolicy.mayHaveApplied(status: Int(response.status.code)) { uncertain = true }
                    continue
                }
                response.attempts = tries
                response.uncertain = uncertain
                return response
            } catch let error as MregError {
                throw error
            } catch {
                // The connection dropped, was refused or timed out: the request may or may not
                // have reached the server.
                uncertain = true
                if again() { continue }
                let target = call.key.isEmpty ? "s3://\(call.bucket)" : "s3://\(call.bucket)/\(call.key)"
                let outcome = idempotent ? "" : " (not retried: it may or may not have been applied; rerun the command)"
                let tried = tries > 1 ? " after \(tries) tries in \(String(format: "%.1f", Date().timeIntervalSince(start))) s" : ""
                throw MregError(.operational, "S3 \(call.operation) \(target): \(Self.describe(error)) at \(config.scheme)://\(config.authority)\(tried)\(outcome)")
            }
        }
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? HTTPClientError { return "connection failed (\(e))" }
        return "connection failed (\(String(describing: error).split(separator: "\n").first ?? ""))"
    }
}

/// The few pieces of S3's XML answers the client reads: error code and message, list pages,
/// multipart upload ids. Answers are small and flat; values are XML-unescaped.
enum S3XML {
    struct ListPage {
        var objects: [S3Client.ObjectInfo]
        var truncated: Bool
        var nextToken: String?
    }

    static func value(_ tag: String, in data: Data) -> String? {
        guard !data.isEmpty else { return nil }
        return value(tag, in: String(decoding: data, as: UTF8.self))
    }

    static func value(_ tag: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(tag)>"),
              let close = text.range(of: "</\(tag)>", range: open.upperBound..<text.endIndex) else { return nil }
        return unescape(String(text[open.upperBound..<close.lowerBound]))
    }

    static func listPage(_ data: Data) -> ListPage {
        let text = String(decoding: data, as: UTF8.self)
        var objects: [S3Client.ObjectInfo] = []
        for chunk in text.components(separatedBy: "<Contents>").dropFirst() {
            let entry = chunk.components(separatedBy: "</Contents>").first ?? chunk
            guard let key = value("Key", in: entry) else { continue }
            objects.append(S3Client.ObjectInfo(key: key, etag: value("ETag", in: entry) ?? "",
                                               size: Int64(value("Size", in: entry) ?? "") ?? 0))
        }
        let head = text.components(separatedBy: "<Contents>").first ?? text
        let tail = text.components(separatedBy: "</Contents>").last ?? text
        let truncated = (value("IsTruncated", in: head) ?? value("IsTruncated", in: tail)) == "true"
        let token = value("NextContinuationToken", in: head) ?? value("NextContinuationToken", in: tail)
        return ListPage(objects: objects, truncated: truncated, nextToken: token)
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = ""
        var rest = Substring(s)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { break }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let number = entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16)
                    : entity.hasPrefix("#") ? UInt32(entity.dropFirst(), radix: 10) : nil
                if let number, let scalar = Unicode.Scalar(number) { out.unicodeScalars.append(scalar) } else { out += "&\(entity);" }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
