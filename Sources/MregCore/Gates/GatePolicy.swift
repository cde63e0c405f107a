import Foundation
import Yams

/// The gates of one stage.
public struct StagePolicy: Sendable, Equatable {
    /// A stage the candidate must have been champion of before it may enter this one.
    public var after: String?
    /// The rules, in the order written. Empty: every candidate passes (docs/gates.md).
    public var gates: [GateRule]
    /// `confidence: 0.95`: every champion-relative rule of the stage is decided by the paired
    /// bootstrap at this one-sided level, unless the rule says its own `with P% confidence`.
    public var confidence: Double?
    /// `require: [computed_metrics, temporal_split]`, in the order written, without repeats.
    public var require: [Requirement]

    /// What `require:` can demand of the evidence behind a stage's rules.
    public enum Requirement: String, Sendable, Equatable, CaseIterable {
        /// Every metric a rule names is computed by mreg from predictions, not reported.
        case computedMetrics = "computed_metrics"
        /// The evaluation rows start after the training window ends.
        case temporalSplit = "temporal_split"
    }

    public init(after: String? = nil, gates: [GateRule] = [], confidence: Double? = nil, require: [Requirement] = []) {
        self.after = after
        self.gates = gates
        self.confidence = confidence
        self.require = require
    }

    /// The one-sided confidence a rule is decided at: its own `with P% confidence`, else the
    /// stage's `confidence:` when the rule is against the champion, else nil (a point comparison).
    public func confidence(of rule: GateRule) -> Double? {
        rule.confidence ?? (rule.reference.isChampion ? confidence : nil)
    }
}

/// A model's gate policy (docs/gates.md), parsed from YAML.
public struct GatePolicy: Sendable, Equatable {
    /// Metrics the policy declares better when lower (unioned with the manifests' own lists).
    public var lowerIsBetter: Set<String>
    /// Stage name to its gates.
    public var stages: [String: StagePolicy]
    /// The YAML as written, stored verbatim.
    public var text: String

    /// Baseline names the rules of any stage refer to.
    public var referencedBaselines: Set<String> {
        var names: Set<String> = []
        for stage in stages.values {
            for rule in stage.gates {
                if case .baseline(let name, _) = rule.reference { names.insert(name) }
            }
        }
        return names
    }

    /// Parses and validates a policy.
    ///
    /// - Parameters:
    ///   - text: the YAML.
    ///   - source: what to call it in errors, like `policy p.yaml`.
    /// - Throws: `MregError(.invalidInput)` naming `source`, the line and column, and what was
    ///   expected there.
    public static func parse(_ text: String, source: String) throws -> GatePolicy {
        try PolicyParser(text: text, source: source).parse()
    }
}

/// The YAML structure of a policy: keys, stages, `after:` order. Rules go to `RuleParser`.
private struct PolicyParser: PolicyDocument {
    let text: String
    let source: String
    /// The file's lines as Unicode scalars, to find where a rule's text starts.
    let lines: [[Unicode.Scalar]]

    init(text: String, source: String) {
        self.text = text
        self.source = source
        lines = PolicyDocumentLines.of(text)
    }

    func key(_ node: Node) throws -> String {
        guard case .scalar(let s) = node else { throw fail(node, "keys must be plain text, not \(kind(node))") }
        return s.string
    }

