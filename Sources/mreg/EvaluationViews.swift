import MregCore

/// How `show` and `diff` print a version's computed evaluation (docs/cli.md, "show", "diff").
enum EvaluationViews {
    /// "[0.6716, 0.7149]": 4 significant digits, enough to read an interval (JSON keeps every digit).
    static func interval(_ i: Evaluation.Interval?) -> String {
        func short(_ v: Double) -> String { Views.metric(Double(String(format: "%.4g", v)) ?? v) }
        return i.map { "[\(short($0.low)), \(short($0.high))]" } ?? "-"
    }

    static func intervalJSON(_ i: Evaluation.Interval?) -> JSON {
        i.map { .array([.number($0.low), .number($0.high)]) } ?? .null
    }

    static func range(_ r: Evaluation.TimeRange?) -> String { r.map { "\($0.from) .. \($0.to)" } ?? "-" }

    static func rangeJSON(_ r: Evaluation.TimeRange?) -> JSON {
        r.map { .object(["from": .string($0.from), "to": .string($0.to)]) } ?? .null
    }

    /// "0.35:0.65, coverage 0.93", or "-".
    static func abstain(_ e: Evaluation, _ r: VersionRecord) -> String {
        guard let a = e.abstain else { return "-" }
        return "\(Views.metric(a.low)):\(Views.metric(a.high))" + (r.metrics.values["coverage"].map { ", coverage \(Views.metric($0))" } ?? "")
    }

    /// The lines under `eval set` in `show`.
    static func summary(_ e: Evaluation, _ r: VersionRecord) -> [String] {
        var lines = ["computed  \(e.task.rawValue), \(e.rows) rows of predictions \(e.predictions.short) (\(e.format))"
                     + (e.threshold.map { ", threshold \(Views.metric($0))" } ?? "")]
        if e.abstain != nil { lines.append("abstain   \(abstain(e, r))") }
        lines.append("eval rows \(range(e.timeRange))")
        lines.append("training  \(range(e.trainWindow))")
        if let b = e.bootstrap {
            lines.append("intervals \(b.method) bootstrap, \(Views.metric(b.level * 100))%, \(b.resamples) resamples, seed \(b.seed)")
        } else {
            lines.append("intervals none (--bootstrap 0)")
        }
        if !e.sliceBy.isEmpty { lines.append("slices    by \(e.sliceBy.joined(separator: ", "))") }
        for (m, why) in e.undefined.sorted(by: { $0.key < $1.key }) { lines.append("undefined \(m): \(why)") }
        return lines
    }

    /// Metrics (with interval and source), then slice metrics, then the top features.
    static func metricTable(_ r: VersionRecord) -> String {
        let names = r.metrics.values.keys.sorted()
        let plain = names.filter { SliceSelector(metricName: $0) == nil }
        let sliced = names.compactMap { n in SliceSelector(metricName: n).map { (n, $0) } }
            .sorted { ($0.1.column, $0.1.value ?? "", $0.1.metric) < ($1.1.column, $1.1.value ?? "", $1.1.metric) }
        func better(_ n: String) -> String { r.metrics.lowerIsBetter.contains(n) ? "lower" : "higher" }
        var out = [Output.table(["METRIC", "VALUE", "95% CI", "SOURCE", "BETTER"], plain.map {
            [$0, Views.metric(r.metrics.values[$0]!), interval(r.interval(of: $0)), r.source(of: $0)?.rawValue ?? "-", better($0)]
        })]
        if !sliced.isEmpty {
            out.append("")
            out.append(Output.table(["SLICE", "METRIC", "VALUE", "95% CI", "SOURCE"], sliced.map { n, s in
                ["\(s.column)=\"\(SliceSelector.escape(s.value ?? ""))\"", s.metric, Views.metric(r.metrics.values[n]!),
                 interval(r.interval(of: n)), r.source(of: n)?.rawValue ?? "-"]
            }))
        }
        let top = r.importanceRanking.prefix(10)
        if !top.isEmpty {
            out.append("")
            out.append(Output.table(["RANK", "FEATURE", "IMPORTANCE"], top.map { [String($0.rank), $0.feature, Views.metric($0.importance)] }))
        }
        return out.joined(separator: "\n")
    }

