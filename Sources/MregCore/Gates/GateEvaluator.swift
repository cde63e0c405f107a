/// Everything a gate evaluation needs, read by the caller at one moment.
public struct GateContext: Sendable {
    public var stage: String
    public var candidate: MetricSet
    /// How reasons name the candidate, like `fraud@8`.
    public var candidateLabel: String
    /// The champion of `stage`; nil when the stage has none yet (a first promotion).
    public var champion: MetricSet?
    /// How reasons name the champion, like `fraud@7`.
    public var championLabel: String?
    /// Every baseline of the model, by name.
    public var baselines: [String: MetricSet]
    /// Stages the candidate has been champion of (for `after:`).
    public var stagesChampioned: Set<String>
    /// What the candidate's and champion's predictions gave, when they were registered with
    /// them: intervals, computed names, time ranges (GateEvaluator+Evidence.swift).
    public var candidateEvaluation: Evaluation?
    public var championEvaluation: Evaluation?
    /// The predictions themselves, loaded only when a rule of the stage is decided with
    /// confidence; `.unavailable(reason)` when a version has none.
    public var candidatePredictions: LoadedPredictions?
    public var championPredictions: LoadedPredictions?
    /// `production.METRIC` rules: candidate and champion on production rows (Production/).
    public var production: [String: ProductionFact] = [:]

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

/// Evaluates gate policies (docs/gates.md).
public enum GateEvaluator {
    /// Evaluates the gates of `context.stage`.
    ///
    /// - Parameter policy: the model's policy, or nil for the default policy.
    /// - Throws: `MregError(.invalidInput)` when the policy has no such stage, or a rule of the
    ///   stage names a baseline the model does not have.
    public static func evaluate(policy: GatePolicy?, context: GateContext) throws -> GateReport {
        let evaluation = Run(context, policyLower: policy?.lowerIsBetter ?? [])
        var (results, notes) = try policy.map { try evaluation.policy($0) } ?? evaluation.defaultPolicy()
        results = results.map(evaluation.withIntervals)
        return GateReport(stage: context.stage, passed: !results.contains { $0.verdict == .fail },
                          policyKind: policy == nil ? "default" : "policy", notes: notes, results: results)
    }
}

extension GateEvaluator {
    /// One evaluation: the context and the names and directions its reasons use.
    struct Run {
        let context: GateContext
        /// Metrics that are better when lower: the policy's list and every manifest's involved.
        let lower: Set<String>
        /// "champion fraud@7", or "champion" when the caller gave no label.
        let championName: String
        let championMismatch: String?

        init(_ context: GateContext, policyLower: Set<String>) {
            self.context = context
            var lower = policyLower.union(context.candidate.lowerIsBetter).union(context.champion?.lowerIsBetter ?? [])
            for b in context.baselines.values { lower.formUnion(b.lowerIsBetter) }
            self.lower = lower
            championName = context.championLabel.map { "champion \($0)" } ?? "champion"
            championMismatch = context.champion.flatMap { context.candidate.evalSet?.mismatch(with: $0.evalSet) }
        }

        var firstPromotionReason: String { "no champion of \(context.stage) yet (first promotion)" }

        func direction(_ metric: String) -> String { lower.contains(metric) ? "lower is better" : "higher is better" }

        /// "better by 0.05 (higher is better)", "worse by 1.1 (lower is better)" or "same value as the champion".
        func change(_ metric: String, _ candidate: Double, _ reference: Double, _ kind: String) -> String {
            if candidate == reference { return "same value as the \(kind)" }
            let better = lower.contains(metric) ? candidate < reference : candidate > reference
            let amount = abs(candidate - reference)
            return "\(better ? "better" : "worse")\(amount.isFinite ? " by \(JSON.display(amount))" : "") (\(direction(metric)))"
        }

        /// "0.85 > 0.805" or "0.8 is not > 0.805".
        func comparison(_ candidate: Double, _ op: ComparisonOp, _ threshold: Double, _ holds: Bool) -> String {
            "\(JSON.display(candidate, distinctFrom: [threshold])) \(holds ? "" : "is not ")\(op.rawValue) \(JSON.display(threshold, distinctFrom: [candidate]))"
        }

        // MARK: - A policy

