#if canImport(Glibc)
import Glibc
#endif

/// Binary classification metrics as pure functions over arrays, defined as scikit-learn 1.9
/// defines them (`sklearn/metrics/_classification.py`, `_ranking.py`), weights included:
/// `labels` are 0 or 1, `scores` the probability of class 1, `weights` optional (≥ 0, one per row;
/// absent means 1). A zero division gives 0, as scikit-learn's default `zero_division`; a metric
/// that is undefined (roc_auc with one class) is nil, and `undefinedReason` says why.
///
/// The decision at threshold t is `score >= t` (scikit-learn's `FixedThresholdClassifier` and
/// `TunedThresholdClassifierCV`; `LogisticRegression.predict` decides `score > 0.5`, which
/// differs only for a score of exactly 0.5).
public enum BinaryMetrics {
    /// Weighted confusion counts of the decided rows.
    public struct Confusion: Equatable, Sendable {
        public var tp = 0.0, fp = 0.0, tn = 0.0, fn = 0.0
        public init(tp: Double = 0, fp: Double = 0, tn: Double = 0, fn: Double = 0) { self.tp = tp; self.fp = fp; self.tn = tn; self.fn = fn }
        public var total: Double { tp + fp + tn + fn }
    }

    /// The decision of a row: 1 (class 1), 0 (class 0) or `abstained` (inside the band
    /// LO < score < HI of `--abstain LO:HI`).
    public static let abstained: UInt8 = 2

    /// Decisions from scores: `score >= threshold` is class 1; with a band, LO < score < HI abstains.
    public static func decisions(scores: [Double], threshold: Double, abstain: Evaluation.Interval? = nil) -> [UInt8] {
        scores.map { s in
            if let a = abstain, s > a.low && s < a.high { return abstained }
            return s >= threshold ? 1 : 0
        }
    }

    /// Counts the decided rows: TP = Σ w·[y=1, ŷ=1], FP = Σ w·[y=0, ŷ=1], TN, FN likewise.
    public static func confusion(labels: [UInt8], decisions: [UInt8], weights: [Double]? = nil) -> Confusion {
        var c = Confusion()
        for i in labels.indices {
            let w = weights?[i] ?? 1
            switch (labels[i], decisions[i]) {
            case (1, 1): c.tp += w
            case (0, 1): c.fp += w
            case (0, 0): c.tn += w
            case (1, 0): c.fn += w
            default: break
            }
        }
        return c
    }

    static func ratio(_ a: Double, _ b: Double) -> Double { b == 0 ? 0 : a / b }

    /// (TP + TN) / (TP + FP + TN + FN) over the decided rows; nil when none is decided (or the
    /// weights sum to 0).
    public static func accuracy(_ c: Confusion) -> Double? { c.total > 0 ? (c.tp + c.tn) / c.total : nil }

    /// TP / (TP + FP); 0 when nothing is predicted positive (scikit-learn warns and returns 0).
    public static func precision(_ c: Confusion) -> Double { ratio(c.tp, c.tp + c.fp) }

    /// TP / (TP + FN), the true positive rate; 0 when there are no positives.
    public static func recall(_ c: Confusion) -> Double { ratio(c.tp, c.tp + c.fn) }

    /// TN / (TN + FP), the true negative rate (scikit-learn's recall with pos_label=0); 0 when
    /// there are no negatives.
    public static func specificity(_ c: Confusion) -> Double { ratio(c.tn, c.tn + c.fp) }

    /// The mean of recall and specificity over the classes present among the decided rows'
    /// labels (scikit-learn's `balanced_accuracy_score`: a class with no true rows is left out,
    /// so with one class it is that class's recall); nil when no row is decided.
    public static func balancedAccuracy(_ c: Confusion) -> Double? {
        var sum = 0.0, k = 0.0
        if c.tp + c.fn > 0 { sum += c.tp / (c.tp + c.fn); k += 1 }
        if c.tn + c.fp > 0 { sum += c.tn / (c.tn + c.fp); k += 1 }
        return k > 0 ? sum / k : nil
    }

