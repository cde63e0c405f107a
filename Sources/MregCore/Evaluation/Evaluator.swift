#if canImport(Glibc)
import Glibc
#endif

/// The settings of `register --predictions` that change what is computed.
public struct MetricOptions: Equatable, Sendable {
    /// Binary: class 1 when score >= threshold.
    public var threshold: Double
    /// Binary: rows with LO < score < HI are not decided.
    public var abstain: Evaluation.Interval?
    /// Binary: the extra `f<beta>` metric.
    public var beta: Double?

    public init(threshold: Double = 0.5, abstain: Evaluation.Interval? = nil, beta: Double? = nil) {
        self.threshold = threshold; self.abstain = abstain; self.beta = beta
    }

    /// The name of the F-beta metric: `f2`, `f0.5`.
    public static func fBetaName(_ beta: Double) -> String { "f" + JSON.format(beta) }
}

/// A table prepared once for evaluating all its metrics many times under different row weights
/// (the bootstrap's resamples): rows sorted once (by decreasing score for a binary task, by
/// increasing absolute error for a regression), per-row terms computed once, then each
/// evaluation is a few weighted passes calling the metric functions of `BinaryMetrics` and
/// `RegressionMetrics`.
struct PreparedTable {
    let task: Evaluation.Task
    /// The metric names, in the order `evaluate` returns them.
    let names: [String]
    /// Why a metric is undefined whatever the weights (no score column), by name.
    let alwaysUndefined: [String: String]
    /// `order[k]`: the table row at position k.
    let order: [Int]
    /// Table rows by stratum (label 0 and 1 for binary, one stratum for regression).
    let strata: [[Int]]
    /// The same strata as positions in `order` (a replicate drawn there needs no reordering).
    let positionStrata: [[Int]]
    private let rows: Int
    private let positives: Int
    private let userWeights: [Double]?  // in position order
    // Binary, in position order.
    private let ranked: BinaryMetrics.Ranked?
    private let labels: [UInt8]
    private let decisions: [UInt8]
    private let logTerms: [Double]
    private let brierTerms: [Double]
    private let hasAbstain: Bool
    private let beta: Double?
    /// Runs of equal decisions in position order: `end` (exclusive) and the decision of the run.
    /// Rows sorted by score have at most four runs (decisions depend on the score alone), so the
    /// confusion counts come from the same pass as the ranking metrics.
    private let segments: [(end: Int, decision: UInt8)]
    // Regression, in position order.
    private let targets: [Double]
    private let predictions: [Double]
    private let absErrors: [Double]
    private let intervalLow: [Double]?
    private let intervalHigh: [Double]?

