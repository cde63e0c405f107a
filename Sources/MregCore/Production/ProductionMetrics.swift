/// Metrics from summed production counts (docs/production.md, "Metrics"): proportions with
/// Wilson intervals, and what `ab` compares.
public enum ProductionMetrics {
    /// Metrics with a numerator and denominator: Wilson intervals in `perf`, the two-proportion
    /// test in `ab`. Each names what its denominator counts.
    public static let proportions: [(name: String, rows: String)] = [
        ("accuracy", "labelled rows"), ("recall", "labelled positive rows"), ("precision", "labelled rows decided positive"),
        ("specificity", "labelled negative rows"), ("positive_rate", "rows"), ("acceptance_rate", "rows with a human decision"),
        ("human_precision", "rows decided positive with a human decision"), ("human_recall", "rows a human decided positive"),
        ("outcome", "rows with an outcome"),
    ]

    /// (successes, trials) of a proportion metric; nil for an unknown name.
    public static func fraction(_ name: String, _ c: ProductionCounts) -> (x: Double, n: Double)? {
        switch name {
        case "accuracy": return (c.tp + c.tn, c.labelled)
        case "recall": return (c.tp, c.tp + c.fn)
        case "precision": return (c.tp, c.tp + c.fp)
        case "specificity": return (c.tn, c.tn + c.fp)
        case "positive_rate": return (c.decidedPositive, c.rows)
        case "acceptance_rate": return (c.humanAgree, c.human)
        case "human_precision": return (c.htp, c.htp + c.hfp)
        case "human_recall": return (c.htp, c.htp + c.hfn)
        case "outcome": return (c.outcomeSum, c.outcomes)
        default: return nil
        }
    }

    /// Whether `ab` knows the metric.
    public static func isKnown(_ name: String) -> Bool { proportions.contains { $0.name == name } }
}

/// One metric of one window in `perf`.
public struct WindowMetric: Sendable {
    public var name: String
    public var value: Double?
    /// 95% Wilson interval (proportions); nil for f1 and roc_auc.
    public var interval: Evaluation.Interval?
    /// The denominator (rows the metric is computed on).
    public var n: Double
    /// roc_auc from binned scores.
    public var approximate = false
    /// The serving version's value and interval at evaluation, if it has them.
    public var evaluation: Double?
    public var evaluationInterval: Evaluation.Interval?
    /// The production interval (or value) lies entirely below the evaluation interval (or value).
    public var degraded = false
}

/// One window of `perf`.
public struct PerfWindow: Sendable {
    public var from: Double
    public var to: Double
    public var counts: ProductionCounts
    /// Fewer labelled rows than `PerfRequest.minLabelled`: label metrics are not shown.
    public var tooFewLabelled: Bool
    public var metrics: [WindowMetric]
    public var degraded: [String] { metrics.filter(\.degraded).map(\.name) }
}
