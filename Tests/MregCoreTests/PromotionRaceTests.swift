import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// The compare-and-swap of promotion, forced deterministically through a test hook that runs a
/// competing change between a promotion's gate evaluation and its commit.
@Suite("Promotion races")
struct PromotionRaceTests {
    func makeRegistry(_ t: TemporaryDirectory, versions f1s: [Double]) throws -> Registry {
        let r = try Registry.create(at: t.join("reg"))
        for (i, f1) in f1s.enumerated() {
            let m = t.write("m\(i).json", "{\"f1\": \(f1)}")
            let a = t.write("a\(i)/w.bin", randomBytes(100, seed: UInt64(i)))
            _ = try r.register(RegisterRequest(model: ModelName("fraud"), paths: [(a as NSString).deletingLastPathComponent], metricsFile: m))
        }
        return r
    }

    @Test("a promotion whose champion changed after its evaluation loses (exit 4) and changes nothing")
    func championMoved() throws {
        let t = TemporaryDirectory()
        let r = try makeRegistry(t, versions: [0.80, 0.85, 0.90])
        let m = try ModelName("fraud")
        _ = try r.promote(.number(m, 1), stage: .production)
        r.beforePromotionCommit = {
            r.beforePromotionCommit = nil
            _ = try r.promote(.number(m, 3), stage: .production)  // the competitor wins
        }
        let headBefore = try r.head(m)
        let error = #expect(throws: MregError.self) { try r.promote(.number(m, 2), stage: .production) }
        #expect(error?.kind == .conflict)
        #expect(error?.exitCode == 4)
        #expect(error?.message.contains("changed from fraud@1 to fraud@3") == true)
        // Only the competitor's entry was added.
        let (_, head) = try r.headEntry(m)
        #expect(head.state.champions["production"]?.version == 3)
        #expect(head.prev != nil && head.event == .promoted && head.version == 3)
        #expect(try r.entry(head.prev!).seq == (try r.entry(headBefore!).seq))
    }

    @Test("a policy changed between evaluation and commit also loses")
    func policyMoved() throws {
        let t = TemporaryDirectory()
        let r = try makeRegistry(t, versions: [0.80, 0.85])
        let m = try ModelName("fraud")
        _ = try r.promote(.number(m, 1), stage: .production)
        let p = t.write("p.yaml", "stages:\n  production:\n    gates:\n      - f1 > champion + 0.5\n")
        r.beforePromotionCommit = {
            r.beforePromotionCommit = nil
            _ = try r.setPolicy(m, from: p)
        }
        let error = #expect(throws: MregError.self) { try r.promote(.number(m, 2), stage: .production) }
        #expect(error?.kind == .conflict)
        #expect(try r.headEntry(m).entry.state.champions["production"]?.version == 1)
    }

    @Test("a register between evaluation and commit does not make a promotion lose")
    func unrelatedChange() throws {
        let t = TemporaryDirectory()
        let r = try makeRegistry(t, versions: [0.80, 0.85])
        let m = try ModelName("fraud")
        _ = try r.promote(.number(m, 1), stage: .production)
        let mf = t.write("mx.json", "{\"f1\": 0.1}")
        let a = t.write("ax/w.bin", "x")
        r.beforePromotionCommit = {
            r.beforePromotionCommit = nil
            _ = try r.register(RegisterRequest(model: m, paths: [(a as NSString).deletingLastPathComponent], metricsFile: mf))
        }
        let result = try r.promote(.number(m, 2), stage: .production)
        #expect(result.outcome == .promoted)
        #expect(try r.headEntry(m).entry.state.champions["production"]?.version == 2)
    }
}
