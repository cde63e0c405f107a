import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// A large CSV file is profiled in two halves at once and the halves' accumulators merged
/// (Monitoring/ProfileBuilder+Parts.swift). These tests read small files in parts (`partsFrom: 0`)
/// and compare with one read (`partsFrom: Int.max`).
@Suite("Monitoring: profiling a file in two parts")
struct ProfilePartsTests {
    let dir = TemporaryDirectory("mreg-profile-parts")

    func profile(_ path: String, parts: Bool, reference: Profile? = nil) throws -> Profile {
        try Profiler.profile(path: path, source: "t", format: .csv, reference: reference, exclude: ["id"], partsFrom: parts ? 0 : Int.max)
    }

    /// Checks that mean and std agree to rounding, then returns `p` with `q`'s, so that the rest
    /// of the two profiles can be compared whole.
    func meanAndStd(of p: Profile, from q: Profile) -> Profile {
        var p = p
        for (name, c) in p.columns {
            guard case .numeric(var a) = c, case .numeric(let b)? = q.columns[name] else { continue }
            #expect(abs(a.mean - b.mean) <= 1e-12 * max(1, abs(b.mean)), "mean of \(name): \(a.mean) against \(b.mean)")
            #expect(abs(a.std - b.std) <= 1e-12 * max(1, b.std), "std of \(name): \(a.std) against \(b.std)")
            (a.mean, a.std) = (b.mean, b.std)
            p.columns[name] = .numeric(a)
        }
        return p
    }

    /// Columns whose halves merge exactly: few and many distinct numbers, missing values, a
    /// categorical column of few values, a column that is text in the first half and numbers of
    /// few values in the second, one that is numbers of few values and then text, an empty one.
    func mergeable(rows: Int, seed: UInt64) -> String {
        var rng = SplitMix64(seed: seed)
        func u() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        var s = "id,few,many,gaps,cat,text_then_numbers,numbers_then_text,empty\n"
        for i in 0..<rows {
            let late = i > rows * 3 / 4
            let few = String(format: "%.2f", u())
            let many = String(format: "%.6f", u() * 100 - 50)
            let gaps = u() < 0.1 ? "" : String(format: "%.3f", u() * 3)
            let cat = ["a", "b", "caf\u{E9}", "cafe\u{301}"][Int(u() * 4)]
            let tn = late ? String(Int(u() * 20)) : ["x", "y"][Int(u() * 2)]
            let nt = late ? ["n/a", "?"][Int(u() * 2)] : String(Int(u() * 20))
            s += "r\(i),\(few),\(many),\(gaps),\(cat),\(tn),\(nt),\n"
        }
        return s
    }

    /// The builders of the two halves of a table, each read from a file of its own.
    func halves(_ text: String, _ name: String) throws -> (ProfileBuilder, ProfileBuilder) {
        let lines = text.split(separator: "\n")
        let header = lines[0] + "\n", rows = lines.dropFirst()
        func builder(_ part: ArraySlice<Substring>, _ file: String) throws -> ProfileBuilder {
            let b = ProfileBuilder(source: "t", reference: nil, exclude: ["id"])
            try TableReader.scan(path: dir.write(file, header + part.joined(separator: "\n") + "\n"), source: "t", format: .csv, into: b)
            return b
        }
        return (try builder(rows.prefix(rows.count / 2), name + "-a.csv"), try builder(rows.dropFirst(rows.count / 2), name + "-b.csv"))
    }

    @Test("every value in the sample: the same profile as one read, mean and std to rounding")
    func small() throws {
        let text = mergeable(rows: 9_000, seed: 1)
        let path = dir.write("small.csv", text)
        let one = try profile(path, parts: false)
        let parts = try profile(path, parts: true)
        #expect(meanAndStd(of: parts, from: one) == one)
        // The merge itself (not a fallback to one read) gives it.
        let (first, second) = try halves(text, "small")
        try first.merge(second)
        #expect(meanAndStd(of: first.profile(), from: one) == one)
        #expect(one.columns["text_then_numbers"]?.kind == .categorical && one.columns["numbers_then_text"]?.kind == .categorical)
        #expect(one.columns["few"]?.kind == .numeric && one.columns["empty"]?.kind == .empty)
    }

