/// What `ab` is asked.
public struct ABRequest: Sendable {
    public var a: VersionRef
    public var b: VersionRef
    /// A metric of `ProductionMetrics.proportions` or `ABEstimates.metrics`; nil: `outcome` when
    /// both versions have outcomes, else `recall`.
    public var metric: String?
    public var since: Double?
    public var level: Double
    public var power: Double

    public init(a: VersionRef, b: VersionRef, metric: String? = nil, since: Double? = nil, level: Double = 0.95, power: Double = 0.8) {
        self.a = a; self.b = b; self.metric = metric; self.since = since; self.level = level; self.power = power
    }
}

/// What `ab` found (docs/production.md, "A/B").
public struct ABReport: Sendable {
    public enum Verdict: String, Sendable {
        case better = "B better", worse = "B worse", notEstablished = "not established"
    }
    public var a: ResolvedVersion
    public var b: ResolvedVersion
    public var metric: String
    /// What the metric's denominator counts ("labelled positive rows").
    public var unit: String
    /// The period both versions served rows in (hour starts, `to` exclusive).
    public var from: Double
    public var to: Double
    /// Proportions: successes and rows of each arm. Other metrics (`ABEstimates`): x = value·n,
    /// so that x/n is the value, and n the rows the value is computed on.
    public var xA: Double, nA: Double, xB: Double, nB: Double
    /// Each arm's value (nil when undefined on its rows).
    public var valueA: Double?, valueB: Double?
    /// Whether `xA`/`xB` count successes (a proportion metric).
    public var isProportion = true
    /// roc_auc from binned scores.
    public var approximate = false
    /// Nil when a group has no rows for the metric.
    public var test: Proportions.TwoSample?
    /// "two-proportion z test", "difference of means (normal, unpooled)", or for `ABEstimates`
    /// metrics "delta method (normal, unpooled)" / "DeLong (normal, unpooled)".
    public var method: String
    public var level: Double
    public var power: Double
    public var verdict: Verdict
    /// Rows per group the observed difference needs at `power` (two-proportion tests; labelled rows
    /// at each arm's per-row variance for `ABEstimates` metrics; nil for non-0/1 outcomes), and
    /// how many more than the smaller group has.
    public var rowsNeeded: Double?
    public var rowsStillNeeded: Double?
    public var established: Bool { verdict != .notEstablished }
}

extension Registry {
    /// Compares two versions of one model on the rows each served in the period both served.
    public func abTest(_ r: ABRequest) throws -> ABReport {
        let a = try resolve(r.a), b = try resolve(r.b)
        guard a.model == b.model else { throw MregError.invalid("\(a.name) and \(b.name) are versions of different models; ab compares two versions of one model") }
        guard a.version != b.version else { throw MregError.invalid("\(a.name) and \(b.name) are the same version") }
        return try compareProduction(a, b, r, counts: try productionCounts(a.model))
    }

