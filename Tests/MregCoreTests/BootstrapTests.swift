import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// The bootstrap of Evaluation/: resamples as integer weights give the same values as the
/// resampled rows themselves, strata keep their sizes, quantiles are numpy's, seeds reproduce,
/// and the paired comparison sees real differences and not noise.
@Suite("Bootstrap")
struct BootstrapTests {
    static func table(_ n: Int, seed: UInt64, shift: Double = 0, noise: Double = 0.35) -> PredictionTable {
        var rng = Xoshiro(seed: seed)
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        var labels: [UInt8] = [], scores: [Double] = []
        for _ in 0..<n {
            let y: UInt8 = uniform() < 0.3 ? 1 : 0
            labels.append(y)
            scores.append(min(1, max(0, (Double(y) * (0.3 + shift)) + uniform() * noise + 0.2)))
        }
        return PredictionTable(task: .binary, ids: (0..<n).map { "r\($0)" }, labels: labels, scores: scores)
    }

    @Test("a replicate's weights give the metrics of the rows repeated that many times")
    func weightsEqualRepeatedRows() {
        let t = Self.table(300, seed: 7)
        let prepared = PreparedTable(t, options: MetricOptions(beta: 2))
        var rng = Xoshiro(seed: 99)
        var counts = [Double](repeating: 0, count: t.count), weights = counts
        for _ in 0..<5 {
            Bootstrap.draw(strata: prepared.strata, into: &counts, rng: &rng)
            Bootstrap.gather(counts, order: prepared.order, own: nil, into: &weights)
            let viaWeights = weights.withUnsafeBufferPointer { prepared.evaluate(weights: $0) }
            var rows: [Int] = []
            for (i, c) in counts.enumerated() { rows += Array(repeating: i, count: Int(c)) }
            let expanded = PreparedTable(t.subset(rows), options: MetricOptions(beta: 2)).evaluate(weights: nil)
            for (k, name) in prepared.names.enumerated() {
                #expect(abs(viaWeights[k]! - expanded[k]!) <= 1e-12, "\(name)")
            }
            // Stratified: each replicate keeps the numbers of positives and negatives.
            #expect(zip(counts, t.labels).filter { $0.1 == 1 }.map(\.0).reduce(0, +) == Double(t.labels.filter { $0 == 1 }.count))
            #expect(counts.reduce(0, +) == Double(t.count))
        }
    }

