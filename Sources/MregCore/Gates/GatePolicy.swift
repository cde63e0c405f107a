import Yams

/// A comparison in a gate rule.
public enum ComparisonOp: String, Sendable, Equatable, CaseIterable {
    case greater = ">"
    case greaterOrEqual = ">="
    case less = "<"
    case lessOrEqual = "<="
    case equal = "=="

    func holds(_ a: Double, _ b: Double) -> Bool {
        switch self {
        case .greater: return a > b
        case .greaterOrEqual: return a >= b
        case .less: return a < b
        case .lessOrEqual: return a <= b
        case .equal: return a == b
        }
    }
}

/// How a rule moves its reference value before comparing.
public enum Margin: Sendable, Equatable {
    case none
    /// `+ 0.005` or `- 0.01`: added to the reference.
    case absolute(Double)
    /// `+ 2%`, `- 1%`, `* 1.10`: a fraction of the reference's magnitude, added (may be negative).
    case relative(Double)

    /// The threshold for a reference value.
    func apply(to reference: Double) -> Double {
        switch self {
        case .none: return reference
        case .absolute(let d): return reference + d
        case .relative(let f): return reference + f * abs(reference)
        }
    }
}

/// What a rule compares the candidate's metric with.
public enum Reference: Sendable, Equatable {
    case constant(Double)
    case champion(Margin)
    case baseline(String, Margin)
}

/// One gate: `METRIC OP RHS`, as written on one line of a policy.
public struct GateRule: Sendable, Equatable {
    public var text: String
    public var line: Int
    public var column: Int
    public var metric: String
    public var op: ComparisonOp
    public var reference: Reference
}

/// The gates of one stage.
public struct StagePolicy: Sendable, Equatable {
    /// A stage the candidate must have been champion of before.
    public var after: String?
    public var gates: [GateRule]
}

/// A model's gate policy (docs/gates.md), parsed from YAML.
public struct GatePolicy: Sendable, Equatable {
    public var lowerIsBetter: Set<String>
    public var stages: [String: StagePolicy]
    /// The YAML as written, stored verbatim.
    public var text: String

    /// Baseline names the rules refer to.
    public var referencedBaselines: Set<String> {
        var names: Set<String> = []
        for s in stages.values {
            for g in s.gates { if case .baseline(let n, _) = g.reference { names.insert(n) } }
        }
        return names
    }