    /// F-beta from counts: (1 + β²)·TP / ((1 + β²)·TP + β²·FN + FP); 0 when TP = FP = FN = 0
    /// (scikit-learn warns and returns 0). β = 1 is `f1`.
    public static func fBeta(_ c: Confusion, beta: Double) -> Double {
        let b2 = beta * beta
        return ratio((1 + b2) * c.tp, (1 + b2) * c.tp + b2 * c.fn + c.fp)
    }

    /// 2·TP / (2·TP + FP + FN); 0 when TP = FP = FN = 0.
    public static func f1(_ c: Confusion) -> Double { fBeta(c, beta: 1) }

    /// (TP + FP) / decided rows: the share of decided rows predicted positive; nil when none is decided.
    public static func positiveRate(_ c: Confusion) -> Double? { c.total > 0 ? (c.tp + c.fp) / c.total : nil }

    /// Σ w over decided rows / Σ w over all rows: the share the model decided (1 without a band).
    public static func coverage(decisions: [UInt8], weights: [Double]? = nil) -> Double? {
        var decided = 0.0, all = 0.0
        for i in decisions.indices {
            let w = weights?[i] ?? 1
            all += w
            if decisions[i] != abstained { decided += w }
        }
        return all > 0 ? decided / all : nil
    }

    // MARK: Ranking metrics: one sort, then weighted passes

    /// Rows sorted by decreasing score, with where each run of tied scores ends: what roc_auc
    /// and average_precision need, made once and reused for every bootstrap replicate.
    public struct Ranked: Sendable {
        /// `order[k]`: the row at rank k.
        public let order: [Int]
        /// Labels in rank order.
        public let labels: [UInt8]
        /// Whether rank k is the last of its run of equal scores.
        public let groupEnd: [Bool]

        public init(labels: [UInt8], scores: [Double]) {
            // Sorted as (score, row) pairs side by side in memory rather than as row numbers
            // compared through the scores array: the comparisons read neighbours, not random rows.
            var keyed = scores.indices.map { (score: scores[$0], row: $0) }
            keyed.sort { $0.score > $1.score }
            let order = keyed.map(\.row)
            self.order = order
            self.labels = order.map { labels[$0] }
            var ends = [Bool](repeating: true, count: order.count)
            for k in 0..<max(0, keyed.count - 1) where keyed[k].score == keyed[k + 1].score { ends[k] = false }
            self.groupEnd = ends
        }
    }

    /// Area under the ROC curve: the trapezoidal area over the curve's points at each distinct
    /// score (ties make one diagonal step, so a tie counts ½: the Mann–Whitney U / (P·N)),
    /// weighted: Σ over runs of ΔFP·(TP_before + TP_after)/2 / (P·N) with P, N the weighted
    /// positives and negatives. Nil when one class is absent (P = 0 or N = 0): scikit-learn
    /// returns NaN with a warning.
    public static func rocAUC(_ r: Ranked, rankWeights w: UnsafeBufferPointer<Double>?) -> Double? {
        ranking(r, rankWeights: w).rocAUC
    }

    /// Average precision: Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct scores in decreasing order (a step
    /// sum, not the trapezoid), with Pₙ = TPₙ/(TPₙ + FPₙ) and Rₙ = TPₙ/P. With no positives
    /// scikit-learn sets recall to 1 everywhere and returns 0; all scores tied give the prevalence.
    public static func averagePrecision(_ r: Ranked, rankWeights w: UnsafeBufferPointer<Double>?) -> Double {
        ranking(r, rankWeights: w).averagePrecision
    }

