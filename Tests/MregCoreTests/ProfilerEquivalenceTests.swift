import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// The profiler counts values by their bytes (Monitoring/TextCounts.swift), keeps its accumulators
/// in an array of structs and takes the bins of a column of few distinct values from their counts
/// instead of a second read: these tests check that every profile is the one the earlier
/// implementation (kept below, unchanged, as the oracle) made from the same file.
@Suite("Monitoring: profiles identical to the earlier profiler")
struct ProfilerEquivalenceTests {
    let dir = TemporaryDirectory("mreg-profiler-equivalence")

    /// `Profiler.profile` as it was: first pass, then a second for the bins of every large column.
    func legacy(_ path: String, format: TableFormat = .csv, reference: Profile? = nil, exclude: Set<String> = []) throws -> Profile {
        let first = LegacyProfileBuilder(source: "t", reference: reference, exclude: exclude)
        _ = try TableReader.read(path: path, source: "t", format: format, into: first)
        let needed = first.edgesNeedingCounts()
        if !needed.isEmpty {
            let second = LegacyProfileBuilder(source: "t", reference: nil, exclude: exclude, countingOnly: needed)
            _ = try TableReader.read(path: path, source: "t", format: format, into: second)
            first.takeCounts(from: second)
        }
        return first.profile()
    }

    /// A table exercising every path: few distinct numbers (bins from the distinct counts), many
    /// (second pass), a numeric column that turns categorical after passing the distinct limit,
    /// one that turns categorical early, a categorical column that overflows the limit, missing
    /// values, an all-missing column, non-ASCII values (a precomposed and a decomposed accent,
    /// which are one value to Swift), integers spelled two ways.
    func table(rows: Int, seed: UInt64) -> String {
        var rng = SplitMix64(seed: seed)
        func u() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        var s = "id,few,many,late_word,early_word,wide_cat,gaps,empty,accents,ints\n"
        for i in 0..<rows {
            let few = String(format: "%.3f", u())
            let many = String(format: "%.6f", u() * 100 - 50)
            let late = i == rows - 7 ? "n/a" : String(format: "%.4f", u())
            let early = i == 3 ? "x" : String(Int(u() * 10))
            let wide = "c\(Int(u() * 1500))"
            let gaps = u() < 0.1 ? "" : String(format: "%.2f", u() * 3)
            let accents = ["caf\u{E9}", "cafe\u{301}", "na\u{EF}ve", "plain"][Int(u() * 4)]
            let ints = u() < 0.5 ? "1" : (u() < 0.5 ? "1.0" : "2")
            s += "r\(i),\(few),\(many),\(late),\(early),\(wide),\(gaps),,\(accents),\(ints)\n"
        }
        return s
    }

    @Test("CSV: the same profile as before, small (every value sampled) and large (bins from distinct counts or a second pass)",
          arguments: [500, 23_000])
    func csv(rows: Int) throws {
        let path = dir.write("t\(rows).csv", table(rows: rows, seed: UInt64(rows)))
        let now = try Profiler.profile(path: path, source: "t", format: .csv, exclude: ["id"])
        #expect(now == (try legacy(path, exclude: ["id"])))
        // The paths were taken: kinds as designed, and the large numeric columns binned exactly.
        #expect(now.columns["few"]?.kind == .numeric && now.columns["late_word"]?.kind == .categorical)
        #expect(now.columns["wide_cat"]?.kind == .categorical && now.columns["empty"]?.kind == .empty)
        if case .numeric(let few)? = now.columns["few"] { #expect(few.counts.reduce(0, +) == few.count) }
        if case .categorical(let a)? = now.columns["accents"] { #expect(a.top.count == 3) }
    }

    @Test("against a reference's bins, and the batch profile observe makes, as before")
    func reference() throws {
        let ref = try Profiler.profile(path: dir.write("ref.csv", table(rows: 15_000, seed: 1)), source: "ref", format: .csv)
        let path = dir.write("b.csv", table(rows: 12_000, seed: 2))
        #expect(try Profiler.profile(path: path, source: "t", format: .csv, reference: ref, exclude: ["id"])
                == legacy(path, reference: ref, exclude: ["id"]))
    }

    @Test("JSON Lines: numbers, strings and nulls profile as before (JSON numbers are binned by a second pass)")
    func jsonLines() throws {
        var rng = SplitMix64(seed: 5)
        var s = ""
        for i in 0..<12_000 {
            let x = Double(rng.next() % 700) / 8
            let c = ["\"a\"", "\"b\"", "null", "\"\\u00e9\""][Int(rng.next() % 4)]
            s += "{\"id\": \(i), \"x\": \(x), \"s\": \"\(rng.next() % 50)\", \"c\": \(c)}\n"
        }
        let path = dir.write("t.jsonl", s)
        #expect(try Profiler.profile(path: path, source: "t", format: .jsonl) == legacy(path, format: .jsonl))
    }

    @Test("byte-keyed counts: bounded by the limit, counted as strings at the end")
    func textCounts() {
        var t = TextCounts(limit: 3)
        func add(_ s: String) -> Bool { var s = s; return s.withUTF8 { t.add($0) } }
        #expect(add("a") && add("bb") && add("a") && add("0123456789abcdefXYZ") && !add("new") && add("bb"))
        #expect(t.count == 3 && t.total == 5)
        #expect(t.strings == ["a": 2, "bb": 2, "0123456789abcdefXYZ": 1])
        var u = TextCounts(limit: 10)
        _ = "caf\u{E9}".utf8.withContiguousStorageIfAvailable { u.add($0) }
        _ = "cafe\u{301}".utf8.withContiguousStorageIfAvailable { u.add($0) }
        #expect(u.count == 2 && u.strings == ["caf\u{E9}": 2])
    }
}

/// The accumulators of one column, as profiled before the byte-keyed counts (the oracle).
final class LegacyColumnAccumulator {
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
    var interior: [Double]?
    var outer: (lo: Double, hi: Double)?
    var counts = [Int](repeating: 0, count: 10)
    var below = 0
    var above = 0
    // Categorical: distinct values counted while fewer than `distinctLimit`, else `other`.
    var values: [String: Int] = [:]
    var other = 0
    /// False once a still-numeric column passed `distinctLimit` distinct values: its text
    /// values are no longer counted (a later switch to categorical puts the earlier rows in `other`).
    var tracking = true
    var overflowed = false

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    func add(_ field: TableField) {
        if field.isEmpty { missing += 1; return }
        if numeric {
            if case .success(let x) = field.number() {
                addNumber(x)
                if tracking { addText(field.text, switching: false) }
                return
            }
            // The first value that is not a number: the column is categorical from now on.
            numeric = false
            if !tracking { other += n - values.values.reduce(0, +) }
            reservoir = []
        }
        addText(field.text, switching: true)
    }