    init(_ t: PredictionTable, options: MetricOptions) {
        task = t.task
        rows = t.count
        var undefined: [String: String] = [:]
        switch t.task {
        case .binary:
            var names = ["n", "positives", "accuracy", "balanced_accuracy", "precision", "recall", "specificity", "f1"]
            if let b = options.beta, b != 1 { names.append(MetricOptions.fBetaName(b)) }
            names += ["roc_auc", "average_precision", "log_loss", "brier", "positive_rate"]
            if options.abstain != nil { names.append("coverage") }
            self.names = names
            let decided: [Double]
            if let scores = t.scores {
                let r = BinaryMetrics.Ranked(labels: t.labels, scores: scores)
                ranked = r
                order = r.order
                decided = order.map { scores[$0] }
                labels = r.labels
                decisions = BinaryMetrics.decisions(scores: decided, threshold: options.threshold, abstain: options.abstain)
                logTerms = order.map { BinaryMetrics.logLossTerm(label: t.labels[$0], score: scores[$0]) }
                brierTerms = order.map { BinaryMetrics.brierTerm(label: t.labels[$0], score: scores[$0]) }
            } else {
                // Decided classes only: rows ordered by decision (class 1 first), so that the
                // decisions make two runs.
                ranked = nil
                let decided: [UInt8] = (t.predictions ?? []).map { $0 == 1 ? 1 : 0 }
                order = decided.indices.filter { decided[$0] == 1 } + decided.indices.filter { decided[$0] == 0 }
                labels = order.map { t.labels[$0] }
                decisions = order.map { decided[$0] }
                logTerms = []; brierTerms = []
                for m in ["roc_auc", "average_precision", "log_loss", "brier"] {
                    undefined[m] = "no score column: the model gave decided classes only"
                }
            }
            hasAbstain = options.abstain != nil
            beta = options.beta
            positives = t.labels.reduce(0) { $0 + Int($1) }
            strata = [t.labels.indices.filter { t.labels[$0] == 0 }, t.labels.indices.filter { t.labels[$0] == 1 }]
            targets = []; predictions = []; absErrors = []; intervalLow = nil; intervalHigh = nil
        case .regression:
            var names = ["n", "mae", "rmse", "r2", "median_ae", "bias"]
            if t.lower != nil { names += ["coverage", "mean_width"] }
            self.names = names
            let y = t.targets, p = t.predictions ?? []
            let errors = y.indices.map { abs(y[$0] - p[$0]) }
            let ord = errors.indices.sorted { errors[$0] < errors[$1] }
            order = ord
            targets = ord.map { y[$0] }
            predictions = ord.map { p[$0] }
            absErrors = ord.map { errors[$0] }
            intervalLow = t.lower.map { lo in ord.map { lo[$0] } }
            intervalHigh = t.upper.map { hi in ord.map { hi[$0] } }
            strata = [Array(y.indices)]
            positives = 0
            ranked = nil; labels = []; decisions = []; logTerms = []; brierTerms = []; hasAbstain = false; beta = nil
        }
        var runs: [(end: Int, decision: UInt8)] = []
        for (k, d) in decisions.enumerated() {
            if let last = runs.last, last.decision == d { runs[runs.count - 1].end = k + 1 } else { runs.append((k + 1, d)) }
        }
        segments = runs
        alwaysUndefined = undefined
        var position = [Int](repeating: 0, count: order.count)
        for (k, row) in order.enumerated() { position[row] = k }
        positionStrata = strata.map { $0.map { position[$0] } }
        let ord = order
        userWeights = t.weights.map { w in ord.map { w[$0] } }
    }

    /// Every metric under `weights` (in position order; nil means the table's own weights).
    /// Nil entries are undefined; `undefinedReason` says why.
    func evaluate(weights given: UnsafeBufferPointer<Double>?) -> [Double?] {
        if given == nil, let uw = userWeights { return uw.withUnsafeBufferPointer { evaluateWith($0) } }
        return evaluateWith(given)
    }

    /// The table's own weights in position order, if it has a weight column.
    var ownWeights: [Double]? { userWeights }

    private func evaluateWith(_ w: UnsafeBufferPointer<Double>?) -> [Double?] {
        switch task {
        case .binary: return binary(w)
        case .regression: return regression(w)
        }
    }

