import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

@Suite("Integrity (core)")
struct IntegrityCoreTests {
    /// A registry with fraud@1 (a 10,000-byte file) and fraud@2 (a 5,000-byte file).
    func make(_ t: TemporaryDirectory) throws -> Registry {
        let reg = try Registry.create(at: t.join("reg"))
        t.write("m.json", #"{"f1": 0.8}"#)
        t.write("big/f.bin", randomBytes(10_000, seed: 1))
        t.write("small/f.bin", randomBytes(5_000, seed: 2))
        for dir in ["big", "small"] {
            _ = try reg.register(RegisterRequest(model: try ModelName("fraud"), paths: [t.join(dir)], metricsFile: t.join("m.json")))
        }
        return reg
    }

    @Test("fsck reports a record whose artifact size differs from its object's (a 5,000-byte file stored as a 10,000-byte object)")
    func artifactSizeMismatch() throws {
        let t = TemporaryDirectory()
        let reg = try make(t)
        let m = try ModelName("fraud")
        let big = try reg.record(of: try reg.resolve(.number(m, 1)))
        var forged = try reg.record(of: try reg.resolve(.number(m, 2)))
        // What a stat cache pointed at the wrong object used to produce: the file's size, another object.
        forged.version = 3
        forged.artifacts[0].object = big.artifacts[0].object
        let id = try reg.store.put(forged.json.canonicalBytes)
        try Registry.writeFileAtomically(reg.versionIndexPath(m, 3), Array("\(id)\n".utf8), tmpDir: reg.tmpDir)
        try reg.append(m) { _, head in
            var state = head!.state
            state.versions = 3
            return (.registered, ["version": .number(3), "record": .string(id.description)], state)
        }
        let report = try reg.fsck()
        #expect(report.problems.contains { $0.contains("fraud@3 artifact \"f.bin\": the record says 5000 bytes, object \(big.artifacts[0].object) holds 10000") },
                "\(report.problems)")
        #expect(report.problems.count == 1, "\(report.problems)")
    }

    @Test("the stat cache does not return an object whose header declares another size than the file's")
    func statCacheChecksSize() throws {
        let t = TemporaryDirectory()
        let reg = try make(t)
        let m = try ModelName("fraud")
        let big = try reg.record(of: try reg.resolve(.number(m, 1))).artifacts[0].object
        let small = try reg.record(of: try reg.resolve(.number(m, 2))).artifacts[0].object
        let st = Sys.linkStatus(t.join("small/f.bin"))!
        let cache = StatCache(registryRoot: reg.root)
        cache.record(st, big)
        cache.setRecordedForTesting(st, at: Int(Clock.now()) + 60)
        #expect(cache.lookup(st) == big)
        #expect(cache.lookup(st, in: reg.store) == nil)
        cache.record(st, small)
        cache.setRecordedForTesting(st, at: Int(Clock.now()) + 60)
        #expect(cache.lookup(st, in: reg.store) == small)
    }

    @Test("a process that holds the registry lock shared takes it again while a gc waits (no deadlock on the turnstile)")
    func sharedReentryPassesWaitingGC() throws {
        let t = TemporaryDirectory()
        let reg = try make(t)
        let outer = try RegistryLock.shared(reg.root)
        // A gc waiting for the lock holds the turnstile exclusively.
        let fd = open(reg.root + "/gc.turnstile", O_RDWR)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let started = Clock.now()
        let inner = try RegistryLock.shared(reg.root)
        #expect(Clock.now() - started < 1)
        withExtendedLifetime((outer, inner)) {}
    }

    @Test("numeric environment values: strict decimals only")
    func decimals() {
        #expect(Environment.decimal("10") == 10)
        #expect(Environment.decimal("2.5") == 2.5)
        for bad in ["nan", "inf", "-1", "+1", "1e3", "0x10", " 5", "5 ", "1.", ".5", "", "1.2.3", "１"] {
            #expect(Environment.decimal(bad) == nil, "\(bad)")
        }
    }
}