    func parse() throws -> GatePolicy {
        let root = try composeRoot()
        guard let root, !isNull(root) else {
            throw fail(nil as Mark?, "the policy is empty (expected a mapping with `stages:`, see docs/gates.md)")
        }
        guard case .mapping(let top) = root else {
            throw fail(root, "a policy is a mapping with `stages:` (and optionally `lower_is_better:`), not \(kind(root))")
        }
        var lower: Set<String> = []
        var stagesNode: Node?
        for (k, v) in top {
            switch try key(k) {
            case "lower_is_better": lower = try metricNames(v)
            case "stages": stagesNode = v
            case let other: throw fail(k, "unknown key \(ModelName.show(other)) (expected stages, lower_is_better)")
            }
        }
        guard let stagesNode else {
            throw fail(root, "the policy has no `stages:` (expected stages: with at least one stage, like `production:`)")
        }
        if isNull(stagesNode) { throw fail(stagesNode, "`stages:` is empty (name at least one stage, like `production:`)") }
        guard case .mapping(let stageMap) = stagesNode else {
            throw fail(stagesNode, "`stages:` must map stage names to their gates, not \(kind(stagesNode))")
        }
        if stageMap.isEmpty { throw fail(stagesNode, "`stages:` is empty (name at least one stage, like `production:`)") }

        var stages: [String: StagePolicy] = [:]
        var order: [(name: String, afterNode: Node?)] = []
        for (k, v) in stageMap {
            let name = try key(k)
            do { _ = try StageName(name) } catch let e as MregError { throw fail(k, e.message) }
            if stages[name] != nil { throw fail(k, "stage \(name) is defined twice") }
            let (stage, afterNode) = try stagePolicy(name, v)
            stages[name] = stage
            order.append((name, afterNode))
        }
        try checkOrder(stages, order)
        return GatePolicy(lowerIsBetter: lower, stages: stages, text: text)
    }

    func metricNames(_ node: Node) throws -> Set<String> {
        if isNull(node) { return [] }
        guard case .sequence(let items) = node else {
            throw fail(node, "lower_is_better must be a list of metric names, like [latency_p99_ms, log_loss], not \(kind(node))")
        }
        var names: Set<String> = []
        for item in items {
            guard case .scalar(let s) = item, !isNull(item),
                  s.string.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else {
                throw fail(item, "lower_is_better lists metric names (printable ASCII without spaces), not \(kind(item))")
            }
            names.insert(s.string)
        }
        return names
    }

    func stagePolicy(_ name: String, _ node: Node) throws -> (StagePolicy, Node?) {
        var policy = StagePolicy()
        if isNull(node) { return (policy, nil) }
        guard case .mapping(let body) = node else {
            let hint = if case .sequence = node { " (put the list under `gates:`)" } else { "" }
            throw fail(node, "stage \(name) must be a mapping with `gates:` (and optionally `after:`), not \(kind(node))\(hint)")
        }
        var afterNode: Node?
        var confidenceNode: Node?
        var seen: Set<String> = []
        for (k, v) in body {
            let key = try key(k)
            guard seen.insert(key).inserted else { throw fail(k, "duplicate key \"\(key)\" in stage \(name)") }
            switch key {
            case "after":
                guard case .scalar(let s) = v, !isNull(v) else {
                    throw fail(v, "`after:` names one stage, like `after: staging`, not \(kind(v))")
                }
                policy.after = s.string
                afterNode = v
            case "gates":
                if isNull(v) { continue }
                guard case .sequence(let items) = v else {
                    throw fail(v, "`gates:` must be a list of rules, one per line (`- f1 > champion`), not \(kind(v))")
                }
                policy.gates = try items.map(rule)
            case "confidence":
                confidenceNode = v
                policy.confidence = try stageConfidence(name, v)
            case "require":
                policy.require = try requirements(name, v)
            default:
                throw fail(k, "unknown key \(ModelName.show(key)) in stage \(name) (expected gates, after, confidence, require)")
            }
        }
        if let confidenceNode, policy.confidence != nil {
            try checkStageConfidence(name, policy, confidenceNode)
        }
        return (policy, afterNode)
    }

    /// Every `after:` names a stage of this policy, and following them never comes back.
    func checkOrder(_ stages: [String: StagePolicy], _ order: [(name: String, afterNode: Node?)]) throws {
        for (name, node) in order {
            guard let after = stages[name]?.after else { continue }
            guard stages[after] != nil else {
                let names = stages.keys.sorted().joined(separator: ", ")
                throw fail(node, "stage \(name) comes after \(ModelName.show(after)), which is not a stage of this policy (stages: \(names))")
            }
            var chain = [name]
            var next: String? = after
            while let s = next {
                if s == name {
                    throw fail(node, "the `after:` order forms a cycle: \((chain + [s]).joined(separator: " → "))")
                }
                if chain.contains(s) { break }  // a cycle not through this stage: reported at its own stage
                chain.append(s)
                next = stages[s]?.after
            }
        }
    }