    /// Parses a policy; errors name `source`, the line and column, and what was expected.
    public static func parse(_ text: String, source: String) throws -> GatePolicy {
        func fail(_ node: Node?, _ reason: String) -> MregError {
            if let m = node?.mark { return MregError.invalid("\(source): line \(m.line), column \(m.column): \(reason)") }
            return MregError.invalid("\(source): \(reason)")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let e as YamlError {
            throw MregError.invalid("\(source): not valid YAML: \(YAML.describe(e))")
        } catch {
            throw MregError.invalid("\(source): not valid YAML: \(error)")
        }
        guard let root, case .mapping(let top) = root else {
            throw fail(root, "a policy is a mapping with `stages:` (and optionally `lower_is_better:`)")
        }
        var lower: Set<String> = []
        var stagesNode: Node?
        var seenKeys: Set<String> = []
        for (k, v) in top {
            guard let key = k.string else { throw fail(k, "keys must be plain strings") }
            guard seenKeys.insert(key).inserted else { throw fail(k, "duplicate key \"\(key)\"") }
            switch key {
            case "lower_is_better":
                guard case .sequence(let items) = v else { throw fail(v, "lower_is_better must be a list of metric names") }
                for item in items {
                    guard case .scalar(let s) = item, !s.string.isEmpty, !s.string.contains(" ") else {
                        throw fail(item, "lower_is_better must be a list of metric names")
                    }
                    lower.insert(s.string)
                }
            case "stages":
                stagesNode = v
            default:
                throw fail(k, "unknown key \"\(key)\" (expected stages, lower_is_better)")
            }
        }
        guard let stagesNode else { throw fail(root, "the policy has no `stages:`") }
        guard case .mapping(let stageMap) = stagesNode, !stageMap.isEmpty else {
            throw fail(stagesNode, "`stages:` must map stage names to their gates")
        }
        var stages: [String: StagePolicy] = [:]
        var afterNodes: [String: Node] = [:]
        for (k, v) in stageMap {
            guard let name = k.string else { throw fail(k, "stage names must be plain strings") }
            do { _ = try StageName(name) } catch let e as MregError { throw fail(k, e.message) }
            if stages[name] != nil { throw fail(k, "stage \"\(name)\" is defined twice") }
            var policy = StagePolicy(after: nil, gates: [])
            switch v {
            case .scalar(let s) where s.string.isEmpty || v.tag.rawValue == Tag.Name.null.rawValue:
                break
            case .mapping(let body):
                var keys: Set<String> = []
                for (bk, bv) in body {
                    guard let key = bk.string else { throw fail(bk, "keys must be plain strings") }
                    guard keys.insert(key).inserted else { throw fail(bk, "duplicate key \"\(key)\" in stage \(name)") }
                    switch key {
                    case "after":
                        guard case .scalar(let s) = bv, !s.string.isEmpty else { throw fail(bv, "after: names one stage") }
                        policy.after = s.string
                        afterNodes[name] = bv
                    case "gates":
                        switch bv {
                        case .sequence(let items):
                            for item in items { policy.gates.append(try parseRule(item, source: source)) }
                        case .scalar(let s) where s.string.isEmpty || bv.tag.rawValue == Tag.Name.null.rawValue:
                            break
                        default:
                            throw fail(bv, "gates: must be a list of rules, one per line (`- f1 > champion`)")
                        }
                    default:
                        throw fail(bk, "unknown key \"\(key)\" in stage \(name) (expected gates, after)")
                    }
                }
            default:
                throw fail(v, "stage \(name) must be a mapping with gates: (and optionally after:)")
            }
            stages[name] = policy
        }
        for (name, node) in afterNodes {
            let after = stages[name]!.after!
            guard stages[after] != nil else {
                throw fail(node, "stage \(name) comes after \"\(after)\", which is not a stage of this policy (stages: \(stages.keys.sorted().joined(separator: ", ")))")
            }
            var seen: [String] = [name]
            var next: String? = after
            while let s = next {
                if seen.contains(s) {
                    throw fail(node, "the `after:` order forms a cycle: \((seen + [s]).joined(separator: " → "))")
                }
                seen.append(s)
                next = stages[s]?.after
            }
        }
        return GatePolicy(lowerIsBetter: lower, stages: stages, text: text)
    }

    static func parseRule(_ node: Node, source: String) throws -> GateRule {
        let line = node.mark?.line ?? 0
        let column = node.mark?.column ?? 0
        guard case .scalar(let scalar) = node else {
            throw MregError.invalid("\(source): line \(line), column \(column): a rule is one line of text, like `f1 > champion + 0.005`")
        }
        let text = scalar.string.trimmingCharacters(in: " \t")
        do {
            var parser = RuleParser(text: text)
            return try parser.parse(line: line, column: column)
        } catch let e as RuleParser.Failure {
            let where_ = scalar.style == .plain ? column + e.offset : column
            throw MregError.invalid("\(source): line \(line), column \(where_): \(e.reason) in rule \"\(text)\"")
        }
    }
}

/// Reads `METRIC OP RHS`.
struct RuleParser {
    struct Failure: Error {
        var offset: Int
        var reason: String
    }

    let chars: [Character]
    var i = 0

    init(text: String) { chars = Array(text) }

    static let opChars: Set<Character> = ["<", ">", "=", "!"]

    mutating func skipSpace() { while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 } }

