import Foundation
import Testing
import _MregTestSupport

/// kill -9 at random moments while other writers run; the registry must stay valid, every
/// reported success must be durable, and version numbers must stay dense.
/// (`scripts/soak.sh` runs the same loop for longer.)
@Suite("kill -9")
struct KillTests {
    @Test("registers killed at random moments leave a valid, dense registry")
    func killRegisters() throws {
        let t = TemporaryDirectory("mreg-kill")
        #expect(Mreg.run(["init", "reg"], cwd: t.path).status == 0)
        t.write("m.json", #"{"f1": 0.5}"#)
        for i in 0..<6 { t.write("a\(i)/w.bin", randomBytes(2_000_000, seed: UInt64(i))) }
        var generator = SystemRandomNumberGenerator()
        var succeeded: [String: String] = [:]  // NAME@N → id printed
        var killed = 0
        for round in 0..<8 {
            var procs: [(Process, Pipe)] = []
            for i in 0..<6 {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: Mreg.binary)
                p.arguments = ["register", "--registry", t.join("reg"), "fraud", "a\(i)", "--metrics", "m.json"]
                p.currentDirectoryURL = URL(fileURLWithPath: t.path)
                p.environment = ["PATH": "/usr/bin:/bin", "MREG_LOCK_TIMEOUT": "60"]
                let out = Pipe()
                p.standardOutput = out
                p.standardError = FileHandle.nullDevice
                try p.run()
                procs.append((p, out))
            }
            // Kill half of them at a random moment (chaos, not a timing assertion).
            usleep(UInt32.random(in: 0...40_000, using: &generator))
            for (i, (p, _)) in procs.enumerated() where (i + round) % 2 == 0 {
                kill(p.processIdentifier, SIGKILL)
            }
            for (p, out) in procs {
                let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                p.waitUntilExit()
                if p.terminationReason == .uncaughtSignal { killed += 1; continue }
                #expect(p.terminationStatus == 0, "a register that was not killed failed: \(text)")
                let parts = text.split(separator: " ")
                if parts.count == 2 { succeeded[String(parts[0])] = String(parts[1]).trimmingCharacters(in: .whitespacesAndNewlines) }
            }
        }
        #expect(killed > 0)
        let fsck = Mreg.run(["fsck"], cwd: t.path, registry: t.join("reg"))
        #expect(fsck.status == 0, "\(fsck)")
        // Every reported success is there, with the id it printed.
        for (name, id) in succeeded {
            let r = Mreg.run(["resolve", name], cwd: t.path, registry: t.join("reg"))
            #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(name) \(id)", "\(r)")
        }
        // Versions are dense: 1...N all resolve, and the next register takes N+1.
        let list = Mreg.run(["list", "fraud", "--json"], cwd: t.path, registry: t.join("reg"))
        let n = (list.json["versions"] as? [Any])?.count ?? 0
        #expect(n >= succeeded.count)
        let next = Mreg.run(["register", "fraud", "a0", "--metrics", "m.json", "--json"], cwd: t.path, registry: t.join("reg"))
        #expect(next.status == 0, "\(next)")
        #expect(next.json["version"] as? Int == n + 1)
        #expect(Mreg.run(["gc", "--grace", "0"], cwd: t.path, registry: t.join("reg")).status == 0)
        #expect(Mreg.run(["fsck"], cwd: t.path, registry: t.join("reg")).status == 0)
    }
}
