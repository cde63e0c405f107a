#if canImport(Glibc)
import Glibc
#endif

/// A deploy host's trust root: an `allowed_signers` file in the format of `ssh-keygen -Y verify`
/// and git (`principals [options] keytype base64 [comment]`), plus mreg's thresholds.
///
/// Options honoured: `namespaces="…"` (the key may sign only in these namespaces; patterns with
/// `*` and `?`), `valid-after="…"` and `valid-before="…"` (`YYYYMMDD[HHMM[SS]][Z]`, local time
/// unless `Z`, checked against the time the verification started, as ssh-keygen checks them
/// against the current time). `cert-authority` lines are read and never match (mreg verifies plain
/// keys). Lines of other key types are read and never match.
///
/// Thresholds are comment lines, so ssh-keygen reads the same file unchanged:
/// `# mreg-threshold STAGE N` (or `*` for every stage without its own line); default 1.
public struct AllowedSigners: Sendable {
    public struct Entry: Sendable {
        public var line: Int
        public var principals: String
        public var key: SSHPublicKey?
        public var certAuthority = false
        public var namespaces: [String]?
        public var validAfter: Int64?
        public var validBefore: Int64?
    }

    public var path: String
    public var entries: [Entry] = []
    public var thresholds: [String: Int] = [:]

    /// The number of distinct allowed keys a statement for `stage` needs.
    public func threshold(for stage: StageName) -> Int { thresholds[stage.value] ?? thresholds["*"] ?? 1 }

    /// Reads a trust file a user named; exit 2 naming the file and line when it is malformed.
    public static func load(_ path: String) throws -> AllowedSigners {
        let bytes = try UserFile.bytes(path, what: "trust file")
        guard let text = String(validating: bytes, as: UTF8.self) else { throw MregError.invalid("trust file \(path): not UTF-8 text") }
        do { return try parse(text, path: path) } catch let e as SigningError { throw MregError.invalid("trust file \(path): \(e.reason)") }
    }

