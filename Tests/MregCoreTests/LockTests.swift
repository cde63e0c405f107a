import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

@Suite("Lock files")
struct LockTests {
    @Test("a held lock makes a second taker time out with the holder named")
    func timeoutNamesHolder() throws {
        let t = TemporaryDirectory()
        let path = t.join("HEAD.lock")
        let first = try LockFile.acquire(path, timeout: 1)
        defer { first.release() }
        #expect(FileManager.default.fileExists(atPath: path))
        let error = #expect(throws: MregError.self) { _ = try LockFile.acquire(path, timeout: 0.05) }
        #expect(error?.kind == .operational)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("pid \(getpid())") == true)
    }

    @Test("release removes the lock and it can be taken again")
    func releaseAndRetake() throws {
        let t = TemporaryDirectory()
        let path = t.join("x.lock")
        let a = try LockFile.acquire(path, timeout: 1)
        a.release()
        #expect(!FileManager.default.fileExists(atPath: path))
        let b = try LockFile.acquire(path, timeout: 1)
        b.release()
    }

    @Test("a lock left by a dead process on this host is removed and taken over")
    func staleLockRecovered() throws {
        let t = TemporaryDirectory()
        let path = t.join("HEAD.lock")
        // A pid that is not running: a child that has already exited.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        let dead = p.processIdentifier
        let host = Sys.hostname()
        t.write("HEAD.lock", "pid \(dead)\nhost \(host)\nsince 2026-01-01T00:00:00Z\nnonce 1\n")
        var warnings: [String] = []
        Diagnostics.handler = { warnings.append($0) }
        defer { Diagnostics.handler = { _ in } }
        let lock = try LockFile.acquire(path, timeout: 1)
        defer { lock.release() }
        let content = String(decoding: FileManager.default.contents(atPath: path)!, as: UTF8.self)
        #expect(content.contains("pid \(getpid())"))
        #expect(warnings.contains { $0.contains("stale lock") && $0.contains("pid \(dead)") })
        #expect(!FileManager.default.fileExists(atPath: path + ".break"))
    }

    @Test("a lock held by another host is never broken")
    func otherHostLockKept() throws {
        let t = TemporaryDirectory()
        let path = t.join("HEAD.lock")
        t.write("HEAD.lock", "pid 1\nhost some-other-host\nsince 2026-01-01T00:00:00Z\nnonce 1\n")
        let error = #expect(throws: MregError.self) { _ = try LockFile.acquire(path, timeout: 0.05) }
        #expect(error?.message.contains("some-other-host") == true)
        #expect(FileManager.default.fileExists(atPath: path))
    }
}
