import Foundation
import Testing
import _MregTestSupport

/// `mreg observe NAME --labels FILE` keeps register's guarantees: a crash or an I/O error at any
/// system call leaves the labels joined or not at all, and concurrent labels runs lose nothing and
/// join each id once (docs/production.md, "Late labels"; docs/guarantees.md).
@Suite("Late labels safety")
struct LateLabelSafetyTests {
    /// [rows, labelled rows] counted by `perf` over every window.
    static func labelled(_ registry: String, cwd: String) -> [Int] {
        let r = Mreg.run(["perf", "fraud@1", "--json", "--min-labelled", "1"], cwd: cwd, registry: registry)
        let windows = r.json["windows"] as? [[String: Any]] ?? []
        return [windows.reduce(0) { $0 + (($1["rows"] as? Int) ?? 0) }, windows.reduce(0) { $0 + (($1["labelled"] as? Int) ?? 0) }]
    }

    static func copyTree(_ from: String, _ to: String) throws {
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = ["-a", from, to]
        try cp.run(); cp.waitUntilExit()
    }

    @Test("a crash or an I/O error at any step of a labels run leaves the labels joined or nothing; fsck is clean and perf counts what committed",
          arguments: ["open", "write", "fsync", "rename", "link", "read"])
    func faults(kind: String) throws {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        lab.t.write("b0.csv", ProductionObserveTests.rows(10))
        lab.t.write("b1.csv", ProductionObserveTests.rows(10, from: 10, day: 2))
        #expect(lab.run(["observe", "fraud@1", "b0.csv"]).status == 0)
        #expect(lab.run(["observe", "fraud@1", "b1.csv"]).status == 0)
        // A first labels file, so that the join also reads stored labels.
        lab.t.write("l0.csv", "id,label\nr0,1\n")
        #expect(lab.run(["observe", "fraud", "--labels", "l0.csv"]).status == 0)
        // 14 new labels (r1..r14), one for r0 again (duplicate), one for an id never observed.
        lab.t.write("l1.csv", "id,label\n" + (0..<15).map { "r\($0),\($0 % 3 == 0 ? 0 : 1)" }.joined(separator: "\n") + "\nghost,1\n")
        let pristine = lab.registry
        let oldHead = try String(contentsOfFile: pristine + "/models/fraud/OBSERVATIONS", encoding: .utf8)
        #expect(Self.labelled(pristine, cwd: lab.t.path) == [20, 1])
        for action in ["crash", "eio"] {
            var n = 1
            while n < 400 {
                let work = lab.t.join("work-\(kind)-\(action)-\(n)")
                try Self.copyTree(pristine, work)
                defer { try? FileManager.default.removeItem(atPath: work) }
                let r = Mreg.run(["observe", "fraud", "--labels", "l1.csv"], cwd: lab.t.path, env: ["MREG_FAULT": "\(kind):\(n):\(action)"], registry: work)
                let fsck = Mreg.run(["fsck"], cwd: lab.t.path, registry: work)
                #expect(fsck.status == 0, "fsck after \(action) at \(kind) #\(n): \(fsck)")
                let head = (try? String(contentsOfFile: work + "/models/fraud/OBSERVATIONS", encoding: .utf8)) ?? ""
                let committed = head != oldHead
                // perf counts exactly what committed: all 14 new labels or none.
                #expect(Self.labelled(work, cwd: lab.t.path) == [20, committed ? 15 : 1], "\(action) at \(kind) #\(n): committed \(committed)")
                if r.status == 0 {
                    #expect(committed, "\(kind) #\(n): exit 0 but the log did not move")
                    break
                }
                #expect(r.status == (action == "crash" ? 86 : 1), "\(action) at \(kind) #\(n): \(r)")
                // Old or new, and the next labels run joins them exactly once.
                let next = Mreg.run(["observe", "fraud", "--labels", "l1.csv", "--json"], cwd: lab.t.path, registry: work)
                #expect(next.status == 0, "\(next)")
                #expect((next.json["duplicate"] as? Bool) == committed, "\(action) at \(kind) #\(n): \(next)")
                #expect(next.json["seq"] as? Int == 4, "\(next)")
                if !committed {
                    #expect(next.json["labels"] as? [String: Int] == ["matched": 14, "unknown": 1, "duplicate": 1], "\(next)")
                }
                #expect(Self.labelled(work, cwd: lab.t.path) == [20, 15])
                #expect(Mreg.run(["fsck"], cwd: lab.t.path, registry: work).status == 0)
                n += 1
            }
            #expect(n > 1, "the fault at \(kind) was never reached")
            #expect(n < 400, "\(action) at \(kind): the labels run never succeeded")
        }
    }