    static func parse(_ text: String, path: String) throws -> AllowedSigners {
        var out = AllowedSigners(path: path)
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = i + 1
            let line = String(raw).trimmingCharacters(in: " \t\r")
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let words = line.dropFirst().split(separator: " ", omittingEmptySubsequences: true)
                guard words.first == "mreg-threshold" else { continue }
                guard words.count == 3, let k = Int(words[2]), k >= 1, k <= 100,
                      words[1] == "*" || (try? StageName(String(words[1]))) != nil else {
                    throw SigningError("line \(n): expected \"# mreg-threshold STAGE N\" (STAGE a stage name or *, N from 1 to 100)")
                }
                guard out.thresholds[String(words[1])] == nil else { throw SigningError("line \(n): a second threshold for \(words[1])") }
                out.thresholds[String(words[1])] = k
                continue
            }
            out.entries.append(try entry(line, n))
        }
        return out
    }

    /// Splits on blanks outside double quotes.
    static func fields(_ s: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var quoted = false
        for c in s {
            if c == "\"" { quoted.toggle() }
            if !quoted && (c == " " || c == "\t") {
                if !cur.isEmpty { out.append(cur); cur = "" }
            } else {
                cur.append(c)
            }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    private static func isKeyType(_ s: String) -> Bool {
        s.hasPrefix("ssh-") || s.hasPrefix("ecdsa-") || s.hasPrefix("sk-") || s.hasPrefix("rsa-")
    }

    private static func entry(_ line: String, _ n: Int) throws -> Entry {
        let f = fields(line)
        guard f.count >= 3 else { throw SigningError("line \(n): expected \"principals [options] keytype base64 [comment]\"") }
        var e = Entry(line: n, principals: f[0].replacingQuotes())
        var k = 1
        if !isKeyType(f[1]) {
            try options(f[1], into: &e, n)
            k = 2
        }
        guard f.count > k + 1 else { throw SigningError("line \(n): the key is missing after the options") }
        if f[k] == SSHPublicKey.type {
            switch SSHPublicKey.parse(type: Substring(f[k]), base64: Substring(f[k + 1])) {
            case .success(let key): e.key = key
            case .failure(let err): throw SigningError("line \(n): \(err.reason)")
            }
        } else if !isKeyType(f[k]) {
            throw SigningError("line \(n): \(ModelName.show(f[k])) is not a key type (ssh-ed25519 …)")
        }
        return e
    }

    private static func options(_ text: String, into e: inout Entry, _ n: Int) throws {
        var parts: [String] = []
        var cur = ""
        var quoted = false
        for c in text {
            if c == "\"" { quoted.toggle() }
            if c == "," && !quoted { parts.append(cur); cur = "" } else { cur.append(c) }
        }
        parts.append(cur)
        for p in parts {
            let (name, value) = p.firstIndex(of: "=").map { (p[..<$0].lowercased(), String(p[p.index(after: $0)...]).replacingQuotes()) } ?? (p.lowercased(), "")
            switch name {
            case "cert-authority": e.certAuthority = true
            case "namespaces": e.namespaces = value.split(separator: ",").map(String.init)
            case "valid-after", "valid-before":
                guard let t = sshTime(value) else { throw SigningError("line \(n): \(name)=\"\(value)\" is not YYYYMMDD[HHMM[SS]][Z]") }
                if name == "valid-after" { e.validAfter = t } else { e.validBefore = t }
            default: throw SigningError("line \(n): unknown option \(ModelName.show(name)) (ssh-keygen would refuse it too)")
            }
        }
    }

    /// `YYYYMMDD[HHMM[SS]][Z]`: UTC with `Z`, else local time (as ssh-keygen reads it).
    static func sshTime(_ s: String) -> Int64? {
        var digits = s
        let utc = digits.hasSuffix("Z") || digits.hasSuffix("z")
        if utc { digits.removeLast() }
        guard [8, 12, 14].contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let d = Array(digits.utf8).map { Int32($0 - 48) }
        func num(_ i: Int, _ w: Int) -> Int32 { (i..<i + w).reduce(Int32(0)) { $0 * 10 + (d.count > $1 ? d[$1] : 0) } }
        var tmv = tm()
        tmv.tm_year = num(0, 4) - 1900
        tmv.tm_mon = num(4, 2) - 1
        tmv.tm_mday = num(6, 2)
        tmv.tm_hour = num(8, 2)
        tmv.tm_min = num(10, 2)
        tmv.tm_sec = num(12, 2)
        tmv.tm_isdst = -1
        return Int64(utc ? timegm(&tmv) : mktime(&tmv))
    }

    /// The lines that let `key` sign in `namespace` at `time`, or why none does.
    public func allow(_ key: SSHPublicKey, namespace: String, at time: Int64) -> Result<[Entry], SigningError> {
        let lines = entries.filter { $0.key == key && !$0.certAuthority }
        guard !lines.isEmpty else { return .failure(SigningError("the key is not in \(path)")) }
        let inNamespace = lines.filter { e in e.namespaces.map { $0.contains { Self.glob($0, namespace) } } ?? true }
        guard !inNamespace.isEmpty else {
            return .failure(SigningError("\(path) line \(lines[0].line) (\(lines[0].principals)) does not allow the key to sign in namespace \(namespace)"))
        }
        let valid = inNamespace.filter { ($0.validAfter.map { time >= $0 } ?? true) && ($0.validBefore.map { time <= $0 } ?? true) }
        guard !valid.isEmpty else {
            return .failure(SigningError("\(path) line \(inNamespace[0].line) (\(inNamespace[0].principals)) allows the key only within its valid-after/valid-before dates"))
        }
        return .success(valid)
    }

    /// ssh's pattern match: `*` any run, `?` one character.
    static func glob(_ pattern: String, _ s: String) -> Bool {
        let p = Array(pattern), t = Array(s)
        func m(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == t.count }
            if p[i] == "*" { return (j...t.count).contains { m(i + 1, $0) } }
            return j < t.count && (p[i] == "?" || p[i] == t[j]) && m(i + 1, j + 1)
        }
        return m(0, 0)
    }
}

private extension String {
    func replacingQuotes() -> String { filter { $0 != "\"" } }
}
