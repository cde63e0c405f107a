import MregCore

/// Text and JSON shapes of `perf` and `ab` (docs/cli.md).
enum ProductionViews {
    static func number(_ v: Double) -> String { String(format3(v)) }
    static func format3(_ v: Double) -> String {
        let r = (v * 1000).rounded() / 1000
        return JSON.display(r)
    }
    static func signed(_ v: Double) -> String { (v >= 0 ? "+" : "") + format3(v) }
    static func count(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : JSON.display(v) }
    static func pValue(_ p: Double) -> String { p < 0.0001 ? "<0.0001" : JSON.display((p * 10000).rounded() / 10000) }
    static func interval(_ i: Evaluation.Interval?) -> JSON { i.map { .array([.number($0.low), .number($0.high)]) } ?? .null }

    /// `0.712 [0.69, 0.73] (eval 0.80 [0.76, 0.84])`
    static func metric(_ m: WindowMetric) -> String {
        var s = m.value.map(number) ?? "-"
        if let i = m.interval { s += " [\(number(i.low)), \(number(i.high))]" }
        if m.approximate { s += " (approx.)" }
        if let e = m.evaluation {
            s += " (eval \(number(e))" + (m.evaluationInterval.map { " [\(number($0.low)), \(number($0.high))]" } ?? "") + ")"
        }
        return s
    }

    static func perf(_ r: PerfReport) -> JSON {
        .object([
            "version": .string(r.served.name), "stage": r.stage.map { .string($0.value) } ?? .null,
            "window_seconds": .number(Double(r.window)), "min_labelled": .number(Double(r.minLabelled)),
            "windows": .array(r.windows.map { w in
                .object([
                    "from": .string(TimeText.format(w.from)), "to": .string(TimeText.format(w.to)),
                    "rows": .number(w.counts.rows), "labelled": .number(w.counts.labelled),
                    "too_few_labelled": .bool(w.tooFewLabelled), "degraded": .array(w.degraded.map { .string($0) }),
                    "metrics": .object(Dictionary(uniqueKeysWithValues: w.metrics.map { m in
                        (m.name, JSON.object([
                            "value": m.value.map { .number($0) } ?? .null, "interval": interval(m.interval), "n": .number(m.n),
                            "approximate": .bool(m.approximate), "evaluation": m.evaluation.map { .number($0) } ?? .null,
                            "evaluation_interval": interval(m.evaluationInterval), "degraded": .bool(m.degraded),
                        ]))
                    })),
                ])
            }),
        ])
    }

    static func ab(_ r: ABReport) -> JSON {
        func group(_ v: ResolvedVersion, _ x: Double, _ n: Double, _ value: Double?) -> JSON {
            .object(["version": .string(v.name), "successes": r.isProportion ? .number(x) : .null, "n": .number(n), "value": value.map { .number($0) } ?? .null])
        }
        return .object([
            "metric": .string(r.metric), "unit": .string(r.unit), "method": .string(r.method),
            "from": .string(TimeText.format(r.from)), "to": .string(TimeText.format(r.to)),
            "a": group(r.a, r.xA, r.nA, r.valueA), "b": group(r.b, r.xB, r.nB, r.valueB), "approximate": .bool(r.approximate),
            "difference": r.test.map { .number($0.difference) } ?? .null, "interval": interval(r.test?.interval),
            "z": r.test.map { .number($0.z) } ?? .null, "p_value": r.test.map { .number($0.pValue) } ?? .null,
            "level": .number(r.level), "power": .number(r.power), "verdict": .string(r.verdict.rawValue),
            "established": .bool(r.established),
            "rows_needed_per_version": r.rowsNeeded.map { .number($0) } ?? .null,
            "rows_still_needed": r.rowsStillNeeded.map { .number($0) } ?? .null,
        ])
    }
}
