/// What one hour of production rows of one version adds up to: everything `perf` and `ab` need,
/// so that a window sums buckets instead of re-reading raw rows (docs/production.md).
///
/// Exact: counts, confusion counts at the serving version's threshold, human-in-the-loop and
/// outcome sums. Approximate: `roc_auc` from the labelled rows' score histograms
/// (`ProductionCounts.aucBins` bins; pairs within one bin count ½).
public struct ProductionCounts: Equatable, Sendable {
    /// Rows observed; rows with a score; rows decided class 1; sum of scores.
    public var rows = 0.0, scored = 0.0, decidedPositive = 0.0, scoreSum = 0.0
    /// Rows with ground truth (in the batch or joined later) and their confusion counts.
    public var labelled = 0.0, tp = 0.0, fp = 0.0, tn = 0.0, fn = 0.0
    /// Rows with a human decision; those where it equals the model's; the confusion of the model's
    /// decision against the human's (the human as truth).
    public var human = 0.0, humanAgree = 0.0, htp = 0.0, hfp = 0.0, htn = 0.0, hfn = 0.0
    /// Rows with an outcome, its sum and sum of squares, and how many were not 0 or 1.
    public var outcomes = 0.0, outcomeSum = 0.0, outcomeSumSq = 0.0, outcomeNonBinary = 0.0
    /// Scores of all scored rows in `scoreBins` equal-width bins over [0, 1].
    public var scoreHistogram: [Double] = []
    /// Scores of labelled rows, by label, in `aucBins` bins (for roc_auc).
    public var positiveHistogram: [Double] = [], negativeHistogram: [Double] = []

    public static let scoreBins = 20
    public static let aucBins = 100

    public init() {}

    nonisolated(unsafe) static let fields: [(String, WritableKeyPath<ProductionCounts, Double>)] = [
        ("rows", \.rows), ("scored", \.scored), ("decided_positive", \.decidedPositive), ("score_sum", \.scoreSum),
        ("labelled", \.labelled), ("tp", \.tp), ("fp", \.fp), ("tn", \.tn), ("fn", \.fn),
        ("human", \.human), ("human_agree", \.humanAgree), ("human_tp", \.htp), ("human_fp", \.hfp), ("human_tn", \.htn), ("human_fn", \.hfn),
        ("outcomes", \.outcomes), ("outcome_sum", \.outcomeSum), ("outcome_sum_sq", \.outcomeSumSq), ("outcome_non_binary", \.outcomeNonBinary),
    ]
    nonisolated(unsafe) static let histograms: [(String, WritableKeyPath<ProductionCounts, [Double]>, Int)] = [
        ("score_histogram", \.scoreHistogram, scoreBins), ("positive_histogram", \.positiveHistogram, aucBins),
        ("negative_histogram", \.negativeHistogram, aucBins),
    ]

    public var confusion: BinaryMetrics.Confusion { .init(tp: tp, fp: fp, tn: tn, fn: fn) }
    public var humanConfusion: BinaryMetrics.Confusion { .init(tp: htp, fp: hfp, tn: htn, fn: hfn) }

    static func bin(_ score: Double, _ bins: Int) -> Int { min(bins - 1, Int(score * Double(bins))) }

    mutating func addScore(_ s: Double) {
        if scoreHistogram.isEmpty { scoreHistogram = Array(repeating: 0, count: Self.scoreBins) }
        scoreHistogram[Self.bin(s, Self.scoreBins)] += 1
        scored += 1
        scoreSum += s
    }

    /// Adds one labelled row: its label, the model's decision and its score (if any).
    mutating func addLabel(_ label: UInt8, decision: UInt8, score: Double?) {
        labelled += 1
        switch (label, decision) {
        case (1, 1): tp += 1
        case (0, 1): fp += 1
        case (0, 0): tn += 1
        default: fn += 1
        }
        if let score {
            if positiveHistogram.isEmpty {
                positiveHistogram = Array(repeating: 0, count: Self.aucBins)
                negativeHistogram = positiveHistogram
            }
            if label == 1 { positiveHistogram[Self.bin(score, Self.aucBins)] += 1 } else { negativeHistogram[Self.bin(score, Self.aucBins)] += 1 }
        }
    }

    mutating func addHuman(_ human: UInt8, decision: UInt8) {
        self.human += 1
        if human == decision { humanAgree += 1 }
        switch (human, decision) {
        case (1, 1): htp += 1
        case (0, 1): hfp += 1
        case (0, 0): htn += 1
        default: hfn += 1
        }
    }

    mutating func addOutcome(_ v: Double) {
        outcomes += 1
        outcomeSum += v
        outcomeSumSq += v * v
        if v != 0 && v != 1 { outcomeNonBinary += 1 }
    }

    /// Adds another bucket's counts to this one.
    public mutating func add(_ o: ProductionCounts) {
        for (_, k) in Self.fields { self[keyPath: k] += o[keyPath: k] }
        for (_, k, n) in Self.histograms where !o[keyPath: k].isEmpty {
            if self[keyPath: k].isEmpty { self[keyPath: k] = Array(repeating: 0, count: n) }
            for i in 0..<n { self[keyPath: k][i] += o[keyPath: k][i] }
        }
    }

