/// Profiles a row table (CSV or JSON Lines, read by `TableReader`) in one streaming pass, with
/// memory bounded whatever the row count: per column a few running sums (Welford's mean and
/// variance), a uniform reservoir sample of at most `sampleLimit` values (deterministic: a fixed
/// seed per column) and at most `distinctLimit` distinct values with their counts.
///
/// Decile edges and percentiles are exact (numpy's `quantile`, linear method) for columns of at
/// most `sampleLimit` values and computed from the reservoir sample above that. Bin counts are
/// always exact: against a reference's edges in the same pass; for a column with more values than
/// the sample holds, from its distinct values' counts when it has at most `distinctLimit` of them
/// (every value was counted), else by a second pass over the file once its edges are known.
///
/// A CSV file of 8 MiB or more is read in two halves at once, on two cores, whose accumulators
/// are then merged (ProfileBuilder+Parts.swift says what that changes: rounding of the mean and
/// standard deviation, and which values the sample of a large column holds).
public enum Profiler {
    /// Values kept per numeric column for its quantiles.
    public static let sampleLimit = 10_000
    /// Distinct values counted exactly per column; later new values count as `other`.
    public static let distinctLimit = 1_000
    /// Columns a profile may have.
    public static let columnLimit = 500

    /// Profiles a file.
    ///
    /// - Parameters:
    ///   - path: the table.
    ///   - source: what to call it in errors (`reference file ref.csv`).
    ///   - format: csv or jsonl (`TableFormat.of`).
    ///   - reference: when given, numeric columns that are numeric in the reference are counted
    ///     in the reference's bins (and `below`/`above` its range), as the drift measures need.
    ///   - exclude: columns not to profile (id, label, score, time: not features).
    /// - Throws: `MregError.invalid` naming the file, line and column for a table mreg cannot read
    ///   (no rows, ragged rows, not UTF-8) or more than `columnLimit` columns.
    public static func profile(path: String, source: String, format: TableFormat, reference: Profile? = nil,
                               exclude: Set<String> = []) throws -> Profile {
        try profile(path: path, source: source, format: format, reference: reference, exclude: exclude,
                    partsFrom: TableReader.partsThreshold)
    }

    /// `profile(path:…)`, reading a CSV file of `partsFrom` bytes or more in two parts at once
    /// (ProfileBuilder+Parts.swift).
    static func profile(path: String, source: String, format: TableFormat, reference: Profile? = nil,
                        exclude: Set<String> = [], partsFrom: Int) throws -> Profile {
        let first = try TableReader.scan(path: path, source: source, format: format, partsFrom: partsFrom,
                                         inParts: { ProfileBuilder(source: source, reference: reference, exclude: exclude) },
                                         merge: { try $0.merge($1) })
        try first.countByRereading(path: path, format: format, partsFrom: partsFrom)
        return first.profile()
    }
}

