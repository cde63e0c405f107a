import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// Profiles and drift measures (Monitoring/) against numpy and scipy: Fixtures/monitoring/expected.json,
/// made by scripts/make-monitoring-fixtures.py, must agree to 1e-9 (relative for large values).
@Suite("Monitoring: profiles and drift measures")
struct DriftMeasureTests {
    static let expected: JSON = {
        let data = FileManager.default.contents(atPath: FixturePaths.path("monitoring/expected.json"))!
        return try! JSON.parse(Array(data))
    }()

    static func profile(_ name: String, reference: Profile? = nil) throws -> Profile {
        try Profiler.profile(path: FixturePaths.path("monitoring/\(name)"), source: name, format: .csv, reference: reference)
    }

    static func close(_ a: Double?, _ b: Double?, _ what: String) {
        guard let a, let b else { Issue.record("\(what): missing value (\(String(describing: a)) vs \(String(describing: b)))"); return }
        #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "\(what): mreg \(a), reference \(b)")
    }

    static func numeric(_ p: Profile, _ column: String) throws -> NumericProfile {
        guard case .numeric(let n)? = p.columns[column] else { throw MregError.invalid("\(column) is not numeric") }
        return n
    }

    @Test("the reference profile agrees with numpy (count, missing, min, max, mean, std ddof 0, deciles, counts, percentiles)",
          arguments: ["amount", "age"])
    func referenceProfile(column: String) throws {
        let ref = try Self.numeric(try Self.profile("reference.csv"), column)
        let e = Self.expected["window"]![column]!["reference"]!
        #expect(ref.count == e["count"]!.int!)
        #expect(ref.missing == e["missing"]!.int!)
        for key in ["min", "max", "mean", "std"] {
            let mine = ["min": ref.min, "max": ref.max, "mean": ref.mean, "std": ref.std][key]!
            Self.close(mine, e[key]!.number!, "\(column) \(key)")
        }
        for (i, v) in e["edges"]!.array!.enumerated() { Self.close(ref.edges[i], v.number!, "\(column) edge \(i)") }
        #expect(ref.counts == e["counts"]!.array!.map { $0.int! })
        for (i, v) in e["percentiles"]!.array!.enumerated() { Self.close(ref.percentiles[i], v.number!, "\(column) p\(i)") }
        #expect(ref.sample == ref.count)
    }

    @Test("measures between reference and window agree with numpy and scipy",
          arguments: [("window", "amount"), ("window", "age"), ("same", "amount"), ("same", "age")])
    func numericMeasures(window: String, column: String) throws {
        let refProfile = try Self.profile("reference.csv")
        let winProfile = try Self.profile("\(window).csv", reference: refProfile)
        let r = try Self.numeric(refProfile, column), w = try Self.numeric(winProfile, column)
        let e = Self.expected[window]![column]!
        #expect(w.counts == e["window"]!["counts"]!.array!.map { $0.int! })
        #expect(w.below == e["window"]!["below"]!.int! && w.above == e["window"]!["above"]!.int!)
        Self.close(DriftMeasures.psi(r, w), e["psi"]!.number!, "\(window) \(column) psi")
        Self.close(DriftMeasures.js(.numeric(r), .numeric(w)), e["js"]!.number!, "\(window) \(column) js")
        Self.close(DriftMeasures.ks(r, w), e["ks_binned"]!.number!, "\(window) \(column) ks")
        Self.close(DriftMeasures.wasserstein(r, w), e["wasserstein"]!.number!, "\(window) \(column) wasserstein")
        Self.close(DriftMeasures.missingRate(.numeric(w)), e["missing_rate"]!.number!, "\(window) \(column) missing_rate")
        Self.close(DriftMeasures.outOfRange(r, w), e["out_of_range"]!.number!, "\(window) \(column) out_of_range")
        for a in DriftMeasures.Aggregate.allCases {
            Self.close(DriftMeasures.aggregate(a, w), e[a.rawValue]!.number!, "\(window) \(column) \(a)")
        }
        // The binned KS never exceeds the exact one (it looks at 9 points of the same CDFs).
        #expect(DriftMeasures.ks(r, w)! <= e["ks_exact"]!.number! + 1e-12)
    }

