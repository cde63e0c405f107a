/// `ab` metrics that are not a k/n proportion (docs/production.md, "ab: f1, balanced accuracy,
/// roc_auc"): each is an estimate with a large-sample variance computed from the summed counts,
/// and two independent arms are compared with a Wald z test on the difference.
///
/// - `f1` and `balanced_accuracy` are functions of the confusion counts only. The labelled rows of
///   one arm are a multinomial sample over the four cells (TP, FP, FN, TN); the delta method gives
///   the variance of the metric from the counts alone, identical to what it would give on the raw
///   rows (the counts are sufficient). Exact: the point values; asymptotic: the variance.
/// - `roc_auc` needs the scores: DeLong's variance of the Mann–Whitney AUC, computed on the
///   labelled rows' 100-bin score histograms of the summaries (a score counts as its bin; pairs
///   in one bin count ½). Exact for the binned scores; an approximation of the raw-score AUC that
///   is exact when no bin holds scores of both classes.
///
/// `Fixtures/production/expected.json` (scripts/make-production-fixtures.py) checks these against
/// scikit-learn (`f1_score`, `balanced_accuracy_score`, `roc_auc_score`), a midrank DeLong written
/// with scipy's `rankdata`, and a numpy multinomial bootstrap of the standard error.
public enum ABEstimates {
    /// The metrics, with what their rows count, in the order `ab` lists them.
    public static let metrics: [(name: String, rows: String)] = [
        ("f1", "labelled rows"), ("balanced_accuracy", "labelled rows"), ("roc_auc", "labelled rows with a score"),
    ]

    public static func isKnown(_ name: String) -> Bool { metrics.contains { $0.name == name } }

    /// A metric's value on one arm, its variance, and the rows it is computed on.
    public struct Estimate: Equatable, Sendable {
        public var value: Double
        public var variance: Double
        public var n: Double
        /// Whether the value is computed on binned scores (roc_auc).
        public var approximate = false
    }

    /// The estimate of `name` on one arm's counts; nil when it is undefined (no labelled rows, a
    /// class missing, fewer than 2 rows of a class for roc_auc).
    public static func estimate(_ name: String, _ c: ProductionCounts) -> Estimate? {
        switch name {
        case "f1": return f1(tp: c.tp, fp: c.fp, fn: c.fn, tn: c.tn)
        case "balanced_accuracy": return balancedAccuracy(tp: c.tp, fp: c.fp, fn: c.fn, tn: c.tn)
        case "roc_auc": return rocAUC(positive: c.positiveHistogram, negative: c.negativeHistogram)
        default: return nil
        }
    }

    /// F1 = 2TP/(2TP + FP + FN); delta-method variance over the multinomial counts
    /// Var = 4·TP·(FP + FN)·(TP + FP + FN) / (2TP + FP + FN)⁴. Nil when 2TP + FP + FN = 0.
    public static func f1(tp: Double, fp: Double, fn: Double, tn: Double) -> Estimate? {
        let d = 2 * tp + fp + fn
        guard d > 0 else { return nil }
        let v = 4 * tp * (fp + fn) * (tp + fp + fn) / (d * d * d * d)
        return Estimate(value: 2 * tp / d, variance: v, n: tp + fp + fn + tn)
    }

    /// Balanced accuracy = (r + s)/2, r = TP/P, s = TN/N (P = TP + FN, N = TN + FP); delta-method
    /// variance Var = (r(1−r)/P + s(1−s)/N)/4. Nil without both classes.
    public static func balancedAccuracy(tp: Double, fp: Double, fn: Double, tn: Double) -> Estimate? {
        let p = tp + fn, n = tn + fp
        guard p > 0, n > 0 else { return nil }
        let r = tp / p, s = tn / n
        return Estimate(value: (r + s) / 2, variance: (r * (1 - r) / p + s * (1 - s) / n) / 4, n: p + n)
    }

    /// The Mann–Whitney AUC of binned scores and DeLong's variance (DeLong, DeLong & Clarke-Pearson
    /// 1988): with m positives and k negatives,
    ///   V10(x) = (negatives in lower bins + ½·negatives in x's bin)/k   for each positive x,
    ///   V01(y) = (positives in higher bins + ½·positives in y's bin)/m  for each negative y,
    ///   AUC = mean V10,  Var = S10/m + S01/k,
    /// S10, S01 the sample variances (m − 1, k − 1) of V10 and V01. Nil when m < 2 or k < 2.
    public static func rocAUC(positive: [Double], negative: [Double]) -> Estimate? {
        guard !positive.isEmpty, positive.count == negative.count else { return nil }
        let bins = positive.count
        let m = positive.reduce(0, +), k = negative.reduce(0, +)
        guard m >= 2, k >= 2 else { return nil }
        var v10 = [Double](repeating: 0, count: bins), v01 = [Double](repeating: 0, count: bins)
        var below = 0.0
        for i in 0..<bins {
            v10[i] = (below + negative[i] / 2) / k
            below += negative[i]
        }
        var above = 0.0
        for i in stride(from: bins - 1, through: 0, by: -1) {
            v01[i] = (above + positive[i] / 2) / m
            above += positive[i]
        }
        var auc = 0.0
        for i in 0..<bins { auc += positive[i] * v10[i] }
        auc /= m
        var s10 = 0.0, s01 = 0.0
        for i in 0..<bins {
            s10 += positive[i] * (v10[i] - auc) * (v10[i] - auc)
            s01 += negative[i] * (v01[i] - auc) * (v01[i] - auc)
        }
        s10 /= m - 1
        s01 /= k - 1
        return Estimate(value: auc, variance: s10 / m + s01 / k, n: m + k, approximate: true)
    }

    /// B − A with the Wald interval d ± z·√(Var_A + Var_B) and the two-sided p-value of
    /// z = d/√(Var_A + Var_B), normal reference; p = 1 (z = 0) when both variances are 0.
    public static func compare(_ a: Estimate, _ b: Estimate, level: Double = 0.95) -> Proportions.TwoSample {
        let d = b.value - a.value
        let se = (a.variance + b.variance).squareRoot()
        let zc = Proportions.normalQuantile(1 - (1 - level) / 2)
        let z = se > 0 ? d / se : 0
        return Proportions.TwoSample(difference: d, interval: .init(low: d - zc * se, high: d + zc * se), z: z,
                                     pValue: se > 0 ? 2 * Proportions.normalCDF(-abs(z)) : 1)
    }

    /// Labelled rows per version for the observed difference to be detected with `power` by the
    /// two-sided Wald test at `alpha`, each arm keeping its per-row variance n·Var (and so its
    /// class mix): n = (z_{1−α/2} + z_power)²·(n_A·Var_A + n_B·Var_B)/d², rounded up. Nil when
    /// d = 0 or both variances are 0.
    public static func rowsPerGroup(_ a: Estimate, _ b: Estimate, alpha: Double = 0.05, power: Double = 0.8) -> Double? {
        let d = b.value - a.value
        let perRow = a.n * a.variance + b.n * b.variance
        guard d != 0, perRow > 0 else { return nil }
        let z = Proportions.normalQuantile(1 - alpha / 2) + Proportions.normalQuantile(power)
        return (z * z * perRow / (d * d)).rounded(.up)
    }
}
