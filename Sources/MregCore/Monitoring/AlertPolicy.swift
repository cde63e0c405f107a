import Foundation
import Yams

/// A model's alert policy (docs/monitoring.md), parsed from YAML:
///
/// ```yaml
/// alerts:
///   - when: psi(*) > 0.25
///     for: 3 windows
///     severity: warning
/// ```
public struct AlertPolicy: Equatable, Sendable {
    public var rules: [AlertRule]
    /// The YAML as written (the default policy's text for the default).
    public var text: String

    /// Parses a policy; errors name `source`, the line and the column (exit 2).
    public static func parse(_ text: String, source: String) throws -> AlertPolicy {
        try AlertPolicyParser(text: text, source: source).parse()
    }

    /// Checks the column rules against a reference profile: every named column exists there and
    /// has a kind the measure applies to (`psi` of a numeric column, `new_categories` of a
    /// categorical one). `source` and `referenceName` word the error.
    public func validate(against reference: Profile, referenceName: String, source: String) throws {
        for rule in rules {
            guard case .column(let m, let column?) = rule.condition.measure else { continue }
            func fail(_ reason: String) -> MregError {
                MregError(.invalidInput, "\(source): line \(rule.line), column \(rule.column): \(reason) in rule \(ModelName.show(rule.text))")
            }
            guard let c = reference.columns[column] else {
                let names = reference.columns.keys.sorted().prefix(20).joined(separator: ", ")
                throw fail("the reference profile of \(referenceName) has no column \(ModelName.show(column)) (columns: \(names))")
            }
            if c.kind != .empty && !m.kinds.contains(c.kind) {
                let want = m.kinds.map(\.rawValue).sorted().joined(separator: " or ")
                throw fail("\(m.rawValue) applies to \(want) columns, and \(ModelName.show(column)) is \(c.kind.rawValue) in the reference profile of \(referenceName)")
            }
        }
    }

    /// Whether any rule needs a reference profile (column measures and schema changes do).
    public var needsReference: Bool {
        rules.contains { if case .column = $0.condition.measure { return true }; return $0.condition.measure == .schemaChanges }
    }

    /// The policy in force when none is set (docs/monitoring.md, "Default policy").
    public static let defaultText = """
        # mreg's default alert policy (docs/monitoring.md)
        alerts:
          - when: rows < 1                              # no data in a window
            severity: critical
          - when: schema_changes > 0                    # a column added, gone, or of another kind
            severity: critical
          - when: missing_rate(*) > reference + 0.1     # a missing-value spike
            min_rows: 100
            severity: critical
          - when: new_categories(*) > 0.05              # values the reference never had
            min_rows: 100
            for: 2 windows
            severity: warning
          - when: psi(*) > 0.25                         # large drift of a numeric feature
            min_rows: 200
            for: 2 windows
            resolve_after: 2 windows
            severity: warning
          - when: js(*) > 0.2                           # drift of any feature
            min_rows: 200
            for: 2 windows
            resolve_after: 2 windows
            severity: warning
          - when: auc < evaluation.auc.low              # below the interval seen at evaluation
            min_rows: 500
            for: 2 windows
            severity: critical
          - when: recall < evaluation.recall.low
            min_rows: 500
            for: 2 windows
            severity: critical

        """

    public static let `default`: AlertPolicy = try! parse(defaultText, source: "default alert policy")
}

/// The YAML structure of an alert policy; `when:` lines go to `AlertConditionParser`.
private struct AlertPolicyParser: PolicyDocument {
    let text: String
    let source: String
    let lines: [[Unicode.Scalar]]

    init(text: String, source: String) {
        self.text = text
        self.source = source
        lines = PolicyDocumentLines.of(text)
    }