/// The accumulators of one column (a struct kept in an array, so the per-value updates are plain
/// stores, without a class's access checks).
struct ColumnAccumulator {
    var missing = 0
    var numeric = true
    // Numeric: count, Welford mean and sum of squared deviations, range, reservoir.
    var n = 0
    var mean = 0.0
    var m2 = 0.0
    var lo = Double.infinity
    var hi = -Double.infinity
    var reservoir: [Double] = []
    var rng: SplitMix64
    /// Interior edges to count in (from a reference, or for a second pass), and the counts.
    var interior: [Double]? { didSet { nine = interior.flatMap(NineEdges.init) } }
    /// The same nine edges held inline, which is how values are counted: reading an array in the
    /// per-value loop retains and releases it, and two threads counting the halves of one file
    /// in edges that share one array buffer contended on its reference count (twice the CPU).
    private(set) var nine: NineEdges?
    var outer: (lo: Double, hi: Double)?
    var counts = [Int](repeating: 0, count: 10)
    var below = 0
    var above = 0
    // Categorical: distinct values counted while fewer than `distinctLimit`, else `other`.
    var values = TextCounts(limit: Profiler.distinctLimit)
    var other = 0
    /// False once a still-numeric column passed `distinctLimit` distinct values: its text
    /// values are no longer counted (a later switch to categorical puts the earlier rows in `other`).
    /// While it is true, `values` holds every value of a numeric column with its count.
    var tracking = true
    var overflowed = false
    /// False once a value's text may not parse back to its number (a JSON number).
    var exactText = true

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func add(_ field: TableField) {
        if case .text(let b) = field {
            if b.isEmpty { missing += 1; return }
            add(b, numeric ? NumberText.parse(b) : .failure(.notANumber))
            return
        }
        if field.isEmpty { missing += 1; return }
        // A JSON number's text may not read back as the same double: bins come from a second pass.
        if case .json(.number) = field { exactText = false }
        var text = field.text
        let number = numeric ? field.number() : .failure(.notANumber)
        text.withUTF8 { add($0, number) }
    }

    /// One non-empty value: its bytes, and its number (parsed only while the column is numeric).
    @inline(__always)
    private mutating func add(_ text: UnsafeBufferPointer<UInt8>, _ number: Result<Double, NumberProblem>) {
        if numeric {
            if case .success(let x) = number {
                addNumber(x)
                if tracking && !values.add(text) { tracking = false }
                return
            }
            // The first value that is not a number: the column is categorical from now on.
            numeric = false
            if !tracking { other += n - values.total }
            reservoir = []
        }
        if !values.add(text) {
            overflowed = true
            other += 1
        }
    }

    @inline(__always)
    private mutating func addNumber(_ x: Double) {
        n += 1
        let d = x - mean
        mean += d / Double(n)
        m2 += d * (x - mean)
        if x < lo { lo = x }
        if x > hi { hi = x }
        if reservoir.count < Profiler.sampleLimit {
            reservoir.append(x)
        } else {
            let j = Int(rng.next() % UInt64(n))
            if j < Profiler.sampleLimit { reservoir[j] = x }
        }
        if let nine { count(x, nine) }
    }

    @inline(__always)
    mutating func count(_ x: Double, _ edges: NineEdges) {
        counts[edges.bin(x)] += 1
        if let outer {
            if x < outer.lo { below += 1 } else if x > outer.hi { above += 1 }
        }
    }

    /// The number of interior edges at or below `x` (numpy `searchsorted(…, side="right")`, the
    /// edges being ascending). A decile's nine edges are counted without a branch (a binary
    /// search's unpredictable branches cost more per value than nine comparisons); longer lists
    /// (101 percentiles) are searched.
    @inline(__always)
    static func bin(_ x: Double, _ interior: [Double]) -> Int {
        interior.withUnsafeBufferPointer { e in
            if e.count <= 16 {
                var a = 0
                for k in 0..<e.count { a &+= e[k] <= x ? 1 : 0 }
                return a
            }
            var a = 0, b = e.count
            while a < b {
                let m = (a + b) / 2
                if e[m] <= x { a = m + 1 } else { b = m }
            }
            return a
        }
    }

    /// Whether `values` holds every value of this numeric column (so bin counts on edges known
    /// only at the end come from it, without reading the file again).
    var countedExactly: Bool { numeric && tracking && exactText && values.total == n }

    /// Counts the values held in `values` in `interior` (see `countedExactly`).
    mutating func countDistinct(_ interior: [Double]) {
        var counts = self.counts
        values.forEach { text, c in
            if case .success(let x) = NumberText.parse(text) { counts[Self.bin(x, interior)] += c }
        }
        self.counts = counts
    }
}

/// A decile's nine interior edges, inline: `bin` is `ColumnAccumulator.bin` on them, without a
/// branch and without touching an array.
struct NineEdges {
    let e: (Double, Double, Double, Double, Double, Double, Double, Double, Double)

