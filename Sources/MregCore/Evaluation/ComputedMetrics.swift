/// Every metric of a predictions table, with intervals and the reasons of undefined ones, for the
/// whole table and per slice value (`recall{merchant="new"}`).
public struct ComputedMetrics: Equatable, Sendable {
    public var values: [String: Double] = [:]
    public var intervals: [String: Evaluation.Interval] = [:]
    public var undefined: [String: String] = [:]

    /// Computes the table's metrics; with `resamples` > 0, 95% bootstrap intervals seeded with
    /// `seed` (each slice value's replicates with a seed derived from it: docs/evaluation.md).
    public static func compute(_ table: PredictionTable, options: MetricOptions, resamples: Int, seed: UInt64) -> ComputedMetrics {
        var out = ComputedMetrics()
        out.add(PreparedTable(table, options: options), suffix: "", weights: table.weights, resamples: resamples, seed: seed)
        for (k, column) in table.slices.enumerated() {
            var rows = [[Int]](repeating: [], count: column.values.count)
            for (i, code) in column.codes.enumerated() { rows[Int(code)].append(i) }
            for (code, value) in column.values.enumerated() {
                let sub = table.subset(rows[code])
                let sliceSeed = seed ^ (UInt64(k + 1) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(code + 1) &* 0xBF58_476D_1CE4_E5B9) & (1 << 52 - 1)
                out.add(PreparedTable(sub, options: options), suffix: sliceLabel(column.name, value), weights: sub.weights,
                        resamples: resamples, seed: sliceSeed)
            }
        }
        return out
    }

    private mutating func add(_ prepared: PreparedTable, suffix: String, weights: [Double]?, resamples: Int, seed: UInt64) {
        let point = prepared.evaluate(weights: nil)
        let zero = weights.map { $0.allSatisfy { $0 == 0 } } ?? false
        let intervals = resamples > 0 ? Bootstrap.intervals(prepared, resamples: resamples, seed: seed) : []
        for (k, name) in prepared.names.enumerated() {
            let full = name + suffix
            if let v = point[k] {
                values[full] = v
                if resamples > 0, let i = intervals[k] { self.intervals[full] = i }
            } else {
                undefined[full] = prepared.undefinedReason(name, weightsSumToZero: zero)
            }
        }
    }

    /// `{column="value"}` with the value escaped as Prometheus escapes label values (`\\`, `\"`, `\n`).
    public static func sliceLabel(_ column: String, _ value: String) -> String {
        var v = ""
        for c in value {
            switch c {
            case "\\": v += "\\\\"
            case "\"": v += "\\\""
            case "\n": v += "\\n"
            default: v.append(c)
            }
        }
        return "{\(column)=\"\(v)\"}"
    }

    /// Metrics that are better when lower (the rest are better when higher, `bias` and `n` aside).
    public static let lowerIsBetter: Set<String> = ["log_loss", "brier", "mae", "rmse", "median_ae", "mean_width"]

    /// The metric's name without its slice label: `recall{merchant="new"}` → `recall`.
    public static func baseName(_ name: String) -> String {
        name.firstIndex(of: "{").map { String(name[..<$0]) } ?? name
    }
}
