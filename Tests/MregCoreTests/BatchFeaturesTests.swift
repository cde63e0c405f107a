import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// The feature profile `observe` makes in the same read as its counts (Monitoring/BatchFeatures.swift).
@Suite("Monitoring: batch feature profiles")
struct BatchFeaturesTests {
    let dir = TemporaryDirectory("mreg-batch-features")

    /// `rows` production rows: roles id, time, score, label (renamed `y` with --col), and the
    /// features amount, merchant and, when `extra`, a numeric column the reference lacks.
    func batch(rows: Int, extra: Bool) -> String {
        var feed = SyntheticFeed(seed: 99)
        let lines = feed.csv(rows: rows).split(separator: "\n").dropFirst()
        var s = "id,time,score,y,amount,age,merchant" + (extra ? ",latency" : "") + "\n"
        for (i, l) in lines.enumerated() {
            s += "r\(i),2026-01-01T00:00:00Z,0.5,\(i % 2),\(l)" + (extra ? ",\(Double(i % 977) / 7)" : "") + "\n"
        }
        return s
    }

    func read(_ path: String, reference: Profile?) throws -> (Profile?, ObservationReader) {
        let reader = ObservationReader(source: "batch", model: try ModelName("fraud"), defaultVersion: 1, committedVersions: 1,
                                       overrides: ["label": "y"], now: .infinity) { _ in 0.5 }
        let features = BatchFeatureProfiler(counter: reader, reference: reference, source: "batch")
        _ = try TableReader.read(path: path, source: "batch", format: .csv, into: features)
        return (try features.profile(path: path, format: .csv), reader)
    }

    @Test("the profile made while observing equals Profiler.profile of the feature columns against the same reference, second pass included")
    func sameAsProfiler() throws {
        var feed = SyntheticFeed(seed: 7)
        let reference = try Profiler.profile(path: dir.write("ref.csv", feed.csv(rows: 3000)), source: "ref", format: .csv)
        let path = dir.write("b.csv", batch(rows: 12_000, extra: true))
        let (profile, reader) = try read(path, reference: reference)
        let expected = try Profiler.profile(path: path, source: "batch", format: .csv, reference: reference, exclude: ["id", "time", "score", "y"])
        #expect(profile == expected)
        #expect(profile?.columns.keys.sorted() == ["age", "amount", "latency", "merchant"])
        // Counted in the reference's bins; latency, which the reference lacks, on its own (exact, second pass).
        guard case .numeric(let amount)? = profile?.columns["amount"], case .numeric(let r)? = reference.columns["amount"],
              case .numeric(let latency)? = profile?.columns["latency"] else { Issue.record("not numeric"); return }
        #expect(amount.edges == r.edges && amount.counts.reduce(0, +) == 12_000)
        #expect(latency.counts.reduce(0, +) == 12_000 && latency.sample == Profiler.sampleLimit)
        // The counts are observe's as before.
        #expect(reader.rows == 12_000 && reader.summary.counts(version: 1).labelled == 12_000)
    }

    @Test("features JSON: round trip, absent for summaries written before profiles, a bad reference id is corruption")
    func json() throws {
        var feed = SyntheticFeed(seed: 3)
        let p = try Profiler.profile(path: dir.write("p.csv", feed.csv(rows: 50)), source: "p", format: .csv)
        let f = BatchFeatures(version: 2, reference: ObjectID.of(Array("x".utf8)), profile: p)
        #expect(try BatchFeatures(json: f.json, source: "s") == f)
        #expect(try BatchFeatures(json: nil, source: "s") == nil)
        var bad = f.json.object!
        bad["reference"] = .string("sha256:nothex")
        #expect(throws: MregError.self) { try BatchFeatures(json: .object(bad), source: "s") }
    }
}
