import Foundation
import Testing
import _MregTestSupport

/// Many processes, one registry directory.
@Suite("Concurrency")
struct ConcurrencyTests {
    /// Starts all commands at once and waits for all; returns exit statuses and stdouts.
    static func runAll(_ commands: [[String]], cwd: String, registry: String, env: [String: String] = [:]) -> [(Int32, String)] {
        var procs: [(Process, Pipe)] = []
        for args in commands {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Mreg.binary)
            p.arguments = [args[0], "--registry", registry] + args.dropFirst()
            p.currentDirectoryURL = URL(fileURLWithPath: cwd)
            var e = ["PATH": "/usr/bin:/bin", "MREG_USER": "tester", "MREG_HOST": "testhost", "MREG_LOCK_TIMEOUT": "60"]
            for (k, v) in env { e[k] = v }
            p.environment = e
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try! p.run()
            procs.append((p, out))
        }
        return procs.map { p, out in
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }
    }

    @Test("50 concurrent registers of one model give versions 1 to 50, none twice, none skipped")
    func concurrentRegisters() throws {
        let t = TemporaryDirectory()
        #expect(Mreg.run(["init", "reg"], cwd: t.path).status == 0)
        t.write("m.json", #"{"f1": 0.5}"#)
        // Half the processes register identical bytes, half distinct ones.
        for i in 0..<50 { t.write("a\(i)/w.bin", i % 2 == 0 ? randomBytes(50_000, seed: 7) : randomBytes(50_000, seed: UInt64(100 + i))) }
        let results = Self.runAll((0..<50).map { ["register", "fraud", "a\($0)", "--metrics", "m.json"] }, cwd: t.path, registry: t.join("reg"))
        #expect(results.allSatisfy { $0.0 == 0 }, "\(results.filter { $0.0 != 0 })")
        let versions = results.compactMap { r -> Int? in
            guard let name = r.1.split(separator: " ").first, let at = name.firstIndex(of: "@") else { return nil }
            return Int(name[name.index(after: at)...])
        }
        #expect(versions.sorted() == Array(1...50))
        let list = Mreg.run(["list", "fraud", "--json"], cwd: t.path, registry: t.join("reg"))
        #expect((list.json["versions"] as? [Any])?.count == 50)
        // 25 registers of one content and 25 distinct: 26 artifact objects.
        let log = Mreg.run(["fsck", "--json"], cwd: t.path, registry: t.join("reg"))
        #expect(log.status == 0, "\(log)")
        let weightObjects = Set((1...50).map { n -> String in
            let show = Mreg.run(["show", "fraud@\(n)", "--json"], cwd: t.path, registry: t.join("reg"))
            let arts = show.json["artifacts"] as? [[String: Any]] ?? []
            return arts.first?["object"] as? String ?? ""
        })
        #expect(weightObjects.count == 26)
    }

    @Test("gc running during a storm of registers removes nothing that is referenced")
    func gcDuringRegisters() throws {
        let t = TemporaryDirectory()
        #expect(Mreg.run(["init", "reg"], cwd: t.path).status == 0)
        t.write("m.json", #"{"f1": 0.5}"#)
        for i in 0..<20 { t.write("a\(i)/w.bin", randomBytes(200_000, seed: UInt64(i))) }
        var commands = (0..<20).map { ["register", "fraud", "a\($0)", "--metrics", "m.json"] }
        for i in stride(from: 2, to: 24, by: 4) { commands.insert(["gc", "--grace", "0"], at: i) }
        let results = Self.runAll(commands, cwd: t.path, registry: t.join("reg"))
        #expect(results.allSatisfy { $0.0 == 0 })
        let fsck = Mreg.run(["fsck"], cwd: t.path, registry: t.join("reg"))
        #expect(fsck.status == 0, "\(fsck)")
        for n in 1...20 {
            let out = t.join("out\(n)")
            #expect(Mreg.run(["fetch", "fraud@\(n)", "--out", out], cwd: t.path, registry: t.join("reg")).status == 0)
        }
    }

    @Test("racing promotions: every champion change names the champion it replaced; fetches see one whole version")
    func promotionStorm() throws {
        let t = TemporaryDirectory()
        #expect(Mreg.run(["init", "reg"], cwd: t.path).status == 0)
        let reg = t.join("reg")
        for v in 1...8 {
            t.write("m\(v).json", "{\"f1\": \(0.70 + Double(v) / 100)}")
            t.write("a\(v)/w.bin", randomBytes(300_000, seed: UInt64(v)))
            t.write("a\(v)/v.txt", "version \(v)\n")
            #expect(Mreg.run(["register", "fraud", "a\(v)", "--metrics", "m\(v).json"], cwd: t.path, registry: "reg").status == 0)
        }
        #expect(Mreg.run(["promote", "fraud@1"], cwd: t.path, registry: "reg").status == 0)
        var commands: [[String]] = []
        for v in 2...8 {
            commands.append(["promote", "fraud@\(v)"])
            commands.append(["fetch", "fraud@production", "--out", t.join("out\(v)")])
        }
        let results = Self.runAll(commands, cwd: t.path, registry: reg)
        for (i, r) in results.enumerated() {
            if commands[i][0] == "promote" {
                #expect([0, 3, 4].contains(r.0), "\(commands[i]): exit \(r.0)")
            } else {
                #expect(r.0 == 0, "\(commands[i]): exit \(r.0)")
            }
        }
        // Each fetch holds exactly one complete version.
        for v in 2...8 {
            let out = t.join("out\(v)")
            let marker = String(decoding: FileManager.default.contents(atPath: out + "/v.txt") ?? Data(), as: UTF8.self)
            let n = Int(marker.dropFirst("version ".count).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            #expect((1...8).contains(n), "fetch \(v) got \(marker)")
            #expect(FileManager.default.contents(atPath: out + "/w.bin") == t.read("a\(n)/w.bin"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["v.txt", "w.bin"])
        }
        // Linearisable: walking production's changes from the oldest, each replaced the one before.
        let log = Mreg.run(["log", "fraud", "--stage", "production", "--json"], cwd: t.path, registry: reg)
        let changes = (log.json["entries"] as? [[String: Any]] ?? []).reversed().filter {
            ["promoted", "overridden", "rolled_back"].contains($0["event"] as? String ?? "")
        }
        var champion: Int? = nil
        for c in changes {
            let details = c["details"] as? [String: Any] ?? [:]
            let replaced = (details["replaced"] as? [String: Any])?["version"] as? Int
            #expect(replaced == champion, "entry \(c["seq"] ?? "?") replaced \(replaced.map(String.init) ?? "none"), the champion was \(champion.map(String.init) ?? "none")")
            champion = details["version"] as? Int
        }
        let resolved = Mreg.run(["resolve", "fraud@production"], cwd: t.path, registry: reg)
        #expect(resolved.stdout.hasPrefix("fraud@\(champion ?? 0) "))
        // Sequence numbers only grow, by one.
        let all = (Mreg.run(["log", "fraud", "--json"], cwd: t.path, registry: reg).json["entries"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int }
        #expect(all == Array((1...all.count).reversed()))
        #expect(Mreg.run(["fsck"], cwd: t.path, registry: reg).status == 0)
    }
}