    private func addNumber(_ x: Double) {
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
        if let interior { count(x, interior) }
    }

    func count(_ x: Double, _ interior: [Double]) {
        counts[Self.bin(x, interior)] += 1
        if let outer {
            if x < outer.lo { below += 1 } else if x > outer.hi { above += 1 }
        }
    }

    /// The number of interior edges at or below `x` (numpy `searchsorted(…, side="right")`).
    static func bin(_ x: Double, _ interior: [Double]) -> Int {
        var a = 0, b = interior.count
        while a < b {
            let m = (a + b) / 2
            if interior[m] <= x { a = m + 1 } else { b = m }
        }
        return a
    }

    private func addText(_ text: String, switching: Bool) {
        if let c = values[text] { values[text] = c + 1; return }
        if values.count < Profiler.distinctLimit { values[text] = 1; return }
        if numeric && !switching { tracking = false; return }
        overflowed = true
        other += 1
    }
}


/// `ProfileBuilder` as it was before the byte-keyed counts (the oracle).
final class LegacyProfileBuilder: TableConsumer {
    let source: String
    let reference: Profile?
    let exclude: Set<String>
    /// For a second pass: column → interior edges; only bin counts are kept.
    let countingOnly: [String: [Double]]?
    private(set) var names: [String] = []
    private(set) var accumulators: [LegacyColumnAccumulator?] = []
    private(set) var rows = 0

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
        accumulators = columns.enumerated().map { i, name in
            if exclude.contains(name) { return nil }
            let a = LegacyColumnAccumulator(seed: 0x6D72_6567 &+ UInt64(i))
            if let countingOnly {
                guard let edges = countingOnly[name] else { return nil }
                a.interior = edges
            } else if case .numeric(let r)? = reference?.columns[name] {
                a.interior = Array(r.edges[1...9])
                a.outer = (r.edges[0], r.edges[10])
            }
            return a
        }
    }

    func row(_ row: TableRow) throws {
        rows += 1
        if countingOnly != nil {
            for (i, a) in accumulators.enumerated() {
                guard let a, let interior = a.interior, case .success(let x) = row.field(i).number() else { continue }
                a.count(x, interior)
            }
            return
        }
        for (i, a) in accumulators.enumerated() { a?.add(row.field(i)) }
    }

    /// Columns binned on their own edges whose values did not all fit in the sample.
    func edgesNeedingCounts() -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for (i, a) in accumulators.enumerated() {
            guard let a, a.numeric, a.interior == nil, a.n > Profiler.sampleLimit else { continue }
            out[names[i]] = Array(Self.edges(a)[1...9])
        }
        return out
    }

    func takeCounts(from second: LegacyProfileBuilder) {
        for (i, a) in accumulators.enumerated() {
            guard let a, let b = second.accumulators[i], let interior = b.interior else { continue }
            a.interior = interior
            a.counts = b.counts
        }
    }

    /// min, the deciles of the sample, max.
    static func edges(_ a: LegacyColumnAccumulator) -> [Double] {
        let sorted = a.reservoir.sorted()
        return [a.lo] + (1...9).map { Quantile.linear(sorted, Double($0) / 10) } + [a.hi]
    }

    func profile() -> Profile {
        var columns: [String: ColumnProfile] = [:]
        for (i, a) in accumulators.enumerated() {
            guard let a else { continue }
            columns[names[i]] = Self.summary(a)
        }
        return Profile(rows: rows, columns: columns)
    }

    static func summary(_ a: LegacyColumnAccumulator) -> ColumnProfile {
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
            } else {
                edges = Self.edges(a)  // every value is in the sample: count them there
                let interior = Array(edges[1...9])
                for x in a.reservoir { a.counts[ColumnAccumulator.bin(x, interior)] += 1 }
            }
            return .numeric(NumericProfile(
                count: a.n, missing: a.missing, min: a.lo, max: a.hi, mean: a.mean, std: (a.m2 / Double(a.n)).squareRoot(),
                edges: edges, counts: a.counts, below: a.below, above: a.above, percentiles: percentiles, sample: sorted.count))
        }
        let ranked = a.values.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let top = ranked.prefix(CategoricalProfile.topLimit).map { (value: $0.key, count: $0.value) }
        let listed = top.reduce(0) { $0 + $1.count }
        let count = a.values.values.reduce(0, +) + a.other
        return .categorical(CategoricalProfile(count: count, missing: a.missing, top: top, other: count - listed,
                                               complete: count == listed && !a.overflowed && a.tracking))
    }
}

