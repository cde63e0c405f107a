import Foundation

/// A JSON value. mreg writes its records as canonical JSON (sorted keys, no spaces) so the same
/// content always has the same id, and reads user files strictly (duplicate keys are an error).
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var number: Double? { if case .number(let n) = self { return n }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var array: [JSON]? { if case .array(let a) = self { return a }; return nil }
    public var object: [String: JSON]? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { self == .null }

    /// An integer value, if this is a number with no fraction within ±2^53.
    public var int: Int? {
        guard case .number(let n) = self, n.rounded() == n, abs(n) <= 9_007_199_254_740_992 else { return nil }
        return Int(n)
    }

    /// What kind of value this is, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}

// MARK: - Writing

extension JSON {
    /// Canonical bytes: keys sorted, no insignificant space.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out, indent: nil, level: 0)
        return out
    }

    /// Indented text for people and for `--json` output (stable key order).
    public func pretty() -> String {
        var out: [UInt8] = []
        write(into: &out, indent: "  ", level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(into out: inout [UInt8], indent: String?, level: Int) {
        func newline(_ l: Int) {
            guard let indent else { return }
            out.append(10)
            for _ in 0..<l { out.append(contentsOf: indent.utf8) }
        }
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        // JSON has no infinity or NaN: a value that is not finite is written as null, so no
        // output and no stored object is ever invalid JSON.
        case .number(let n): out.append(contentsOf: (n.isFinite ? JSON.format(n) : "null").utf8)
        case .string(let s): JSON.writeString(s, into: &out, forPeople: indent != nil)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            if a.isEmpty { out.append(UInt8(ascii: "]")); return }
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                v.write(into: &out, indent: indent, level: level + 1)
            }
            newline(level)
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            if o.isEmpty { out.append(UInt8(ascii: "}")); return }
            for (i, key) in o.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                JSON.writeString(key, into: &out, forPeople: indent != nil)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(32) }
                o[key]!.write(into: &out, indent: indent, level: level + 1)
            }
            newline(level)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// For people: at most 10 significant digits, so `11.5 * 1.1` shows as 12.65, not
    /// 12.650000000000002. JSON output keeps every digit.
    /// Whole numbers below 10^15 (row counts, sizes) are shown exactly.
    public static func display(_ n: Double) -> String {
        guard n != 0, n.isFinite, !(n.rounded() == n && abs(n) < 1e15) else { return format(n) }
        // Decimal rounding by the C library: scaling by powers of ten in binary is not exact
        // (1.5e308 came out as 1.4999999999999966e+308).
        return format(Double(String(format: "%.10g", n)) ?? n)
    }

    /// `n` for people, with the fewest significant digits (10 to 17) that tell it apart from
    /// every value of `others` that differs from it: a gate report shows `0.80000000001 > 0.8`,
    /// never `0.8 > 0.8`.
    public static func display(_ n: Double, distinctFrom others: [Double]) -> String {
        let text = display(n)
        guard n.isFinite, others.contains(where: { $0 != n && $0.isFinite && display($0) == text }) else { return text }
        func shown(_ v: Double, _ digits: Int) -> String { format(Double(String(format: "%.\(digits)g", v)) ?? v) }
        for digits in 11...16 {
            let t = shown(n, digits)
            if others.allSatisfy({ $0 == n || !$0.isFinite || shown($0, digits) != t }) { return t }
        }
        return format(n)
    }

    /// The values of one row (candidate, reference, threshold), each distinct from the others
    /// when they differ (`display(_:distinctFrom:)`); "-" for an absent one.
    public static func display(row values: [Double?]) -> [String] {
        let present = values.compactMap { $0 }
        return values.map { v in v.map { display($0, distinctFrom: present) } ?? "-" }
    }

    /// Shortest text that reads back as the same double; integers without a fraction.
    static func format(_ n: Double) -> String {
        if n.rounded() == n && abs(n) < 1e15 { return String(Int64(n)) }
        return "\(n)"
    }

    /// - Parameter forPeople: for `pretty()` output, also escape DEL, the C1 controls (U+009B acts
    ///   as CSI on some terminals), line separators and bidirectional overrides as `\uXXXX`: valid
    ///   JSON that cannot drive a terminal. Canonical bytes (record ids) never change.
    private static func writeString(_ s: String, into out: inout [UInt8], forPeople: Bool = false) {
        out.append(UInt8(ascii: "\""))
        if forPeople, s.unicodeScalars.contains(where: { $0.value >= 127 && TextRules.isForbidden($0) }) {
            var run = String.UnicodeScalarView()
            for u in s.unicodeScalars {
                guard u.value >= 127 && TextRules.isForbidden(u) else { run.append(u); continue }
                writeBody(String(run), into: &out)
                run = String.UnicodeScalarView()
                out.append(contentsOf: ("\\u" + TextRules.hex(u.value).lowercased()).utf8)
            }
            writeBody(String(run), into: &out)
        } else {
            writeBody(s, into: &out)
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func writeBody(_ s: String, into out: inout [UInt8]) {
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 10: out.append(contentsOf: "\\n".utf8)
            case 13: out.append(contentsOf: "\\r".utf8)
            case 9: out.append(contentsOf: "\\t".utf8)
            case 0..<32:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            default: out.append(b)
            }
        }
    }
}

