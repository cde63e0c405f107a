/// The verdict of one rule.
public enum Verdict: String, Sendable, Equatable {
    case pass
    case fail
    case notApplicable = "not_applicable"
}

/// One row of a gate report.
public struct RuleResult: Sendable, Equatable {
    public var rule: String
    public var metric: String
    public var candidate: Double?
    public var reference: Double?
    public var threshold: Double?
    public var verdict: Verdict
    public var reason: String
}

/// Everything a gate evaluation needs.
public struct GateContext: Sendable {
    public var stage: String
    public var candidate: MetricSet
    public var candidateLabel: String
    public var champion: MetricSet?
    public var championLabel: String?
    public var baselines: [String: MetricSet]
    /// Stages the candidate has been champion of (for `after:`).
    public var stagesChampioned: Set<String>

    public init(stage: String, candidate: MetricSet, candidateLabel: String, champion: MetricSet?, championLabel: String?,
                baselines: [String: MetricSet], stagesChampioned: Set<String>) {
        self.stage = stage
        self.candidate = candidate
        self.candidateLabel = candidateLabel
        self.champion = champion
        self.championLabel = championLabel
        self.baselines = baselines
        self.stagesChampioned = stagesChampioned
    }
}

/// The result of evaluating the gates of a stage: every rule with its values and verdict.
public struct GateReport: Sendable, Equatable {
    public var stage: String
    public var passed: Bool
    /// "policy" or "default".
    public var policyKind: String
    public var notes: [String]
    public var results: [RuleResult]

    public init(stage: String, passed: Bool, policyKind: String, notes: [String], results: [RuleResult]) {
        self.stage = stage
        self.passed = passed
        self.policyKind = policyKind
        self.notes = notes
        self.results = results
    }

    public var json: JSON {
        func num(_ v: Double?) -> JSON { v.map { .number($0) } ?? .null }
        return .object([
            "stage": .string(stage), "passed": .bool(passed), "policy": .string(policyKind),
            "notes": .array(notes.map { .string($0) }),
            "rules": .array(results.map {
                .object(["rule": .string($0.rule), "metric": .string($0.metric), "candidate": num($0.candidate),
                         "reference": num($0.reference), "threshold": num($0.threshold),
                         "verdict": .string($0.verdict.rawValue), "reason": .string($0.reason)])
            }),
        ])
    }

    public init(json: JSON) throws {
        func fail() -> MregError { MregError.corrupt("gate report: malformed") }
        guard let stage = json["stage"]?.string, let passed = json["passed"]?.bool, let rules = json["rules"]?.array else { throw fail() }
        self.stage = stage
        self.passed = passed
        self.policyKind = json["policy"]?.string ?? "policy"
        self.notes = (json["notes"]?.array ?? []).compactMap(\.string)
        self.results = try rules.map { r in
            guard let rule = r["rule"]?.string, let v = r["verdict"]?.string, let verdict = Verdict(rawValue: v) else { throw fail() }
            return RuleResult(rule: rule, metric: r["metric"]?.string ?? "", candidate: r["candidate"]?.number,
                              reference: r["reference"]?.number, threshold: r["threshold"]?.number,
                              verdict: verdict, reason: r["reason"]?.string ?? "")
        }
    }