    /// ROC AUC and average precision together, in one pass over the rows in rank order: the
    /// cumulative weighted TP and FP at the end of each run of tied scores give both curves.
    public static func ranking(_ r: Ranked, rankWeights w: UnsafeBufferPointer<Double>?) -> (rocAUC: Double?, averagePrecision: Double) {
        var tp = 0.0, fp = 0.0, prevTP = 0.0, prevFP = 0.0, area = 0.0, ap = 0.0
        r.labels.withUnsafeBufferPointer { labels in
            r.groupEnd.withUnsafeBufferPointer { ends in
                for k in 0..<labels.count {
                    let wk = w?[k] ?? 1
                    if labels[k] == 1 { tp += wk } else { fp += wk }
                    if ends[k] {
                        area += (fp - prevFP) * (tp + prevTP)
                        // TP only grows, so TP > previous TP means TP + FP > 0: Pₙ is defined.
                        if tp != prevTP { ap += (tp - prevTP) * (tp / (tp + fp)) }
                        prevTP = tp; prevFP = fp
                    }
                }
            }
        }
        return (tp > 0 && fp > 0 ? area / 2 / (tp * fp) : nil, tp > 0 ? ap / tp : 0)
    }

    public static func rocAUC(labels: [UInt8], scores: [Double], weights: [Double]? = nil) -> Double? {
        let r = Ranked(labels: labels, scores: scores)
        return inRankOrder(r, weights) { rocAUC(r, rankWeights: $0) }
    }

    public static func averagePrecision(labels: [UInt8], scores: [Double], weights: [Double]? = nil) -> Double {
        let r = Ranked(labels: labels, scores: scores)
        return inRankOrder(r, weights) { averagePrecision(r, rankWeights: $0) }
    }

    static func inRankOrder<T>(_ r: Ranked, _ weights: [Double]?, _ body: (UnsafeBufferPointer<Double>?) -> T) -> T {
        guard let weights else { return body(nil) }
        return r.order.map { weights[$0] }.withUnsafeBufferPointer { body($0) }
    }

    // MARK: Probability metrics: weighted means of per-row terms

    /// The log loss term of one row: −ln(p) for class 1 and −ln(1 − p) for class 0, p clipped to
    /// [ε, 1 − ε] with ε = 2.22e-16 (float64 machine epsilon), as scikit-learn clips: a perfect
    /// prediction costs 2.2e-16, a probability of 0 on the true class −ln(ε) = 36.04.
    public static func logLossTerm(label: UInt8, score: Double) -> Double {
        let eps = Double.ulpOfOne
        let p = min(max(score, eps), 1 - eps)
        let q = min(max(1 - score, eps), 1 - eps)
        return label == 1 ? -log(p) : -log(q)
    }

    /// Σ w·(p − y)² / Σ w (scikit-learn's `brier_score_loss`).
    public static func brierTerm(label: UInt8, score: Double) -> Double {
        let d = score - Double(label)
        return d * d
    }

    /// Weighted mean log loss, Σ w·term / Σ w; nil with one class (scikit-learn raises
    /// "y_true contains only one label" without `labels`) or weights summing to 0.
    public static func logLoss(labels: [UInt8], scores: [Double], weights: [Double]? = nil) -> Double? {
        guard hasBothClasses(labels, weights) else { return nil }
        return weightedMean(labels.indices.map { logLossTerm(label: labels[$0], score: scores[$0]) }, weights)
    }

    /// Mean squared difference of score and label, weighted; nil when the weights sum to 0.
    public static func brier(labels: [UInt8], scores: [Double], weights: [Double]? = nil) -> Double? {
        weightedMean(labels.indices.map { brierTerm(label: labels[$0], score: scores[$0]) }, weights)
    }

    static func hasBothClasses(_ labels: [UInt8], _ weights: [Double]?) -> Bool {
        var p = 0.0, n = 0.0
        for i in labels.indices { if labels[i] == 1 { p += weights?[i] ?? 1 } else { n += weights?[i] ?? 1 } }
        return p > 0 && n > 0
    }

    /// Σ w·x / Σ w; nil when Σ w = 0.
    public static func weightedMean(_ x: [Double], _ weights: [Double]?) -> Double? {
        guard let weights else { return x.isEmpty ? nil : x.reduce(0, +) / Double(x.count) }
        var s = 0.0, t = 0.0
        for i in x.indices { s += weights[i] * x[i]; t += weights[i] }
        return t > 0 ? s / t : nil
    }
}