    @Test("more values than the sample: counts exact on the profile's own edges, categorical columns as one read")
    func large() throws {
        let rows = 30_000
        let text = mergeable(rows: rows, seed: 2)
        let path = dir.write("large.csv", text)
        let one = try profile(path, parts: false)
        let parts = try profile(path, parts: true)
        for name in ["cat", "text_then_numbers", "numbers_then_text", "empty"] { #expect(parts.columns[name] == one.columns[name]) }
        let lines = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        for (k, name) in ["few", "many", "gaps"].enumerated() {
            guard case .numeric(let p)? = parts.columns[name], case .numeric(let o)? = one.columns[name] else {
                Issue.record("\(name) is not numeric"); continue
            }
            let values = lines.compactMap { Double($0[k + 1]) }
            #expect((p.count, p.missing, p.min, p.max, p.sample) == (o.count, o.missing, o.min, o.max, Profiler.sampleLimit))
            // Bins counted exactly on the edges the profile holds (numpy searchsorted, side right).
            let interior = Array(p.edges[1...9])
            var counts = [Int](repeating: 0, count: 10)
            for x in values { counts[interior.filter { $0 <= x }.count] += 1 }
            #expect(p.counts == counts, "\(name)")
            // Another draw, the same distribution: deciles within 2% of the range of one read's.
            for j in 1...9 { #expect(abs(p.edges[j] - o.edges[j]) <= 0.02 * (o.max - o.min), "\(name) edge \(j)") }
        }
    }

    @Test("counted in a reference's bins in two parts: the counts and the out-of-range rows of one read")
    func againstReference() throws {
        let reference = try profile(dir.write("ref.csv", mergeable(rows: 4_000, seed: 3)), parts: false)
        var text = mergeable(rows: 20_000, seed: 4)
        text += "r-x,7,900,-1,a,1,n/a,\n"  // above and below the reference's range
        let path = dir.write("batch.csv", text)
        let one = try profile(path, parts: false, reference: reference)
        let parts = try profile(path, parts: true, reference: reference)
        for name in ["few", "many", "gaps"] {
            guard case .numeric(let p)? = parts.columns[name], case .numeric(let o)? = one.columns[name] else {
                Issue.record("\(name) is not numeric"); continue
            }
            #expect((p.edges, p.counts, p.below, p.above) == (o.edges, o.counts, o.below, o.above), "\(name)")
            #expect(p.above + p.below >= 1)
        }
    }

    /// Columns a merge cannot make exact: a categorical column of more distinct values than a
    /// profile counts (the second half's table overflows), and numbers of many distinct values
    /// that turn to text in the second half.
    func unmergeable(rows: Int) -> String {
        var rng = SplitMix64(seed: 9)
        var s = "id,wide,late\n"
        for i in 0..<rows {
            let late = i == rows - 3 ? "n/a" : String(rng.next() % 100_000)
            s += "r\(i),c\(rng.next() % 3_000),\(late)\n"
        }
        return s
    }

    @Test("where halves cannot merge exactly, the merge refuses and the file is profiled in one read")
    func fallback() throws {
        let text = unmergeable(rows: 12_000)
        let path = dir.write("wide.csv", text)
        #expect(try profile(path, parts: true) == profile(path, parts: false))
        // The refusals themselves, column by column.
        let (first, second) = try halves(text, "wide")
        #expect(!second.accumulators[0].holdsEveryValue && !first.accumulators[1].holdsEveryValue)
        #expect(throws: ProfileBuilder.Unmergeable.self) { try first.accumulators[0].merge(second.accumulators[0]) }
        #expect(throws: ProfileBuilder.Unmergeable.self) { try first.accumulators[1].merge(second.accumulators[1]) }
    }

    @Test("the merged sample: every value when they fit, else the limit of distinct draws in the groups' proportions")
    func mergedSample() {
        var rng = SplitMix64(seed: 5)
        #expect(ColumnAccumulator.mergedSample([1, 2], of: 2, [3], of: 1, limit: 10, rng: &rng) == [1, 2, 3])
        // 30,000 values then 10,000: a quarter of the draws from the second group.
        let a = (0..<10_000).map(Double.init), b = (100_000..<110_000).map(Double.init)
        let s = ColumnAccumulator.mergedSample(a, of: 30_000, b, of: 10_000, limit: 10_000, rng: &rng)
        #expect(s.count == 10_000 && Set(s).count == 10_000)
        #expect(Set(s).isSubset(of: Set(a + b)))
        // Hypergeometric: mean 2,500, standard deviation √(10⁴·¼·¾·(3·10⁴/(4·10⁴ − 1))) ≈ 37.5.
        let second = s.filter { $0 >= 100_000 }.count
        #expect(abs(second - 2_500) <= 5 * 38, "\(second) draws from the second group")
        // A second group smaller than the sample: all of it can be drawn, never more.
        let t = ColumnAccumulator.mergedSample(a, of: 10_000, [7e6, 8e6], of: 2, limit: 10_000, rng: &rng)
        #expect(t.count == 10_000 && Set(t).count == 10_000)
    }
}