    /// roc_auc from the binned scores (Mann–Whitney U over bins, pairs in one bin count ½); nil
    /// without both classes. Approximate: exact when no bin holds scores of both classes that differ.
    public var approximateAUC: Double? {
        guard !positiveHistogram.isEmpty else { return nil }
        let pos = positiveHistogram.reduce(0, +), neg = negativeHistogram.reduce(0, +)
        guard pos > 0, neg > 0 else { return nil }
        var below = 0.0, u = 0.0
        for i in 0..<Self.aucBins {
            u += positiveHistogram[i] * (below + negativeHistogram[i] / 2)
            below += negativeHistogram[i]
        }
        return u / (pos * neg)
    }

    var json: JSON {
        var o: [String: JSON] = [:]
        for (name, k) in Self.fields where self[keyPath: k] != 0 { o[name] = .number(self[keyPath: k]) }
        for (name, k, _) in Self.histograms where !self[keyPath: k].isEmpty {
            // Sparse: bin index → count.
            var h: [String: JSON] = [:]
            for (i, v) in self[keyPath: k].enumerated() where v != 0 { h[String(i)] = .number(v) }
            o[name] = .object(h)
        }
        return .object(o)
    }

    init(json: JSON, source: String) throws {
        guard case .object(let o) = json else { throw MregError.corrupt("\(source): a bucket is not an object") }
        for (name, k) in Self.fields {
            guard let v = o[name] else { continue }
            guard let n = v.number, n.isFinite, n >= 0 || name == "outcome_sum" else { throw MregError.corrupt("\(source): \(name) is not a count") }
            self[keyPath: k] = n
        }
        for (name, k, bins) in Self.histograms {
            guard let v = o[name] else { continue }
            guard case .object(let h) = v else { throw MregError.corrupt("\(source): \(name) is not an object") }
            var a = [Double](repeating: 0, count: bins)
            for (key, c) in h {
                guard let i = Int(key), i >= 0, i < bins, let n = c.number, n.isFinite, n >= 0 else { throw MregError.corrupt("\(source): \(name) has a bad bin \(key)") }
                a[i] = n
            }
            self[keyPath: k] = a
        }
    }
}

/// The summary object of one batch (or of one labels join): per served version, per hour (UTC,
/// the Unix time of the hour's start), the counts of its rows. See docs/format.md.
///
/// `features` is reserved for per-column feature profiles (Monitoring); mreg keeps and returns it
/// as it is and ignores it otherwise.
public struct BatchSummary: Equatable, Sendable {
    public static let type = "mreg.observation-summary"
    /// The width of a bucket: windows are whole multiples of it.
    public static let bucketSeconds: Int64 = 3600

    /// Version → the decision threshold used for its rows.
    public var thresholds: [Int: Double] = [:]
    /// Version → hour start (Unix seconds) → counts.
    public var buckets: [Int: [Int64: ProductionCounts]] = [:]
    /// Optional feature profiles (see above).
    public var features: JSON?

    public init() {}

    static func hour(_ t: Double) -> Int64 { Int64((t / Double(bucketSeconds)).rounded(.down)) * bucketSeconds }

    /// Every version's counts, summed over the buckets in [from, to) (hour starts).
    public func counts(version: Int, from: Int64 = .min, to: Int64 = .max) -> ProductionCounts {
        var c = ProductionCounts()
        for (h, b) in buckets[version] ?? [:] where h >= from && h < to { c.add(b) }
        return c
    }

    public var json: JSON {
        var versions: [String: JSON] = [:]
        for (v, hours) in buckets {
            var o: [String: JSON] = [:]
            for (h, c) in hours { o[String(h)] = c.json }
            versions[String(v)] = .object(o)
        }
        var o: [String: JSON] = [
            "type": .string(Self.type), "bucket_seconds": .number(Double(Self.bucketSeconds)),
            "thresholds": .object(Dictionary(uniqueKeysWithValues: thresholds.map { (String($0.key), JSON.number($0.value)) })),
            "versions": .object(versions),
        ]
        if let features { o["features"] = features }
        return .object(o)
    }

    public init(json: JSON, source: String) throws {
        guard json["type"]?.string == Self.type else { throw MregError.corrupt("\(source): not an observation summary") }
        guard json["bucket_seconds"]?.number == Double(Self.bucketSeconds) else { throw MregError.corrupt("\(source): bucket_seconds is not \(Self.bucketSeconds)") }
        if case .object(let t)? = json["thresholds"] {
            for (k, v) in t {
                guard let n = Int(k), let x = v.number else { throw MregError.corrupt("\(source): bad threshold \(k)") }
                thresholds[n] = x
            }
        }
        guard case .object(let vs)? = json["versions"] else { throw MregError.corrupt("\(source): no versions") }
        for (k, hours) in vs {
            guard let v = Int(k), case .object(let hs) = hours else { throw MregError.corrupt("\(source): bad version \(k)") }
            var out: [Int64: ProductionCounts] = [:]
            for (hk, c) in hs {
                guard let h = Int64(hk) else { throw MregError.corrupt("\(source): bad hour \(hk)") }
                out[h] = try ProductionCounts(json: c, source: source)
            }
            buckets[v] = out
        }
        features = json["features"]
    }
}
