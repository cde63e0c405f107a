import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// `Registry.observe` reads its file once (Store/ObjectStore+Tee.swift): the rows object, the
/// summary and what a failed observe leaves behind, checked through the core API.
@Suite("Production observe: the single read, in the core")
struct ObserveTeeTests {
    let t = TemporaryDirectory("mreg-observe-tee")

    func registry() throws -> Registry {
        let r = try Registry.create(at: t.join("reg"))
        t.write("art/w.bin", "weights")
        let m = t.write("m.json", #"{"recall": 0.8}"#)
        _ = try r.register(RegisterRequest(model: try ModelName("fraud"), paths: [t.join("art")], metricsFile: m))
        return r
    }

    /// Names and sizes of every file under the registry.
    func files(_ r: Registry) -> [String: Int] {
        var out: [String: Int] = [:]
        let e = FileManager.default.enumerator(atPath: r.root)
        while let rel = e?.nextObject() as? String {
            out[rel] = ((try? FileManager.default.attributesOfItem(atPath: r.root + "/" + rel))?[.size] as? Int) ?? -1
        }
        return out
    }

    @Test("several read buffers: the rows object is the file byte for byte (zlib, verified on read), summary as a separate read makes it")
    func storedOnce() throws {
        let r = try registry()
        let text = ObserveSingleReadRows.rows(50_000)
        let path = t.write("big.csv", text)
        #expect(text.utf8.count > 3 << 20)
        let result = try r.observe(try VersionRef("fraud@1"), path: path, source: .traffic)
        #expect(!result.duplicate && result.entry.rows == 50_000)
        #expect(result.entry.rowsObject == ObjectID.of(Array(text.utf8)))
        #expect(try r.store.get(result.entry.rowsObject) == Array(text.utf8))
        let stored = try #require(FileManager.default.contents(atPath: r.store.path(of: result.entry.rowsObject)))
        #expect(String(decoding: stored.prefix(40), as: UTF8.self).hasPrefix("MREG1 zlib \(text.utf8.count)\n"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: r.root + "/tmp")) ?? []).isEmpty)
        // The counts and profile are those of a plain read of the file with the same consumers.
        let reader = ObservationReader(source: "s", model: try ModelName("fraud"), defaultVersion: 1, committedVersions: 1, now: .infinity) { _ in 0.5 }
        let features = BatchFeatureProfiler(counter: reader, reference: nil, source: "s")
        _ = try TableReader.read(path: path, source: "s", format: .csv, into: features)
        let summary = try r.summary(of: result.entry)
        #expect(summary.buckets == reader.summary.buckets)
        #expect(try BatchFeatures(json: summary.features, source: "s")?.profile == features.profile(path: path, format: .csv))
        // The same bytes again: a duplicate, nothing new on disk.
        let before = files(r)
        #expect(try r.observe(try VersionRef("fraud@1"), path: path, source: .traffic).duplicate)
        #expect(files(r) == before)
    }

    @Test("a bad row after the first buffers, an empty file, a header alone: invalid input, and no file added", arguments: ["bad", "empty", "header"])
    func failureStoresNothing(kind: String) throws {
        let r = try registry()
        let text = kind == "bad" ? ObserveSingleReadRows.rows(40_000, badScoreAt: 39_000) : kind == "empty" ? "" : "id,time,score\n"
        let path = t.write("\(kind).csv", text)
        let before = files(r)
        do {
            _ = try r.observe(try VersionRef("fraud@1"), path: path, source: .traffic)
            Issue.record("observed")
        } catch let e as MregError {
            #expect(e.kind == .invalidInput)
            let expected = ["bad": "line 39002, column \"score\": 1.5 is outside [0, 1]", "empty": "the file is empty", "header": "a header only"][kind]!
            #expect(e.message.contains(expected), "\(e.message)")
        }
        #expect(files(r) == before)
    }
}

/// Rows of id, time, score, label and four features (one categorical), about 90 bytes each.
enum ObserveSingleReadRows {
    static func rows(_ n: Int, badScoreAt bad: Int? = nil) -> String {
        var s = "id,time,score,label,amount,age,ratio,merchant\n"
        s.reserveCapacity(n * 96)
        for i in 0..<n {
            let score = i == bad ? "1.5" : String(Double((i * 37) % 100) / 100)
            let t = "2026-01-01T\(i % 24 < 10 ? "0" : "")\(i % 24):\((i / 24) % 60 < 10 ? "0" : "")\((i / 24) % 60):00Z"
            s += "row-\(i),\(t),\(score),\(i % 3 == 0 ? 1 : 0),\(Double(i % 9973) / 7),\(20 + i % 61),0.\(i % 1000),m\(i % 7)\n"
        }
        return s
    }
}