    private func binary(_ w: UnsafeBufferPointer<Double>?) -> [Double?] {
        // One pass in rank order, run of decisions by run of decisions: the weighted positives
        // and negatives of each run give the confusion counts, their running sums at the end of
        // each group of tied scores give the ROC and precision-recall curves (as
        // `BinaryMetrics.ranking` computes them), and the per-row terms give log loss and Brier.
        // Branch-free on the label: positives gain w·y, negatives w − w·y (exact for y ∈ {0, 1}).
        var c = BinaryMetrics.Confusion()
        var tp = 0.0, fp = 0.0, logSum = 0.0, brierSum = 0.0
        var prevTP = 0.0, prevFP = 0.0, area = 0.0, ap = 0.0
        let scored = ranked != nil
        let ends = ranked?.groupEnd ?? []
        labels.withUnsafeBufferPointer { y in
            ends.withUnsafeBufferPointer { e in
                logTerms.withUnsafeBufferPointer { lt in
                    brierTerms.withUnsafeBufferPointer { bt in
                        var start = 0
                        for run in segments {
                            let tp0 = tp, fp0 = fp
                            var runTP = 0.0, runFP = 0.0
                            if scored {
                                for k in start..<run.end {
                                    let wk = w?[k] ?? 1
                                    let wy = wk * Double(y[k])
                                    runTP += wy; runFP += wk - wy
                                    logSum += wk * lt[k]; brierSum += wk * bt[k]
                                    if e[k] {
                                        let t = tp0 + runTP, f = fp0 + runFP
                                        area += (f - prevFP) * (t + prevTP)
                                        // TP grew, so TP + FP > 0 where the term counts.
                                        let d = t - prevTP
                                        ap += d != 0 ? d * (t / (t + f)) : 0
                                        prevTP = t; prevFP = f
                                    }
                                }
                            } else {
                                for k in start..<run.end {
                                    let wk = w?[k] ?? 1
                                    let wy = wk * Double(y[k])
                                    runTP += wy; runFP += wk - wy
                                }
                            }
                            tp = tp0 + runTP; fp = fp0 + runFP
                            switch run.decision {
                            case 1: c.tp += runTP; c.fp += runFP
                            case 0: c.fn += runTP; c.tn += runFP
                            default: break  // abstained
                            }
                            start = run.end
                        }
                    }
                }
            }
        }
        let all = tp + fp, pos = tp
        let decided = c.total > 0
        var out: [Double?] = [Double(rows), Double(positives), BinaryMetrics.accuracy(c), BinaryMetrics.balancedAccuracy(c),
                              decided ? BinaryMetrics.precision(c) : nil, decided ? BinaryMetrics.recall(c) : nil,
                              decided ? BinaryMetrics.specificity(c) : nil, decided ? BinaryMetrics.f1(c) : nil]
        if let b = beta, b != 1 { out.append(decided ? BinaryMetrics.fBeta(c, beta: b) : nil) }
        if scored {
            out.append(tp > 0 && fp > 0 ? area / 2 / (tp * fp) : nil)
            out.append(all > 0 ? (tp > 0 ? ap / tp : 0) : nil)
            out.append(pos > 0 && all - pos > 0 ? logSum / all : nil)
            out.append(all > 0 ? brierSum / all : nil)
        } else {
            out += [nil, nil, nil, nil]
        }
        out.append(BinaryMetrics.positiveRate(c))
        if hasAbstain { out.append(all > 0 ? c.total / all : nil) }
        return out
    }

    private func regression(_ w: UnsafeBufferPointer<Double>?) -> [Double?] {
        var sw = 0.0, sy = 0.0, sAbs = 0.0, sSq = 0.0, sErr = 0.0, sCov = 0.0, sWidth = 0.0
        for k in 0..<targets.count {
            let wk = w?[k] ?? 1
            let d = targets[k] - predictions[k]
            sw += wk; sy += wk * targets[k]
            sAbs += wk * absErrors[k]; sSq += wk * d * d; sErr -= wk * d
            if let lo = intervalLow, let hi = intervalHigh {
                if lo[k] <= targets[k] && targets[k] <= hi[k] { sCov += wk }
                sWidth += wk * (hi[k] - lo[k])
            }
        }
        guard sw > 0 else { return names.map { $0 == "n" ? Double(rows) : nil } }
        // r2's denominator around the weighted mean, in a second pass (as scikit-learn computes it).
        let mean = sy / sw
        var tot = 0.0
        for k in 0..<targets.count { let e = targets[k] - mean; tot += (w?[k] ?? 1) * e * e }
        let r2: Double? = rows < 2 ? nil : (tot == 0 ? (sSq == 0 ? 1 : 0) : 1 - sSq / tot)
        var out: [Double?] = [Double(rows), sAbs / sw, (sSq / sw).squareRoot(), r2,
                              RegressionMetrics.weightedMedian(sorted: absErrors, weights: w), sErr / sw]
        if intervalLow != nil { out += [sCov / sw, sWidth / sw] }
        return out
    }

    /// Why a metric came out undefined on the whole table.
    func undefinedReason(_ name: String, weightsSumToZero: Bool) -> String {
        if let r = alwaysUndefined[name] { return r }
        if weightsSumToZero { return "the weights sum to 0" }
        switch name {
        case "roc_auc", "log_loss": return "one class in the labels: \(name) needs positives and negatives"
        case "r2": return "one row: r2 needs at least two (scikit-learn gives NaN)"
        default: return "no row is decided: every score is inside the abstention band"
        }
    }
}
