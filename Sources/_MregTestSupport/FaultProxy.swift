#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A small HTTP proxy on 127.0.0.1 between mreg and a real S3 server, for fault-injection tests.
/// Point mreg at `endpoint` (`AWS_ENDPOINT_URL`); requests go byte for byte to the server (the
/// `Host` header, which SigV4 signs, is left as the client sent it) except where a rule says:
///
/// - `.dropBeforeForwarding`: the connection is closed before the server sees the request;
/// - `.dropAfterForwarding`: the server does the work, the client never hears the answer;
/// - `.cutResponseBody`: the answer's head and half its body, then the connection is closed;
/// - `.delay(seconds)`: the request is forwarded after a pause;
/// - `.answer(status)`: a 500 (InternalError) or 503 (SlowDown) without forwarding;
/// - `.answerAfterForwarding(status)`: the server does the work, the client gets a 500/503;
/// - `.hold(action)`: runs `action` (a test kills the client there) and drops the connection.
///
/// Each connection carries one request (`Connection: close` is forced on the way up), so that
/// request boundaries are connection boundaries. Every request is counted and logged with the
/// fault applied, so that a test can assert what happened.
public final class FaultProxy: @unchecked Sendable {
    public enum Fault: Sendable {
        case dropBeforeForwarding, dropAfterForwarding, cutResponseBody
        case delay(Double)
        case answer(Int)
        case answerAfterForwarding(Int)
        case hold(@Sendable () -> Void)

        /// The kinds a sweep goes through (`hold` and `delay` are for particular tests).
        public static let sweep: [Fault] = [.dropBeforeForwarding, .dropAfterForwarding, .cutResponseBody,
                                            .answer(500), .answer(503), .answerAfterForwarding(500)]

        public var name: String {
            switch self {
            case .dropBeforeForwarding: "drop before forwarding"
            case .dropAfterForwarding: "drop after forwarding"
            case .cutResponseBody: "cut response body"
            case .delay(let s): "delay \(s) s"
            case .answer(let status): "answer \(status)"
            case .answerAfterForwarding(let status): "forward, then answer \(status)"
            case .hold: "hold"
            }
        }
    }

    /// A request as the proxy saw it: its number (from 1), method, path (with query) and fault.
    public struct Seen: Sendable, CustomStringConvertible {
        public var index: Int
        public var method: String
        public var path: String
        public var fault: String?
        public var description: String { "#\(index) \(method) \(path)" + (fault.map { " [\($0)]" } ?? "") }
    }

    /// Which requests a fault applies to; keeps its own count of the requests it matched.
    public final class Rule: @unchecked Sendable {
        let fault: Fault
        private let test: @Sendable (Seen, Int) -> Bool
        private let filter: @Sendable (Seen) -> Bool
        private var matched = 0

        init(_ fault: Fault, filter: @escaping @Sendable (Seen) -> Bool = { _ in true },
             test: @escaping @Sendable (Seen, Int) -> Bool) {
            self.fault = fault
            self.filter = filter
            self.test = test
        }

        /// Called under the proxy's lock, once per request, in order.
        func applies(to seen: Seen) -> Bool {
            guard filter(seen) else { return false }
            matched += 1
            return test(seen, matched)
        }

        /// The n-th request (from 1).
        public static func nth(_ n: Int, _ fault: Fault) -> Rule { Rule(fault) { seen, _ in seen.index == n } }
        /// Every request from the n-th on (a server that stays down).
        public static func from(_ n: Int, _ fault: Fault) -> Rule { Rule(fault) { seen, _ in seen.index >= n } }
        /// The n-th request with this method whose path contains `path`.
        public static func nth(_ n: Int, method: String, pathContains path: String, _ fault: Fault) -> Rule {
            Rule(fault, filter: { $0.method == method && $0.path.contains(path) }) { _, count in count == n }
        }
        /// Every request with probability `p`, from a generator seeded with `seed`.
        public static func random(_ p: Double, seed: UInt64, _ fault: Fault) -> Rule {
            // Rules are asked under the proxy's lock, one request at a time.
            final class Box: @unchecked Sendable { var generator: SeededGenerator; init(_ g: SeededGenerator) { generator = g } }
            let box = Box(SeededGenerator(seed: seed))
            return Rule(fault) { _, _ in Double.random(in: 0..<1, using: &box.generator) < p }
        }
    }

    public let upstreamHost: String
    public let upstreamPort: UInt16
    public private(set) var port: UInt16 = 0
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    private let lock = NSLock()
    private var rules: [Rule] = []
    private var seen: [Seen] = []
    private let listener: Int32
    /// Set once by `stop`; the listening socket is closed only after it, by the accept loop, so
    /// that no call ever names the descriptor once it is closed (another test's socket may have
    /// its number by then).
    private var stopped = false

