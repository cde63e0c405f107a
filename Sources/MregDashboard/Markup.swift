import Foundation
import Plot

/// Every node of the page: HTML and the inline SVG inside it share Plot's body context.
public typealias Markup = Node<HTML.BodyContext>

/// The few helpers the page and the charts build their markup with. User-supplied strings go
/// through `text` (element content) or `attr` (attribute values) and nowhere else.
///
/// Plot escapes `<`, `>` and `&` in text but leaves what already looks like an entity (`&amp;`,
/// `&#60;`) as it is, and writes attribute values without escaping them. So:
/// - `text` escapes `&` first: Plot then keeps the `&amp;` and escapes `<` and `>`, and a user's
///   `&lt;` reads `&lt;` on the page rather than `<`;
/// - `attr` escapes `&`, `<`, `>`, `"` and `'` itself.
enum M {
    /// Element content: the string exactly as the user wrote it, escaped.
    static func text(_ s: String) -> Markup { .text(s.replacingOccurrences(of: "&", with: "&amp;")) }

    /// An attribute value, escaped for a double-quoted attribute.
    static func attr(_ name: String, _ value: String) -> Markup {
        .attribute(named: name, value: escapeAttribute(value), ignoreIfValueIsEmpty: false)
    }

    static func escapeAttribute(_ s: String) -> String {
        // Coordinates and class names (nearly every attribute) have nothing to escape.
        guard s.utf8.contains(where: { $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 || $0 == 39 }) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// `<name a="…" …>children</name>`; attribute values escaped.
    static func el(_ name: String, _ attributes: [(String, String)] = [], _ children: [Markup] = []) -> Markup {
        .element(named: name, nodes: attributes.map { attr($0.0, $0.1) } + children)
    }

    /// `<name …>text</name>` with the text escaped.
    static func el(_ name: String, _ attributes: [(String, String)] = [], text: String) -> Markup {
        el(name, attributes, [M.text(text)])
    }

    /// A number for SVG coordinates: two decimals at most, no exponent.
    static func n(_ x: Double) -> String {
        guard x.isFinite, abs(x) < 1e12 else { return "0" }
        let r = Int((x * 100).rounded())  // String(format:) is slow on Linux; this is the same text
        let whole = abs(r) / 100, frac = abs(r) % 100
        let sign = r < 0 ? "-" : ""
        if frac == 0 { return sign + String(whole) }
        return sign + String(whole) + (frac < 10 ? ".0" : ".") + String(frac)
    }
}
