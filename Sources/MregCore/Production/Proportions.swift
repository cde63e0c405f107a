#if canImport(Glibc)
import Glibc
#endif

/// Small-sample and two-sample statistics for proportions, as pure functions (docs/production.md
/// gives the formulas; `Fixtures/production/expected.json`, made by
/// `scripts/make-production-fixtures.py` with scipy, checks them).
public enum Proportions {
    /// Φ(x), the standard normal distribution function: ½·erfc(−x/√2).
    public static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// Φ⁻¹(p) for 0 < p < 1: Acklam's rational approximation refined by one Halley step on erfc
    /// (within 1e-11 of scipy's `norm.ppf`, relative beyond |z| = 1: ProportionsTests).
    public static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "normalQuantile needs 0 < p < 1")
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        // One Halley step: e = Φ(x) − p.
        let e = normalCDF(x) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }

    /// The Wilson score interval for `successes` out of `n` at `level` (two-sided):
    /// (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n), z = Φ⁻¹(1 − (1 − level)/2).
    /// Nil for n = 0. Agrees with scipy's `binomtest(k, n).proportion_ci(method="wilson")`.
    public static func wilson(successes: Double, n: Double, level: Double = 0.95) -> Evaluation.Interval? {
        guard n > 0 else { return nil }
        let z = normalQuantile(1 - (1 - level) / 2)
        let p = successes / n, z2 = z * z
        let center = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / (1 + z2 / n)
        return Evaluation.Interval(low: max(0, center - half), high: min(1, center + half))
    }

    /// The two-proportion test of B against A.
    public struct TwoSample: Equatable, Sendable {
        /// p̂_B − p̂_A.
        public var difference: Double
        /// Wald interval of the difference (unpooled standard error).
        public var interval: Evaluation.Interval
        /// z with the pooled standard error; 0 when that error is 0.
        public var z: Double
        /// Two-sided p-value, 2·(1 − Φ(|z|)); 1 when the pooled error is 0.
        public var pValue: Double
    }

    /// Two-proportion z test (pooled standard error for the test, unpooled for the interval):
    /// p = (x_A + x_B)/(n_A + n_B), z = (p̂_B − p̂_A)/√(p(1−p)(1/n_A + 1/n_B)). Nil if either n is 0.
    public static func twoProportion(xA: Double, nA: Double, xB: Double, nB: Double, level: Double = 0.95) -> TwoSample? {
        guard nA > 0, nB > 0 else { return nil }
        let pA = xA / nA, pB = xB / nB, d = pB - pA
        let pooled = (xA + xB) / (nA + nB)
        let sePooled = (pooled * (1 - pooled) * (1 / nA + 1 / nB)).squareRoot()
        let se = (pA * (1 - pA) / nA + pB * (1 - pB) / nB).squareRoot()
        let zc = normalQuantile(1 - (1 - level) / 2)
        let z = sePooled > 0 ? d / sePooled : 0
        let p = sePooled > 0 ? 2 * normalCDF(-abs(z)) : 1
        return TwoSample(difference: d, interval: .init(low: d - zc * se, high: d + zc * se), z: z, pValue: p)
    }

    /// Rows per group that a two-sided test at `alpha` needs to detect p_A → p_B with `power`
    /// (normal approximation, equal groups, no continuity correction):
    /// n = (z_{1−α/2}·√(2p̄(1−p̄)) + z_{power}·√(p_A(1−p_A) + p_B(1−p_B)))² / (p_B − p_A)², p̄ = (p_A + p_B)/2,
    /// rounded up. Nil when p_A = p_B (no lift to detect).
    public static func rowsPerGroup(pA: Double, pB: Double, alpha: Double = 0.05, power: Double = 0.8) -> Double? {
        let d = pB - pA
        guard d != 0 else { return nil }
        let bar = (pA + pB) / 2
        let za = normalQuantile(1 - alpha / 2), zb = normalQuantile(power)
        let root = za * (2 * bar * (1 - bar)).squareRoot() + zb * (pA * (1 - pA) + pB * (1 - pB)).squareRoot()
        return (root * root / (d * d)).rounded(.up)
    }

    /// Difference of two means with unpooled (Welch) standard error and a normal reference
    /// distribution, for outcomes that are not 0/1 (revenue). Nil when a group has fewer than 2 rows.
    public static func twoMeans(nA: Double, sumA: Double, sumSqA: Double, nB: Double, sumB: Double, sumSqB: Double,
                                level: Double = 0.95) -> TwoSample? {
        guard nA >= 2, nB >= 2 else { return nil }
        let mA = sumA / nA, mB = sumB / nB
        let vA = max(0, (sumSqA - nA * mA * mA) / (nA - 1)), vB = max(0, (sumSqB - nB * mB * mB) / (nB - 1))
        let se = (vA / nA + vB / nB).squareRoot()
        let d = mB - mA
        let zc = normalQuantile(1 - (1 - level) / 2)
        let z = se > 0 ? d / se : 0
        return TwoSample(difference: d, interval: .init(low: d - zc * se, high: d + zc * se), z: z, pValue: se > 0 ? 2 * normalCDF(-abs(z)) : 1)
    }
}
