import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// Production/ABEstimates.swift (ab's f1, balanced_accuracy, roc_auc) against scikit-learn, scipy
/// and a numpy bootstrap: `ab_estimates` of Fixtures/production/expected.json, made by
/// scripts/make-production-fixtures.py.
@Suite("AB estimates")
struct ABEstimatesTests {
    static var doc: [String: Any] { ProportionsTests.doc["ab_estimates"] as? [String: Any] ?? [:] }
    static func cases(_ key: String) -> [[String: Any]] { doc[key] as? [[String: Any]] ?? [] }
    static func d(_ c: [String: Any], _ k: String) -> Double { ProportionsTests.d(c, k) }
    static func counts(_ c: [String: Any], _ k: String) -> [Double] { (c[k] as? [NSNumber] ?? []).map(\.doubleValue) }
    static func histogram(_ c: [String: Any], _ k: String) -> [Double] {
        var h = [Double](repeating: 0, count: ProductionCounts.aucBins)
        for (i, n) in c[k] as? [String: NSNumber] ?? [:] { h[Int(i)!] = n.doubleValue }
        return h
    }

    @Test("f1 and balanced accuracy agree with scikit-learn to 1e-12; the delta-method standard error is within 3% of a 20,000-resample bootstrap")
    func confusion() {
        #expect(Self.cases("confusion").count == 6)
        for c in Self.cases("confusion") {
            let (tp, fp, fn, tn) = (Self.d(c, "tp"), Self.d(c, "fp"), Self.d(c, "fn"), Self.d(c, "tn"))
            guard let f = ABEstimates.f1(tp: tp, fp: fp, fn: fn, tn: tn),
                  let b = ABEstimates.balancedAccuracy(tp: tp, fp: fp, fn: fn, tn: tn) else { Issue.record("nil for \(c)"); continue }
            #expect(abs(f.value - Self.d(c, "f1")) < 1e-12, "\(c)")
            #expect(abs(b.value - Self.d(c, "balanced_accuracy")) < 1e-12, "\(c)")
            #expect(abs(f.variance - Self.d(c, "f1_variance")) < 1e-15, "\(c)")
            #expect(abs(b.variance - Self.d(c, "balanced_accuracy_variance")) < 1e-15, "\(c)")
            #expect(f.n == tp + fp + fn + tn && b.n == f.n)
            // An independent check of the formula: the bootstrap of the arm's counts. Its own
            // Monte Carlo error at 20,000 resamples is about 0.5%; the delta method is asymptotic,
            // so the small arm (100 rows) gets 10%.
            let tolerance = f.n >= 500 ? 0.03 : 0.10
            for (est, key) in [(f, "f1_bootstrap_se"), (b, "balanced_accuracy_bootstrap_se")] {
                let boot = Self.d(c, key)
                #expect(abs(est.variance.squareRoot() / boot - 1) < tolerance, "\(key) \(c): delta \(est.variance.squareRoot()) vs \(boot)")
            }
        }
        #expect(ABEstimates.f1(tp: 0, fp: 0, fn: 0, tn: 10) == nil)
        #expect(ABEstimates.balancedAccuracy(tp: 3, fp: 0, fn: 1, tn: 0) == nil)
    }

    @Test("the comparison of two arms (Wald z, interval, p-value, rows needed) agrees with the scipy computation")
    func compare() {
        #expect(Self.cases("compare").count == 6)
        for c in Self.cases("compare") {
            let a = Self.counts(c, "a"), b = Self.counts(c, "b")
            let metric = c["metric"] as? String ?? ""
            var ca = ProductionCounts(), cb = ProductionCounts()
            (ca.tp, ca.fp, ca.fn, ca.tn) = (a[0], a[1], a[2], a[3])
            (cb.tp, cb.fp, cb.fn, cb.tn) = (b[0], b[1], b[2], b[3])
            guard let ea = ABEstimates.estimate(metric, ca), let eb = ABEstimates.estimate(metric, cb) else { Issue.record("nil for \(c)"); continue }
            let t = ABEstimates.compare(ea, eb)
            let (lo, hi) = ProportionsTests.pair(c, "interval")
            #expect(abs(t.difference - Self.d(c, "difference")) < 1e-12, "\(c)")
            #expect(abs(t.interval.low - lo) < 1e-12 && abs(t.interval.high - hi) < 1e-12, "\(c)")
            #expect(abs(t.z - Self.d(c, "z")) < 1e-9, "\(c)")
            #expect(abs(t.pValue - Self.d(c, "p_value")) < 1e-12, "\(c): \(t.pValue)")
            #expect(ABEstimates.rowsPerGroup(ea, eb) == Self.d(c, "rows_needed"), "\(c)")
        }
    }

    @Test("roc_auc and DeLong's variance on binned scores agree with scikit-learn and a midrank DeLong to 1e-12")
    func rocAUC() {
        #expect(Self.cases("roc_auc").count == 4)
        var estimates: [ABEstimates.Estimate] = []
        for c in Self.cases("roc_auc") {
            let pos = Self.histogram(c, "positive"), neg = Self.histogram(c, "negative")
            guard let e = ABEstimates.rocAUC(positive: pos, negative: neg) else { Issue.record("nil for \(c)"); continue }
            #expect(abs(e.value - Self.d(c, "auc")) < 1e-12, "\(e.value) vs \(Self.d(c, "auc"))")
            #expect(abs(e.variance - Self.d(c, "variance")) < 1e-12 * max(1, Self.d(c, "variance")), "\(e.variance) vs \(Self.d(c, "variance"))")
            #expect(e.n == pos.reduce(0, +) + neg.reduce(0, +) && e.approximate)
            // The summaries' own AUC (ProductionCounts.approximateAUC) is the same number.
            var counts = ProductionCounts()
            counts.positiveHistogram = pos; counts.negativeHistogram = neg
            #expect(abs(counts.approximateAUC! - e.value) < 1e-12)
            estimates.append(e)
        }
        guard estimates.count == 4, let c = Self.doc["roc_auc_compare"] as? [String: Any] else { Issue.record("no roc_auc_compare"); return }
        let t = ABEstimates.compare(estimates[1], estimates[2])
        let (lo, hi) = ProportionsTests.pair(c, "interval")
        #expect(abs(t.difference - Self.d(c, "difference")) < 1e-12)
        #expect(abs(t.interval.low - lo) < 1e-12 && abs(t.interval.high - hi) < 1e-12)
        #expect(abs(t.pValue - Self.d(c, "p_value")) < 1e-12, "\(t.pValue) vs \(Self.d(c, "p_value"))")
        #expect(ABEstimates.rowsPerGroup(estimates[1], estimates[2]) == Self.d(c, "rows_needed"))
        // One positive row, or no negatives: undefined.
        var one = [Double](repeating: 0, count: 100), none = one
        one[90] = 1; none[3] = 0
        #expect(ABEstimates.rocAUC(positive: one, negative: none) == nil)
    }
}