// MARK: - Reading

extension JSON {
    /// A parse error with its line and column (both from 1).
    public struct ParseError: Error, CustomStringConvertible {
        public var line: Int
        public var column: Int
        public var reason: String
        /// The key whose value failed, innermost first.
        var key: String?
        public var description: String { "line \(line), column \(column): \(reason)" + (key.map { " (the value of \"\($0)\")" } ?? "") }
    }

    /// Parses strict JSON (RFC 8259): no NaN or Infinity, no trailing commas, no duplicate keys.
    public static func parse(_ bytes: [UInt8]) throws -> JSON {
        var p = Parser(bytes: bytes)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i < bytes.count { throw p.error("unexpected text after the end of the document") }
        return v
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        func error(_ reason: String) -> ParseError {
            var line = 1, col = 1
            for b in bytes[0..<min(i, bytes.count)] {
                if b == 10 { line += 1; col = 1 } else if b & 0xC0 != 0x80 { col += 1 }
            }
            return ParseError(line: line, column: col, reason: reason)
        }

        mutating func skipSpace() {
            while i < bytes.count, [32, 9, 10, 13].contains(bytes[i]) { i += 1 }
        }

        mutating func value(depth: Int) throws -> JSON {
            guard depth < 200 else { throw error("nested too deeply") }
            guard i < bytes.count else { throw error("unexpected end of the document") }
            switch bytes[i] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            case UInt8(ascii: "N"), UInt8(ascii: "I"):
                throw error("NaN and Infinity are not numbers in JSON")
            default:
                throw error("expected a value")
            }
        }

        mutating func literal(_ word: String) throws {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else {
                throw error("expected a value")
            }
            i += w.count
        }

        mutating func object(depth: Int) throws -> JSON {
            i += 1
            var result: [String: JSON] = [:]
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(result) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a key in double quotes") }
                let keyStart = i
                let key = try string()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
                i += 1
                skipSpace()
                let v: JSON
                do { v = try value(depth: depth + 1) } catch var e as ParseError {
                    if e.key == nil { e.key = key }
                    throw e
                }
                if result[key] != nil {
                    i = keyStart
                    throw error("duplicate key \"\(key)\"")
                }
                result[key] = v
                skipSpace()
                guard i < bytes.count else { throw error("unexpected end of the document inside an object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(result) }
                throw error("expected ',' or '}'")
            }
        }

        mutating func array(depth: Int) throws -> JSON {
            i += 1
            var result: [JSON] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(result) }
            while true {
                skipSpace()
                result.append(try value(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw error("unexpected end of the document inside a list") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(result) }
                throw error("expected ',' or ']'")
            }
        }

        mutating func string() throws -> String {
            i += 1
            var out: [UInt8] = []
            while true {
                guard i < bytes.count else { throw error("unterminated string") }
                let b = bytes[i]
                if b == UInt8(ascii: "\"") { i += 1; break }
                if b < 32 { throw error("control character in a string") }
                if b == UInt8(ascii: "\\") {
                    i += 1
                    guard i < bytes.count else { throw error("unterminated string") }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(e)
                    case UInt8(ascii: "\\"): out.append(e)
                    case UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(8)
                    case UInt8(ascii: "f"): out.append(12)
                    case UInt8(ascii: "n"): out.append(10)
                    case UInt8(ascii: "r"): out.append(13)
                    case UInt8(ascii: "t"): out.append(9)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800...0xDBFF).contains(code) {
                            guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                                throw error("unpaired surrogate in a string")
                            }
                            i += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate in a string") }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(code) {
                            throw error("unpaired surrogate in a string")
                        }
                        out.append(contentsOf: String(Character(Unicode.Scalar(code)!)).utf8)
                    default:
                        throw error("invalid escape in a string")
                    }
                } else {
                    out.append(b)
                    i += 1
                }
            }
            guard let s = String(validating: out, as: UTF8.self) else { throw error("string is not valid UTF-8") }
            return s
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= bytes.count else { throw error("invalid \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt32
                switch c {
                case 48...57: d = UInt32(c - 48)
                case 97...102: d = UInt32(c - 87)
                case 65...70: d = UInt32(c - 55)
                default: throw error("invalid \\u escape")
                }
                v = v * 16 + d
                i += 1
            }
            return v
        }

        mutating func number() throws -> Double {
            let start = i
            if bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, (48...57).contains(bytes[i]) else {
                if i < bytes.count, bytes[i] == UInt8(ascii: "I") { throw error("NaN and Infinity are not numbers in JSON") }
                throw error("invalid number")
            }
            if bytes[i] == 48 { i += 1 } else { while i < bytes.count, (48...57).contains(bytes[i]) { i += 1 } }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                guard i < bytes.count, (48...57).contains(bytes[i]) else { throw error("invalid number") }
                while i < bytes.count, (48...57).contains(bytes[i]) { i += 1 }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard i < bytes.count, (48...57).contains(bytes[i]) else { throw error("invalid number") }
                while i < bytes.count, (48...57).contains(bytes[i]) { i += 1 }
            }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            guard let v = Double(text), v.isFinite else {
                i = start
                throw error("number out of range")
            }
            return v
        }
    }
}
