/// What a `production.METRIC` rule is decided on (docs/gates.md, "Production evidence"):
/// candidate and champion on the rows each served in the period both served, or why not.
public enum ProductionFact: Sendable {
    /// The comparison champion (A) → candidate (B), at the rule's level.
    case compared(ABReport)
    /// No champion: the candidate's own production value (k, n).
    case candidate(x: Double, n: Double)
    case unavailable(String)

    static func key(_ metric: String, _ level: Double?) -> String { "\(metric)|\(level ?? 0)" }
}

extension Registry {
    /// Reads the production evidence every `production.` rule of the stage needs into the context.
    func addProductionEvidence(to context: inout GateContext, candidate: VersionRecord, champion: VersionRecord?, stage: StagePolicy?) {
        guard let stage else { return }
        let rules = stage.gates.filter { $0.metric.hasPrefix(GateEvaluator.productionPrefix) }
        guard !rules.isEmpty else { return }
        let counts: [Int: [Int64: ProductionCounts]]
        do { counts = try productionCounts(candidate.model) } catch {
            for rule in rules { context.production[ProductionFact.key(rule.metric, stage.confidence(of: rule))] = .unavailable("the observation log cannot be read: \(error)") }
            return
        }
        for rule in rules {
            let level = stage.confidence(of: rule)
            let metric = String(rule.metric.dropFirst(GateEvaluator.productionPrefix.count))
            let key = ProductionFact.key(rule.metric, level)
            guard ProductionMetrics.isKnown(metric) else {
                context.production[key] = .unavailable("production.\(metric) is not a production metric (\(ProductionMetrics.proportions.map(\.name).joined(separator: ", ")))")
                continue
            }
            let hours = (counts[candidate.version] ?? [:]).filter { $0.value.rows > 0 }
            guard !hours.isEmpty else {
                context.production[key] = .unavailable("\(candidate.name) has no production rows (observe its canary or A/B traffic with `mreg observe`)")
                continue
            }
            guard let champion, case .champion = rule.reference else {
                var c = ProductionCounts()
                for x in (counts[candidate.version] ?? [:]).values { c.add(x) }
                let (x, n) = ProductionMetrics.fraction(metric, c)!
                context.production[key] = n > 0 ? .candidate(x: x, n: n) : .unavailable("\(candidate.name) has no production rows for \(metric)")
                continue
            }
            // One-sided P% bound = the lower end of the two-sided (2P − 1) interval.
            let twoSided = level.map { 2 * $0 - 1 } ?? 0.95
            let a = ResolvedVersion(model: champion.model, version: champion.version, recordID: ObjectID.of([]))
            let b = ResolvedVersion(model: candidate.model, version: candidate.version, recordID: ObjectID.of([]))
            do {
                context.production[key] = .compared(try compareProduction(a, b, ABRequest(a: .number(a.model, a.version), b: .number(b.model, b.version),
                                                                                          metric: metric, level: twoSided), counts: counts))
            } catch let e as MregError {
                context.production[key] = .unavailable(e.message)
            } catch {
                context.production[key] = .unavailable("\(error)")
            }
        }
    }
}

extension GateEvaluator {
    static let productionPrefix = "production."
}

extension GateEvaluator.Run {
    /// `production.METRIC OP champion [± margin] [with P% confidence]` or `production.METRIC OP constant`.
    func productionRule(_ rule: GateRule, confidence: Double?) -> RuleResult {
        var r = RuleResult(rule: rule.text, metric: rule.metric, candidate: nil, reference: nil, threshold: nil, verdict: .fail, reason: "")
        let fact = context.production[ProductionFact.key(rule.metric, confidence)]
        switch (fact, rule.reference) {
        case (nil, _):
            r.reason = "no production evidence was read for \(rule.metric)"
        case (.unavailable(let why)?, _):
            r.reason = why
        case (.candidate(let x, let n)?, .constant(let v)):
            let c = x / n
            r.candidate = c; r.reference = v; r.threshold = v
            r.evidence.candidateInterval = Proportions.wilson(successes: x, n: n)
            let ok = rule.op.holds(c, v)
            r.verdict = ok ? .pass : .fail
            r.reason = comparison(c, rule.op, v, ok) + " on \(Int(n)) production rows"
        case (.candidate?, .baseline):
            r.reason = "\(rule.metric): only constant and champion rules are decided on production rows"
        case (.candidate?, .champion):
            r.verdict = .notApplicable
            r.reason = "\(firstPromotionReason): champion-relative rule not applicable"
        case (.compared(let ab)?, .champion(let margin)):
            let cand = ab.nB > 0 ? ab.xB / ab.nB : nil, champ = ab.nA > 0 ? ab.xA / ab.nA : nil
            r.candidate = cand; r.reference = champ
            guard let cand, let champ, let test = ab.test else {
                r.reason = "\(rule.metric): \(ab.nB == 0 ? context.candidateLabel : championName) has no \(ab.unit) in the period both served"
                return r
            }
            let threshold = margin.apply(to: champ)
            r.threshold = threshold
            r.evidence.rows = Int(ab.nA + ab.nB)
            r.evidence.difference = test.difference
            let period = "from \(TimeText.format(ab.from)) to \(TimeText.format(ab.to))"
            guard let level = confidence else {
                let ok = rule.op.holds(cand, threshold)
                r.verdict = ok ? .pass : .fail
                r.reason = comparison(cand, rule.op, threshold, ok) + " on production rows \(period) (\(Int(ab.nB)) vs \(Int(ab.nA)) \(ab.unit))"
                return r
            }
            r.evidence.confidence = level
            r.evidence.differenceInterval = test.interval
            let needed = Margin.decimal(threshold - champ)
            let upper = rule.op == .less || rule.op == .lessOrEqual
            let bound = upper ? test.interval.high : test.interval.low
            let ok = rule.op.holds(bound, needed)
            r.verdict = ok ? .pass : .fail
            let signed = (test.difference > 0 ? "+" : "") + JSON.display(test.difference)
            r.reason = "\(rule.metric) − \(championName) = \(signed) on production rows \(period) (\(Int(ab.nB)) vs \(Int(ab.nA)) \(ab.unit)); "
                + "one-sided \(Self.percent(level)) \(upper ? "upper" : "lower") bound \(JSON.display(bound)) \(ok ? "" : "is not ")\(rule.op.rawValue) \(JSON.display(needed)) (two-proportion, unpooled)"
        case (.compared?, _):
            r.reason = "\(rule.metric): only constant and champion rules are decided on production rows"
        }
        return r
    }
}
