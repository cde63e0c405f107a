import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// The evaluation section of a version record and the API the gates build on: the section reads
/// back as written, a version's predictions load back from the store as they were registered, and
/// two versions' stored predictions give a paired comparison.
@Suite("Evaluation record")
struct EvaluationRecordTests {
    static func register(_ r: Registry, _ t: TemporaryDirectory, _ csv: String, name: String, options: PredictionOptions = .init()) throws -> VersionRecord {
        t.write("art/w.bin", "weights")
        let path = t.write(name, csv)
        let request = RegisterRequest(model: try ModelName("fraud"), paths: [t.join("art")], metricsFile: nil,
                                      predictions: PredictionsRequest(path: path, options: options, beta: 2, resamples: 100,
                                                                      trainWindow: "2026-01-01..2026-02-01"))
        return try r.register(request).record
    }

    static func csv(gain: Double, reversed: Bool = false) -> String {
        var rows: [String] = []
        for i in 0..<400 {
            let y = i % 3 == 0 ? 1 : 0
            let s = min(1, 0.2 + Double(y) * (0.2 + gain) + Double((i * 37) % 100) / 200)
            rows.append("r\(i),\(y),\(s),\(i % 2 == 0 ? "web" : "app")")
        }
        if reversed { rows.reverse() }
        return "id,label,score,channel\n" + rows.joined(separator: "\n") + "\n"
    }

    @Test("the evaluation section reads back as written; predictions load back from the store")
    func roundTrip() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        let record = try Self.register(r, t, Self.csv(gain: 0), name: "a.csv", options: .init(sliceBy: ["channel"]))
        let e = try #require(record.evaluation)
        #expect(try Evaluation(json: e.json, source: "test") == e)
        #expect(try VersionRecord(json: record.json, source: "test") == record)
        #expect(e.trainWindow == .init(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z"))
        #expect(e.bootstrap?.resamples == 100 && e.bootstrap?.seed == Bootstrap.seed(of: e.predictions))
        #expect(record.metrics.evalSet?.sha256 == e.evalSet)
        #expect(record.metrics.values["f2"] != nil && e.computed.contains(#"f2{channel="web"}"#))
        #expect(record.referencedObjects.contains(e.predictions))
        let stored = try r.predictions(of: record)
        let original = try PredictionReader.read(path: t.join("a.csv"), options: .init(sliceBy: ["channel"])).table
        #expect(stored.ids == original.ids && stored.labels == original.labels && stored.scores == original.scores)
        #expect(stored.slices == original.slices)
        #expect(stored.evalSetHash == e.evalSet)
    }

    @Test("a version with reported metrics only has no predictions to load")
    func reportedOnly() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        t.write("art/w.bin", "weights")
        let m = t.write("m.json", #"{"f1": 0.5}"#)
        let record = try r.register(RegisterRequest(model: try ModelName("fraud"), paths: [t.join("art")], metricsFile: m)).record
        #expect(record.evaluation == nil)
        #expect(record.json["evaluation"] == nil)
        do { _ = try r.predictions(of: record); Issue.record("loaded") } catch let e as MregError {
            #expect(e.message == "fraud@1 was registered with reported metrics only")
            #expect(e.kind == .invalidInput)
        }
    }

    @Test("two versions' stored predictions give a paired comparison on the same rows")
    func pairedFromStore() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        let champion = try Self.register(r, t, Self.csv(gain: 0), name: "a.csv", options: .init(sliceBy: ["channel"]))
        let candidate = try Self.register(r, t, Self.csv(gain: 0.1, reversed: true), name: "b.csv", options: .init(sliceBy: ["channel"]))
        #expect(candidate.evaluation!.evalSet == champion.evaluation!.evalSet)
        let c = try PairedBootstrap.compare(metric: "roc_auc", candidate: r.predictions(of: candidate), candidateEvaluation: candidate.evaluation!,
                                            champion: r.predictions(of: champion), championEvaluation: champion.evaluation!,
                                            level: 0.95, resamples: 200)
        #expect(c.candidate == candidate.metrics.values["roc_auc"])
        #expect(c.champion == champion.metrics.values["roc_auc"])
        #expect(c.difference > 0 && c.low > 0 && c.low <= c.difference && c.difference <= c.high, "\(c)")
        #expect(c.seed == PairedBootstrap.pairSeed(candidate.evaluation!.predictions, champion.evaluation!.predictions))
        let s = try PairedBootstrap.compare(metric: #"f1{channel="web"}"#, candidate: r.predictions(of: candidate),
                                            candidateEvaluation: candidate.evaluation!, champion: r.predictions(of: champion),
                                            championEvaluation: champion.evaluation!, level: 0.9, resamples: 50)
        #expect(s.rows == 200 && s.candidate == candidate.metrics.values[#"f1{channel="web"}"#])
    }
}
