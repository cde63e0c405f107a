import Foundation
import Testing
import _MregTestSupport

/// `register --predictions` through the built binary: metrics computed and equal to
/// scikit-learn's, intervals recorded, the file stored as a referenced object (gc keeps it, fsck
/// checks it), reported and computed metrics kept apart, and the evaluation set derived from the
/// rows so that versions scored on other rows do not compare.
@Suite("Predictions")
struct PredictionsTests {
    static func expected(_ name: String) -> [String: Double] {
        let data = FileManager.default.contents(atPath: FixturePaths.path("evaluation/expected.json"))!
        let doc = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return ((doc["cases"] as! [String: Any])[name] as! [String: Any])["metrics"] as! [String: Double]
    }

    static func metrics(_ show: CommandResult) -> [String: Double] {
        ((show.json["metrics"] as? [String: Any])?["metrics"] as? [String: Double]) ?? [:]
    }

    static func evaluation(_ show: CommandResult) -> [String: Any] { show.json["evaluation"] as? [String: Any] ?? [:] }

    /// A binary table of n rows: ids r0…, labels from a fixed pattern, scores shifted by `gain`
    /// towards the truth.
    static func table(_ n: Int, gain: Double = 0, seed: UInt64 = 1, extra: String = "") -> String {
        var x = seed
        func next() -> Double { x = x &* 6364136223846793005 &+ 1442695040888963407; return Double(x >> 11) / Double(1 << 53) }
        var lines = ["id,label,score" + (extra.isEmpty ? "" : "," + extra)]
        for i in 0..<n {
            let y = (i * 7 + i / 3) % 10 < 3 ? 1 : 0
            let s = min(1, max(0, 0.15 + Double(y) * (0.25 + gain) + next() * 0.5))
            lines.append("r\(i),\(y),\(s)" + (extra.isEmpty ? "" : ",\(["new", "old", "web"][i % 3])"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("metrics computed from predictions equal scikit-learn's, with intervals, and the file is kept")
    func registerFromPredictions() throws {
        let lab = Lab()
        lab.t.write("art/w.bin", "weights")
        let path = FixturePaths.path("evaluation/cases/binary_medium.csv")
        let r = lab.run(["register", "fraud", "art", "--predictions", path, "--bootstrap", "200", "--json"])
        #expect(r.status == 0, "\(r)")
        let show = lab.run(["show", "fraud@1", "--json"])
        let metrics = Self.metrics(show)
        for (name, value) in Self.expected("binary_medium") {
            #expect(abs((metrics[name] ?? .nan) - value) <= 1e-9, "\(name): \(metrics[name] ?? .nan) vs \(value)")
        }
        let e = Self.evaluation(show)
        #expect(e["task"] as? String == "binary")
        #expect(e["rows"] as? Int == 5000)
        #expect(e["threshold"] as? Double == 0.5)
        let intervals = e["intervals"] as? [String: [Double]] ?? [:]
        let f1 = try #require(intervals["f1"])
        #expect(f1[0] < metrics["f1"]! && metrics["f1"]! < f1[1])
        let bootstrap = e["bootstrap"] as? [String: Any] ?? [:]
        #expect(bootstrap["resamples"] as? Int == 200)
        #expect(bootstrap["method"] as? String == "percentile")
        // The evaluation set is the rows', also in the metrics.
        let evalSet = try #require(e["eval_set"] as? String)
        #expect(((show.json["metrics"] as? [String: Any])?["eval_set"] as? [String: Any])?["sha256"] as? String == evalSet)
        #expect(((show.json["metrics"] as? [String: Any])?["lower_is_better"] as? [String]) == ["brier", "log_loss"])
        // The predictions are an object of the registry; gc keeps them and fsck checks them.
        let object = try #require(e["predictions"] as? String)
        let hex = String(object.dropFirst("sha256:".count))
        let objectPath = lab.registry + "/objects/" + hex.prefix(2) + "/" + hex.dropFirst(2)
        #expect(FileManager.default.fileExists(atPath: objectPath))
        #expect(lab.run(["gc"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: objectPath))
        #expect(lab.run(["fsck"]).status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: objectPath)
        try FileManager.default.removeItem(atPath: objectPath)
        let fsck = lab.run(["fsck"])
        #expect(fsck.status != 0)
        #expect((fsck.stdout + fsck.stderr).contains("fraud@1 predictions"), "\(fsck)")
    }

    @Test("reported and computed metrics are kept apart; the same name in both is an error")
    func reportedAndComputed() {
        let lab = Lab()
        lab.t.write("art/w.bin", "weights")
        lab.t.write("p.csv", Self.table(200))
        lab.t.write("extra.json", #"{"latency_ms": 12}"#)
        lab.t.write("clash.json", #"{"f1": 0.99}"#)
        let before = lab.snapshot()
        let clash = lab.run(["register", "fraud", "art", "--predictions", "p.csv", "--metrics", "clash.json"])
        #expect(clash.status == 2)
        #expect(clash.stderr.contains("metric \"f1\" is both in the metrics file clash.json and computed"), "\(clash)")
        #expect(lab.snapshot() == before)
        let ok = lab.run(["register", "fraud", "art", "--predictions", "p.csv", "--metrics", "extra.json", "--bootstrap", "0"])
        #expect(ok.status == 0, "\(ok)")
        let show = lab.run(["show", "fraud@1", "--json"])
        #expect(Self.metrics(show)["latency_ms"] == 12)
        #expect(Self.metrics(show)["f1"] != nil)
        let computed = Self.evaluation(show)["computed"] as? [String] ?? []
        #expect(computed.contains("f1") && !computed.contains("latency_ms"))
        #expect(Self.evaluation(show)["bootstrap"] == nil)
        #expect((Self.evaluation(show)["intervals"] as? [String: Any])?.isEmpty == true)
    }

    @Test("the evaluation set comes from the rows: other rows do not compare, the same rows in another order do")
    func evalSetFromRows() {
        let lab = Lab()
        lab.t.write("art/w.bin", "weights")
        lab.t.write("a.csv", Self.table(300, seed: 1))
        lab.t.write("b.csv", Self.table(301, seed: 1))
        var lines = Self.table(300, gain: 0.1, seed: 2).split(separator: "\n").map(String.init)
        lines = [lines[0]] + lines.dropFirst().reversed()
        lab.t.write("c.csv", lines.joined(separator: "\n") + "\n")
        for f in ["a.csv", "b.csv", "c.csv"] {
            #expect(lab.run(["register", "fraud", "art", "--predictions", f, "--bootstrap", "0"]).status == 0)
        }
        #expect(lab.policy("stages:\n  production:\n    gates:\n      - f1 >= champion - 1\n").status == 0)
        #expect(lab.run(["promote", "fraud@1"]).status == 0)
        let other = lab.run(["promote", "fraud@2", "--json"])
        #expect(other.status == 3, "\(other)")
        #expect(other.stdout.contains("evaluation sets differ"), "\(other)")
        let same = lab.run(["promote", "fraud@3"])
        #expect(same.status == 0, "\(same)")
    }

    @Test("slices, JSON Lines, time range, training window, importance, abstention and beta")
    func options() throws {
        let lab = Lab()
        lab.t.write("art/w.bin", "weights")
        lab.t.write("p.csv", Self.table(300, extra: "merchant"))
        lab.t.write("imp.csv", "feature,importance\namount,0.5\nhour,0.25\n")
        let r = lab.run(["register", "fraud", "art", "--predictions", "p.csv", "--slice-by", "merchant", "--beta", "2",
                         "--abstain", "0.4:0.6", "--threshold", "0.45", "--bootstrap", "50", "--train-window", "2026-01-01..2026-06-30T12:00:00Z",
                         "--importance", "imp.csv"])
        #expect(r.status == 0, "\(r)")
        let show = lab.run(["show", "fraud@1", "--json"])
        let m = Self.metrics(show)
        #expect(m[#"recall{merchant="new"}"#] != nil)
        #expect(m[#"n{merchant="web"}"#] == 100)
        #expect(m["f2"] != nil && m["coverage"] != nil)
        let e = Self.evaluation(show)
        #expect(e["abstain"] as? [Double] == [0.4, 0.6])
        #expect(e["threshold"] as? Double == 0.45)
        #expect(e["slice_by"] as? [String] == ["merchant"])
        #expect((e["train_window"] as? [String: String]) == ["from": "2026-01-01T00:00:00Z", "to": "2026-06-30T12:00:00Z"])
        #expect((e["importance"] as? [String: Double]) == ["amount": 0.5, "hour": 0.25])
        #expect((e["intervals"] as? [String: Any])?[#"f1{merchant="old"}"#] != nil)

        lab.t.write("p.jsonl", """
            {"id": "a", "label": true, "score": 0.8, "time": "2026-10-02T00:00:00Z"}
            {"id": "b", "label": false, "score": 0.1, "time": 1790812800}
            {"id": "c", "label": 1, "score": 0.4, "time": "2026-10-03T06:00:00+02:00"}

            """)
        let j = lab.run(["register", "fraud", "art", "--predictions", "p.jsonl"])
        #expect(j.status == 0, "\(j)")
        let e2 = Self.evaluation(lab.run(["show", "fraud@2", "--json"]))
        #expect(e2["format"] as? String == "jsonl")
        #expect((e2["time_range"] as? [String: String]) == ["from": "2026-10-01T00:00:00Z", "to": "2026-10-03T04:00:00Z"])
        #expect((e2["undefined"] as? [String: String]) == nil || (e2["undefined"] as? [String: String])?.isEmpty == true)

        // Regression with an interval; a binary option on it is refused.
        lab.t.write("r.csv", "id,label,prediction,lower,upper\na,1.5,1.4,1,2\nb,2.5,2.9,2,3\nc,4,3.5,4.1,4.5\n")
        #expect(lab.run(["register", "price", "art", "--predictions", "r.csv", "--bootstrap", "0"]).status == 0)
        let rm = Self.metrics(lab.run(["show", "price@1", "--json"]))
        #expect(rm["coverage"] == 2.0 / 3 && rm["mae"] != nil && rm["r2"] != nil)
        let t = lab.run(["register", "price", "art", "--predictions", "r.csv", "--threshold", "0.3"])
        #expect(t.status == 2 && t.stderr.contains("--threshold applies to a binary task"), "\(t)")
    }

    @Test("options without --predictions, and neither --metrics nor --predictions, are refused; help tells")
    func usage() {
        let lab = Lab()
        lab.t.write("art/w.bin", "weights")
        let none = lab.run(["register", "fraud", "art"])
        #expect(none.status == 2 && none.stderr.contains("give --metrics FILE or --predictions FILE"), "\(none)")
        lab.t.write("m.json", #"{"f1": 0.5}"#)
        let stray = lab.run(["register", "fraud", "art", "--metrics", "m.json", "--beta", "2"])
        #expect(stray.status == 2 && stray.stderr.contains("--beta needs --predictions FILE"), "\(stray)")
        let help = lab.run(["register", "--help"])
        for flag in ["--predictions", "--col", "--abstain", "--slice-by", "--bootstrap", "--train-window", "--importance"] {
            #expect(help.stdout.contains(flag), "\(flag)")
        }
    }
}

extension PredictionsTests {
    @Test("a slice value that cannot be part of a metric name is refused before anything is computed")
    func sliceValueWithSpace() {
        let lab = Lab()
        lab.t.write("art/w.bin", "weights")
        lab.t.write("p.csv", "id,label,score,city\na,0,0.2,Paris\nb,1,0.9,New York\n")
        let before = lab.snapshot()
        let r = lab.run(["register", "fraud", "art", "--predictions", "p.csv", "--slice-by", "city"])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("--slice-by city: the value \"New York\" cannot be part of a metric name"), "\(r)")
        #expect(lab.snapshot() == before)
    }
}
