/// A model name: `[a-z0-9][a-z0-9._-]{0,63}`, not ending in `.lock`.
///
/// Validated on construction, so a `ModelName` is always safe as one path component.
public struct ModelName: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: String

    public init(_ text: String) throws {
        try Self.validate(text, what: "model name")
        value = text
    }

    public var description: String { value }
    public static func < (a: ModelName, b: ModelName) -> Bool { a.value < b.value }

    /// Checks the shared name rules and says exactly what is wrong.
    static func validate(_ text: String, what: String) throws {
        let shown = Self.show(text)
        if text.isEmpty { throw MregError.invalid("\(what) is empty") }
        if text.utf8.count > 64 { throw MregError.invalid("\(what) \(shown) is longer than 64 characters") }
        let bytes = Array(text.utf8)
        func isLowerAlnum(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 48 && b <= 57) }
        if bytes.contains(where: { $0 >= 65 && $0 <= 90 }) {
            throw MregError.invalid("\(what) \(shown) has upper-case letters (names are lower-case)")
        }
        if !isLowerAlnum(bytes[0]) {
            throw MregError.invalid("\(what) \(shown) must start with a lower-case letter or digit")
        }
        for b in bytes where !(isLowerAlnum(b) || b == 46 || b == 95 || b == 45) {
            let reason: String
            switch b {
            case 65...90: reason = "has upper-case letters (names are lower-case)"
            case 47, 92: reason = "contains a path separator"
            case 0..<32, 127: reason = "contains a control character"
            case 32: reason = "contains a space"
            case 128...: reason = "contains a non-ASCII character"
            default: reason = "contains \"\(Character(Unicode.Scalar(b)))\""
            }
            throw MregError.invalid("\(what) \(shown) \(reason); allowed: a-z 0-9 . _ -")
        }
        if text.hasSuffix(".lock") { throw MregError.invalid("\(what) \(shown) must not end in \".lock\"") }
    }

    /// The name as it can be shown on one line: quoted, control characters escaped, cut at 80.
    static func show(_ text: String) -> String {
        var out = ""
        for s in text.unicodeScalars.prefix(80) {
            if s.value < 32 || s.value == 127 { out += "\\u{\(String(s.value, radix: 16))}" } else { out.unicodeScalars.append(s) }
        }
        if text.unicodeScalars.count > 80 { out += "…" }
        return "\"\(out)\""
    }
}

/// A stage name: the model-name rules, and not all digits (so `NAME@7` is always a version).
public struct StageName: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: String

    public init(_ text: String) throws {
        try ModelName.validate(text, what: "stage name")
        if text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            throw MregError.invalid("stage name \"\(text)\" is all digits (that would read as a version number)")
        }
        value = text
    }

    public static let production = try! StageName("production")
    public var description: String { value }
    public static func < (a: StageName, b: StageName) -> Bool { a.value < b.value }
}

/// A way of naming a version, as documented in docs/cli.md:
/// `NAME@N`, `NAME@STAGE`, `NAME@STAGE~K`, `NAME` (latest), `sha256:PREFIX` (a version record id).
public enum VersionRef: Equatable, Sendable, CustomStringConvertible {
    case number(ModelName, Int)
    case latest(ModelName)
    case champion(ModelName, StageName, back: Int)
    case id(String)

    public init(_ text: String) throws {
        if text.hasPrefix("sha256:") {
            let hex = String(text.dropFirst(7))
            guard ObjectID.isHexPrefix(hex.lowercased()), hex == hex.lowercased() || ObjectID.isHexPrefix(hex.lowercased()) else {
                throw MregError.invalid("version \(ModelName.show(text)): an id is sha256: and 8 to 64 hex digits")
            }
            guard hex.utf8.count >= 8 else {
                throw MregError.invalid("version id \(ModelName.show(text)) is too short: give at least 8 hex digits")
            }
            self = .id(hex.lowercased())
            return
        }
        guard let at = text.firstIndex(of: "@") else {
            self = .latest(try ModelName(text))
            return
        }
        let model = try ModelName(String(text[..<at]))
        let rest = String(text[text.index(after: at)...])
        if rest.isEmpty { throw MregError.invalid("version \(ModelName.show(text)): nothing after \"@\"") }
        if rest.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            guard rest.utf8.count <= 15, let n = Int(rest), n >= 1 else {
                throw MregError.invalid("version \(ModelName.show(text)): "
                                        + (rest.utf8.count > 15 ? "version number too large" : "version numbers start at 1"))
            }
            self = .number(model, n)
            return
        }
        var stagePart = rest
        var back = 0
        if let tilde = rest.firstIndex(of: "~") {
            stagePart = String(rest[..<tilde])
            let k = rest[rest.index(after: tilde)...]
            if k.isEmpty {
                back = 1
            } else {
                guard k.utf8.count <= 9, k.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(k) else {
                    throw MregError.invalid("version \(ModelName.show(text)): after \"~\" give a number of promotions back")
                }
                back = n
            }
        }
        self = .champion(model, try StageName(stagePart), back: back)
    }

    public var description: String {
        switch self {
        case .number(let m, let n): return "\(m)@\(n)"
        case .latest(let m): return m.value
        case .champion(let m, let s, let k): return k == 0 ? "\(m)@\(s)" : "\(m)@\(s)~\(k)"
        case .id(let hex): return "sha256:\(hex)"
        }
    }

    public var model: ModelName? {
        switch self {
        case .number(let m, _), .latest(let m), .champion(let m, _, _): return m
        case .id: return nil
        }
    }
}
