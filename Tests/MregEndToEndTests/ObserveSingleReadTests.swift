import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// `observe` reads its file once: each 1 MiB buffer is checked and profiled by the command while
/// a second thread hashes, compresses and writes it as the rows object (Store/ObjectStore+Tee.swift).
@Suite("Production observe: one read of the batch")
struct ObserveSingleReadTests {
    /// About `n` × 90 bytes of rows: id, time, score, label and four features (one categorical).
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

    @Test("a batch of several read buffers: stored byte for byte (zlib) under the SHA-256 of the file, fsck clean, profile as Profiler's")
    func storedOnce() throws {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        let text = Self.rows(50_000)
        let path = lab.t.write("big.csv", text)
        #expect(text.utf8.count > 3 << 20)
        let r = lab.run(["observe", "fraud@1", "big.csv", "--json"])
        #expect(r.status == 0, "\(r)")
        #expect(r.json["rows"] as? Int == 50_000)
        let registry = try Registry.open(explicit: lab.registry)
        let batch = try #require(try registry.observations(of: try ModelName("fraud")).first)
        #expect(batch.rowsObject == ObjectID.of(Array(text.utf8)))
        #expect(try registry.store.get(batch.rowsObject) == Array(text.utf8))
        let stored = try #require(FileManager.default.contents(atPath: registry.store.path(of: batch.rowsObject)))
        #expect(String(decoding: stored.prefix(40), as: UTF8.self).hasPrefix("MREG1 zlib \(text.utf8.count)\n"))
        #expect(stored.count < text.utf8.count / 2)
        let fsck = lab.run(["fsck"])
        #expect(fsck.status == 0, "\(fsck)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: lab.registry + "/tmp")) ?? []).isEmpty)
        // The profile made in that read is the one Profiler makes of the feature columns.
        let features = try #require(try BatchFeatures(json: try registry.summary(of: batch).features, source: "summary"))
        #expect(features.profile == (try Profiler.profile(path: path, source: "big.csv", format: .csv, exclude: ["id", "time", "score", "label"])))
        #expect(features.profile.columns["merchant"]?.kind == .categorical && features.profile.columns["amount"]?.kind == .numeric)
    }

    @Test("a bad row after the first buffers: exit 2 naming the line, and nothing stored (no object, no temp file)")
    func badRowStoresNothing() {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        lab.t.write("bad.csv", Self.rows(40_000, badScoreAt: 39_000))
        let before = lab.snapshot()
        let r = lab.run(["observe", "fraud@1", "bad.csv"])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("bad.csv: line 39002, column \"score\": 1.5 is outside [0, 1]"), "\(r)")
        #expect(lab.snapshot() == before)
    }

    @Test("an empty file and a header alone: exit 2, nothing stored")
    func emptyStoresNothing() {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        lab.t.write("empty.csv", "")
        lab.t.write("header.csv", "id,time,score\n")
        let before = lab.snapshot()
        let empty = lab.run(["observe", "fraud@1", "empty.csv"])
        #expect(empty.status == 2 && empty.stderr.contains("empty.csv: the file is empty"), "\(empty)")
        let header = lab.run(["observe", "fraud@1", "header.csv"])
        #expect(header.status == 2 && header.stderr.contains("header.csv: a header only"), "\(header)")
        #expect(lab.snapshot() == before)
    }
}
