/// Reads one gate rule, `METRIC OP RHS` (docs/gates.md, "Grammar"), and says where it went wrong.
///
/// Works on Unicode scalars because YAML marks count columns in scalars, so an offset here plus
/// the rule's column is the column of the offending character in the file.
struct RuleParser {
    /// Why a rule does not parse, at a scalar offset into the (trimmed) rule text.
    struct Failure: Error {
        var offset: Int
        var reason: String
        /// What would have been accepted there, for the "(expected …)" part of the message.
        var expected: String?
    }

    static let operators = ">, >=, <, <=, =="
    private static let opScalars: Set<Unicode.Scalar> = ["<", ">", "=", "!"]
    private static let lookalikes: [Unicode.Scalar: String] = ["≥": ">=", "≤": "<=", "⩾": ">=", "⩽": "<="]

    private let s: [Unicode.Scalar]
    private var i = 0

    init(_ text: String) { s = Array(text.unicodeScalars) }

    private var atEnd: Bool { i >= s.count }
    private static func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" }
    private mutating func skipSpace() { while !atEnd, Self.isSpace(s[i]) { i += 1 } }
    private func text(_ r: Range<Int>) -> String { String(String.UnicodeScalarView(s[r])) }
    private var rest: String { text(i..<s.count) }

    /// The range of the token at `start`: everything up to the next space or one of `stops`.
    private func token(from start: Int, stoppingAt stops: Set<Unicode.Scalar> = []) -> Range<Int> {
        var j = start
        while j < s.count, !Self.isSpace(s[j]), !stops.contains(s[j]) { j += 1 }
        return start..<j
    }

    private func show(_ t: String) -> String { ModelName.show(t) }

    mutating func parse(line: Int, column: Int) throws -> GateRule {
        let ruleText = text(0..<s.count)
        guard !s.isEmpty else { throw Failure(offset: 0, reason: "empty rule", expected: "METRIC OP VALUE, like `f1 > champion`") }
        if let nl = s.firstIndex(where: { $0 == "\n" || $0 == "\r" }) {
            throw Failure(offset: nl, reason: "a rule is one line, this one has several", expected: "one rule per list item")
        }

        // METRIC, with an optional slice: recall{merchant="new"}, recall{merchant=*}
        let metricRange = token(from: i, stoppingAt: Self.opScalars.union(["{"]))
        var metric = text(metricRange)
        if metric.isEmpty {
            throw Failure(offset: 0, reason: "a rule starts with a metric name", expected: "METRIC OP VALUE, like `f1 > champion`")
        }
        if let bad = s[metricRange].firstIndex(where: { $0.value <= 32 || $0.value >= 127 }) {
            throw Failure(offset: bad, reason: "metric name \(show(metric)) is not printable ASCII",
                          expected: "letters, digits and punctuation, like test.f1 or latency_p99_ms")
        }
        i = metricRange.upperBound
        var slice: SliceSelector?
        if !atEnd, s[i] == "{" {
            let selector = try self.slice(of: metric)
            slice = selector
            metric = selector.name
        }

        // OP
        skipSpace()
        let opStart = i
        while !atEnd, Self.opScalars.contains(s[i]) { i += 1 }
        let opText = text(opStart..<i)
        if opText.isEmpty {
            if atEnd { throw Failure(offset: opStart, reason: "missing operator after \(show(metric))", expected: Self.operators) }
            if let hint = Self.lookalikes[s[i]] {
                throw Failure(offset: i, reason: "unknown operator \"\(s[i])\" (write \(hint))", expected: Self.operators)
            }
            throw Failure(offset: i, reason: "expected an operator after \(show(metric)), found \(show(text(token(from: i))))",
                          expected: Self.operators)
        }
        guard let op = ComparisonOp(rawValue: opText) else {
            throw Failure(offset: opStart, reason: "unknown operator \"\(opText)\"", expected: Self.operators)
        }
        skipSpace()
        if !atEnd, Self.opScalars.contains(s[i]) {
            throw Failure(offset: i, reason: "unexpected \"\(s[i])\" after operator \"\(opText)\"",
                          expected: "an operator without spaces inside: \(Self.operators)")
        }

        // RHS
        if atEnd {
            throw Failure(offset: i, reason: "missing right-hand side after \"\(opText)\"", expected: "a number, champion or baseline.NAME")
        }
        let reference: Reference
        if "0123456789+-.".unicodeScalars.contains(s[i]) {
            reference = .constant(try constant())
        } else {
            reference = try relativeReference()
        }
        let confidence = try confidenceClause(reference, op)
        return GateRule(text: ruleText, line: line, column: column, metric: metric, op: op, reference: reference,
                        confidence: confidence, slice: slice)
    }

