/// The default policy, for a model without a gate policy (docs/gates.md, "The default policy").
///
/// Safe rather than permissive: against the champion and against every baseline, the candidate
/// may not be worse on any metric both report, and must be better on at least one. A comparison
/// that cannot be made (different evaluation sets, no shared metric) fails.
extension GateEvaluator.Run {
    func defaultPolicy() -> ([RuleResult], [String]) {
        var results: [RuleResult] = []
        var notes: [String] = []
        if let champion = context.champion {
            results += rows(against: champion, kind: "champion", name: championName, mismatch: championMismatch, notes: &notes)
        } else {
            results.append(RuleResult(rule: "not worse than champion, better on one metric", metric: "",
                                      candidate: nil, reference: nil, threshold: nil, verdict: .notApplicable,
                                      reason: "\(firstPromotionReason): nothing to compare with"))
            notes.append("first promotion to \(context.stage): no champion yet, so the champion comparisons are not applicable")
        }
        for name in context.baselines.keys.sorted() {
            let baseline = context.baselines[name]!
            let mismatch = context.candidate.evalSet?.mismatch(with: baseline.evalSet)
            results += rows(against: baseline, kind: "baseline.\(name)", name: "baseline \(name)", mismatch: mismatch, notes: &notes)
        }
        if context.champion == nil && context.baselines.isEmpty {
            notes.append("default policy: no champion and no baseline to compare with, so the first promotion passes")
        }
        return (results, notes)
    }

    /// The rows against one reference: one per shared metric, then "better on at least one".
    ///
    /// - Parameters:
    ///   - kind: how rule texts name the reference (`champion`, `baseline.rules-v1`).
    ///   - name: how reasons name it (`champion fraud@7`, `baseline rules-v1`).
    private func rows(against reference: MetricSet, kind: String, name: String, mismatch: String?,
                      notes: inout [String]) -> [RuleResult] {
        let candidate = context.candidate
        let shared = Set(candidate.values.keys).intersection(reference.values.keys).sorted()
        let overall = "better than \(kind) on at least one shared metric"
        func overallRow(_ verdict: Verdict, _ reason: String) -> RuleResult {
            RuleResult(rule: overall, metric: "", candidate: nil, reference: nil, threshold: nil, verdict: verdict, reason: reason)
        }

        let onlyCandidate = Set(candidate.values.keys).subtracting(reference.values.keys).sorted()
        let onlyReference = Set(reference.values.keys).subtracting(candidate.values.keys).sorted()
        var unshared: [String] = []
        if !onlyReference.isEmpty { unshared.append("only the \(name) reports \(onlyReference.joined(separator: ", "))") }
        if !onlyCandidate.isEmpty { unshared.append("only \(context.candidateLabel) reports \(onlyCandidate.joined(separator: ", "))") }
        if !unshared.isEmpty && !shared.isEmpty {
            notes.append("not compared with the \(name): \(unshared.joined(separator: "; "))")
        }

        if let mismatch {
            let reason = "\(mismatch); \(context.candidateLabel) and the \(name) cannot be compared"
            return shared.map { m in
                let op: ComparisonOp = lower.contains(m) ? .lessOrEqual : .greaterOrEqual
                return RuleResult(rule: "\(m) \(op.rawValue) \(kind)", metric: m, candidate: candidate[m], reference: reference[m],
                                  threshold: nil, verdict: .fail, reason: reason)
            } + [overallRow(.fail, reason)]
        }
        if shared.isEmpty {
            return [overallRow(.fail, "\(context.candidateLabel) and the \(name) share no metric: nothing to compare")]
        }

        var rows: [RuleResult] = []
        var better: [String] = []
        for m in shared {
            let c = candidate[m]!, ref = reference[m]!
            let op: ComparisonOp = lower.contains(m) ? .lessOrEqual : .greaterOrEqual
            let ok = op.holds(c, ref)
            if ok && c != ref { better.append(m) }
            let change = c == ref ? "equal to the \(name), not worse"
                : "\(ok ? "better" : "worse") than the \(name) by \(JSON.display(abs(c - ref))) (\(direction(m)))"
            rows.append(RuleResult(rule: "\(m) \(op.rawValue) \(kind)", metric: m, candidate: c, reference: ref, threshold: ref,
                                   verdict: ok ? .pass : .fail, reason: "\(comparison(c, op, ref, ok)): \(change)"))
        }
        if better.isEmpty {
            rows.append(overallRow(.fail, "not better than the \(name) on any of \(shared.joined(separator: ", ")) (a tie does not beat it)"))
        } else {
            rows.append(overallRow(.pass, "better on \(better.joined(separator: ", "))"))
        }
        return rows
    }
}