    init?(_ a: [Double]) {
        guard a.count == 9 else { return nil }
        e = (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8])
    }

    /// The number of edges at or below `x`: nine comparisons added as 0/1 bytes (a Bool's bits),
    /// which compile to flag moves where `? 1 : 0` compiled to branches, mispredicted on every
    /// other value.
    @inline(__always)
    func bin(_ x: Double) -> Int {
        @inline(__always) func one(_ b: Bool) -> Int { Int(unsafeBitCast(b, to: UInt8.self)) }
        return one(e.0 <= x) &+ one(e.1 <= x) &+ one(e.2 <= x) &+ one(e.3 <= x) &+ one(e.4 <= x)
            &+ one(e.5 <= x) &+ one(e.6 <= x) &+ one(e.7 <= x) &+ one(e.8 <= x)
    }
}

/// Deterministic 64-bit generator (Steele, Lea and Flood's SplitMix64) for the reservoirs.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The `TableConsumer` behind `Profiler.profile`.
final class ProfileBuilder: TableConsumer {
    let source: String
    let reference: Profile?
    let exclude: Set<String>
    /// For a second pass: column → interior edges; only bin counts are kept.
    let countingOnly: [String: [Double]]?
    private(set) var names: [String] = []
    /// The profiled columns: their index in the table, and their accumulators.
    private(set) var columnIndex: [Int] = []
    /// (Set here and by `merge`, ProfileBuilder+Parts.swift.)
    var accumulators: [ColumnAccumulator] = []
    var rows = 0

    init(source: String, reference: Profile?, exclude: Set<String>, countingOnly: [String: [Double]]? = nil) {
        self.source = source
        self.reference = reference
        self.exclude = exclude
        self.countingOnly = countingOnly
    }

    func header(_ columns: [String]) throws {
        let kept = columns.filter { !exclude.contains($0) }
        if kept.count > Profiler.columnLimit {
            throw MregError.invalid("\(source): \(kept.count) columns to profile; the limit is \(Profiler.columnLimit)")
        }
        names = columns
        for (i, name) in columns.enumerated() where !exclude.contains(name) {
            var a = ColumnAccumulator(seed: 0x6D72_6567 &+ UInt64(i))
            if let countingOnly {
                guard let edges = countingOnly[name] else { continue }
                a.interior = edges
            } else if case .numeric(let r)? = reference?.columns[name] {
                a.interior = Array(r.edges[1...9])
                a.outer = (r.edges[0], r.edges[10])
            }
            columnIndex.append(i)
            accumulators.append(a)
        }
    }

    func row(_ row: TableRow) throws {
        rows += 1
        let columnIndex = self.columnIndex
        if countingOnly != nil {
            accumulators.withUnsafeMutableBufferPointer { acc in
                for k in acc.indices {
                    guard let nine = acc[k].nine, case .success(let x) = row.field(columnIndex[k]).number() else { continue }
                    acc[k].count(x, nine)
                }
            }
            return
        }
        accumulators.withUnsafeMutableBufferPointer { acc in
            for k in acc.indices { acc[k].add(row.field(columnIndex[k])) }
        }
    }