    /// A constant floor or ceiling, which takes no margin.
    private mutating func constant() throws -> Double {
        let r = token(from: i)
        let t = text(r)
        guard let v = Self.number(t) else {
            let expected = t.hasSuffix("%") ? "a plain number; % is only for margins, like `champion - 1%`"
                                            : "a number, like 0.85, -3 or 1e-4"
            throw Failure(offset: i, reason: "\(show(t)) is not a number", expected: expected)
        }
        i = r.upperBound
        skipSpace()
        if !atEnd, !atWith {
            if "+-*".unicodeScalars.contains(s[i]) {
                throw Failure(offset: i, reason: "a constant takes no margin: \(show(rest))",
                              expected: "the threshold itself, like `f1 > 0.85`")
            }
            throw Failure(offset: i, reason: "unexpected \(show(rest)) at the end", expected: "nothing after the number")
        }
        return v
    }

    /// `champion` or `baseline.NAME`, then an optional margin.
    private mutating func relativeReference() throws -> Reference {
        let start = i
        let word = token(from: i)
        let wordText = text(word)
        // Margin signs may follow without a space: champion+0.005, champion-0.01, champion*1.1.
        let marginScalars: Set<Unicode.Scalar> = ["+", "-", "*", "%", "/"]
        if wordText.hasPrefix("champion"), start + 8 == word.upperBound || marginScalars.contains(s[start + 8]) {
            i = start + 8
            return .champion(try margin(after: "champion"))
        }
        if wordText.hasPrefix("baseline.") {
            // Baseline names may contain "-", so a "-" margin after one needs a space.
            let nameRange = token(from: start + 9, stoppingAt: ["+", "*", "%", "/"])
            let name = text(nameRange)
            do { try ModelName.validate(name, what: "baseline name") } catch let e as MregError {
                throw Failure(offset: nameRange.lowerBound, reason: e.message, expected: "baseline.NAME, like baseline.rules-v1")
            }
            i = nameRange.upperBound
            return .baseline(name, try margin(after: "baseline.\(name)"))
        }
        let bare = text(token(from: start, stoppingAt: marginScalars))
        if bare == "baseline" {
            throw Failure(offset: start, reason: "baseline needs a name", expected: "baseline.NAME, like baseline.rules-v1")
        }
        let lower = bare.lowercased()
        let hint = lower == "champion" || lower.hasPrefix("baseline.") ? " (references are lower-case)" : ""
        throw Failure(offset: start, reason: "unknown reference \(show(bare))\(hint)", expected: "a number, champion or baseline.NAME")
    }