        func policy(_ policy: GatePolicy) throws -> ([RuleResult], [String]) {
            guard let stage = policy.stages[context.stage] else {
                let names = policy.stages.keys.sorted().joined(separator: ", ")
                throw MregError(.invalidInput, "stage \"\(context.stage)\" is not in the gate policy (stages: \(names))")
            }
            for rule in stage.gates {
                if case .baseline(let name, _) = rule.reference, context.baselines[name] == nil {
                    throw MregError(.invalidInput, "rule `\(rule.text)` (line \(rule.line)): no baseline \"\(name)\"; set it with `mreg baseline`")
                }
            }
            var results: [RuleResult] = []
            var notes: [String] = []
            if let after = stage.after {
                let ok = context.stagesChampioned.contains(after)
                results.append(RuleResult(rule: "after \(after)", metric: "", candidate: nil, reference: nil, threshold: nil,
                                          verdict: ok ? .pass : .fail,
                                          reason: "\(context.candidateLabel) has \(ok ? "" : "not ")been champion of \(after)"))
            }
            results += requirementRows(stage)
            results += stage.gates.flatMap { expand($0, confidence: stage.confidence(of: $0)) }
            let championRules = stage.gates.filter { $0.reference.isChampion }.count
            if context.champion == nil {
                notes.append("first promotion to \(context.stage): no champion yet, so "
                             + (championRules == 0 ? "nothing is compared with a champion" : "champion-relative rules are not applicable"))
            } else if let m = championMismatch, championRules > 0 {
                notes.append("\(m); every champion-relative rule fails, since \(context.candidateLabel) and the \(championName) cannot be compared")
            }
            if stage.gates.isEmpty && stage.after == nil {
                notes.append("stage \(context.stage) has no gates: every candidate passes")
            }
            return (results, notes)
        }

        func evaluate(_ rule: GateRule, confidence: Double? = nil) -> RuleResult {
            let candidate = context.candidate[rule.metric]
            var r = RuleResult(rule: rule.text, metric: rule.metric, candidate: candidate, reference: nil, threshold: nil,
                               verdict: .fail, reason: "")
            r.evidence.candidateInterval = context.candidateEvaluation?.intervals[rule.metric]
            switch rule.reference {
            case .constant(let v):
                r.reference = v
                r.threshold = v
                guard let c = candidate else {
                    r.reason = "\(context.candidateLabel) does not report \(rule.metric)"
                    return r
                }
                let ok = rule.op.holds(c, v)
                r.verdict = ok ? .pass : .fail
                r.reason = comparison(c, rule.op, v, ok) + tie(rule.op, c, v, ok)
                return r
            case .champion(let margin):
                guard let champion = context.champion else {
                    r.verdict = .notApplicable
                    r.reason = "\(firstPromotionReason): champion-relative rule not applicable"
                    return r
                }
                var row = relative(rule, r, against: champion[rule.metric], named: championName, kind: "champion", margin: margin,
                                   mismatch: championMismatch)
                row.evidence.referenceInterval = context.championEvaluation?.intervals[rule.metric]
                if let level = confidence, championMismatch == nil { row = paired(rule, row, margin: margin, level: level) }
                return row
            case .baseline(let name, let margin):
                let baseline = context.baselines[name]!  // checked by `policy(_:)`
                let mismatch = context.candidate.evalSet?.mismatch(with: baseline.evalSet).map { "baseline \(name): \($0)" }
                return relative(rule, r, against: baseline[rule.metric], named: "baseline \(name)", kind: "baseline", margin: margin,
                                mismatch: mismatch)
            }
        }

        /// A rule against the champion or a baseline.
        private func relative(_ rule: GateRule, _ row: RuleResult, against reference: Double?, named name: String, kind: String,
                              margin: Margin, mismatch: String?) -> RuleResult {
            var r = row
            r.reference = reference
            if let mismatch {
                r.reason = "\(mismatch); \(context.candidateLabel) and the \(name) cannot be compared"
                return r
            }
            r.threshold = reference.map { margin.apply(to: $0) }
            if let ref = reference, let threshold = r.threshold, !threshold.isFinite {
                // 1.5e308 * 2: no candidate can be compared with a threshold beyond a double.
                r.threshold = nil
                r.reason = "the threshold \(name) \(JSON.display(ref))\(margin.display) is beyond the range of a number"
                return r
            }
            switch (r.candidate, reference, r.threshold) {
            case (nil, nil, _):
                r.reason = "neither \(context.candidateLabel) nor the \(name) reports \(rule.metric)"
            case (nil, _, _):
                r.reason = "\(context.candidateLabel) does not report \(rule.metric)"
            case (_, nil, _), (_, _, nil):
                r.reason = "the \(name) does not report \(rule.metric)"
            case let (c?, ref?, threshold?):
                let ok = rule.op.holds(c, threshold)
                r.verdict = ok ? .pass : .fail
                let tie = tie(rule.op, c, threshold, ok)
                r.reason = comparison(c, rule.op, threshold, ok) + " (\(name) \(JSON.display(ref))\(margin.display))" + tie
                    + (tie.isEmpty || c != ref ? "; " + change(rule.metric, c, ref, kind) : "")
            }
            return r
        }

        private func tie(_ op: ComparisonOp, _ c: Double, _ threshold: Double, _ ok: Bool) -> String {
            !ok && op.isStrict && c == threshold ? "; a tie does not pass \(op.rawValue)" : ""
        }
    }
}
