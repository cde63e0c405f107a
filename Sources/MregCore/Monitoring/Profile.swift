/// A small summary of a table's feature columns, for drift and integrity measures
/// (docs/monitoring.md, "Profiles"). Its size depends on the number of columns, never on the rows:
/// a numeric column is about 130 numbers, a categorical one at most `CategoricalProfile.topLimit`
/// values with their counts.
public struct Profile: Equatable, Sendable {
    /// Rows read.
    public var rows: Int
    /// Column name → its summary.
    public var columns: [String: ColumnProfile]

    public static let type = "mreg.profile"

    public init(rows: Int, columns: [String: ColumnProfile]) {
        self.rows = rows
        self.columns = columns
    }

    public var json: JSON {
        .object(["type": .string(Self.type), "format": .number(1), "rows": .number(Double(rows)),
                 "columns": .object(columns.mapValues(\.json))])
    }

    /// Reads a stored profile; errors name `source` (exit 1: a stored profile is never user input).
    public init(json: JSON, source: String) throws {
        func fail(_ w: String) -> MregError { MregError.corrupt("\(source): \(w)") }
        guard json["type"]?.string == Self.type else { throw fail("not a profile") }
        guard json["format"]?.int == 1 else { throw fail("unsupported profile format") }
        guard let rows = json["rows"]?.int, rows >= 0 else { throw fail("bad row count") }
        self.rows = rows
        var columns: [String: ColumnProfile] = [:]
        for (name, c) in json["columns"]?.object ?? [:] {
            guard let p = ColumnProfile(json: c) else { throw fail("column \(ModelName.show(name)): bad summary") }
            columns[name] = p
        }
        self.columns = columns
    }
}

/// The kind of a column, decided while reading (docs/monitoring.md, "Kind detection"): numeric
/// when every non-empty value is a finite decimal number (JSON numbers, or text that reads as
/// one), categorical as soon as one non-empty value is not, empty when every value is missing.
public enum ColumnKind: String, Sendable, Equatable {
    case numeric, categorical, empty
}

/// One column's summary.
public enum ColumnProfile: Equatable, Sendable {
    case numeric(NumericProfile)
    case categorical(CategoricalProfile)
    /// Every value missing: `missing` rows, no kind.
    case empty(missing: Int)

    public var kind: ColumnKind {
        switch self {
        case .numeric: return .numeric
        case .categorical: return .categorical
        case .empty: return .empty
        }
    }

    /// Rows with a value.
    public var count: Int {
        switch self {
        case .numeric(let n): return n.count
        case .categorical(let c): return c.count
        case .empty: return 0
        }
    }

    public var missing: Int {
        switch self {
        case .numeric(let n): return n.missing
        case .categorical(let c): return c.missing
        case .empty(let m): return m
        }
    }

    var json: JSON {
        switch self {
        case .numeric(let n): return n.json
        case .categorical(let c): return c.json
        case .empty(let m): return .object(["kind": .string("empty"), "count": .number(0), "missing": .number(Double(m))])
        }
    }

    init?(json: JSON) {
        switch json["kind"]?.string {
        case "numeric": guard let n = NumericProfile(json: json) else { return nil }; self = .numeric(n)
        case "categorical": guard let c = CategoricalProfile(json: json) else { return nil }; self = .categorical(c)
        case "empty": guard let m = json["missing"]?.int, m >= 0 else { return nil }; self = .empty(missing: m)
        default: return nil
        }
    }
}

/// A numeric column: exact count, missing, min, max, mean and population standard deviation
/// (ddof = 0, numpy's default), and quantiles from a bounded sample.
public struct NumericProfile: Equatable, Sendable {
    public var count: Int
    public var missing: Int
    public var min: Double
    public var max: Double
    public var mean: Double
    /// Population standard deviation, √(Σ(x − mean)² / count) (ddof = 0).
    public var std: Double
    /// The 11 edges of the 10 bins `counts` counts in: for a reference, its min, its deciles
    /// 10 %…90 % and its max; for a window profiled against a reference, the reference's edges.
    public var edges: [Double]
    /// Values per bin: bin j holds the values with exactly j of the interior edges
    /// `edges[1...9]` at or below them (numpy `searchsorted(edges[1:10], x, side="right")`),
    /// so values below `edges[0]` fall in bin 0 and values above `edges[10]` in bin 9.
    public var counts: [Int]
    /// Values below `edges[0]` and above `edges[10]` (out of the reference's range).
    public var below: Int
    public var above: Int
    /// The 101 percentiles 0 %, 1 %, …, 100 % (linear interpolation, numpy's default method) of
    /// the sample; the 0 % and 100 % ones are the exact min and max.
    public var percentiles: [Double]
    /// Values the percentiles and deciles were computed from: `count` when at most
    /// `Profiler.sampleLimit`, else a uniform sample of that size (exact below it).
    public var sample: Int