    @Test("20 concurrent labels runs on distinct and overlapping ids lose nothing and join each id once")
    func concurrentLabels() throws {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        for i in 0..<5 { lab.t.write("b\(i).csv", ProductionObserveTests.rows(20, from: i * 20, day: 1 + i)) }
        for i in 0..<5 { #expect(lab.run(["observe", "fraud@1", "b\(i).csv"]).status == 0) }
        // Files 0-9: five ids each, disjoint (r0..r49). Files 10-19: the same five ids r50..r54
        // (the first to commit joins them, the others count them as duplicates) and four ids of
        // their own (r60..r99); file 19 also names an id never observed.
        for i in 0..<10 {
            lab.t.write("d\(i).csv", "id,label\n" + (0..<5).map { "r\(i * 5 + $0),1" }.joined(separator: "\n") + "\n")
            let own = (0..<4).map { "r\(60 + i * 4 + $0),\($0 % 2)" }
            let shared = (50..<55).map { "r\($0),0" }
            lab.t.write("o\(i).csv", "id,label\n" + (shared + own + (i == 9 ? ["ghost-\(i),1"] : [])).joined(separator: "\n") + "\n")
        }
        let files = (0..<10).map { "d\($0).csv" } + (0..<10).map { "o\($0).csv" }
        let results = ConcurrencyTests.runAll(files.map { ["observe", "fraud", "--labels", $0, "--json"] }, cwd: lab.t.path, registry: lab.registry)
        #expect(results.allSatisfy { $0.0 == 0 }, "\(results.filter { $0.0 != 0 })")
        let reports = results.map { r in (try? JSONSerialization.jsonObject(with: Data(r.1.utf8))) as? [String: Any] ?? [:] }
        #expect(Set(reports.compactMap { $0["seq"] as? Int }) == Set(6...25), "\(results)")
        let counts = reports.compactMap { $0["labels"] as? [String: Int] }
        #expect(counts.count == 20)
        #expect(counts.reduce(0) { $0 + $1["matched"]! } == 50 + 5 + 40)
        #expect(counts.reduce(0) { $0 + $1["duplicate"]! } == 45)
        #expect(counts.reduce(0) { $0 + $1["unknown"]! } == 1)
        // The shared ids were joined by exactly one file.
        #expect(counts.filter { $0["duplicate"] == 0 && $0["matched"] == 9 }.count + counts.filter { $0["matched"] == 5 }.count == 11, "\(counts)")
        let fsck = lab.run(["fsck"])
        #expect(fsck.status == 0 && !fsck.stdout.contains("unreferenced"), "\(fsck)")
        let perf = lab.run(["perf", "fraud@1", "--json", "--min-labelled", "1"])
        let windows = perf.json["windows"] as? [[String: Any]] ?? []
        #expect(windows.reduce(0) { $0 + (($1["rows"] as? Int) ?? 0) } == 100)
        #expect(windows.reduce(0) { $0 + (($1["labelled"] as? Int) ?? 0) } == 95, "\(perf)")
        // Labels all over again: every id labelled before, nothing joined twice.
        lab.t.write("again.csv", "id,label\n" + (0..<100).map { "r\($0),1" }.joined(separator: "\n") + "\n")
        let again = lab.run(["observe", "fraud", "--labels", "again.csv", "--json"])
        #expect(again.json["labels"] as? [String: Int] == ["matched": 5, "unknown": 0, "duplicate": 95], "\(again)")
    }
}