    /// `show --json` additions: `metric_details` and `top_features` (docs/cli.md).
    static func showJSON(_ r: VersionRecord) -> [String: JSON] {
        let details: [JSON] = r.metrics.values.keys.sorted().map { n in
            let slice = SliceSelector(metricName: n)
            return .object([
                "name": .string(n), "value": .number(r.metrics.values[n]!),
                "source": .string(r.source(of: n)?.rawValue ?? "reported"),
                "interval": intervalJSON(r.interval(of: n)),
                "lower_is_better": .bool(r.metrics.lowerIsBetter.contains(n)),
                "slice": slice.map { .object(["metric": .string($0.metric), "column": .string($0.column), "value": .string($0.value ?? "")]) } ?? .null,
            ])
        }
        return [
            "metric_details": .array(details),
            "top_features": .array(r.importanceRanking.prefix(10).map {
                .object(["rank": .number(Double($0.rank)), "feature": .string($0.feature), "importance": .number($0.importance)])
            }),
        ]
    }
}

// MARK: - diff

extension EvaluationViews {
    /// Columns `CI <a>`, `CI <b>` and `SOURCE` (`computed/reported`) before the change column,
    /// only when either version has a computed evaluation.
    static func insertDiffColumns(_ d: VersionDiff, _ header: inout [String], _ rows: inout [[String]]) {
        guard d.aRecord.evaluation != nil || d.bRecord.evaluation != nil else { return }
        let at = header.count - 1
        header.insert(contentsOf: ["CI " + d.a.name, "CI " + d.b.name, "SOURCE"], at: at)
        for (n, m) in d.metrics.enumerated() {
            let source = [d.aRecord.source(of: m.name), d.bRecord.source(of: m.name)].map { $0?.rawValue ?? "-" }.joined(separator: "/")
            rows[n].insert(contentsOf: [interval(d.aRecord.interval(of: m.name)), interval(d.bRecord.interval(of: m.name)), source], at: at)
        }
    }

    /// Threshold, abstention and coverage, training window, evaluation rows, then the
    /// feature-importance rank changes; nothing when neither version has a computed evaluation.
    static func diffLines(_ d: VersionDiff) -> [String] {
        let a = d.aRecord.evaluation, b = d.bRecord.evaluation
        guard a != nil || b != nil else { return [] }
        func side(_ e: Evaluation?, _ f: (Evaluation) -> String) -> String { e.map(f) ?? "-" }
        var lines = [
            "threshold: \(side(a) { $0.threshold.map(Views.metric) ?? "-" }) vs \(side(b) { $0.threshold.map(Views.metric) ?? "-" })",
            "abstain: \(side(a) { abstain($0, d.aRecord) }) vs \(side(b) { abstain($0, d.bRecord) })",
            "training window: \(side(a) { range($0.trainWindow) }) vs \(side(b) { range($0.trainWindow) })",
            "eval rows: \(side(a) { range($0.timeRange) }) vs \(side(b) { range($0.timeRange) })",
        ]
        let changes = d.importanceChanges
        if !changes.isEmpty {
            lines.append("")
            lines.append(Output.table(["FEATURE", "RANK " + d.a.name, "RANK " + d.b.name, ""], changes.map {
                [$0.feature, $0.aRank.map(String.init) ?? "-", $0.bRank.map(String.init) ?? "-", $0.change]
            }))
        }
        return lines
    }

    static func diffMetricJSON(_ d: VersionDiff, _ name: String) -> [String: JSON] {
        [
            "a_interval": intervalJSON(d.aRecord.interval(of: name)), "b_interval": intervalJSON(d.bRecord.interval(of: name)),
            "a_source": d.aRecord.source(of: name).map { .string($0.rawValue) } ?? .null,
            "b_source": d.bRecord.source(of: name).map { .string($0.rawValue) } ?? .null,
        ]
    }

    static func evaluationJSON(_ e: Evaluation?, _ r: VersionRecord) -> JSON {
        guard let e else { return .null }
        return .object([
            "rows": .number(Double(e.rows)), "eval_set": .string(e.evalSet),
            "threshold": e.threshold.map { .number($0) } ?? .null,
            "abstain": intervalJSON(e.abstain), "coverage": r.metrics.values["coverage"].map { .number($0) } ?? .null,
            "train_window": rangeJSON(e.trainWindow), "time_range": rangeJSON(e.timeRange),
        ])
    }

    static func diffEvaluationJSON(_ d: VersionDiff) -> JSON {
        .object(["a": evaluationJSON(d.aRecord.evaluation, d.aRecord), "b": evaluationJSON(d.bRecord.evaluation, d.bRecord)])
    }

    static func importanceJSON(_ d: VersionDiff) -> JSON {
        func n(_ v: Double?) -> JSON { v.map { .number($0) } ?? .null }
        return .array(d.importanceChanges.map {
            .object(["feature": .string($0.feature), "a_rank": n($0.aRank.map(Double.init)), "b_rank": n($0.bRank.map(Double.init)),
                     "a": n($0.a), "b": n($0.b), "change": .string($0.change)])
        })
    }
}