    mutating func parse(line: Int, column: Int) throws -> GateRule {
        let text = String(chars)
        if chars.isEmpty { throw Failure(offset: 0, reason: "empty rule") }
        let metricStart = i
        while i < chars.count, !chars[i].isWhitespace, !Self.opChars.contains(chars[i]) { i += 1 }
        let metric = String(chars[metricStart..<i])
        if metric.isEmpty { throw Failure(offset: 0, reason: "a rule starts with a metric name") }
        guard metric.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else {
            throw Failure(offset: 0, reason: "metric name \"\(metric)\" must be printable ASCII")
        }
        skipSpace()
        let opStart = i
        while i < chars.count, Self.opChars.contains(chars[i]) { i += 1 }
        let opText = String(chars[opStart..<i])
        if opText.isEmpty {
            if i >= chars.count { throw Failure(offset: opStart, reason: "missing operator after \"\(metric)\" (expected >, >=, <, <=, ==)") }
            throw Failure(offset: opStart, reason: "expected an operator (>, >=, <, <=, ==) after \"\(metric)\"")
        }
        guard let op = ComparisonOp(rawValue: opText) else {
            throw Failure(offset: opStart, reason: "unknown operator \"\(opText)\" (expected >, >=, <, <=, ==)")
        }
        skipSpace()
        if i >= chars.count { throw Failure(offset: i, reason: "missing right-hand side after \"\(opText)\" (a number, champion or baseline.NAME)") }
        let rhsStart = i
        let reference: Reference
        if chars[i].isNumber || chars[i] == "-" || chars[i] == "+" || chars[i] == "." {
            var j = i
            if chars[j] == "-" || chars[j] == "+" { j += 1 }
            while j < chars.count, chars[j].isNumber || chars[j] == "." || chars[j] == "e" || chars[j] == "E" ||
                ((chars[j] == "-" || chars[j] == "+") && (chars[j - 1] == "e" || chars[j - 1] == "E")) { j += 1 }
            let numText = String(chars[i..<j])
            guard let v = Self.number(numText) else { throw Failure(offset: i, reason: "\"\(numText)\" is not a number") }
            i = j
            reference = .constant(v)
        } else {
            while i < chars.count, !chars[i].isWhitespace, !"+*%".contains(chars[i]) { i += 1 }
            var ref = String(chars[rhsStart..<i])
            // "champion-0.01": the "-" starts the margin (baseline names may contain "-", so a
            // margin after a baseline needs a space).
            if ref.hasPrefix("champion-") {
                i = rhsStart + "champion".count
                ref = "champion"
            }
            let margin = try parseMargin()
            if ref == "champion" {
                reference = .champion(margin)
            } else if ref.hasPrefix("baseline.") {
                let name = String(ref.dropFirst("baseline.".count))
                do { try ModelName.validate(name, what: "baseline name") } catch let e as MregError {
                    throw Failure(offset: rhsStart, reason: e.message)
                }
                reference = .baseline(name, margin)
            } else {
                throw Failure(offset: rhsStart, reason: "unknown reference \"\(ref)\" (expected a number, champion or baseline.NAME)")
            }
        }
        skipSpace()
        if i < chars.count { throw Failure(offset: i, reason: "unexpected \"\(String(chars[i...]))\" at the end") }
        return GateRule(text: text, line: line, column: column, metric: metric, op: op, reference: reference)
    }

    /// `+ N`, `- N`, `+ N%`, `- N%`, `* F`, or nothing.
    mutating func parseMargin() throws -> Margin {
        skipSpace()
        guard i < chars.count else { return .none }
        let sign = chars[i]
        guard sign == "+" || sign == "-" || sign == "*" else { return .none }
        let signAt = i
        i += 1
        skipSpace()
        let start = i
        while i < chars.count, chars[i].isNumber || chars[i] == "." || chars[i] == "e" || chars[i] == "E" ||
            ((chars[i] == "-" || chars[i] == "+") && i > start && (chars[i - 1] == "e" || chars[i - 1] == "E")) { i += 1 }
        let numText = String(chars[start..<i])
        if numText.isEmpty {
            let rest = i < chars.count ? String(chars[i...]) : ""
            throw Failure(offset: start, reason: rest.isEmpty ? "missing number after \"\(sign)\"" : "\"\(rest)\" is not a number (after \"\(sign)\")")
        }
        guard let v = Self.number(numText) else { throw Failure(offset: start, reason: "\"\(numText)\" is not a number") }
        var percent = false
        if i < chars.count, chars[i] == "%" { percent = true; i += 1 }
        if i < chars.count, !chars[i].isWhitespace {
            var j = i
            while j < chars.count, !chars[j].isWhitespace { j += 1 }
            throw Failure(offset: start, reason: "\"\(String(chars[start..<j]))\" is not a number")
        }
        switch sign {
        case "*":
            if percent { throw Failure(offset: signAt, reason: "use `* 1.10` or `+ 10%`, not `* 10%`") }
            guard v > 0 else { throw Failure(offset: start, reason: "a factor must be greater than 0 (it scales the reference's magnitude)") }
            return .relative(v - 1)
        case "+":
            return percent ? .relative(v / 100) : .absolute(v)
        default:
            return percent ? .relative(-v / 100) : .absolute(-v)
        }
    }

    static func number(_ text: String) -> Double? {
        guard let v = Double(text), v.isFinite else { return nil }
        guard text.unicodeScalars.allSatisfy({ "0123456789.eE+-".unicodeScalars.contains($0) }) else { return nil }
        return v
    }
}

