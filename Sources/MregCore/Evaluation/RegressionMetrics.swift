#if canImport(Glibc)
import Glibc
#endif

/// Regression metrics as pure functions over arrays, defined as scikit-learn 1.9 defines them
/// (`sklearn/metrics/_regression.py`), weights included (absent means 1). Every function is nil
/// when the weights sum to 0.
public enum RegressionMetrics {
    /// Σ w·|y − ŷ| / Σ w.
    public static func mae(targets: [Double], predictions: [Double], weights: [Double]? = nil) -> Double? {
        BinaryMetrics.weightedMean(targets.indices.map { abs(targets[$0] - predictions[$0]) }, weights)
    }

    /// √(Σ w·(y − ŷ)² / Σ w) (scikit-learn's `root_mean_squared_error`).
    public static func rmse(targets: [Double], predictions: [Double], weights: [Double]? = nil) -> Double? {
        BinaryMetrics.weightedMean(targets.indices.map { let d = targets[$0] - predictions[$0]; return d * d }, weights).map { $0.squareRoot() }
    }

    /// Σ w·(ŷ − y) / Σ w: positive when the model predicts too high (mean error).
    public static func bias(targets: [Double], predictions: [Double], weights: [Double]? = nil) -> Double? {
        BinaryMetrics.weightedMean(targets.indices.map { predictions[$0] - targets[$0] }, weights)
    }

    /// 1 − Σ w·(y − ŷ)² / Σ w·(y − ȳ)², ȳ the weighted mean of y. scikit-learn's
    /// `force_finite=True`: with constant y (denominator 0) it is 1 for a perfect prediction and
    /// 0 otherwise. Nil with fewer than two rows (scikit-learn returns NaN with a warning).
    public static func r2(targets: [Double], predictions: [Double], weights: [Double]? = nil) -> Double? {
        guard targets.count >= 2, let mean = BinaryMetrics.weightedMean(targets, weights) else { return nil }
        var res = 0.0, tot = 0.0
        for i in targets.indices {
            let w = weights?[i] ?? 1
            let d = targets[i] - predictions[i], e = targets[i] - mean
            res += w * d * d
            tot += w * e * e
        }
        if tot == 0 { return res == 0 ? 1 : 0 }
        return 1 - res / tot
    }

    /// The median of |y − ŷ| (numpy's median: the mean of the two middle values of an even count).
    /// Weighted, it is the median of the sample with each row repeated w times when weights are
    /// whole numbers (as the bootstrap's are): the value where the cumulative weight passes half,
    /// the mean of two neighbours when it lands exactly on half. Sorted once by `sortedErrors`.
    public static func medianAE(targets: [Double], predictions: [Double], weights: [Double]? = nil) -> Double? {
        let errors = targets.indices.map { abs(targets[$0] - predictions[$0]) }
        let order = errors.indices.sorted { errors[$0] < errors[$1] }
        let sorted = order.map { errors[$0] }
        guard let weights else { return weightedMedian(sorted: sorted, weights: nil) }
        return order.map { weights[$0] }.withUnsafeBufferPointer { weightedMedian(sorted: sorted, weights: $0) }
    }

    /// The weighted median of values sorted increasingly, weights in the same order.
    public static func weightedMedian(sorted x: [Double], weights w: UnsafeBufferPointer<Double>?) -> Double? {
        guard !x.isEmpty else { return nil }
        guard let w else {
            let n = x.count
            return n % 2 == 1 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2
        }
        var total = 0.0
        for v in w { total += v }
        guard total > 0 else { return nil }
        let half = total / 2
        var cum = 0.0
        for k in x.indices where w[k] > 0 {
            cum += w[k]
            if cum > half { return x[k] }
            if cum == half {
                var j = k + 1
                while j < x.count && w[j] == 0 { j += 1 }
                return j < x.count ? (x[k] + x[j]) / 2 : x[k]
            }
        }
        return x.last
    }

    /// Σ w·[lower ≤ y ≤ upper] / Σ w: the share of rows inside their prediction interval, both
    /// ends included (MAPIE's coverage).
    public static func coverage(targets: [Double], lower: [Double], upper: [Double], weights: [Double]? = nil) -> Double? {
        BinaryMetrics.weightedMean(targets.indices.map { lower[$0] <= targets[$0] && targets[$0] <= upper[$0] ? 1 : 0 }, weights)
    }

    /// Σ w·(upper − lower) / Σ w (MAPIE's mean width; lower ≤ upper is checked when reading).
    public static func meanWidth(lower: [Double], upper: [Double], weights: [Double]? = nil) -> Double? {
        BinaryMetrics.weightedMean(lower.indices.map { upper[$0] - lower[$0] }, weights)
    }
}
