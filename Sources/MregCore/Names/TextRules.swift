/// Rules for the text users give mreg and the text mreg shows them.
///
/// One-line values (messages, reasons, labels, lineage, eval-set names) are recorded in version
/// records and the history and shown by `show`, `log` and `list`: a line break or an escape
/// sequence in one would let it forge a line of history or drive the terminal. So they are refused
/// on input (`checkOneLine`), and everything shown is escaped on output (`escaped`), so that a
/// registry written by an older mreg or by hand cannot do it either.
public enum TextRules {
    /// Longest message (`-m`), in bytes.
    public static let messageLimit = 4096
    /// Longest reason (`--override`, `--reason`), in bytes.
    public static let reasonLimit = 4096
    /// Longest lineage value (`--data`, `--code-revision`) and eval-set name, in bytes.
    public static let identifierLimit = 1024

    /// Characters no one-line value may hold, and which output never shows raw: C0 controls
    /// (including tab), DEL, C1 controls (U+0080–U+009F, with U+0085 NEXT LINE and U+009B, which
    /// some terminals read as CSI), the Unicode line and paragraph separators, and the bidirectional
    /// overrides and isolates that make text display in another order than it is stored.
    public static func isForbidden(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0..<32, 127..<160, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// What is wrong with `u` in a one-line value, in words.
    static func describe(_ u: Unicode.Scalar) -> String {
        switch u.value {
        case 10, 13, 0x85, 0x2028, 0x2029: return "a line break"
        case 9: return "a tab"
        case 27, 0x9B: return "an escape sequence character"
        case 0x202A...0x202E, 0x2066...0x2069: return "a bidirectional-text control"
        default: return "a control character"
        }
    }

    /// Refuses `value` unless it is one line of at most `limit` bytes with none of the characters
    /// of `isForbidden`; `what` names it (`--message`, `--label team=x`).
    public static func checkOneLine(_ value: String, what: String, limit: Int, allowEmpty: Bool = true) throws {
        if !allowEmpty && value.isEmpty { throw MregError.invalid("\(what) is empty") }
        if let bad = value.unicodeScalars.first(where: isForbidden) {
            let at = value.unicodeScalars.prefix(while: { $0 != bad }).count + 1
            throw MregError.invalid("\(what) contains \(describe(bad)) (U+\(hex(bad.value)) at character \(at)); it must be one line of plain text"
                                    + (bad == "\t" ? " (use spaces instead of tabs)" : ""))
        }
        if value.utf8.count > limit {
            throw MregError.invalid("\(what) is \(value.utf8.count) bytes long; the limit is \(limit) bytes")
        }
    }

    /// `text` with every character of `isForbidden` written as an escape: `\n`, `\r`, `\t`, or
    /// `\u{1b}`. With `keepNewlines`, `\n`, CRLF and tab are kept (for output made of several
    /// lines, like a policy's text).
    public static func escaped(_ text: String, keepNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: isForbidden) else { return text }
        var out = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        for (i, u) in scalars.enumerated() {
            guard isForbidden(u) else { out.append(u); continue }
            switch u.value {
            case 9 where keepNewlines, 10 where keepNewlines: out.append(u)
            // A CRLF line end (a policy written on Windows) is a line end, not an escape.
            case 13 where keepNewlines && i + 1 < scalars.count && scalars[i + 1] == "\n": out.append(u)
            case 10: out.append(contentsOf: "\\n".unicodeScalars)
            case 13: out.append(contentsOf: "\\r".unicodeScalars)
            case 9: out.append(contentsOf: "\\t".unicodeScalars)
            default: out.append(contentsOf: "\\u{\(String(u.value, radix: 16))}".unicodeScalars)
            }
        }
        return String(out)
    }

    /// A value taken from the environment (user and host names) as it can be recorded: it is not
    /// the user's to fix in the command, so it is escaped rather than refused, and cut at 256 bytes.
    public static func fromEnvironment(_ value: String) -> String {
        var s = escaped(value)
        while s.utf8.count > 256 { s.removeLast() }
        return s
    }

    /// Columns a terminal gives `text`: combining marks and zero-width characters take none, East
    /// Asian wide and full-width characters (and emoji) two, others one. Counted per character
    /// (grapheme cluster), so a name in NFD (`e` + U+0301) is as wide as the same name in NFC.
    public static func displayWidth(_ text: String) -> Int {
        var width = 0
        for ch in text {
            guard let first = ch.unicodeScalars.first(where: { !isZeroWidth($0) }) else { continue }
            width += isWide(first) ? 2 : 1
        }
        return width
    }

    static func isZeroWidth(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return true
        default: return u.value == 0x200B
        }
    }

    static func isWide(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return true
        default:
            return false
        }
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }
}