    func rule(_ node: Node) throws -> GateRule {
        guard case .scalar(let scalar) = node else {
            let hint = if case .mapping = node { " (\": \" inside a rule makes YAML read a mapping; quote the rule)" } else { "" }
            throw fail(node, "a rule is one line of text, like `f1 > champion + 0.005`, not \(kind(node))\(hint)")
        }
        let raw = isNull(node) ? "" : scalar.string
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        let line = node.mark?.line ?? 0
        let markColumn = node.mark?.column ?? 0
        let exactColumn = textColumn(line: line, column: markColumn, scalar.style, trimmed)
        do {
            var parser = RuleParser(trimmed)
            return try parser.parse(line: line, column: exactColumn ?? markColumn)
        } catch let e as RuleParser.Failure {
            let at = exactColumn.map { $0 + e.offset } ?? markColumn
            let rule = trimmed.isEmpty ? "" : " in rule \(ModelName.show(trimmed))"
            let expected = e.expected.map { " (expected \($0))" } ?? ""
            throw MregError(.invalidInput, "\(source): line \(line), column \(at): \(e.reason)\(rule)\(expected)")
        }
    }
}

// MARK: - Stage-level evidence: `confidence:` and `require:` (docs/gates.md, "Significance")

extension PolicyParser {
    /// `confidence: 0.95`: a fraction at least 0.5 and below 1.
    func stageConfidence(_ stage: String, _ node: Node) throws -> Double {
        let form = "a one-sided confidence level at least 0.5 and below 1, like `confidence: 0.95`"
        guard case .scalar(let s) = node, !isNull(node) else {
            throw fail(node, "`confidence:` in stage \(stage) must be \(form), not \(kind(node))")
        }
        let text = s.string.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("%"), let p = RuleParser.number(String(text.dropLast())) {
            throw fail(node, "`confidence:` in stage \(stage) is a fraction, not a percentage: write \(JSON.display(Margin.decimal(p / 100))) for \(text)")
        }
        guard let v = RuleParser.number(text) else {
            throw fail(node, "`confidence:` in stage \(stage) must be \(form), not \(kind(node))")
        }
        guard v >= 0.5, v < 1 else {
            let hint = v >= 50 && v < 100 ? " (write \(JSON.display(Margin.decimal(v / 100))) for \(text)%)" : ""
            throw fail(node, "`confidence:` in stage \(stage) must be at least 0.5 and below 1, not \(text)\(hint)")
        }
        return v
    }

    /// `require: [computed_metrics, temporal_split]`.
    func requirements(_ stage: String, _ node: Node) throws -> [StagePolicy.Requirement] {
        let known = StagePolicy.Requirement.allCases.map(\.rawValue).joined(separator: ", ")
        if isNull(node) { return [] }
        guard case .sequence(let items) = node else {
            throw fail(node, "`require:` in stage \(stage) must be a list, like [computed_metrics, temporal_split], not \(kind(node))")
        }
        var out: [StagePolicy.Requirement] = []
        for item in items {
            guard case .scalar(let s) = item, !isNull(item) else {
                throw fail(item, "`require:` in stage \(stage) lists requirements (\(known)), not \(kind(item))")
            }
            guard let r = StagePolicy.Requirement(rawValue: s.string) else {
                throw fail(item, "unknown requirement \(ModelName.show(s.string)) in stage \(stage) (expected \(known))")
            }
            if !out.contains(r) { out.append(r) }
        }
        return out
    }

    /// A stage `confidence:` must have a champion-relative rule to apply to, and none of them may be `==`.
    func checkStageConfidence(_ stage: String, _ policy: StagePolicy, _ node: Node) throws {
        let champion = policy.gates.filter { $0.reference.isChampion }
        guard !champion.isEmpty else {
            throw fail(node, "`confidence:` in stage \(stage) applies to rules against the champion, and the stage has none (write one, like `f1 > champion`, or remove `confidence:`)")
        }
        if let eq = champion.first(where: { $0.op == .equal && $0.confidence == nil }) {
            throw MregError(.invalidInput, "\(source): line \(eq.line), column \(eq.column): `==` cannot be decided with confidence, and `confidence:` in stage \(stage) applies to every rule against the champion in rule \(ModelName.show(eq.text)) (expected >, >=, < or <= against the champion)")
        }
    }
}
