import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

@Suite("Resolving versions")
struct RegistryResolveTests {
    @Test("an id prefix that matches several version records is ambiguous and names them")
    func ambiguous() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        let m = try ModelName("fraud")
        var ids: [ObjectID] = []
        for i in 0..<40 {
            let mf = t.write("m\(i).json", "{\"f1\": \(i)}")
            let a = t.write("a\(i)/w.bin", "w")
            ids.append(try r.register(RegisterRequest(model: m, paths: [(a as NSString).deletingLastPathComponent], metricsFile: mf)).recordID)
        }
        // 40 records over 16 first digits: some digit is shared. (The command line requires 8
        // digits; the resolver itself takes any prefix.)
        let shared = Dictionary(grouping: ids, by: { $0.hex.prefix(1) }).first { $0.value.count > 1 }!
        let error = #expect(throws: MregError.self) { try r.resolve(.id(String(shared.key))) }
        #expect(error?.kind == .invalidInput)
        #expect(error?.message.contains("ambiguous") == true)
        #expect(error?.message.contains("give more hex digits") == true)
        // The full id is never ambiguous, and artifact objects with the prefix do not count.
        #expect(try r.resolve(.id(ids[7].hex)).version == 8)
    }

    @Test("an id prefix names only committed records; a corrupt candidate is an error, not a miss")
    func idCommittedOnly() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        let m = try ModelName("fraud")
        let mf = t.write("m.json", "{\"f1\": 0.5}")
        let a = t.write("a/w.bin", "w")
        let committed = try r.register(RegisterRequest(model: m, paths: [(a as NSString).deletingLastPathComponent], metricsFile: mf)).recordID
        // The record an interrupted register of fraud@2 would leave: a valid record, never indexed.
        guard case .object(var fields) = try JSON.parse(try r.store.get(committed)) else { Issue.record("record is not an object"); return }
        fields["version"] = .number(2)
        let orphan = try r.store.put(JSON.object(fields).canonicalBytes)
        let error = #expect(throws: MregError.self) { try r.resolve(.id(orphan.hex)) }
        #expect(error?.kind == .invalidInput)
        #expect(error?.message.contains("no version record") == true, "\(error?.message ?? "")")
        #expect(try r.resolve(.id(committed.hex)).version == 1)
        // An object sharing the prefix that cannot be a record (it declares more bytes than any
        // record may hold) is skipped, not an error.
        let big = ObjectID(hex: String(committed.hex.prefix(8)) + String(repeating: "0", count: 56))
        try FileManager.default.createDirectory(atPath: r.store.directory(of: big), withIntermediateDirectories: true)
        try Data("MREG1 raw 300000000\n".utf8).write(to: URL(fileURLWithPath: r.store.path(of: big)))
        #expect(try r.resolve(.id(String(committed.hex.prefix(8)))).version == 1)
        // A damaged record is reported as damage (exit 1), not as an unknown id (exit 2).
        let p = r.store.path(of: committed)
        chmod(p, 0o644)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: p))
        bytes[bytes.count - 2] ^= 1
        try bytes.write(to: URL(fileURLWithPath: p))
        let damaged = #expect(throws: MregError.self) { try r.resolve(.id(committed.hex)) }
        #expect(damaged?.kind == .operational, "\(damaged?.message ?? "")")
    }

    @Test("NAME, NAME@N and NAME@STAGE~K resolve through the history")
    func forms() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        let m = try ModelName("fraud")
        for i in 0..<3 {
            let mf = t.write("m\(i).json", "{\"f1\": 0.\(5 + i)}")
            let a = t.write("a\(i)/w.bin", "w\(i)")
            _ = try r.register(RegisterRequest(model: m, paths: [(a as NSString).deletingLastPathComponent], metricsFile: mf))
            _ = try r.promote(.number(m, i + 1), stage: .production)
        }
        #expect(try r.resolve(.latest(m)).version == 3)
        #expect(try r.resolve(.number(m, 2)).version == 2)
        #expect(try r.resolve(.champion(m, .production, back: 0)).version == 3)
        #expect(try r.resolve(.champion(m, .production, back: 2)).version == 1)
        #expect(throws: MregError.self) { try r.resolve(.number(m, 4)) }
        #expect(throws: MregError.self) { try r.resolve(.champion(m, .production, back: 3)) }
    }
}