    @Test("regression replicates, median included, equal the repeated rows")
    func regressionWeights() {
        var rng = Xoshiro(seed: 3)
        let y = (0..<101).map { _ in Double(rng.below(1000)) / 10 }
        let p = y.map { $0 + Double(rng.below(100)) / 10 - 5 }
        let t = PredictionTable(task: .regression, ids: y.indices.map { "r\($0)" }, targets: y, predictions: p)
        let prepared = PreparedTable(t, options: MetricOptions())
        var counts = [Double](repeating: 0, count: t.count), weights = counts
        Bootstrap.draw(strata: prepared.strata, into: &counts, rng: &rng)
        Bootstrap.gather(counts, order: prepared.order, own: nil, into: &weights)
        let viaWeights = weights.withUnsafeBufferPointer { prepared.evaluate(weights: $0) }
        var rows: [Int] = []
        for (i, c) in counts.enumerated() { rows += Array(repeating: i, count: Int(c)) }
        let expanded = PreparedTable(t.subset(rows), options: MetricOptions()).evaluate(weights: nil)
        for (k, name) in prepared.names.enumerated() { #expect(abs(viaWeights[k]! - expanded[k]!) <= 1e-9, "\(name)") }
    }

    @Test("percentiles are numpy's linear interpolation")
    func quantiles() {
        // numpy.percentile([1, 2, 3, 4, 10], [2.5, 97.5]) = [1.1, 9.4]
        #expect(abs(Bootstrap.quantile([1, 2, 3, 4, 10], 0.025) - 1.1) < 1e-12)
        #expect(abs(Bootstrap.quantile([1, 2, 3, 4, 10], 0.975) - 9.4) < 1e-12)
        #expect(Bootstrap.quantile([5], 0.975) == 5)
    }

    @Test("intervals: reproducible from the seed, around the point value, fixed counts fixed")
    func intervals() {
        let t = Self.table(2000, seed: 11)
        let a = ComputedMetrics.compute(t, options: MetricOptions(), resamples: 200, seed: 42)
        let b = ComputedMetrics.compute(t, options: MetricOptions(), resamples: 200, seed: 42)
        let c = ComputedMetrics.compute(t, options: MetricOptions(), resamples: 200, seed: 43)
        #expect(a == b)
        #expect(a.intervals != c.intervals)
        for (name, v) in a.values {
            let i = a.intervals[name]!
            #expect(i.low <= v + 1e-12 && v <= i.high + 1e-12, "\(name) \(v) in \(i)")
        }
        #expect(a.intervals["n"] == .init(low: 2000, high: 2000))
        #expect(a.intervals["positives"]!.low == a.values["positives"])
        #expect(a.intervals["roc_auc"]!.high - a.intervals["roc_auc"]!.low < 0.1)
        #expect(Bootstrap.seed(of: ObjectID("sha256:" + String(repeating: "f", count: 64))!) == 1 << 52 - 1)
    }

    static func evaluation(_ t: PredictionTable, object: String) -> Evaluation {
        Evaluation(task: .binary, predictions: ObjectID("sha256:" + String(repeating: object, count: 64))!, format: "csv",
                   columns: [:], rows: t.count, evalSet: t.evalSetHash, threshold: 0.5)
    }

    @Test("paired: noise is not significant, a real gain is, other rows are refused")
    func paired() throws {
        let champion = Self.table(2000, seed: 5)
        // The same rows and labels, scores with a little noise: no real difference.
        var noisy = champion
        var rng = Xoshiro(seed: 8)
        noisy.scores = champion.scores!.map { min(1, max(0, $0 + (Double(rng.below(1000)) / 1000 - 0.5) * 0.02)) }
        let ce = Self.evaluation(champion, object: "a"), ne = Self.evaluation(noisy, object: "b")
        let same = try PairedBootstrap.compare(metric: "roc_auc", candidate: noisy, candidateEvaluation: ne,
                                               champion: champion, championEvaluation: ce, level: 0.95, resamples: 300)
        #expect(same.low < 0 && same.high > 0, "\(same)")
        #expect(same.rows == 2000 && same.resamples == 300)
        // Better scores on the same rows (in another order): significant.
        var better = champion
        better.scores = zip(champion.scores!, champion.labels).map { s, y in y == 1 ? min(1, s + 0.15) : s }
        let order = Array((0..<2000).reversed())
        let shuffled = better.subset(order)
        let be = Self.evaluation(shuffled, object: "c")
        let gain = try PairedBootstrap.compare(metric: "roc_auc", candidate: shuffled, candidateEvaluation: be,
                                               champion: champion, championEvaluation: ce, level: 0.95, resamples: 300)
        #expect(gain.difference > 0 && gain.low > 0, "\(gain)")
        #expect(gain.candidate == BinaryMetrics.rocAUC(labels: better.labels, scores: better.scores!))
        // Deterministic.
        #expect(try PairedBootstrap.compare(metric: "roc_auc", candidate: shuffled, candidateEvaluation: be,
                                            champion: champion, championEvaluation: ce, level: 0.95, resamples: 300) == gain)
        // Other rows.
        let other = Self.table(2000, seed: 6)
        #expect(throws: MregError.self) {
            try PairedBootstrap.compare(metric: "roc_auc", candidate: other, candidateEvaluation: Self.evaluation(other, object: "d"),
                                        champion: champion, championEvaluation: ce, level: 0.95, resamples: 10)
        }
        // A metric nobody computed; a slice that was not made.
        #expect(throws: MregError.self) {
            try PairedBootstrap.compare(metric: "f2", candidate: shuffled, candidateEvaluation: be,
                                        champion: champion, championEvaluation: ce, level: 0.95, resamples: 10)
        }
        #expect(throws: MregError.self) {
            try PairedBootstrap.compare(metric: #"recall{merchant="new"}"#, candidate: shuffled, candidateEvaluation: be,
                                        champion: champion, championEvaluation: ce, level: 0.95, resamples: 10)
        }
    }

    @Test("paired on a slice uses that slice's rows")
    func pairedSlice() throws {
        var champion = Self.table(1000, seed: 21)
        let codes = (0..<1000).map { UInt8($0 % 2) }
        champion.slices = [.init(name: "m", values: ["even", "odd"], codes: codes)]
        var candidate = champion
        candidate.scores = champion.scores!.enumerated().map { i, s in i % 2 == 1 && champion.labels[i] == 1 ? min(1, s + 0.2) : s }
        let r = try PairedBootstrap.compare(metric: #"roc_auc{m="odd"}"#, candidate: candidate,
                                            candidateEvaluation: Self.evaluation(candidate, object: "e"),
                                            champion: champion, championEvaluation: Self.evaluation(champion, object: "f"),
                                            level: 0.95, resamples: 200)
        #expect(r.rows == 500)
        let even = try PairedBootstrap.compare(metric: #"roc_auc{m="even"}"#, candidate: candidate,
                                               candidateEvaluation: Self.evaluation(candidate, object: "e"),
                                               champion: champion, championEvaluation: Self.evaluation(champion, object: "f"),
                                               level: 0.95, resamples: 50)
        #expect(even.difference == 0 && even.low == 0 && even.high == 0)
        #expect(r.difference > 0 && r.low > 0, "\(r)")
    }
}
