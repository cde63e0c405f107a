import Foundation
import Testing
import _MregTestSupport

/// `mreg observe`: batches of production rows and late labels in the observation log
/// (docs/production.md, docs/format.md "Observation log").
@Suite("Production observe")
struct ProductionObserveTests {
    static func rows(_ n: Int, from start: Int = 0, day: Int = 1, version: String? = nil) -> String {
        var s = "id,time,score" + (version == nil ? "" : ",version") + "\n"
        for i in start..<(start + n) {
            let score = Double((i * 37) % 100) / 100
            s += "r\(i),2026-01-\(day < 10 ? "0" : "")\(day)T\((i % 24) < 10 ? "0" : "")\(i % 24):00:00Z,\(score)" + (version.map { "," + $0 } ?? "") + "\n"
        }
        return s
    }

    @Test("a batch is recorded once, with its version, source, rows and time range; gc keeps it")
    func observeBatch() throws {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        lab.t.write("b1.csv", Self.rows(30))
        let r = lab.run(["observe", "fraud@1", "b1.csv", "--source", "canary", "--json"])
        #expect(r.status == 0, "\(r)")
        #expect(r.json["rows"] as? Int == 30)
        #expect(r.json["source"] as? String == "canary")
        #expect(r.json["versions"] as? [Int] == [1])
        #expect((r.json["time"] as? [String: String])?["from"] == "2026-01-01T00:00:00Z")
        #expect((r.json["time"] as? [String: String])?["to"] == "2026-01-01T23:00:00Z")
        #expect(r.json["duplicate"] as? Bool == false)
        let head = try String(contentsOfFile: lab.registry + "/models/fraud/OBSERVATIONS", encoding: .utf8)
        #expect(head == (r.json["entry"] as? String ?? "") + "\n")
        // The same bytes again: nothing added, the log unchanged.
        let before = lab.snapshot()
        let again = lab.run(["observe", "fraud@1", "b1.csv"])
        #expect(again.status == 0 && again.stdout.contains("already observed as batch #1"), "\(again)")
        #expect(lab.snapshot() == before)
        // gc (no grace period) keeps the batch, its summary and the entry; fsck is clean.
        let gc = lab.run(["gc", "--grace", "0", "--json"])
        #expect(gc.status == 0 && gc.json["removed_objects"] as? Int == 0, "\(gc)")
        let fsck = lab.run(["fsck"])
        #expect(fsck.status == 0 && !fsck.stdout.contains("unreferenced"), "\(fsck)")
        #expect(lab.run(["perf", "fraud@1", "--json"]).json["windows"].map { ($0 as? [Any])?.count } == 1)
        // A batch that never committed (the ref put back) is garbage: gc removes its objects.
        let headPath = lab.registry + "/models/fraud/OBSERVATIONS"
        lab.t.write("b2.csv", Self.rows(5, from: 100, day: 3))
        #expect(lab.run(["observe", "fraud@1", "b2.csv"]).status == 0)
        try head.write(toFile: headPath, atomically: true, encoding: .utf8)
        let gc2 = lab.run(["gc", "--grace", "0", "--json"])
        #expect(gc2.status == 0 && gc2.json["removed_objects"] as? Int == 3, "\(gc2)")
        #expect(lab.run(["fsck"]).status == 0)
        let dup = lab.run(["observe", "fraud@1", "b1.csv", "--json"])
        #expect(dup.json["duplicate"] as? Bool == true && dup.json["seq"] as? Int == 1, "\(dup)")
    }

    @Test("late labels join by id; unknown ids are counted and reported; labels given twice count once")
    func lateLabels() throws {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        lab.t.write("b1.csv", Self.rows(10))
        lab.t.write("b2.csv", Self.rows(10, from: 10, day: 2))
        #expect(lab.run(["observe", "fraud@1", "b1.csv"]).status == 0)
        #expect(lab.run(["observe", "fraud@1", "b2.csv"]).status == 0)
        lab.t.write("l1.csv", "id,label\nr1,1\nr15,0\nnope,1\nnever,0\n")
        let r = lab.run(["observe", "fraud", "--labels", "l1.csv", "--json"])
        #expect(r.status == 0, "\(r)")
        let labels = r.json["labels"] as? [String: Int]
        #expect(labels == ["matched": 2, "unknown": 2, "duplicate": 0], "\(r)")
        #expect(r.stderr.contains("2 labels name ids never observed"), "\(r)")
        lab.t.write("l2.csv", "id,label\nr1,0\nr2,1\n")
        let r2 = lab.run(["observe", "fraud", "--labels", "l2.csv", "--json"])
        #expect(r2.json["labels"] as? [String: Int] == ["matched": 1, "unknown": 0, "duplicate": 1], "\(r2)")
        #expect(r2.json["seq"] as? Int == 4)
    }

