import Foundation

/// A version's registered predictions as the gates need them: loaded, or why they cannot be.
public enum LoadedPredictions: Sendable {
    case table(PredictionTable)
    /// The reason, like "fraud@2 was registered with reported metrics only".
    case unavailable(String)
}

/// The second release's rules (docs/gates.md, "Significance", "Evidence: `require:`", "Slice
/// rules"): `with P% confidence` decided by the paired bootstrap, `require:` rows, and slice
/// wildcards expanded to one row per slice value.
extension GateEvaluator.Run {
    /// "95%" for 0.95.
    static func percent(_ level: Double) -> String { JSON.display(Margin.decimal(level * 100)) + "%" }

    // MARK: - Slice wildcards

    /// One row per slice value the candidate has for `metric{column=*}`; one row otherwise.
    func expand(_ rule: GateRule, confidence: Double?) -> [RuleResult] {
        if rule.metric.hasPrefix(GateEvaluator.productionPrefix) { return [productionRule(rule, confidence: confidence)] }
        guard let selector = rule.slice, selector.isWildcard else { return [evaluate(rule, confidence: confidence)] }
        let values = Set(context.candidate.values.keys.compactMap(selector.matches)).sorted()
        if values.isEmpty {
            if rule.reference.isChampion && context.champion == nil { return [evaluate(rule, confidence: confidence)] }
            return [RuleResult(rule: rule.text, metric: rule.metric, candidate: nil, reference: nil, threshold: nil, verdict: .fail,
                               reason: "\(context.candidateLabel) reports no \(selector.metric) by \(selector.column) slice (register it with --slice-by \(selector.column))")]
        }
        // The rule text with `*` replaced by each value: `recall{merchant="new"} >= champion - 0.02`.
        let tail = rule.text.firstIndex(of: "}").map { String(rule.text[rule.text.index(after: $0)...]) } ?? ""
        return values.map { value in
            var one = rule
            one.slice = SliceSelector(metric: selector.metric, column: selector.column, value: value)
            one.metric = selector.name(for: value)
            one.text = one.metric + tail
            return evaluate(one, confidence: confidence)
        }
    }

    // MARK: - Confidence: the paired bootstrap

    /// Decides a champion-relative row by the paired bootstrap of candidate − champion at `level`:
    /// `>`/`>=` pass when the lower bound clears the margin, `<`/`<=` when the upper bound does.
    func paired(_ rule: GateRule, _ row: RuleResult, margin: Margin, level: Double) -> RuleResult {
        var r = row
        // No comparison was possible (a side lacks the metric, or the threshold overflowed): the row says why.
        guard let threshold = r.threshold, let reference = r.reference, r.candidate != nil else { return r }
        let pct = Self.percent(level)
        r.evidence.confidence = level
        func unavailable(_ why: String) -> RuleResult {
            var x = r
            x.verdict = .fail
            x.reason = "`with \(pct) confidence` needs both versions' predictions on the same rows: \(why)"
            return x
        }
        func predictions(_ loaded: LoadedPredictions?, _ evaluation: Evaluation?, _ label: String) -> Result<(PredictionTable, Evaluation), MregError> {
            switch (loaded, evaluation) {
            case (.table(let t)?, let e?): return .success((t, e))
            case (.unavailable(let why)?, _): return .failure(MregError.invalid(why))
            default: return .failure(MregError.invalid("\(label) was registered with reported metrics only"))
            }
        }
        let candidate: (PredictionTable, Evaluation), champion: (PredictionTable, Evaluation)
        switch predictions(context.candidatePredictions, context.candidateEvaluation, context.candidateLabel) {
        case .success(let p): candidate = p
        case .failure(let e): return unavailable(e.message)
        }
        switch predictions(context.championPredictions, context.championEvaluation, "the \(championName)") {
        case .success(let p): champion = p
        case .failure(let e): return unavailable(e.message)
        }
        guard candidate.1.evalSet == champion.1.evalSet else {
            return unavailable("\(context.candidateLabel) and the \(championName) were scored on different rows (evaluation sets \(candidate.1.evalSet.prefix(12)) vs \(champion.1.evalSet.prefix(12)))")
        }
        let resamples = (candidate.1.bootstrap?.resamples ?? 0) > 0 ? candidate.1.bootstrap!.resamples : 1000
        let comparison: PairedComparison
        do {
            comparison = try PairedBootstrap.compare(metric: rule.metric, candidate: candidate.0, candidateEvaluation: candidate.1,
                                                     champion: champion.0, championEvaluation: champion.1,
                                                     level: level, resamples: resamples)
        } catch let e as MregError {
            return unavailable(e.message)
        } catch {
            return unavailable(String(describing: error))
        }
        let needed = Margin.decimal(threshold - reference)
        r.evidence.difference = comparison.difference
        r.evidence.differenceInterval = Evaluation.Interval(low: comparison.low, high: comparison.high)
        r.evidence.resamples = comparison.resamples
        r.evidence.seed = comparison.seed
        r.evidence.rows = comparison.rows
        let upper = rule.op == .less || rule.op == .lessOrEqual
        let bound = upper ? comparison.high : comparison.low
        let ok = rule.op.holds(bound, needed)
        r.verdict = ok ? .pass : .fail
        let signed = (comparison.difference > 0 ? "+" : "") + JSON.display(comparison.difference)
        var reason = "\(rule.metric) − \(championName) = \(signed) on \(comparison.rows) paired rows; "
            + "one-sided \(pct) \(upper ? "upper" : "lower") bound \(JSON.display(bound)) \(ok ? "" : "is not ")\(rule.op.rawValue) \(JSON.display(needed))"
            + " (paired bootstrap, \(comparison.resamples) resamples)"
        if !ok && rule.op.holds(comparison.difference, needed) { reason += "; the gain is within the noise" }
        r.reason = reason
        return r
    }