    public init(count: Int, missing: Int, min: Double, max: Double, mean: Double, std: Double, edges: [Double],
                counts: [Int], below: Int, above: Int, percentiles: [Double], sample: Int) {
        self.count = count; self.missing = missing; self.min = min; self.max = max; self.mean = mean; self.std = std
        self.edges = edges; self.counts = counts; self.below = below; self.above = above
        self.percentiles = percentiles; self.sample = sample
    }

    var json: JSON {
        func nums(_ a: [Double]) -> JSON { .array(a.map { .number($0) }) }
        return .object([
            "kind": .string("numeric"), "count": .number(Double(count)), "missing": .number(Double(missing)),
            "min": .number(min), "max": .number(max), "mean": .number(mean), "std": .number(std),
            "edges": nums(edges), "counts": .array(counts.map { .number(Double($0)) }),
            "below": .number(Double(below)), "above": .number(Double(above)),
            "percentiles": nums(percentiles), "sample": .number(Double(sample)),
        ])
    }

    init?(json: JSON) {
        guard let count = json["count"]?.int, let missing = json["missing"]?.int,
              let min = json["min"]?.number, let max = json["max"]?.number, let mean = json["mean"]?.number,
              let std = json["std"]?.number, let edges = json["edges"]?.array?.compactMap(\.number), edges.count == 11,
              let counts = json["counts"]?.array?.compactMap(\.int), counts.count == 10,
              let percentiles = json["percentiles"]?.array?.compactMap(\.number), percentiles.count == 101,
              let below = json["below"]?.int, let above = json["above"]?.int, let sample = json["sample"]?.int
        else { return nil }
        self.init(count: count, missing: missing, min: min, max: max, mean: mean, std: std, edges: edges, counts: counts,
                  below: below, above: above, percentiles: percentiles, sample: sample)
    }

    /// The percentile `p` (0…100, whole numbers) of the sample.
    public func percentile(_ p: Int) -> Double { percentiles[Swift.max(0, Swift.min(100, p))] }
}

/// A categorical column: the most frequent values with their counts, the rest as `other`.
public struct CategoricalProfile: Equatable, Sendable {
    /// Values kept in a profile, most frequent first (ties by value).
    public static let topLimit = 100

    public var count: Int
    public var missing: Int
    /// Up to `topLimit` values, by count descending then value ascending.
    public var top: [(value: String, count: Int)]
    /// Rows with a value not in `top`.
    public var other: Int
    /// True when `top` lists every value the column holds (`other` is 0 and nothing overflowed):
    /// only then can a window's value be called new (`new_categories`).
    public var complete: Bool

    public init(count: Int, missing: Int, top: [(value: String, count: Int)], other: Int, complete: Bool) {
        self.count = count; self.missing = missing; self.top = top; self.other = other; self.complete = complete
    }

    public static func == (a: CategoricalProfile, b: CategoricalProfile) -> Bool {
        a.count == b.count && a.missing == b.missing && a.other == b.other && a.complete == b.complete
            && a.top.map(\.value) == b.top.map(\.value) && a.top.map(\.count) == b.top.map(\.count)
    }

    /// The count of `value` in `top`, or nil when it is not listed.
    public func count(of value: String) -> Int? { top.first { $0.value == value }?.count }

    var json: JSON {
        .object([
            "kind": .string("categorical"), "count": .number(Double(count)), "missing": .number(Double(missing)),
            "top": .array(top.map { .array([.string($0.value), .number(Double($0.count))]) }),
            "other": .number(Double(other)), "complete": .bool(complete),
        ])
    }

    init?(json: JSON) {
        guard let count = json["count"]?.int, let missing = json["missing"]?.int, let other = json["other"]?.int,
              let complete = json["complete"]?.bool, let items = json["top"]?.array else { return nil }
        var top: [(value: String, count: Int)] = []
        for item in items {
            guard let pair = item.array, pair.count == 2, let v = pair[0].string, let n = pair[1].int else { return nil }
            top.append((v, n))
        }
        self.init(count: count, missing: missing, top: top, other: other, complete: complete)
    }
}
