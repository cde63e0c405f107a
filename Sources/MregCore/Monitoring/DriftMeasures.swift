#if canImport(Glibc)
import Glibc
#endif

/// Drift and integrity measures between a reference column and a window column
/// (docs/monitoring.md, "Measures"). Pure functions, no I/O; each returns nil when the measure
/// is undefined for the data (no values in the window, a kind it does not apply to).
public enum DriftMeasures {
    /// Shares of 0 become this before the logarithms of `psi` (Evidently's 0.0001).
    public static let psiEpsilon = 1e-4

    // MARK: - Numeric: the reference's decile bins

    /// Population stability index over the reference's 10 decile bins:
    /// Σᵢ (wᵢ − rᵢ)·ln(wᵢ / rᵢ), with rᵢ, wᵢ the shares of the reference's and the window's values
    /// in bin i and a share of 0 replaced by `psiEpsilon`. The window must be binned on the
    /// reference's edges (`Profiler.profile(…, reference:)`).
    public static func psi(_ r: NumericProfile, _ w: NumericProfile) -> Double? {
        guard let (p, q) = binShares(r, w) else { return nil }
        return psi(p, q)
    }

    /// PSI of two share vectors (each summing to 1), zeros replaced by `psiEpsilon`.
    public static func psi(_ p: [Double], _ q: [Double]) -> Double {
        var s = 0.0
        for (a, b) in zip(p, q) {
            let r = a == 0 ? psiEpsilon : a, w = b == 0 ? psiEpsilon : b
            s += (w - r) * log(w / r)
        }
        return s
    }

    /// Jensen–Shannon distance (natural log, so between 0 and √ln 2 ≈ 0.833) between the
    /// reference's and the window's shares over the reference's decile bins (numeric) or over the
    /// reference's listed values plus one bucket for everything else (categorical):
    /// √((KL(p‖m) + KL(q‖m)) / 2), m = (p + q)/2 — scipy's `jensenshannon(p, q)`.
    public static func js(_ r: ColumnProfile, _ w: ColumnProfile) -> Double? {
        switch (r, w) {
        case (.numeric(let a), .numeric(let b)):
            guard let (p, q) = binShares(a, b) else { return nil }
            return js(p, q)
        case (.categorical(let a), .categorical(let b)):
            guard let (p, q) = categoryShares(a, b) else { return nil }
            return js(p, q)
        default:
            return nil
        }
    }

    /// Jensen–Shannon distance of two share vectors, natural log.
    public static func js(_ p: [Double], _ q: [Double]) -> Double {
        var s = 0.0
        for (a, b) in zip(p, q) {
            let m = (a + b) / 2
            if a > 0 { s += a * log(a / m) }
            if b > 0 { s += b * log(b / m) }
        }
        return (Swift.max(0, s / 2)).squareRoot()
    }

    /// Kolmogorov–Smirnov statistic from the binned CDFs: maxₖ |R(eₖ) − W(eₖ)| over the interior
    /// decile edges e₁…e₉, where R(e) and W(e) are the reference's and the window's shares of
    /// values below e. It is evaluated at 9 points only, so it is at most the exact two-sample
    /// statistic (`ks(_:_:)` over raw values, scipy's `ks_2samp`), and equal when the largest gap
    /// falls on an edge.
    public static func ks(_ r: NumericProfile, _ w: NumericProfile) -> Double? {
        guard let (p, q) = binShares(r, w) else { return nil }
        var cp = 0.0, cq = 0.0, d = 0.0
        for i in 0..<9 {
            cp += p[i]; cq += q[i]
            d = Swift.max(d, abs(cp - cq))
        }
        return d
    }

    /// Wasserstein-1 distance between the quantile functions, divided by the reference's
    /// population std: ∫₀¹ |Q_r(u) − Q_w(u)| du / σ_r, each Q the piecewise-linear function
    /// through the 101 stored percentiles (exact integral of the difference of two such
    /// functions). A constant reference (σ_r = 0) gives 0 when the window is the same constant,
    /// else +∞.
    public static func wasserstein(_ r: NumericProfile, _ w: NumericProfile) -> Double? {
        guard w.count > 0, r.count > 0 else { return nil }
        var total = 0.0
        let h = 0.01
        for k in 0..<100 {
            let d0 = r.percentiles[k] - w.percentiles[k], d1 = r.percentiles[k + 1] - w.percentiles[k + 1]
            if (d0 >= 0) == (d1 >= 0) || d0 == 0 || d1 == 0 {
                total += (abs(d0) + abs(d1)) / 2 * h
            } else {
                total += (d0 * d0 + d1 * d1) / (2 * (abs(d0) + abs(d1))) * h
            }
        }
        if r.std == 0 { return total == 0 ? 0 : .infinity }
        return total / r.std
    }

    /// Share of the window's values outside the reference's [min, max]; the window must be
    /// profiled against the reference.
    public static func outOfRange(_ r: NumericProfile, _ w: NumericProfile) -> Double? {
        guard w.count > 0, w.edges == r.edges else { return nil }
        return Double(w.below + w.above) / Double(w.count)
    }

