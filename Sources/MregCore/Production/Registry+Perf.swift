/// What `perf` is asked.
public struct PerfRequest: Sendable {
    public var model: ModelName
    /// The serving version: a REF, else the champion of `stage`.
    public var ref: VersionRef?
    public var stage: StageName
    /// Window length in seconds, a whole number of hours.
    public var window: Int64
    public var since: Double?
    /// Windows with fewer labelled rows show "too few labelled rows" instead of label metrics.
    public var minLabelled: Int

    public init(model: ModelName, ref: VersionRef? = nil, stage: StageName, window: Int64 = 86_400, since: Double? = nil, minLabelled: Int = 30) {
        self.model = model; self.ref = ref; self.stage = stage; self.window = window; self.since = since; self.minLabelled = minLabelled
    }

    /// `1d`, `7d`, `12h`: a whole number of hours (the summaries' bucket).
    public static func parseWindow(_ text: String) throws -> Int64 {
        let unit: Int64
        switch text.last {
        case "h": unit = 3600
        case "d": unit = 86_400
        case "w": unit = 7 * 86_400
        default: throw MregError.invalid("--window \(ModelName.show(text)): expected a number of hours, days or weeks, like 12h, 1d or 7d")
        }
        guard let n = Int64(text.dropLast()), n >= 1, n <= 10_000 else {
            throw MregError.invalid("--window \(ModelName.show(text)): expected a number of hours, days or weeks, like 12h, 1d or 7d")
        }
        return n * unit
    }

    /// `--since`: an RFC 3339 time, a date, or Unix seconds.
    public static func parseSince(_ text: String) throws -> Double {
        if let t = TimeText.parse(text) { return t }
        if let t = TimeText.parse(text + "T00:00:00Z") { return t }
        throw MregError.invalid("--since \(ModelName.show(text)): expected an RFC 3339 time (2026-10-01T12:00:00Z), a date (2026-10-01) or Unix seconds")
    }
}

/// What `perf` found.
public struct PerfReport: Sendable {
    public var served: ResolvedVersion
    public var stage: StageName?
    public var window: Int64
    public var minLabelled: Int
    public var windows: [PerfWindow]
}

extension Registry {
    /// Every version's production counts per hour: the batches' summaries plus the late labels'.
    public func productionCounts(_ m: ModelName) throws -> [Int: [Int64: ProductionCounts]] {
        var out: [Int: [Int64: ProductionCounts]] = [:]
        for e in try observationLog(m) {
            for (v, hours) in try summary(of: e).buckets {
                for (h, c) in hours { out[v, default: [:]][h, default: ProductionCounts()].add(c) }
            }
        }
        return out
    }

    /// Production metrics of the serving version per window (docs/production.md).
    public func performance(_ r: PerfRequest) throws -> PerfReport {
        let (served, stage): (ResolvedVersion, StageName?)
        if let ref = r.ref {
            served = try resolve(ref)
            guard served.model == r.model else { throw MregError.invalid("\(served.name) is not a version of \(r.model)") }
            stage = nil
        } else {
            let state = try headEntry(r.model).entry.state
            guard let c = state.champions[r.stage.value] else {
                throw MregError.invalid("\(r.model) has no champion at \(r.stage); give --stage S or a version (NAME@N)")
            }
            served = ResolvedVersion(model: r.model, version: c.version, recordID: c.record)
            stage = r.stage
        }
        let record = try record(of: served)
        let hours = try productionCounts(r.model)[served.version] ?? [:]
        let since = r.since.map { BatchSummary.hour($0) } ?? .min
        var windows: [Int64: ProductionCounts] = [:]
        for (h, c) in hours where h >= since {
            let w = Int64((Double(h) / Double(r.window)).rounded(.down)) * r.window
            windows[w, default: ProductionCounts()].add(c)
        }
        let evaluated = record.metrics.values
        let intervals = record.evaluation?.intervals ?? [:]
        var out: [PerfWindow] = []
        for w in windows.keys.sorted() {
            let c = windows[w]!
            let tooFew = c.labelled < Double(r.minLabelled)
            var metrics: [WindowMetric] = []
            func add(_ name: String, _ value: Double?, _ interval: Evaluation.Interval?, n: Double, approximate: Bool = false) {
                var m = WindowMetric(name: name, value: value, interval: interval, n: n, approximate: approximate)
                m.evaluation = evaluated[name]
                m.evaluationInterval = intervals[name]
                if let interval, let e = m.evaluation {
                    // Below the evaluation: the production interval's top under the evaluation
                    // interval's bottom (or under the value when it has no interval). Metrics
                    // without a production interval (f1, roc_auc) are never flagged.
                    m.degraded = interval.high < (m.evaluationInterval?.low ?? e)
                }
                metrics.append(m)
            }
            for (name, _) in ProductionMetrics.proportions {
                let labelMetric = ["accuracy", "recall", "precision", "specificity"].contains(name)
                if labelMetric && tooFew { continue }
                guard let (x, n) = ProductionMetrics.fraction(name, c), n > 0 else { continue }
                if name == "outcome" {
                    add(name, x / n, c.outcomeNonBinary == 0 ? Proportions.wilson(successes: x, n: n) : nil, n: n)
                } else {
                    add(name, x / n, Proportions.wilson(successes: x, n: n), n: n)
                }
            }
            if !tooFew {
                add("f1", BinaryMetrics.fBeta(c.confusion, beta: 1), nil, n: c.labelled)
                if let auc = c.approximateAUC { add("roc_auc", auc, nil, n: c.labelled, approximate: true) }
            }
            out.append(PerfWindow(from: Double(w), to: Double(w + r.window), counts: c, tooFewLabelled: tooFew, metrics: metrics))
        }
        return PerfReport(served: served, stage: stage, window: r.window, minLabelled: r.minLabelled, windows: out)
    }
}