    /// The comparison of `abTest` on counts already summed per version and hour.
    func compareProduction(_ a: ResolvedVersion, _ b: ResolvedVersion, _ r: ABRequest, counts all: [Int: [Int64: ProductionCounts]]) throws -> ABReport {
        if let m = r.metric, !ProductionMetrics.isKnown(m), !ABEstimates.isKnown(m) {
            let known = ProductionMetrics.proportions.map(\.name) + ABEstimates.metrics.map(\.name)
            throw MregError.invalid("--metric \(ModelName.show(m)): ab compares \(known.joined(separator: ", "))")
        }
        let since = r.since.map { BatchSummary.hour($0) } ?? .min
        func served(_ v: ResolvedVersion) throws -> [Int64: ProductionCounts] {
            let hours = (all[v.version] ?? [:]).filter { $0.key >= since && $0.value.rows > 0 }
            guard !hours.isEmpty else { throw MregError.invalid("\(v.name) has no production rows\(r.since == nil ? "" : " since \(TimeText.format(r.since!))"); observe some with `mreg observe \(v.name) FILE`") }
            return hours
        }
        let ha = try served(a), hb = try served(b)
        let from = max(ha.keys.min()!, hb.keys.min()!), last = min(ha.keys.max()!, hb.keys.max()!)
        guard from <= last else {
            throw MregError.invalid("\(a.name) served rows from \(TimeText.format(Double(ha.keys.min()!))) to \(TimeText.format(Double(ha.keys.max()! + BatchSummary.bucketSeconds))) and \(b.name) from \(TimeText.format(Double(hb.keys.min()!))) to \(TimeText.format(Double(hb.keys.max()! + BatchSummary.bucketSeconds))): no overlapping period to compare them on")
        }
        // Labels joined later sit in the same hours, with rows = 0: take every bucket in the period.
        func sum(_ v: ResolvedVersion) -> ProductionCounts {
            var c = ProductionCounts()
            for (h, x) in all[v.version] ?? [:] where h >= from && h <= last { c.add(x) }
            return c
        }
        let ca = sum(a), cb = sum(b)
        let metric = r.metric ?? (ca.outcomes > 0 && cb.outcomes > 0 ? "outcome" : "recall")
        let alpha = 1 - r.level
        func decide(_ t: Proportions.TwoSample?) -> ABReport.Verdict {
            guard let t, t.pValue < alpha else { return .notEstablished }
            return t.difference > 0 ? .better : .worse
        }
        let period = (from: Double(from), to: Double(last + BatchSummary.bucketSeconds))
        if let unit = ABEstimates.metrics.first(where: { $0.name == metric })?.rows {
            let ea = ABEstimates.estimate(metric, ca), eb = ABEstimates.estimate(metric, cb)
            var test: Proportions.TwoSample?, needed: Double?, still: Double?
            if let ea, let eb {
                test = ABEstimates.compare(ea, eb, level: r.level)
                needed = ABEstimates.rowsPerGroup(ea, eb, alpha: alpha, power: r.power)
                still = needed.map { max(0, $0 - min(ea.n, eb.n)) }
            }
            let nA = ea?.n ?? 0, nB = eb?.n ?? 0
            var report = ABReport(a: a, b: b, metric: metric, unit: unit, from: period.from, to: period.to,
                                  xA: (ea?.value ?? 0) * nA, nA: nA, xB: (eb?.value ?? 0) * nB, nB: nB, test: test,
                                  method: metric == "roc_auc" ? "DeLong (normal, unpooled)" : "delta method (normal, unpooled)",
                                  level: r.level, power: r.power, verdict: decide(test), rowsNeeded: needed, rowsStillNeeded: still)
            report.valueA = ea?.value; report.valueB = eb?.value
            report.isProportion = false
            report.approximate = metric == "roc_auc"
            return report
        }
        let unit = ProductionMetrics.proportions.first(where: { $0.name == metric })!.rows
        let (xA, nA) = ProductionMetrics.fraction(metric, ca)!, (xB, nB) = ProductionMetrics.fraction(metric, cb)!
        let numeric = metric == "outcome" && (ca.outcomeNonBinary + cb.outcomeNonBinary) > 0
        let test = numeric
            ? Proportions.twoMeans(nA: ca.outcomes, sumA: ca.outcomeSum, sumSqA: ca.outcomeSumSq, nB: cb.outcomes, sumB: cb.outcomeSum, sumSqB: cb.outcomeSumSq, level: r.level)
            : Proportions.twoProportion(xA: xA, nA: nA, xB: xB, nB: nB, level: r.level)
        let verdict = decide(test)
        var needed: Double?, still: Double?
        if !numeric, nA > 0, nB > 0, let n = Proportions.rowsPerGroup(pA: xA / nA, pB: xB / nB, alpha: alpha, power: r.power) {
            needed = n
            still = max(0, n - min(nA, nB))
        }
        var report = ABReport(a: a, b: b, metric: metric, unit: unit, from: period.from, to: period.to,
                              xA: xA, nA: nA, xB: xB, nB: nB, test: test,
                              method: numeric ? "difference of means (normal, unpooled)" : "two-proportion z test",
                              level: r.level, power: r.power, verdict: verdict, rowsNeeded: needed, rowsStillNeeded: still)
        report.valueA = nA > 0 ? xA / nA : nil; report.valueB = nB > 0 ? xB / nB : nil
        return report
    }
}