    /// `+ N`, `- N`, `+ N%`, `- N%`, `* F`, or nothing; then the end of the rule.
    private mutating func margin(after reference: String) throws -> Margin {
        let forms = "+ N, - N, + N%, - N% or * F"
        skipSpace()
        guard !atEnd, !atWith else { return .none }
        let sign = s[i]
        guard sign == "+" || sign == "-" || sign == "*" else {
            throw Failure(offset: i, reason: "unexpected \(show(rest)) after \(reference)", expected: "a margin: \(forms)")
        }
        let signAt = i
        i += 1
        skipSpace()
        let r = token(from: i)
        if r.isEmpty { throw Failure(offset: i, reason: "missing number after \"\(sign)\"", expected: "a margin: \(forms)") }
        let percent = s[r.upperBound - 1] == "%"
        let numText = text(r.lowerBound..<(percent ? r.upperBound - 1 : r.upperBound))
        guard let v = Self.number(numText) else {
            throw Failure(offset: r.lowerBound, reason: "\(show(text(r))) is not a number (after \"\(sign)\")", expected: "a margin: \(forms)")
        }
        i = r.upperBound
        let result: Margin
        switch sign {
        case "*":
            if percent {
                throw Failure(offset: signAt, reason: "\"* \(text(r))\" mixes a factor and a percentage", expected: "* 1.10 or + 10%")
            }
            guard v > 0, !numText.hasPrefix("-") else {
                throw Failure(offset: r.lowerBound, reason: "a factor must be greater than 0, not \(numText)",
                              expected: "a factor like * 1.10 or * 0.95, which scales the reference's magnitude")
            }
            result = .relative(Margin.decimal(v - 1))
        default:
            if numText.hasPrefix("-") {
                let flipped = sign == "+" ? "-" : "+"
                throw Failure(offset: r.lowerBound, reason: "a margin after \"\(sign)\" must not be negative",
                              expected: "\(reference) \(flipped) \(numText.dropFirst())\(percent ? "%" : "")")
            }
            let signed = sign == "-" ? -v : v
            result = percent ? .relative(Margin.decimal(signed / 100)) : .absolute(signed)
        }
        skipSpace()
        if !atEnd, !atWith {
            throw Failure(offset: i, reason: "unexpected \(show(rest)) after the margin", expected: "one margin per rule, like `champion + 0.005`")
        }
        return result
    }

    // MARK: - Slices and confidence (docs/gates.md, "Slice rules" and "Significance")

    static let sliceForms = "METRIC{COLUMN=\"VALUE\"} or METRIC{COLUMN=*}, like recall{merchant=\"new\"}"
    static let confidenceForm = "with P% confidence, like `with 95% confidence`"

    /// Whether the rest of the rule starts with the word `with`.
    private var atWith: Bool {
        let w: [Unicode.Scalar] = ["w", "i", "t", "h"]
        guard i + 4 <= s.count, Array(s[i..<(i + 4)]) == w else { return false }
        return i + 4 == s.count || Self.isSpace(s[i + 4])
    }

    /// `{COLUMN="VALUE"}` or `{COLUMN=*}` after the metric `base`; `i` is at the `{`.
    private mutating func slice(of base: String) throws -> SliceSelector {
        i += 1
        skipSpace()
        let columnRange = token(from: i, stoppingAt: ["=", "}", "{", ",", "\"", "!", "*", "~", "<", ">"])
        let column = text(columnRange)
        if column.isEmpty {
            throw Failure(offset: i, reason: "the slice of \(show(base)) names no column", expected: Self.sliceForms)
        }
        if let bad = s[columnRange].firstIndex(where: { $0.value <= 32 || $0.value >= 127 }) {
            throw Failure(offset: bad, reason: "slice column \(show(column)) is not printable ASCII", expected: Self.sliceForms)
        }
        i = columnRange.upperBound
        skipSpace()
        guard !atEnd, s[i] == "=" else {
            if !atEnd, s[i] == "!" {
                throw Failure(offset: i, reason: "only = selects a slice (no !=)", expected: Self.sliceForms)
            }
            throw Failure(offset: i, reason: "expected \"=\" after slice column \(show(column))", expected: Self.sliceForms)
        }
        i += 1
        if !atEnd, s[i] == "~" {
            throw Failure(offset: i - 1, reason: "a slice is selected by one value or *, not a pattern (=~)", expected: Self.sliceForms)
        }
        skipSpace()
        var value: String?
        if !atEnd, s[i] == "*" {
            i += 1
        } else if !atEnd, s[i] == "\"" {
            let open = i
            i += 1
            var v = String.UnicodeScalarView()
            var closed = false
            while !atEnd {
                let c = s[i]
                if c == "\"" { closed = true; i += 1; break }
                if c == "\\" {
                    let escaped: Unicode.Scalar? = i + 1 < s.count ? ["\\": "\\", "\"": "\"", "n": "\n"][s[i + 1]] : nil
                    guard let escaped else {
                        throw Failure(offset: i, reason: "unknown escape in the slice value (only \\\\, \\\" and \\n)", expected: Self.sliceForms)
                    }
                    v.append(escaped)
                    i += 2
                    continue
                }
                v.append(c)
                i += 1
            }
            if !closed { throw Failure(offset: open, reason: "the slice value has no closing quote", expected: Self.sliceForms) }
            value = String(v)
        } else {
            let found = atEnd ? "nothing" : show(text(token(from: i, stoppingAt: ["}", ","])))
            throw Failure(offset: i, reason: "a slice value is quoted (\"new\") or * for every value, found \(found)", expected: Self.sliceForms)
        }
        skipSpace()
        if !atEnd, s[i] == "," {
            throw Failure(offset: i, reason: "a slice rule selects one column; write one rule per column", expected: Self.sliceForms)
        }
        guard !atEnd, s[i] == "}" else {
            throw Failure(offset: i, reason: "expected } to close the slice of \(show(base))", expected: Self.sliceForms)
        }
        i += 1
        return SliceSelector(metric: base, column: column, value: value)
    }