    // MARK: - Any kind

    /// Missing values over all rows of the window: missing / (count + missing).
    public static func missingRate(_ w: ColumnProfile) -> Double? {
        let rows = w.count + w.missing
        return rows == 0 ? nil : Double(w.missing) / Double(rows)
    }

    /// Share of the window's values not listed in a complete reference (`CategoricalProfile.complete`);
    /// values the window itself did not list (its `other`) are not counted, so for a window of
    /// more than `CategoricalProfile.topLimit` distinct values this is a lower bound.
    public static func newCategories(_ r: CategoricalProfile, _ w: CategoricalProfile) -> Double? {
        guard w.count > 0 else { return nil }
        let known = Set(r.top.map(\.value))
        let new = w.top.reduce(0) { known.contains($1.value) ? $0 : $0 + $1.count }
        return Double(new) / Double(w.count)
    }

    // MARK: - Aggregates of a numeric column

    public enum Aggregate: String, Sendable, CaseIterable {
        case mean, p50, p90, p99
    }

    /// The window's mean (exact) or percentile (of the profile's sample: exact up to
    /// `Profiler.sampleLimit` values).
    public static func aggregate(_ a: Aggregate, _ w: NumericProfile) -> Double? {
        guard w.count > 0 else { return nil }
        switch a {
        case .mean: return w.mean
        case .p50: return w.percentile(50)
        case .p90: return w.percentile(90)
        case .p99: return w.percentile(99)
        }
    }

    // MARK: - Schema

    /// Columns added (in the window only), missing (in the reference only) and of another kind
    /// (numeric in one, categorical in the other; a column with every value missing has no kind
    /// and is left to `missing_rate`).
    public struct SchemaChange: Equatable, Sendable {
        public var added: [String]
        public var missing: [String]
        public var changedKind: [String]
        public var count: Int { added.count + missing.count + changedKind.count }
    }

    public static func schema(_ r: Profile, _ w: Profile) -> SchemaChange {
        let added = w.columns.keys.filter { r.columns[$0] == nil }.sorted()
        let missing = r.columns.keys.filter { w.columns[$0] == nil }.sorted()
        let changed = r.columns.keys.filter { name in
            guard let a = r.columns[name]?.kind, let b = w.columns[name]?.kind else { return false }
            return a != .empty && b != .empty && a != b
        }.sorted()
        return SchemaChange(added: added, missing: missing, changedKind: changed)
    }

    // MARK: - Exact measures over raw values (for checks and for windows small enough to keep)

    /// The exact two-sample Kolmogorov–Smirnov statistic supₓ |F_a(x) − F_b(x)| (scipy `ks_2samp`).
    public static func ks(_ a: [Double], _ b: [Double]) -> Double {
        let x = a.sorted(), y = b.sorted()
        var i = 0, j = 0, d = 0.0
        while i < x.count && j < y.count {
            let v = Swift.min(x[i], y[j])
            while i < x.count && x[i] <= v { i += 1 }
            while j < y.count && y[j] <= v { j += 1 }
            d = Swift.max(d, abs(Double(i) / Double(x.count) - Double(j) / Double(y.count)))
        }
        return d
    }

    /// The exact Wasserstein-1 distance between the empirical distributions of `a` and `b`,
    /// ∫ |F_a(x) − F_b(x)| dx (scipy `wasserstein_distance`), not normalised.
    public static func wasserstein(_ a: [Double], _ b: [Double]) -> Double {
        let x = a.sorted(), y = b.sorted()
        let all = (x + y).sorted()
        var i = 0, j = 0, total = 0.0
        for k in 0..<(all.count - 1) {
            while i < x.count && x[i] <= all[k] { i += 1 }
            while j < y.count && y[j] <= all[k] { j += 1 }
            total += abs(Double(i) / Double(x.count) - Double(j) / Double(y.count)) * (all[k + 1] - all[k])
        }
        return total
    }

    // MARK: - Shares

    /// The reference's and window's shares over the reference's bins, when the window was
    /// binned on the reference's edges and both have values.
    static func binShares(_ r: NumericProfile, _ w: NumericProfile) -> ([Double], [Double])? {
        guard r.count > 0, w.count > 0, w.edges == r.edges else { return nil }
        let rn = Double(r.counts.reduce(0, +)), wn = Double(w.counts.reduce(0, +))
        guard rn > 0, wn > 0 else { return nil }
        return (r.counts.map { Double($0) / rn }, w.counts.map { Double($0) / wn })
    }

    /// Shares over the reference's listed values plus one bucket for every other value.
    static func categoryShares(_ r: CategoricalProfile, _ w: CategoricalProfile) -> ([Double], [Double])? {
        guard r.count > 0, w.count > 0 else { return nil }
        var p = r.top.map { Double($0.count) / Double(r.count) }
        let listed = r.top.map { w.count(of: $0.value) ?? 0 }
        var q = listed.map { Double($0) / Double(w.count) }
        p.append(Double(r.other) / Double(r.count))
        q.append(Double(w.count - listed.reduce(0, +)) / Double(w.count))
        return (p, q)
    }
}