    @Test("exact KS and Wasserstein over raw values agree with scipy", arguments: ["window", "same"])
    func exactMeasures(window: String) throws {
        for column in ["amount", "age"] {
            let a = try Self.column("reference.csv", column), b = try Self.column("\(window).csv", column)
            let e = Self.expected[window]![column]!
            Self.close(DriftMeasures.ks(a, b), e["ks_exact"]!.number!, "\(window) \(column) ks exact")
            Self.close(DriftMeasures.wasserstein(a, b), e["wasserstein_exact"]!.number!, "\(window) \(column) wasserstein exact")
        }
    }

    static func column(_ file: String, _ name: String) throws -> [Double] {
        let text = try String(contentsOfFile: FixturePaths.path("monitoring/\(file)"), encoding: .utf8)
        var lines = text.split(separator: "\n")
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false)
        let i = header.firstIndex(of: Substring(name))!
        return lines.compactMap { Double($0.split(separator: ",", omittingEmptySubsequences: false)[i]) }
    }

    @Test("categorical: top values, js over the reference's values plus other, new_categories", arguments: ["window", "same"])
    func categorical(window: String) throws {
        let refProfile = try Self.profile("reference.csv")
        let winProfile = try Self.profile("\(window).csv", reference: refProfile)
        guard case .categorical(let r)? = refProfile.columns["merchant"], case .categorical(let w)? = winProfile.columns["merchant"] else {
            Issue.record("merchant is not categorical"); return
        }
        let e = Self.expected[window]!["merchant"]!
        #expect(r.top.map(\.value) == e["reference"]!["top"]!.array!.map { $0.array![0].string! })
        #expect(r.top.map(\.count) == e["reference"]!["top"]!.array!.map { $0.array![1].int! })
        #expect(r.complete && r.other == 0)
        Self.close(DriftMeasures.js(.categorical(r), .categorical(w)), e["js"]!.number!, "\(window) merchant js")
        Self.close(DriftMeasures.newCategories(r, w), e["new_categories"]!.number!, "\(window) merchant new_categories")
    }

    @Test("kind detection: numbers are numeric, one word makes a column categorical, all missing is empty")
    func kinds() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/t.csv"
        _ = dir.write("t.csv", "a,b,c,d\n1,2,,x\n2.5,two,,1\n-3e2,3,,2\n")
        let p = try Profiler.profile(path: path, source: "t.csv", format: .csv)
        #expect(p.columns["a"]?.kind == .numeric)
        #expect(p.columns["b"]?.kind == .categorical)
        #expect(p.columns["c"] == .empty(missing: 3))
        guard case .categorical(let b)? = p.columns["b"], case .categorical(let d)? = p.columns["d"] else { Issue.record("kinds"); return }
        // Values read while the column still looked numeric are counted as text too.
        #expect(b.top.map(\.value) == ["2", "3", "two"] && b.count == 3 && b.complete)
        #expect(d.top.count == 3)
        let schema = DriftMeasures.schema(p, Profile(rows: 1, columns: ["a": .categorical(b), "c": .numeric(try Self.numeric(p, "a")), "e": .empty(missing: 1)]))
        #expect(schema.added == ["e"] && schema.missing == ["b", "d"] && schema.changedKind == ["a"])
    }

    @Test("large columns: edges from a bounded sample, counts exact by a second pass, profile JSON round-trips")
    func largeColumn() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/big.csv"
        var text = "x,k\n"
        for i in 0..<50_000 { text += "\(i % 1000),k\(i % 7)\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let p = try Profiler.profile(path: path, source: "big.csv", format: .csv)
        let x = try Self.numeric(p, "x")
        #expect(x.count == 50_000 && x.sample == Profiler.sampleLimit)
        #expect(x.counts.reduce(0, +) == 50_000)
        #expect(x.min == 0 && x.max == 999 && abs(x.mean - 499.5) < 1e-9)
        #expect(abs(x.edges[5] - 500) < 30, "median of the sample near 500: \(x.edges[5])")
        let bytes = p.json.canonicalBytes
        #expect(bytes.count < 20_000)
        #expect(try Profile(json: JSON.parse(bytes), source: "t") == p)
    }

    @Test("PSI, JS and KS on hand-checkable shares")
    func handChecked() {
        #expect(DriftMeasures.psi([0.5, 0.5], [0.5, 0.5]) == 0)
        // (0.9−0.5)·ln(0.9/0.5) + (0.1−0.5)·ln(0.1/0.5)
        #expect(abs(DriftMeasures.psi([0.5, 0.5], [0.9, 0.1]) - (0.4 * log(1.8) + 0.4 * log(5))) < 1e-12)
        // An empty bin takes the epsilon: (1e-4 − 0.5)·ln(1e-4/0.5) + (1 − 0.5)·ln(2)
        #expect(abs(DriftMeasures.psi([0.5, 0.5], [0, 1]) - ((1e-4 - 0.5) * log(1e-4 / 0.5) + 0.5 * log(2))) < 1e-12)
        #expect(abs(DriftMeasures.js([1, 0], [0, 1]) - log(2).squareRoot()) < 1e-12)
        #expect(DriftMeasures.ks([1, 2, 3], [1, 2, 3]) == 0)
        #expect(DriftMeasures.ks([1, 2], [3, 4]) == 1)
        #expect(abs(DriftMeasures.wasserstein([0, 1], [1, 2]) - 1) < 1e-12)
    }
}