    /// An aligned table, one row per rule, then the notes.
    public func table() -> String {
        func f(_ v: Double?) -> String { v.map { JSON.display($0) } ?? "-" }
        let header = ["RULE", "CANDIDATE", "REFERENCE", "THRESHOLD", "VERDICT", "WHY"]
        let rows = results.map { [$0.rule, f($0.candidate), f($0.reference), f($0.threshold),
                                  $0.verdict == .pass ? "pass" : $0.verdict == .fail ? "FAIL" : "n/a", $0.reason] }
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        var lines = ([header] + rows).map { r in
            r.enumerated().map { i, c in i == r.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        for n in notes { lines.append("note: \(n)") }
        return lines.joined(separator: "\n")
    }
}

/// Evaluates gate policies (docs/gates.md).
public enum GateEvaluator {
    public static func evaluate(policy: GatePolicy?, context: GateContext) throws -> GateReport {
        var results: [RuleResult] = []
        var notes: [String] = []
        let lower = (policy?.lowerIsBetter ?? []).union(context.candidate.lowerIsBetter).union(context.champion?.lowerIsBetter ?? [])
        let firstPromotion = context.champion == nil
        if firstPromotion {
            notes.append("first promotion to \(context.stage): no champion yet, so champion-relative rules do not apply")
        }
        let championMismatch = context.candidate.evalSet?.mismatch(with: context.champion?.evalSet)
        if let m = championMismatch, !firstPromotion {
            notes.append("\(m): champion-relative rules cannot compare and fail")
        }

        if let policy {
            guard let stage = policy.stages[context.stage] else {
                throw MregError.invalid("stage \"\(context.stage)\" is not in the gate policy (stages: \(policy.stages.keys.sorted().joined(separator: ", ")))")
            }
            if let after = stage.after {
                let ok = context.stagesChampioned.contains(after)
                results.append(RuleResult(rule: "after \(after)", metric: "", candidate: nil, reference: nil, threshold: nil,
                                          verdict: ok ? .pass : .fail,
                                          reason: ok ? "\(context.candidateLabel) has been champion of \(after)"
                                                     : "\(context.candidateLabel) has not been champion of \(after)"))
            }
            for rule in stage.gates {
                results.append(try evaluate(rule, context, championMismatch: championMismatch))
            }
            if stage.gates.isEmpty && stage.after == nil {
                notes.append("stage \(context.stage) has no gates: every candidate passes")
            }
        } else {
            results += defaultRows(against: context.champion, label: context.championLabel ?? "champion", kind: "champion",
                                   mismatch: championMismatch, context, lower: lower)
            for name in context.baselines.keys.sorted() {
                let b = context.baselines[name]!
                results += defaultRows(against: b, label: "baseline.\(name)", kind: "baseline.\(name)",
                                       mismatch: context.candidate.evalSet?.mismatch(with: b.evalSet), context, lower: lower.union(b.lowerIsBetter))
            }
            if firstPromotion && context.baselines.isEmpty {
                notes.append("default policy: nothing to compare with yet, so the first promotion passes")
            }
        }
        return GateReport(stage: context.stage, passed: !results.contains { $0.verdict == .fail },
                          policyKind: policy == nil ? "default" : "policy", notes: notes, results: results)
    }

    private static func evaluate(_ rule: GateRule, _ context: GateContext, championMismatch: String?) throws -> RuleResult {
        var r = RuleResult(rule: rule.text, metric: rule.metric, candidate: context.candidate[rule.metric], reference: nil,
                           threshold: nil, verdict: .fail, reason: "")
        let refValue: Double
        let margin: Margin
        switch rule.reference {
        case .constant(let v):
            refValue = v
            margin = .none
        case .champion(let m):
            guard let champion = context.champion else {
                r.verdict = .notApplicable
                r.reason = "no champion of \(context.stage) yet (first promotion)"
                return r
            }
            if let mismatch = championMismatch {
                r.reference = champion[rule.metric]
                r.reason = mismatch
                return r
            }
            guard let v = champion[rule.metric] else {
                r.reason = "the champion \(context.championLabel ?? "") does not report \(rule.metric)"
                return r
            }
            refValue = v
            margin = m
        case .baseline(let name, let m):
            guard let baseline = context.baselines[name] else {
                throw MregError.invalid("rule `\(rule.text)` (line \(rule.line)): no baseline \"\(name)\"; set it with `mreg baseline`")
            }
            if let mismatch = context.candidate.evalSet?.mismatch(with: baseline.evalSet) {
                r.reference = baseline[rule.metric]
                r.reason = "baseline \(name): \(mismatch)"
                return r
            }
            guard let v = baseline[rule.metric] else {
                r.reason = "baseline \(name) does not report \(rule.metric)"
                return r
            }
            refValue = v
            margin = m
        }
        r.reference = refValue
        let threshold = margin.apply(to: refValue)
        r.threshold = threshold
        guard let c = r.candidate else {
            r.reason = "\(context.candidateLabel) does not report \(rule.metric)"
            return r
        }
        let ok = rule.op.holds(c, threshold)
        r.verdict = ok ? .pass : .fail
        r.reason = "\(JSON.display(c)) \(ok ? "" : "not ")\(rule.op.rawValue) \(JSON.display(threshold))"
        return r
    }

    /// The default policy against one reference: not worse on any metric both report, better on one.
    private static func defaultRows(against reference: MetricSet?, label: String, kind: String, mismatch: String?,
                                    _ context: GateContext, lower: Set<String>) -> [RuleResult] {
        guard let reference else {
            return [RuleResult(rule: "not worse than \(kind) on any shared metric", metric: "", candidate: nil, reference: nil,
                               threshold: nil, verdict: .notApplicable, reason: "no champion of \(context.stage) yet (first promotion)")]
        }
        let shared = Set(context.candidate.values.keys).intersection(reference.values.keys).sorted()
        if let mismatch {
            return [RuleResult(rule: "comparable with \(kind)", metric: "", candidate: nil, reference: nil, threshold: nil,
                               verdict: .fail, reason: mismatch)]
        }
        if shared.isEmpty {
            return [RuleResult(rule: "better than \(kind) on at least one shared metric", metric: "", candidate: nil, reference: nil,
                               threshold: nil, verdict: .fail, reason: "\(context.candidateLabel) and \(label) share no metric: nothing to compare")]
        }
        var rows: [RuleResult] = []
        var better: [String] = []
        for m in shared {
            let c = context.candidate[m]!, ref = reference[m]!
            let lib = lower.contains(m)
            let op: ComparisonOp = lib ? .lessOrEqual : .greaterOrEqual
            let ok = op.holds(c, ref)
            if lib ? c < ref : c > ref { better.append(m) }
            rows.append(RuleResult(rule: "\(m) \(op.rawValue) \(kind)", metric: m, candidate: c, reference: ref, threshold: ref,
                                   verdict: ok ? .pass : .fail,
                                   reason: ok ? (c == ref ? "equal to \(label)" : "better than \(label) (\(lib ? "lower" : "higher") is better)")
                                              : "worse than \(label) (\(lib ? "lower" : "higher") is better)"))
        }
        rows.append(RuleResult(rule: "better than \(kind) on at least one shared metric", metric: "", candidate: nil, reference: nil,
                               threshold: nil, verdict: better.isEmpty ? .fail : .pass,
                               reason: better.isEmpty ? "no shared metric is better than \(label) (a tie does not beat it)"
                                                      : "better on \(better.joined(separator: ", "))"))
        return rows
    }
}