    @Test("rows naming their own version are counted per version")
    func versionColumn() throws {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        lab.register(#"{"f1": 0.6}"#)
        lab.t.write("ab.csv", "id,time,score,version\na,2026-01-01T00:00:00Z,0.9,1\nb,2026-01-01T00:00:00Z,0.9,fraud@2\nc,2026-01-01T00:00:00Z,0.1,\n")
        let r = lab.run(["observe", "fraud@2", "ab.csv", "--source", "ab", "--json"])
        #expect(r.status == 0, "\(r)")
        #expect(r.json["versions"] as? [Int] == [1, 2])
        #expect(r.json["served_by"] as? Int == 2)
    }

    static let corpus: [(String, String, String)] = {
        let text = (try? String(contentsOfFile: FixturePaths.path("bad/README.md"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let c = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard c.count == 3, c[1].hasPrefix("observe") else { return nil }
            return (c[0], c[1], c[2])
        }
    }()

    @Test("every bad observation in Fixtures/bad is refused: exit 2, one line naming file and reason, nothing changed")
    func badCorpus() throws {
        #expect(Self.corpus.count == 9)
        let files = try FileManager.default.contentsOfDirectory(atPath: FixturePaths.path("bad/observations"))
        #expect(Set(files.map { "observations/" + $0 }) == Set(Self.corpus.map(\.0)))
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        for (file, how, expected) in Self.corpus {
            let path = FixturePaths.path("bad/" + file)
            let before = lab.snapshot()
            let args = how == "observe" ? ["observe", "fraud@1", path] : ["observe", "fraud", "--labels", path]
            let r = lab.run(args, env: ["MREG_TIME": "2026-06-01T00:00:00Z"])
            #expect(r.status == 2, "\(file): \(r)")
            #expect(r.stderr.hasPrefix("mreg: error: ") && r.stderr.contains(file) && r.stderr.contains(expected), "\(file): \(r)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(file): \(r)")
            #expect(lab.snapshot() == before, "\(file) changed the registry")
        }
        // A version that does not exist, as the REF.
        lab.t.write("ok.csv", Self.rows(3))
        let r = lab.run(["observe", "fraud@9", "ok.csv"])
        #expect(r.status == 2 && r.stderr.contains("unknown version fraud@9"), "\(r)")
        let both = lab.run(["observe", "fraud@1", "ok.csv", "--labels", "ok.csv"])
        #expect(both.status == 2 && both.stderr.contains("not both"), "\(both)")
        let colLabels = lab.run(["observe", "fraud", "--labels", "ok.csv", "--col", "id=tx"])
        #expect(colLabels.status == 2 && colLabels.stderr.contains("--col applies to observed rows"), "\(colLabels)")
        let renamed = lab.t.write("renamed.csv", "tx,when,p\na,2026-01-01T00:00:00Z,0.3\n")
        let cols = lab.run(["observe", "fraud@1", renamed, "--col", "id=tx", "--col", "time=when", "--col", "score=p", "--json"])
        #expect(cols.status == 0 && (cols.json["columns"] as? [String: String]) == ["id": "tx", "time": "when", "score": "p"], "\(cols)")
        let unknownModel = lab.run(["observe", "churn", "--labels", "ok.csv"])
        #expect(unknownModel.status == 2 && unknownModel.stderr.contains("unknown model"), "\(unknownModel)")
    }

    @Test("20 concurrent observers lose nothing")
    func concurrentObservers() throws {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        for i in 0..<20 { lab.t.write("c\(i).csv", Self.rows(5, from: i * 5, day: 1 + i)) }
        let results = ConcurrencyTests.runAll((0..<20).map { ["observe", "fraud@1", "c\($0).csv"] }, cwd: lab.t.path, registry: lab.registry)
        #expect(results.allSatisfy { $0.0 == 0 }, "\(results)")
        let seqs = Set(results.compactMap { r in r.1.split(separator: "#").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) } })
        #expect(seqs == Set(1...20), "\(results)")
        lab.t.write("all.csv", "id,label\n" + (0..<100).map { "r\($0),1" }.joined(separator: "\n") + "\n")
        let l = lab.run(["observe", "fraud", "--labels", "all.csv", "--json"])
        #expect(l.json["labels"] as? [String: Int] == ["matched": 100, "unknown": 0, "duplicate": 0], "\(l)")
        #expect(lab.run(["fsck"]).status == 0)
    }

    @Test("a crash or an I/O error at any step of observe leaves the batch or nothing", arguments: ["open", "write", "fsync", "rename", "link"])
    func faults(kind: String) throws {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        lab.t.write("b0.csv", Self.rows(4))
        lab.t.write("b1.csv", Self.rows(6, from: 4, day: 2))
        #expect(lab.run(["observe", "fraud@1", "b0.csv"]).status == 0)
        let pristine = lab.registry
        let oldHead = try String(contentsOfFile: pristine + "/models/fraud/OBSERVATIONS", encoding: .utf8)
        for action in ["crash", "eio"] {
            var n = 1
            while n < 100 {
                let work = lab.t.join("work-\(kind)-\(action)-\(n)")
                let cp = Process()
                cp.executableURL = URL(fileURLWithPath: "/bin/cp")
                cp.arguments = ["-a", pristine, work]
                try cp.run(); cp.waitUntilExit()
                let r = Mreg.run(["observe", "fraud@1", "b1.csv"], cwd: lab.t.path, env: ["MREG_FAULT": "\(kind):\(n):\(action)"], registry: work)
                #expect(Mreg.run(["fsck"], cwd: lab.t.path, registry: work).status == 0, "fsck after \(action) at \(kind) #\(n)")
                let head = (try? String(contentsOfFile: work + "/models/fraud/OBSERVATIONS", encoding: .utf8)) ?? ""
                if r.status == 0 {
                    #expect(head != oldHead)
                    try? FileManager.default.removeItem(atPath: work)
                    break
                }
                #expect(r.status == (action == "crash" ? 86 : 1), "\(action) at \(kind) #\(n): \(r)")
                // Old or new, and the next observe records it exactly once.
                let next = Mreg.run(["observe", "fraud@1", "b1.csv", "--json"], cwd: lab.t.path, registry: work)
                #expect(next.status == 0, "\(next)")
                let seq = next.json["seq"] as? Int
                #expect(seq == 2, "\(next)")
                #expect((head == oldHead) == (next.json["duplicate"] as? Bool == false), "\(kind) #\(n): \(next)")
                try? FileManager.default.removeItem(atPath: work)
                n += 1
            }
            #expect(n > 1, "the fault at \(kind) was never reached")
        }
    }
}