    // MARK: - `require:`

    func requirementRows(_ stage: StagePolicy) -> [RuleResult] {
        stage.require.map { requirement in
            let (ok, reason) = switch requirement {
            case .computedMetrics: computedMetrics(stage)
            case .temporalSplit: temporalSplit()
            }
            return RuleResult(rule: "require \(requirement.rawValue)", metric: "", candidate: nil, reference: nil, threshold: nil,
                              verdict: ok ? .pass : .fail, reason: reason)
        }
    }

    /// Every metric a rule of the stage names is computed for the candidate, and for the
    /// champion too where a rule compares with it. Baselines are reported by nature.
    private func computedMetrics(_ stage: StagePolicy) -> (Bool, String) {
        var candidateNames: Set<String> = [], championNames: Set<String> = []
        for rule in stage.gates {
            let names: [String]
            if let s = rule.slice, s.isWildcard {
                names = context.candidate.values.keys.filter { s.matches($0) != nil }
            } else {
                names = [rule.metric]
            }
            candidateNames.formUnion(names)
            if rule.reference.isChampion, context.champion != nil { championNames.formUnion(names) }
        }
        var problems: [String] = []
        func check(_ names: Set<String>, _ evaluation: Evaluation?, _ label: String) {
            guard !names.isEmpty else { return }
            guard let evaluation else {
                problems.append("\(label) was registered without predictions, so \(names.sorted().joined(separator: ", ")) \(names.count == 1 ? "is" : "are") reported, not computed")
                return
            }
            let missing = names.subtracting(evaluation.computed).sorted()
            if !missing.isEmpty {
                problems.append("\(label): \(missing.joined(separator: ", ")) \(missing.count == 1 ? "is" : "are") not computed from its predictions")
            }
        }
        check(candidateNames, context.candidateEvaluation, context.candidateLabel)
        check(championNames, context.championEvaluation, "the \(championName)")
        if !problems.isEmpty { return (false, problems.joined(separator: "; ")) }
        if candidateNames.isEmpty { return (true, "the stage's rules name no metric") }
        let who = championNames.isEmpty ? context.candidateLabel : "\(context.candidateLabel) and the \(championName)"
        return (true, "\(candidateNames.sorted().joined(separator: ", ")) computed by mreg from the predictions of \(who)")
    }

    /// The candidate's evaluation rows start after its training window ends.
    private func temporalSplit() -> (Bool, String) {
        let label = context.candidateLabel
        guard let evaluation = context.candidateEvaluation else {
            return (false, "\(label) was registered without predictions, so the time of its evaluation rows is unknown")
        }
        guard let train = evaluation.trainWindow else {
            return (false, "\(label) has no training window (register it with --train-window FROM..TO)")
        }
        guard let rows = evaluation.timeRange else {
            return (false, "\(label)'s evaluation rows have no time column, so whether they come after the training data is unknown")
        }
        guard let start = Self.instant(rows.from), let end = Self.instant(train.to) else {
            return (false, "\(label): the times \(rows.from) and \(train.to) cannot be compared")
        }
        if start > end {
            return (true, "evaluation rows from \(rows.from) come after the training window \(train.from)..\(train.to)")
        }
        return (false, "evaluation rows start at \(rows.from), not after the end of the training window \(train.from)..\(train.to)")
    }

    /// An RFC 3339 time, with or without fractional seconds.
    static func instant(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }

    // MARK: - Intervals on every row

    /// The candidate's (and for champion rows the champion's) interval of the row's metric,
    /// where the row does not already carry them (the default policy's rows).
    func withIntervals(_ row: RuleResult) -> RuleResult {
        guard !row.metric.isEmpty else { return row }
        var r = row
        if r.evidence.candidateInterval == nil { r.evidence.candidateInterval = context.candidateEvaluation?.intervals[r.metric] }
        if r.evidence.referenceInterval == nil, r.rule.hasSuffix(" champion") {
            r.evidence.referenceInterval = context.championEvaluation?.intervals[r.metric]
        }
        return r
    }
}
