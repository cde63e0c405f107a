/// Reads one `when:` condition (docs/monitoring.md, "Policy language"):
///
///     MEASURE(COLUMN) OP THRESHOLD      psi(amount) > 0.25, missing_rate(*) > reference + 0.05
///     schema_changes OP NUMBER          schema_changes > 0
///     rows OP NUMBER                    rows < 1
///     METRIC OP THRESHOLD               recall < evaluation.recall.low, auc < 0.8
///
/// THRESHOLD is a number, `reference [+|- NUMBER]` or `evaluation.METRIC.low|high|value`.
/// Offsets are in Unicode scalars, so the policy parser adds them to the rule's column.
struct AlertConditionParser {
    struct Failure: Error {
        var offset: Int
        var reason: String
    }

    private let s: [Unicode.Scalar]
    private var i = 0

    init(_ text: String) { s = Array(text.unicodeScalars) }

    private var atEnd: Bool { i >= s.count }
    private mutating func skipSpace() { while !atEnd, s[i] == " " || s[i] == "\t" { i += 1 } }
    private func text(_ r: Range<Int>) -> String { String(String.UnicodeScalarView(s[r])) }
    private static func isName(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "." || c == "-"
    }

    private mutating func name() -> (String, Int) {
        let start = i
        while !atEnd, Self.isName(s[i]) { i += 1 }
        return (text(start..<i), start)
    }

    mutating func parse() throws -> AlertCondition {
        if let nl = s.firstIndex(where: { $0 == "\n" || $0 == "\r" }) {
            throw Failure(offset: nl, reason: "a condition is one line, this one has several")
        }
        let (word, wordStart) = name()
        guard !word.isEmpty else {
            throw Failure(offset: i, reason: "a condition starts with a measure or a metric, like `psi(*) > 0.25` or `recall < evaluation.recall.low`")
        }
        let measure: Measure
        if !atEnd, s[i] == "(" {
            guard let m = ColumnMeasure(rawValue: word) else {
                throw Failure(offset: wordStart, reason: "unknown measure \(ModelName.show(word)) (expected \(ColumnMeasure.names))")
            }
            i += 1
            skipSpace()
            let column: String?
            if !atEnd, s[i] == "*" {
                column = nil
                i += 1
            } else {
                let start = i
                while !atEnd, s[i] != ")", s[i] != " " { i += 1 }
                guard i > start else { throw Failure(offset: start, reason: "\(word)() needs a column name or *") }
                column = text(start..<i)
            }
            skipSpace()
            guard !atEnd, s[i] == ")" else { throw Failure(offset: i, reason: "expected `)` after the column of \(word)") }
            i += 1
            measure = .column(m, column: column)
        } else if word == "schema_changes" {
            measure = .schemaChanges
        } else if word == "rows" {
            measure = .rows
        } else if ColumnMeasure(rawValue: word) != nil {
            throw Failure(offset: i, reason: "\(word) is measured on a column: write \(word)(COLUMN) or \(word)(*)")
        } else {
            measure = .metric(word)
        }

        skipSpace()
        let opStart = i
        while !atEnd, "<>=!".unicodeScalars.contains(s[i]) { i += 1 }
        let opText = text(opStart..<i)
        guard let op = AlertCondition.Op(rawValue: opText) else {
            let found = opText.isEmpty ? (atEnd ? "the end" : ModelName.show(text(i..<s.count))) : "\"\(opText)\""
            throw Failure(offset: opStart, reason: "expected an operator (>, >=, <, <=), found \(found)")
        }
        skipSpace()
        let thresholdStart = i
        let threshold = try self.threshold(for: measure)
        skipSpace()
        if !atEnd { throw Failure(offset: i, reason: "unexpected \(ModelName.show(text(i..<s.count))) after the threshold") }
        _ = thresholdStart
        return AlertCondition(measure: measure, op: op, threshold: threshold)
    }

    private mutating func threshold(for measure: Measure) throws -> AlertCondition.Threshold {
        let start = i
        let (word, _) = name()
        if word.isEmpty && (atEnd || s[i] != "-" && s[i] != "+") {
            throw Failure(offset: start, reason: "expected a threshold: a number, `reference + MARGIN` or `evaluation.METRIC.low`")
        }
        if word == "reference" {
            guard case .column(let m, _) = measure, m.hasReferenceValue else {
                throw Failure(offset: start, reason: "`reference` is the measure's value on the reference profile, which only missing_rate, mean, p50, p90 and p99 have")
            }
            skipSpace()
            if atEnd { return .reference(plus: 0) }
            let sign: Double
            switch s[i] {
            case "+": sign = 1
            case "-": sign = -1
            default: throw Failure(offset: i, reason: "expected + or - after `reference`")
            }
            i += 1
            skipSpace()
            let numStart = i
            while !atEnd, s[i] != " " { i += 1 }
            guard let n = RuleParser.number(text(numStart..<i)) else { throw Failure(offset: numStart, reason: "expected a number after `reference \(sign > 0 ? "+" : "-")`") }
            return .reference(plus: sign * n)
        }
        if word.hasPrefix("evaluation.") {
            let parts = word.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count >= 3, let bound = AlertCondition.Bound(rawValue: String(parts.last!)), !parts[1].isEmpty else {
                throw Failure(offset: start, reason: "expected evaluation.METRIC.low, evaluation.METRIC.high or evaluation.METRIC.value, found \(ModelName.show(word))")
            }
            guard measure.isPerformance else {
                throw Failure(offset: start, reason: "only a production metric (like recall) compares with the evaluation")
            }
            return .evaluation(metric: parts[1..<(parts.count - 1)].joined(separator: "."), bound: bound)
        }
        i = start
        while !atEnd, s[i] != " " { i += 1 }
        let numText = text(start..<i)
        guard let n = RuleParser.number(numText), n.isFinite else {
            throw Failure(offset: start, reason: "expected a threshold: a number, `reference + MARGIN` or `evaluation.METRIC.low`, found \(ModelName.show(numText))")
        }
        return .number(n)
    }
}
