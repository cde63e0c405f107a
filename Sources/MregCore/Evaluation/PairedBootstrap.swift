/// A paired comparison of one metric between two versions on the same rows.
public struct PairedComparison: Equatable, Sendable {
    /// As named in the rule, slices included (`recall{merchant="new"}`).
    public var metric: String
    /// Point value on the paired rows.
    public var candidate: Double
    public var champion: Double
    /// candidate − champion.
    public var difference: Double
    /// The (1 − level) quantile of the resampled differences.
    public var low: Double
    /// The level quantile of the resampled differences.
    public var high: Double
    /// One-sided confidence, e.g. 0.95.
    public var level: Double
    public var resamples: Int
    public var seed: UInt64
    public var rows: Int

    public init(metric: String, candidate: Double, champion: Double, difference: Double, low: Double, high: Double,
                level: Double, resamples: Int, seed: UInt64, rows: Int) {
        self.metric = metric; self.candidate = candidate; self.champion = champion; self.difference = difference
        self.low = low; self.high = high; self.level = level; self.resamples = resamples; self.seed = seed; self.rows = rows
    }
}

public enum PairedBootstrap {
    /// candidate − champion on the same rows (joined by id; the evaluation sets must be the
    /// same rows and labels), resampling rows stratified by label with the same indices for
    /// both models in each replicate; seed derived from the two predictions' object ids.
    /// Throws MregError.invalid whose message is the reason when it cannot be made (no
    /// predictions, other rows, metric not computable, slice value absent).
    public static func compare(metric: String, candidate: PredictionTable, candidateEvaluation: Evaluation,
                               champion: PredictionTable, championEvaluation: Evaluation,
                               level: Double, resamples: Int) throws -> PairedComparison {
        guard level > 0, level < 1 else { throw MregError.invalid("confidence \(JSON.format(level)) is not between 0 and 1") }
        guard resamples > 0 else { throw MregError.invalid("a paired bootstrap needs at least one resample") }
        guard candidateEvaluation.evalSet == championEvaluation.evalSet, candidate.task == champion.task,
              candidate.count == champion.count else {
            throw MregError.invalid("the candidate and the champion were evaluated on other rows (evaluation sets \(candidateEvaluation.evalSet.prefix(12)) and \(championEvaluation.evalSet.prefix(12)))")
        }
        let (base, slice) = try parse(metric)
        // The rows compared, by candidate row; the champion's rows joined by id.
        var rows = Array(candidate.ids.indices)
        if let (column, value) = slice {
            guard let c = candidate.slices.first(where: { $0.name == column }) else {
                throw MregError.invalid("\(metric): the candidate's predictions were not sliced by \"\(column)\" (register with --slice-by \(column))")
            }
            guard let code = c.values.firstIndex(of: value) else {
                throw MregError.invalid("\(metric): no row of the evaluation set has \(column)=\(ModelName.show(value))")
            }
            rows = rows.filter { c.codes[$0] == UInt8(code) }
        }
        var position: [String: Int] = [:]
        position.reserveCapacity(champion.count)
        for (i, id) in champion.ids.enumerated() { position[id] = i }
        var championRows: [Int] = []
        championRows.reserveCapacity(rows.count)
        let candidateIDs = candidate.ids  // built once (PredictionTable keeps ids as bytes)
        for r in rows {
            guard let j = position[candidateIDs[r]], champion.task != .binary || champion.labels[j] == candidate.labels[r] else {
                throw MregError.invalid("the candidate and the champion were evaluated on other rows (id \(ModelName.show(candidateIDs[r])))")
            }
            championRows.append(j)
        }
        let cand = PreparedTable(candidate.subset(rows), options: options(candidateEvaluation))
        let champ = PreparedTable(champion.subset(championRows), options: options(championEvaluation))
        guard let ci = cand.names.firstIndex(of: base), let hi = champ.names.firstIndex(of: base) else {
            let who = cand.names.contains(base) ? "champion's" : "candidate's"
            throw MregError.invalid("\(metric) is not computed from the \(who) predictions")
        }
        guard let cv = cand.evaluate(weights: nil)[ci] else {
            throw MregError.invalid("\(metric) is undefined on the candidate's rows: \(cand.undefinedReason(base, weightsSumToZero: false))")
        }
        guard let hv = champ.evaluate(weights: nil)[hi] else {
            throw MregError.invalid("\(metric) is undefined on the champion's rows: \(champ.undefinedReason(base, weightsSumToZero: false))")
        }
        let seed = pairSeed(candidateEvaluation.predictions, championEvaluation.predictions)
        var rng = Xoshiro(seed: seed)
        var counts = [Double](repeating: 0, count: rows.count)
        var wc = counts, wh = counts
        var differences: [Double] = []
        differences.reserveCapacity(resamples)
        for _ in 0..<resamples {
            Bootstrap.draw(strata: cand.strata, into: &counts, rng: &rng)
            Bootstrap.gather(counts, order: cand.order, own: cand.ownWeights, into: &wc)
            Bootstrap.gather(counts, order: champ.order, own: champ.ownWeights, into: &wh)
            let a = wc.withUnsafeBufferPointer { cand.evaluate(weights: $0)[ci] }
            let b = wh.withUnsafeBufferPointer { champ.evaluate(weights: $0)[hi] }
            if let a, let b { differences.append(a - b) }
        }
        guard !differences.isEmpty else { throw MregError.invalid("\(metric) is undefined in every resample") }
        differences.sort()
        return PairedComparison(metric: metric, candidate: cv, champion: hv, difference: cv - hv,
                                low: Bootstrap.quantile(differences, 1 - level), high: Bootstrap.quantile(differences, level),
                                level: level, resamples: resamples, seed: seed, rows: rows.count)
    }

    static func options(_ e: Evaluation) -> MetricOptions {
        MetricOptions(threshold: e.threshold ?? 0.5, abstain: e.abstain, beta: e.beta)
    }

    /// The seed of a pair: the two predictions' seeds mixed (52 bits).
    static func pairSeed(_ a: ObjectID, _ b: ObjectID) -> UInt64 {
        let x = Bootstrap.seed(of: a), y = Bootstrap.seed(of: b)
        return (x ^ (y << 13 | y >> 39)) & (1 << 52 - 1)
    }

    /// `recall` → ("recall", nil); `recall{merchant="new"}` → ("recall", ("merchant", "new")).
    static func parse(_ metric: String) throws -> (String, (String, String)?) {
        guard let brace = metric.firstIndex(of: "{") else { return (metric, nil) }
        let base = String(metric[..<brace])
        let inner = metric[metric.index(after: brace)...]
        guard inner.hasSuffix("\"}"), let eq = inner.range(of: "=\"") else {
            throw MregError.invalid("\(metric): expected metric{column=\"value\"}")
        }
        let column = String(inner[..<eq.lowerBound])
        var value = ""
        var escaped = false
        for c in inner[eq.upperBound..<inner.index(inner.endIndex, offsetBy: -2)] {
            if escaped { value.append(c == "n" ? "\n" : c); escaped = false } else if c == "\\" { escaped = true } else { value.append(c) }
        }
        return (base, (column, value))
    }
}