/// Batch profiles merged into a window's (Profile+Merge.swift), as the observation log needs.
@Suite("Monitoring: merging batch profiles")
struct ProfileMergeTests {
    @Test("two halves merged: exact counts, bins, mean and std; the same psi, js and ks; close percentiles")
    func halves() throws {
        let dir = TemporaryDirectory()
        let text = try String(contentsOfFile: FixturePaths.path("monitoring/window.csv"), encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        let header = lines.removeFirst()
        let a = dir.write("a.csv", ([header] + lines[..<700]).joined(separator: "\n") + "\n")
        let b = dir.write("b.csv", ([header] + lines[700...]).joined(separator: "\n") + "\n")
        let ref = try DriftMeasureTests.profile("reference.csv")
        let whole = try DriftMeasureTests.profile("window.csv", reference: ref)
        let parts = try [a, b].map { try Profiler.profile(path: $0, source: $0, format: .csv, reference: ref) }
        let merged = try #require(Profile.merged(parts))
        #expect(merged.rows == whole.rows)
        #expect(merged.columns["merchant"] == whole.columns["merchant"])
        for column in ["amount", "age", "flag"] {
            let m = try DriftMeasureTests.numeric(merged, column), w = try DriftMeasureTests.numeric(whole, column)
            let r = try DriftMeasureTests.numeric(ref, column)
            #expect(m.count == w.count && m.missing == w.missing && m.min == w.min && m.max == w.max, "\(column)")
            #expect(m.counts == w.counts && m.below == w.below && m.above == w.above && m.edges == w.edges, "\(column)")
            #expect(abs(m.mean - w.mean) < 1e-9 * max(1, abs(w.mean)) && abs(m.std - w.std) < 1e-9 * max(1, w.std), "\(column)")
            #expect(DriftMeasures.psi(r, m) == DriftMeasures.psi(r, w) && DriftMeasures.ks(r, m) == DriftMeasures.ks(r, w))
            let spread = w.percentile(90) - w.percentile(10)
            for p in [10, 50, 90] {
                #expect(abs(m.percentile(p) - w.percentile(p)) <= 0.05 * spread, "\(column) p\(p): \(m.percentile(p)) vs \(w.percentile(p))")
            }
        }
        #expect(Profile.merged([whole]) == whole && Profile.merged([]) == nil)
    }
}