    /// Listens on an ephemeral port of 127.0.0.1 and forwards to `upstream` (`http://HOST:PORT`).
    public init(upstream: String) throws {
        guard let url = URLComponents(string: upstream), let host = url.host, let upstreamPort = url.port else {
            throw ProxyError("upstream \(upstream) is not http://HOST:PORT")
        }
        upstreamHost = host == "localhost" ? "127.0.0.1" : host
        self.upstreamPort = UInt16(upstreamPort)
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw ProxyError("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.address("127.0.0.1", 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else { close(listener); throw ProxyError("bind/listen: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit { stop() }

    /// Stops accepting connections (those in progress finish). Calling it again does nothing.
    public func stop() {
        lock.withLock {
            guard !stopped else { return }
            stopped = true
            shutdown(listener, Int32(SHUT_RDWR))
        }
    }

    /// Replaces the rules (the first that applies to a request wins) and, with `resetCount`,
    /// starts counting requests from 1 again.
    public func set(_ rules: [Rule], resetCount: Bool = true) {
        lock.withLock {
            self.rules = rules
            if resetCount { seen = [] }
        }
    }

    /// The requests seen since the last reset, in order.
    public var requests: [Seen] { lock.withLock { seen } }
    public var count: Int { lock.withLock { seen.count } }
    /// The requests a fault was applied to.
    public var faulted: [Seen] { requests.filter { $0.fault != nil } }

    // MARK: - Connections

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                let failure = errno
                let done = lock.withLock { () -> Bool in
                    guard stopped else { return false }
                    close(listener)
                    return true
                }
                if done { return }
                // A connection aborted before it was taken (a client killed by a test), or out of
                // descriptors for a moment: keep listening.
                if failure != EINTR && failure != ECONNABORTED { usleep(1_000) }
                continue
            }
            let thread = Thread { [self] in
                handle(client)
                close(client)
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func handle(_ client: Int32) {
        guard let request = Self.readRequest(client) else { return }
        let (fault, index) = lock.withLock { () -> (Fault?, Int) in
            var entry = Seen(index: seen.count + 1, method: request.method, path: request.path, fault: nil)
            let fault = rules.first { $0.applies(to: entry) }?.fault
            entry.fault = fault?.name
            seen.append(entry)
            return (fault, entry.index)
        }
        _ = index
        switch fault {
        case .dropBeforeForwarding?:
            return
        case .hold(let action)?:
            action()
            return
        case .answer(let status)?:
            Self.sendAll(client, Self.errorAnswer(status, head: request.method == "HEAD"))
            return
        case .delay(let seconds)?:
            Thread.sleep(forTimeInterval: seconds)
        default:
            break
        }
        guard let response = forward(request) else { return }  // the server hung up: so does the proxy
        switch fault {
        case .dropAfterForwarding?:
            return
        case .answerAfterForwarding(let status)?:
            Self.sendAll(client, Self.errorAnswer(status, head: request.method == "HEAD"))
        case .cutResponseBody?:
            let headEnd = (Self.find(Self.crlfcrlf, in: response) ?? 0) + 4
            let bodyLength = response.count - headEnd
            // An answer without a body is cut in its head.
            let keep = bodyLength > 1 ? headEnd + bodyLength / 2 : max(1, headEnd / 2)
            Self.sendAll(client, Array(response[..<min(keep, response.count)]))
        default:
            Self.sendAll(client, response)
        }
    }

    /// Sends the request upstream with `Connection: close` and reads the whole answer.
    private func forward(_ request: ParsedRequest) -> [UInt8]? {
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard upstream >= 0 else { return nil }
        defer { close(upstream) }
        var address = Self.address(upstreamHost, upstreamPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0, Self.sendAll(upstream, request.head + request.body) else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(upstream, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        return response.isEmpty ? nil : response
    }

    // MARK: - HTTP pieces

    struct ParsedRequest {
        var method: String
        var path: String
        /// The request line and headers, with `Connection: close`, ending in an empty line.
        var head: [UInt8]
        var body: [UInt8]
    }

    static let crlfcrlf: [UInt8] = Array("\r\n\r\n".utf8)

    /// Reads one request: its head, then a `Content-Length` body (the client mreg uses sends no
    /// chunked requests). Nil when the client hung up or sent something else.
    static func readRequest(_ fd: Int32) -> ParsedRequest? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headEnd: Int?
        var contentLength = 0
        while true {
            if headEnd == nil, let end = find(crlfcrlf, in: data) {
                headEnd = end
                let text = String(decoding: data[..<end], as: UTF8.self)
                for line in text.split(separator: "\r\n").dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == "content-length" {
                        contentLength = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
                    }
                }
            }
            if let end = headEnd, data.count >= end + 4 + contentLength { break }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return nil }
            data += buffer[0..<n]
        }
        let end = headEnd!
        let lines = String(decoding: data[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        let headers = lines.dropFirst().filter { !$0.lowercased().hasPrefix("connection:") }
        let head = ([lines[0]] + headers + ["Connection: close", "", ""]).joined(separator: "\r\n")
        return ParsedRequest(method: String(requestLine[0]), path: String(requestLine[1]), head: Array(head.utf8),
                             body: Array(data[(end + 4)..<(end + 4 + contentLength)]))
    }

    /// An S3 error answer: 503 SlowDown, else InternalError.
    static func errorAnswer(_ status: Int, head: Bool) -> [UInt8] {
        let (reason, code, message) = status == 503
            ? ("Slow Down", "SlowDown", "Please reduce your request rate.")
            : ("Internal Server Error", "InternalError", "We encountered an internal error. Please try again.")
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>\(message)</Message></Error>"
        let text = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/xml\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        return Array((text + (head ? "" : body)).utf8)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }

    @discardableResult
    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    static func address(_ host: String, _ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        return address
    }
}

public struct ProxyError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = "fault proxy: " + description }
}

/// A small deterministic generator (SplitMix64) for seeded fault plans.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