    /// Columns binned on their own edges whose values did not all fit in the sample, and whose
    /// distinct values were not all counted either: their bins need a second pass.
    func edgesNeedingCounts() -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for (k, a) in accumulators.enumerated() {
            guard a.numeric, a.interior == nil, a.n > Profiler.sampleLimit, !a.countedExactly else { continue }
            out[names[columnIndex[k]]] = Array(Self.edges(a)[1...9])
        }
        return out
    }

    /// A second read of `path`, only when some column binned on its own edges had more values
    /// than the sample holds and not all of them were counted (`edgesNeedingCounts`): their bins
    /// are counted there, exactly. A large CSV file is read in two parts at once, their counts added.
    func countByRereading(path: String, format: TableFormat, partsFrom: Int = TableReader.partsThreshold) throws {
        let needed = edgesNeedingCounts()
        guard !needed.isEmpty else { return }
        let second = try TableReader.scan(path: path, source: source, format: format, partsFrom: partsFrom,
                                          inParts: { [source, exclude] in ProfileBuilder(source: source, reference: nil, exclude: exclude, countingOnly: needed) },
                                          merge: { try $0.merge($1) })
        takeCounts(from: second)
    }

    private func takeCounts(from second: ProfileBuilder) {
        for (k, b) in second.accumulators.enumerated() {
            guard let interior = b.interior, let mine = columnIndex.firstIndex(of: second.columnIndex[k]) else { continue }
            accumulators[mine].interior = interior
            accumulators[mine].counts = b.counts
        }
    }

    /// min, the deciles of the sample, max.
    static func edges(_ a: ColumnAccumulator) -> [Double] {
        let sorted = a.reservoir.sorted()
        return [a.lo] + (1...9).map { Quantile.linear(sorted, Double($0) / 10) } + [a.hi]
    }

    func profile() -> Profile {
        var columns: [String: ColumnProfile] = [:]
        for (k, a) in accumulators.enumerated() { columns[names[columnIndex[k]]] = Self.summary(a) }
        return Profile(rows: rows, columns: columns)
    }

    static func summary(_ a: ColumnAccumulator) -> ColumnProfile {
        var a = a
        if a.numeric {
            guard a.n > 0 else { return .empty(missing: a.missing) }
            let sorted = a.reservoir.sorted()
            var percentiles = (0...100).map { Quantile.linear(sorted, Double($0) / 100) }
            percentiles[0] = a.lo
            percentiles[100] = a.hi
            var edges: [Double]
            if a.interior != nil, let outer = a.outer {
                edges = [outer.lo] + a.interior! + [outer.hi]
            } else if let interior = a.interior {
                edges = [a.lo] + interior + [a.hi]  // counted in a second pass
            } else if a.n > Profiler.sampleLimit && a.countedExactly {
                edges = Self.edges(a)  // every value is in `values`: count them there
                a.countDistinct(Array(edges[1...9]))
            } else {
                edges = Self.edges(a)  // every value is in the sample: count them there
                let interior = Array(edges[1...9])
                for x in a.reservoir { a.counts[ColumnAccumulator.bin(x, interior)] += 1 }
            }
            return .numeric(NumericProfile(
                count: a.n, missing: a.missing, min: a.lo, max: a.hi, mean: a.mean, std: (a.m2 / Double(a.n)).squareRoot(),
                edges: edges, counts: a.counts, below: a.below, above: a.above, percentiles: percentiles, sample: sorted.count))
        }
        let ranked = a.values.strings.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let top = ranked.prefix(CategoricalProfile.topLimit).map { (value: $0.key, count: $0.value) }
        let listed = top.reduce(0) { $0 + $1.count }
        let count = a.values.total + a.other
        return .categorical(CategoricalProfile(count: count, missing: a.missing, top: top, other: count - listed,
                                               complete: count == listed && !a.overflowed && a.tracking))
    }
}

/// Quantiles as numpy computes them by default (`method="linear"`, R's type 7).
public enum Quantile {
    /// The `q` quantile (0…1) of ascending `sorted` values: position h = (n − 1)·q, then
    /// x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]). NaN for no values.
    public static func linear(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let h = Double(sorted.count - 1) * q
        let i = Int(h.rounded(.down))
        if i >= sorted.count - 1 { return sorted[sorted.count - 1] }
        let f = h - Double(i)
        let (a, b) = (sorted[i], sorted[i + 1])
        // numpy's _lerp: from the nearer end, so the result is exact at both ends.
        return f >= 0.5 ? b - (b - a) * (1 - f) : a + (b - a) * f
    }
}
