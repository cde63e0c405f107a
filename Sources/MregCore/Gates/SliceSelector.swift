/// A slice in a metric name, Prometheus style: `recall{merchant="new"}` names recall on the rows
/// whose `merchant` column is `new` (what `register --slice-by merchant` computes), and in a rule
/// `recall{merchant=*}` stands for every value of the column (docs/gates.md, "Slice rules").
public struct SliceSelector: Sendable, Equatable, Hashable {
    /// The metric without the slice: `recall`.
    public var metric: String
    /// The slice column: `merchant`.
    public var column: String
    /// The column's value, unescaped; nil for `*` (every value).
    public var value: String?

    public init(metric: String, column: String, value: String?) {
        self.metric = metric
        self.column = column
        self.value = value
    }

    /// `recall{merchant="new"}` or `recall{merchant=*}`: the canonical name.
    public var name: String { value.map { name(for: $0) } ?? "\(metric){\(column)=*}" }

    /// The metric name of one value of the column: `recall{merchant="new"}`.
    public func name(for value: String) -> String { "\(metric){\(column)=\"\(Self.escape(value))\"}" }

    /// Whether `value` is a wildcard.
    public var isWildcard: Bool { value == nil }

    /// A value escaped as Prometheus does in label values: `\` → `\\`, `"` → `\"`, newline → `\n`.
    public static func escape(_ value: String) -> String {
        var out = ""
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Reads a stored slice metric name, `recall{merchant="new"}`; nil for a metric without a
    /// slice or one that is not written in this form.
    public init?(metricName name: String) {
        let s = Array(name.unicodeScalars)
        guard let open = s.firstIndex(of: "{"), open > 0, s.last == "}" else { return nil }
        guard let eq = s[open...].firstIndex(of: "="), eq > open + 1, eq + 1 < s.count, s[eq + 1] == "\"" else { return nil }
        var value = String.UnicodeScalarView()
        var j = eq + 2
        var closed = false
        while j < s.count {
            let c = s[j]
            if c == "\\" {
                guard j + 1 < s.count else { return nil }
                switch s[j + 1] {
                case "\\": value.append("\\")
                case "\"": value.append("\"")
                case "n": value.append("\n")
                default: return nil
                }
                j += 2
                continue
            }
            if c == "\"" { closed = true; j += 1; break }
            value.append(c)
            j += 1
        }
        guard closed, j == s.count - 1 else { return nil }
        self.init(metric: String(String.UnicodeScalarView(s[..<open])),
                  column: String(String.UnicodeScalarView(s[(open + 1)..<eq])), value: String(value))
    }

    /// Whether the stored metric `name` is a value of this (wildcard) selector's column; its value.
    public func matches(_ name: String) -> String? {
        guard let other = SliceSelector(metricName: name), other.metric == metric, other.column == column else { return nil }
        return other.value
    }
}
