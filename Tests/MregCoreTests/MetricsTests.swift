import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// The metrics of Evaluation/ against scikit-learn: Fixtures/evaluation/expected.json, made by
/// scripts/make-eval-fixtures.py with scikit-learn 1.9.1, must agree to 1e-9 on every case (small,
/// medium and every edge case), and the undefined metrics must be exactly scikit-learn's
/// NaNs and errors.
@Suite("Metrics against scikit-learn")
struct MetricsTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var file: String
        var task: String
        var threshold: Double?
        var abstain: [Double]?
        var beta: Double?
        var metrics: [String: Double]
        var undefined: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        guard let data = FileManager.default.contents(atPath: FixturePaths.path("evaluation/expected.json")),
              let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = doc["cases"] as? [String: [String: Any]] else { return [] }
        return cases.keys.sorted().map { name in
            let c = cases[name]!
            return Case(name: name, file: c["file"] as! String, task: c["task"] as! String, threshold: c["threshold"] as? Double,
                        abstain: c["abstain"] as? [Double], beta: c["beta"] as? Double,
                        metrics: c["metrics"] as! [String: Double], undefined: c["undefined"] as! [String])
        }
    }()

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(b)) }

    @Test("the fixture has the cases the script makes")
    func fixturePresent() {
        #expect(Self.cases.count >= 26)
        #expect(Self.cases.contains { $0.name == "no_predicted_positives" })
    }

    @Test("every metric agrees with scikit-learn to 1e-9", arguments: cases)
    func agrees(c: Case) throws {
        let read = try PredictionReader.read(path: FixturePaths.path("evaluation/" + c.file), options: PredictionOptions())
        #expect(read.table.task.rawValue == c.task)
        let options = MetricOptions(threshold: c.threshold ?? 0.5, abstain: c.abstain.map { .init(low: $0[0], high: $0[1]) }, beta: c.beta)
        let computed = ComputedMetrics.compute(read.table, options: options, resamples: 0, seed: 1)
        #expect(Set(computed.values.keys) == Set(c.metrics.keys), "names")
        for (name, expected) in c.metrics {
            guard let got = computed.values[name] else { continue }
            #expect(Self.close(got, expected), "\(name): mreg \(got), scikit-learn \(expected)")
        }
        #expect(Set(computed.undefined.keys) == Set(c.undefined))
        #expect(computed.values.values.allSatisfy { $0.isFinite })
    }

    @Test("the array functions give what the prepared table gives")
    func arrayFunctions() throws {
        let c = Self.cases.first { $0.name == "weights" }!
        let t = try PredictionReader.read(path: FixturePaths.path("evaluation/" + c.file), options: PredictionOptions()).table
        let d = BinaryMetrics.decisions(scores: t.scores!, threshold: 0.5)
        let conf = BinaryMetrics.confusion(labels: t.labels, decisions: d, weights: t.weights)
        #expect(Self.close(BinaryMetrics.precision(conf), c.metrics["precision"]!))
        #expect(Self.close(BinaryMetrics.recall(conf), c.metrics["recall"]!))
        #expect(Self.close(BinaryMetrics.f1(conf), c.metrics["f1"]!))
        #expect(Self.close(BinaryMetrics.accuracy(conf)!, c.metrics["accuracy"]!))
        #expect(Self.close(BinaryMetrics.balancedAccuracy(conf)!, c.metrics["balanced_accuracy"]!))
        #expect(Self.close(BinaryMetrics.rocAUC(labels: t.labels, scores: t.scores!, weights: t.weights)!, c.metrics["roc_auc"]!))
        #expect(Self.close(BinaryMetrics.averagePrecision(labels: t.labels, scores: t.scores!, weights: t.weights), c.metrics["average_precision"]!))
        #expect(Self.close(BinaryMetrics.logLoss(labels: t.labels, scores: t.scores!, weights: t.weights)!, c.metrics["log_loss"]!))
        #expect(Self.close(BinaryMetrics.brier(labels: t.labels, scores: t.scores!, weights: t.weights)!, c.metrics["brier"]!))
        let r = Self.cases.first { $0.name == "regression_weights" }!
        let rt = try PredictionReader.read(path: FixturePaths.path("evaluation/" + r.file), options: PredictionOptions()).table
        let (y, p, w) = (rt.targets, rt.predictions!, rt.weights)
        #expect(Self.close(RegressionMetrics.mae(targets: y, predictions: p, weights: w)!, r.metrics["mae"]!))
        #expect(Self.close(RegressionMetrics.rmse(targets: y, predictions: p, weights: w)!, r.metrics["rmse"]!))
        #expect(Self.close(RegressionMetrics.r2(targets: y, predictions: p, weights: w)!, r.metrics["r2"]!))
        #expect(Self.close(RegressionMetrics.bias(targets: y, predictions: p, weights: w)!, r.metrics["bias"]!))
        #expect(Self.close(RegressionMetrics.medianAE(targets: y, predictions: p, weights: w)!, r.metrics["median_ae"]!))
    }

    @Test("edge cases of docs/evaluation.md by hand")
    func handCases() {
        // F-beta from counts: β = 2, TP = 1, FP = 1, FN = 3 → 5/18.
        #expect(Self.close(BinaryMetrics.fBeta(.init(tp: 1, fp: 1, tn: 0, fn: 3), beta: 2), 5.0 / 18))
        // Zero divisions give 0.
        #expect(BinaryMetrics.precision(.init(tp: 0, fp: 0, tn: 3, fn: 2)) == 0)
        #expect(BinaryMetrics.f1(.init(tp: 0, fp: 0, tn: 3, fn: 0)) == 0)
        // Log loss clips to machine epsilon: a perfect prediction costs ε, a certain miss −ln ε.
        #expect(BinaryMetrics.logLossTerm(label: 1, score: 1) == -log(1 - Double.ulpOfOne))
        #expect(Self.close(BinaryMetrics.logLossTerm(label: 1, score: 0), 36.04365338911715))
        // The decision is score >= threshold.
        #expect(BinaryMetrics.decisions(scores: [0.5, 0.4999, 0.7], threshold: 0.5) == [1, 0, 1])
        #expect(BinaryMetrics.decisions(scores: [0.35, 0.5, 0.65, 0.9], threshold: 0.5, abstain: .init(low: 0.35, high: 0.65))
                == [0, BinaryMetrics.abstained, 1, 1])
        // One class: ROC AUC and log loss are undefined, never NaN.
        #expect(BinaryMetrics.rocAUC(labels: [1, 1], scores: [0.2, 0.9]) == nil)
        #expect(BinaryMetrics.logLoss(labels: [0, 0], scores: [0.2, 0.9]) == nil)
        // r2: one row undefined; constant targets 1 or 0.
        #expect(RegressionMetrics.r2(targets: [1], predictions: [2]) == nil)
        #expect(RegressionMetrics.r2(targets: [2, 2], predictions: [2, 2]) == 1)
        #expect(RegressionMetrics.r2(targets: [2, 2], predictions: [2, 3]) == 0)
        // The weighted median with whole weights is the median of the repeated sample.
        #expect([1.0, 2, 3, 4].withUnsafeBufferPointer { RegressionMetrics.weightedMedian(sorted: [1, 2, 3, 4], weights: $0) } == 3)
        #expect([0.0, 2, 1, 0].withUnsafeBufferPointer { RegressionMetrics.weightedMedian(sorted: [1, 2, 3, 4], weights: $0) } == 2)
        #expect([0.0, 1, 1, 0].withUnsafeBufferPointer { RegressionMetrics.weightedMedian(sorted: [1, 2, 3, 4], weights: $0) } == 2.5)
    }

    @Test("slices are named Prometheus-style and computed on their rows")
    func slices() {
        let t = PredictionTable(task: .binary, ids: ["a", "b", "c", "d", "e", "f"], labels: [0, 1, 1, 0, 1, 0],
                                scores: [0.2, 0.8, 0.3, 0.6, 0.9, 0.1],
                                slices: [.init(name: "merchant", values: ["new", "old \"x\""], codes: [0, 0, 0, 1, 1, 1])])
        let m = ComputedMetrics.compute(t, options: MetricOptions(), resamples: 0, seed: 1)
        #expect(m.values[#"recall{merchant="new"}"#] == 0.5)
        #expect(m.values[#"recall{merchant="old \"x\""}"#] == 1)
        #expect(m.values[#"n{merchant="new"}"#] == 3)
        #expect(m.values["recall"] == 2.0 / 3)
        #expect(ComputedMetrics.sliceLabel("c", "a\\b\nc") == #"{c="a\\b\nc"}"#)
    }
}