    /// `with P% confidence` at the end of a rule against the champion, or nothing.
    private mutating func confidenceClause(_ reference: Reference, _ op: ComparisonOp) throws -> Double? {
        skipSpace()
        guard !atEnd else { return nil }
        let withAt = i
        switch reference {
        case .constant:
            throw Failure(offset: withAt, reason: "`with … confidence` is only for rules against the champion; a constant is not measured on rows",
                          expected: "a constant rule without `with`, or `METRIC > champion with 95% confidence`")
        case .baseline(let name, _):
            throw Failure(offset: withAt, reason: "`with … confidence` is only for rules against the champion; baseline \(name) has no predictions to pair with",
                          expected: "a baseline rule without `with`, or `METRIC > champion with 95% confidence`")
        case .champion:
            break
        }
        if op == .equal {
            throw Failure(offset: withAt, reason: "`==` cannot be decided with confidence", expected: ">, >=, < or <= with confidence")
        }
        i += 4
        skipSpace()
        let r = token(from: i)
        let t = text(r)
        if t.isEmpty { throw Failure(offset: i, reason: "missing confidence level after \"with\"", expected: Self.confidenceForm) }
        guard t.hasSuffix("%"), let p = Self.number(String(t.dropLast())) else {
            let hint = Self.number(t).flatMap { $0 > 0 && $0 < 1 ? " (write \(JSON.display(Margin.decimal($0 * 100)))%)" : nil } ?? ""
            throw Failure(offset: i, reason: "\(show(t)) is not a percentage\(hint)", expected: Self.confidenceForm)
        }
        guard p >= 50, p < 100 else {
            throw Failure(offset: i, reason: "a confidence level is at least 50% and below 100%, not \(t)", expected: Self.confidenceForm)
        }
        i = r.upperBound
        skipSpace()
        let w = token(from: i)
        guard text(w) == "confidence" else {
            let reason = atEnd ? "missing \"confidence\" after \(t)" : "expected \"confidence\" after \(t), found \(show(text(w)))"
            throw Failure(offset: i, reason: reason, expected: Self.confidenceForm)
        }
        i = w.upperBound
        skipSpace()
        if !atEnd {
            throw Failure(offset: i, reason: "unexpected \(show(rest)) at the end", expected: "nothing after `with \(t) confidence`")
        }
        return Margin.decimal(p / 100)
    }

    /// A finite decimal number: digits, one optional sign, point and exponent. No hex, no `inf`.
    static func number(_ text: String) -> Double? {
        guard text.unicodeScalars.contains(where: { $0 >= "0" && $0 <= "9" }),
              text.unicodeScalars.allSatisfy({ "0123456789.eE+-".unicodeScalars.contains($0) }),
              let v = Double(text), v.isFinite else { return nil }
        return v
    }
}