    func parse() throws -> AlertPolicy {
        let root = try composeRoot()
        guard let root, !isNull(root) else { throw fail(nil as Mark?, "the policy is empty (expected a mapping with `alerts:`, see docs/monitoring.md)") }
        guard case .mapping(let top) = root else { throw fail(root, "an alert policy is a mapping with `alerts:`, not \(kind(root))") }
        var alerts: Node?
        for (k, v) in top {
            guard case .scalar(let s) = k else { throw fail(k, "keys must be plain text, not \(kind(k))") }
            guard s.string == "alerts" else { throw fail(k, "unknown key \(ModelName.show(s.string)) (expected alerts)") }
            alerts = v
        }
        guard let alerts, case .sequence(let items) = alerts, !items.isEmpty else {
            throw fail(alerts ?? root, "`alerts:` must be a list of rules, each with `when:` (an empty policy would never alert)")
        }
        var rules: [AlertRule] = []
        var seen: [String: Int] = [:]
        for item in items {
            let rule = try self.rule(item)
            if let first = seen[rule.text] {
                throw MregError(.invalidInput, "\(source): line \(rule.line), column \(rule.column): duplicate rule \(ModelName.show(rule.text)) (first on line \(first); each condition may appear once)")
            }
            seen[rule.text] = rule.line
            rules.append(rule)
        }
        return AlertPolicy(rules: rules, text: text)
    }

    func rule(_ node: Node) throws -> AlertRule {
        guard case .mapping(let body) = node else {
            throw fail(node, "a rule is a mapping with `when:` (and optionally for, min_rows, resolve_after, severity), not \(kind(node))")
        }
        var whenNode: Node?
        var forWindows = 1, resolveAfter = 1, minRows = 0
        var severity = AlertRule.Severity.warning
        for (k, v) in body {
            guard case .scalar(let key) = k else { throw fail(k, "keys must be plain text, not \(kind(k))") }
            switch key.string {
            case "when": whenNode = v
            case "for": forWindows = try windows(v, key: "for")
            case "resolve_after": resolveAfter = try windows(v, key: "resolve_after")
            case "min_rows":
                guard case .scalar(let s) = v, let n = Int(s.string.trimmingCharacters(in: .whitespaces)), n >= 0 else {
                    throw fail(v, "`min_rows:` is a whole number of rows, like `min_rows: 500`, not \(kind(v))")
                }
                minRows = n
            case "severity":
                let known = AlertRule.Severity.allCases.map(\.rawValue).joined(separator: ", ")
                guard case .scalar(let s) = v, let sev = AlertRule.Severity(rawValue: s.string) else {
                    throw fail(v, "unknown severity \(isNull(v) ? "(empty)" : kind(v)) (expected \(known))")
                }
                severity = sev
            default:
                throw fail(k, "unknown key \(ModelName.show(key.string)) in a rule (expected when, for, min_rows, resolve_after, severity)")
            }
        }
        guard let whenNode else { throw fail(node, "a rule needs `when:`, a one-line condition like `psi(*) > 0.25`") }
        guard case .scalar(let scalar) = whenNode, !isNull(whenNode) else {
            throw fail(whenNode, "`when:` is a one-line condition like `psi(*) > 0.25`, not \(kind(whenNode))")
        }
        let trimmed = scalar.string.trimmingCharacters(in: .whitespaces)
        let line = whenNode.mark?.line ?? 0
        let markColumn = whenNode.mark?.column ?? 0
        let column = textColumn(line: line, column: markColumn, scalar.style, trimmed) ?? markColumn
        do {
            var parser = AlertConditionParser(trimmed)
            let condition = try parser.parse()
            return AlertRule(text: trimmed, condition: condition, forWindows: forWindows, resolveAfter: resolveAfter,
                             minRows: minRows, severity: severity, line: line, column: column)
        } catch let e as AlertConditionParser.Failure {
            let at = column + e.offset
            throw MregError(.invalidInput, "\(source): line \(line), column \(at): \(e.reason) in rule \(ModelName.show(trimmed))")
        }
    }

    /// `3 windows`, `1 window` or `3`: at least 1.
    func windows(_ node: Node, key: String) throws -> Int {
        guard case .scalar(let s) = node, !isNull(node) else {
            throw fail(node, "`\(key):` is a number of windows, like `\(key): 3 windows`, not \(kind(node))")
        }
        let words = s.string.split(separator: " ", omittingEmptySubsequences: true)
        guard (words.count == 1 || (words.count == 2 && (words[1] == "windows" || words[1] == "window"))), let n = Int(words[0]) else {
            throw fail(node, "`\(key):` is a number of windows, like `\(key): 3 windows`, not \(kind(node))")
        }
        guard n >= 1 else { throw fail(node, "`\(key):` must be at least 1 window, not \(n)") }
        return n
    }
}
