import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// Production/Proportions.swift against scipy: Fixtures/production/expected.json, made by
/// scripts/make-production-fixtures.py.
@Suite("Production proportions")
struct ProportionsTests {
    nonisolated(unsafe) static let doc: [String: Any] = {
        guard let data = FileManager.default.contents(atPath: FixturePaths.path("production/expected.json")),
              let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return doc
    }()

    static func cases(_ key: String) -> [[String: Any]] { doc[key] as? [[String: Any]] ?? [] }
    static func d(_ c: [String: Any], _ k: String) -> Double { (c[k] as? NSNumber)?.doubleValue ?? .nan }
    static func pair(_ c: [String: Any], _ k: String) -> (Double, Double) {
        let a = c[k] as? [NSNumber] ?? []
        return (a.first?.doubleValue ?? .nan, a.last?.doubleValue ?? .nan)
    }

    @Test("the normal quantile agrees with scipy's norm.ppf to 1e-11 (relative beyond |z| = 1)")
    func quantiles() {
        #expect(Self.cases("quantiles").count == 12)
        for c in Self.cases("quantiles") {
            let z = Proportions.normalQuantile(Self.d(c, "p"))
            #expect(abs(z - Self.d(c, "z")) < 1e-11 * max(1, abs(z)), "p = \(Self.d(c, "p")): \(z) vs \(Self.d(c, "z"))")
            #expect(abs(Proportions.normalCDF(z) - Self.d(c, "p")) < 1e-12 * max(1, 1 / Self.d(c, "p")))
        }
    }

    @Test("Wilson intervals agree with scipy's binomtest(...).proportion_ci(method='wilson') to 1e-12")
    func wilson() {
        #expect(Self.cases("wilson").count == 8)
        for c in Self.cases("wilson") {
            let i = Proportions.wilson(successes: Self.d(c, "k"), n: Self.d(c, "n"), level: Self.d(c, "level"))
            let (lo, hi) = Self.pair(c, "interval")
            #expect(i != nil && abs(i!.low - lo) < 1e-12 && abs(i!.high - hi) < 1e-12, "\(c): \(String(describing: i))")
        }
        #expect(Proportions.wilson(successes: 0, n: 0) == nil)
    }

    @Test("the two-proportion z test agrees with the scipy computation to 1e-12")
    func twoProportion() {
        #expect(Self.cases("two_proportion").count == 6)
        for c in Self.cases("two_proportion") {
            let t = Proportions.twoProportion(xA: Self.d(c, "xa"), nA: Self.d(c, "na"), xB: Self.d(c, "xb"), nB: Self.d(c, "nb"), level: Self.d(c, "level"))
            guard let t else { Issue.record("nil for \(c)"); continue }
            let (lo, hi) = Self.pair(c, "interval")
            #expect(abs(t.difference - Self.d(c, "difference")) < 1e-12)
            #expect(abs(t.interval.low - lo) < 1e-12 && abs(t.interval.high - hi) < 1e-12, "\(c)")
            #expect(abs(t.z - Self.d(c, "z")) < 1e-9, "\(c)")
            #expect(abs(t.pValue - Self.d(c, "p_value")) < 1e-12, "\(c): \(t.pValue)")
        }
        #expect(Proportions.twoProportion(xA: 1, nA: 0, xB: 1, nB: 2) == nil)
    }

    @Test("rows per group at 80% power agree with the scipy computation (and reach the power)")
    func rowsPerGroup() {
        #expect(Self.cases("rows_per_group").count == 5)
        for c in Self.cases("rows_per_group") {
            let n = Proportions.rowsPerGroup(pA: Self.d(c, "pa"), pB: Self.d(c, "pb"), alpha: Self.d(c, "alpha"), power: Self.d(c, "power"))
            #expect(n == Self.d(c, "n"), "\(c): \(String(describing: n))")
        }
        #expect(Proportions.rowsPerGroup(pA: 0.5, pB: 0.5) == nil)
    }

    @Test("the difference of means (non-0/1 outcomes) agrees with the scipy computation")
    func twoMeans() {
        for c in Self.cases("two_means") {
            let t = Proportions.twoMeans(nA: Self.d(c, "na"), sumA: Self.d(c, "sum_a"), sumSqA: Self.d(c, "sum_sq_a"),
                                         nB: Self.d(c, "nb"), sumB: Self.d(c, "sum_b"), sumSqB: Self.d(c, "sum_sq_b"))
            guard let t else { Issue.record("nil"); continue }
            let (lo, hi) = Self.pair(c, "interval")
            #expect(abs(t.difference - Self.d(c, "difference")) < 1e-9)
            #expect(abs(t.interval.low - lo) < 1e-9 && abs(t.interval.high - hi) < 1e-9)
            #expect(abs(t.pValue - Self.d(c, "p_value")) < 1e-9, "\(t.pValue)")
        }
    }

    @Test("roc_auc from binned scores: exact when classes do not share a bin, ties in a bin count half")
    func binnedAUC() {
        var c = ProductionCounts()
        for (y, s) in [(0, 0.105), (0, 0.405), (1, 0.405), (1, 0.805)] as [(UInt8, Double)] { c.addLabel(y, decision: s >= 0.5 ? 1 : 0, score: s) }
        #expect(c.approximateAUC == 0.875)  // scikit-learn's roc_auc on these rows (ties count ½)
        #expect(c.tp == 1 && c.fn == 1 && c.tn == 2 && c.fp == 0)
        var one = ProductionCounts()
        one.addLabel(1, decision: 1, score: 0.9)
        #expect(one.approximateAUC == nil)
    }

    @Test("a summary survives its JSON form, features included")
    func summaryRoundTrip() throws {
        var s = BatchSummary()
        var c = ProductionCounts()
        c.rows = 3; c.addScore(0.2); c.addLabel(1, decision: 0, score: 0.2); c.addHuman(0, decision: 0); c.addOutcome(12.5)
        s.buckets[2] = [1_767_225_600: c]
        s.thresholds[2] = 0.4
        s.features = .object(["amount": .object(["mean": .number(3)])])
        let back = try BatchSummary(json: JSON.parse(s.json.canonicalBytes), source: "test")
        #expect(back == s)
        #expect(back.counts(version: 2).outcomeNonBinary == 1)
    }
}
