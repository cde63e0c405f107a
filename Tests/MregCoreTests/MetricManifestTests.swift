import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// Unit tests of metric manifests (Metrics/MetricManifest.swift): the three accepted shapes in
/// JSON and YAML, and every refusal, whose message must name the file and the key.
@Suite("MetricManifest unit")
struct MetricManifestTests {
    static func parse(_ text: String, path: String = "metrics.json") throws -> MetricSet {
        try MetricManifest.parse(Array(text.utf8), path: path)
    }

    static let hex = "3f9a1c0e" + String(repeating: "0123456789abcdef", count: 3) + "01234567"

    // MARK: - Accepted shapes

    @Test("flat JSON")
    func flat() throws {
        let m = try Self.parse("{\"f1\": 0.87, \"precision\": 0.91, \"rows\": 12000, \"delta\": -0.5, \"tiny\": 1e-7}")
        #expect(m.values == ["f1": 0.87, "precision": 0.91, "rows": 12000, "delta": -0.5, "tiny": 1e-7])
        #expect(m.lowerIsBetter.isEmpty)
        #expect(m.evalSet == nil)
        #expect(m["f1"] == 0.87)
        #expect(m["missing"] == nil)
    }

    @Test("nested objects are flattened with dots")
    func nested() throws {
        let m = try Self.parse("""
            {"test": {"f1": 0.87, "auc": {"roc": 0.9, "pr": 0.6}}, "train": {"f1": 0.99}, "loss": 0.3}
            """)
        #expect(m.values == ["test.f1": 0.87, "test.auc.roc": 0.9, "test.auc.pr": 0.6, "train.f1": 0.99, "loss": 0.3])
    }

    @Test("full form with lower_is_better and eval_set", arguments: [
        hex, "sha256:" + hex, hex.uppercased(), "sha256:" + hex.uppercased(),
    ])
    func fullForm(sha: String) throws {
        let m = try Self.parse("""
            { "metrics": {"f1": 0.871, "latency_p99_ms": 11.2, "test": {"log_loss": 0.2}},
              "lower_is_better": ["latency_p99_ms", "test.log_loss"],
              "eval_set": {"name": "holdout-2026-10", "sha256": "\(sha)"} }
            """)
        #expect(m.values == ["f1": 0.871, "latency_p99_ms": 11.2, "test.log_loss": 0.2])
        #expect(m.lowerIsBetter == ["latency_p99_ms", "test.log_loss"])
        #expect(m.evalSet == EvalSet(name: "holdout-2026-10", sha256: Self.hex))
    }

    @Test("eval_set with only a name or only a hash")
    func evalSetHalves() throws {
        let a = try Self.parse("{\"metrics\": {\"f1\": 1}, \"eval_set\": {\"name\": \"holdout\"}}")
        #expect(a.evalSet == EvalSet(name: "holdout", sha256: nil))
        let b = try Self.parse("{\"metrics\": {\"f1\": 1}, \"eval_set\": {\"sha256\": \"\(Self.hex)\"}}")
        #expect(b.evalSet == EvalSet(name: nil, sha256: Self.hex))
        let c = try Self.parse("{\"metrics\": {\"f1\": 1}, \"lower_is_better\": []}")
        #expect(c.values == ["f1": 1] && c.lowerIsBetter.isEmpty && c.evalSet == nil)
    }

    @Test("YAML equivalents give the same metric sets", arguments: ["metrics.yaml", "metrics.yml", "METRICS.YAML"])
    func yaml(path: String) throws {
        let flat = try Self.parse("f1: 0.87\nprecision: 0.91\nrows: 12000\ndelta: -0.5\ntiny: 1.0e-7\n", path: path)
        #expect(flat == (try Self.parse("{\"f1\": 0.87, \"precision\": 0.91, \"rows\": 12000, \"delta\": -0.5, \"tiny\": 1e-7}")))
        let nested = try Self.parse("""
            test:
              f1: 0.87
              auc:
                roc: 0.9
            train: {f1: 0.99}
            """, path: path)
        #expect(nested.values == ["test.f1": 0.87, "test.auc.roc": 0.9, "train.f1": 0.99])
        let full = try Self.parse("""
            # a comment
            metrics:
              f1: 0.871
              latency_p99_ms: 11.2
            lower_is_better: [latency_p99_ms]
            eval_set:
              name: holdout-2026-10
              sha256: "sha256:\(Self.hex.uppercased())"
            """, path: path)
        #expect(full.values == ["f1": 0.871, "latency_p99_ms": 11.2])
        #expect(full.lowerIsBetter == ["latency_p99_ms"])
        #expect(full.evalSet == EvalSet(name: "holdout-2026-10", sha256: Self.hex))
    }

    @Test("YAML 1.2 core-schema numbers are numbers", arguments: [
        ("1e3", 1000.0), ("1E3", 1000), ("1.0E+3", 1000), ("2.5e-3", 0.0025), ("-1e-3", -0.001), (".5", 0.5),
        ("+0.5", 0.5), ("-.5", -0.5), ("1.", 1), ("12", 12), ("-7", -7), ("0", 0), ("1e-7", 1e-7),
    ])
    func yamlNumbers(text: String, value: Double) throws {
        let m = try Self.parse("f1: \(text)\n", path: "m.yaml")
        #expect(m.values == ["f1": value], "f1: \(text)")
    }

    @Test("text that is not a core-schema float stays text", arguments: ["'-.5'", "\"1e3\"", "1.2.3", "e5", ".", "1e", "1e+", "-.", "v1", "0.5 %"])
    func yamlNotNumbers(text: String) throws {
        let e = #expect(throws: MregError.self, "f1: \(text)") { try Self.parse("f1: \(text)\n", path: "m.yaml") }
        #expect(e?.kind == .invalidInput)
        #expect(e?.message.contains("m.yaml") == true && e?.message.contains("f1") == true, "\(e?.message ?? "")")
    }

    @Test("without an extension the content decides: JSON when it starts with { , YAML otherwise")
    func contentDetection() throws {
        #expect(try Self.parse("  {\"f1\": 0.5}", path: "metrics").values == ["f1": 0.5])
        #expect(try Self.parse("f1: 0.5\n", path: "metrics").values == ["f1": 0.5])
        #expect(try Self.parse("{f1: 0.5}", path: "metrics.yaml").values == ["f1": 0.5])
    }

    @Test("the canonical form written into records reads back to the same set")
    func canonicalRoundTrip() throws {
        let m = try Self.parse("""
            {"metrics": {"f1": 0.871, "test": {"latency": 11.2}, "n": 3}, "lower_is_better": ["test.latency"],
             "eval_set": {"name": "holdout", "sha256": "\(Self.hex)"}}
            """)
        let again = try MetricSet(json: JSON.parse(m.json.canonicalBytes), source: "record")
        #expect(again == m)
        let plain = try Self.parse("{\"a\": 1}")
        #expect(try MetricSet(json: JSON.parse(plain.json.canonicalBytes), source: "record") == plain)
    }

    // MARK: - Refusals

    struct Bad: Sendable, CustomTestStringConvertible {
        var name: String
        var path: String
        var bytes: [UInt8]
        /// Substrings the message must hold besides the file (the key, the reason).
        var mentions: [String]
        var testDescription: String { name }

        init(_ name: String, _ path: String, _ text: String, _ mentions: [String]) {
            self.name = name
            self.path = path
            self.bytes = Array(text.utf8)
            self.mentions = mentions
        }

        init(_ name: String, _ path: String, bytes: [UInt8], _ mentions: [String]) {
            self.name = name
            self.path = path
            self.bytes = bytes
            self.mentions = mentions
        }
    }

    static let bad: [Bad] = [
        // Values that are not finite numbers: the key is named.
        Bad("string metric", "m.json", "{\"f1\": \"0.87\"}", ["\"f1\"", "string"]),
        Bad("boolean metric", "m.json", "{\"ok\": 0.5, \"f1\": true}", ["\"f1\"", "boolean"]),
        Bad("null metric", "m.json", "{\"f1\": null}", ["\"f1\"", "null"]),
        Bad("list metric", "m.json", "{\"f1\": [0.8, 0.9]}", ["\"f1\"", "list"]),
        Bad("nested string metric", "m.json", "{\"test\": {\"f1\": \"high\"}}", ["\"test.f1\"", "string"]),
        Bad("string metric in the full form", "m.json", "{\"metrics\": {\"recall\": \"n/a\"}}", ["\"recall\"", "string"]),
        Bad("NaN in YAML", "m.yaml", "f1: .nan\n", ["\"f1\"", "NaN"]),
        Bad("NaN in YAML, upper case", "m.yaml", "ok: 1\nauc: .NaN\n", ["\"auc\"", "NaN"]),
        Bad("infinity in YAML", "m.yaml", "f1: .inf\n", ["\"f1\"", "infinite"]),
        Bad("negative infinity in YAML", "m.yaml", "loss: -.inf\n", ["\"loss\"", "infinite"]),
        Bad("+.inf in YAML", "m.yaml", "loss: +.Inf\n", ["\"loss\"", "infinite"]),
        Bad("nested NaN in YAML", "m.yaml", "test:\n  f1: .nan\n", ["\"test.f1\"", "NaN"]),
        Bad("1e999 in YAML", "m.yaml", "f1: 1e999\n", ["\"f1\"", "infinite"]),
        Bad("quoted number in YAML", "m.yaml", "f1: '0.5'\n", ["\"f1\"", "string"]),
        Bad("yes in YAML", "m.yaml", "f1: yes\n", ["\"f1\""]),
        Bad("null in YAML", "m.yaml", "f1: ~\n", ["\"f1\"", "null"]),
        Bad("1e999 in JSON", "m.json", "{\"f1\": 1e999}", ["f1"]),
        Bad("-1e999 in JSON", "m.json", "{\"ok\": 1, \"loss\": -1e999}", ["loss"]),
        Bad("NaN in JSON", "m.json", "{\"f1\": NaN}", ["f1"]),
        Bad("Infinity in JSON", "m.json", "{\"f1\": Infinity}", ["f1"]),
        Bad("-Infinity in JSON", "m.json", "{\"loss\": -Infinity}", ["loss"]),
        // Files that hold no metrics at all.
        Bad("empty file", "m.json", "", ["empty"]),
        Bad("whitespace-only file", "m.json", "  \n\t \r\n", ["empty"]),
        Bad("empty YAML file", "m.yaml", "\n\n", ["empty"]),
        Bad("top-level list", "m.json", "[0.87, 0.91]", ["found a list"]),
        Bad("top-level number", "m.json", "0.87", ["found a number"]),
        Bad("top-level YAML list", "m.yaml", "- f1: 0.87\n", ["found a list"]),
        Bad("top-level YAML scalar", "m.yaml", "just text\n", ["found a string"]),
        Bad("empty object", "m.json", "{}", ["no metrics"]),
        Bad("empty metrics in the full form", "m.json", "{\"metrics\": {}}", ["no metrics"]),
        Bad("empty nested object", "m.json", "{\"f1\": 0.5, \"test\": {}}", ["\"test\"", "empty object"]),
        Bad("invalid UTF-8", "m.json", bytes: Array("{\"f1\": 0.5, \"".utf8) + [0xff, 0xfe] + Array("\": 1}".utf8), ["UTF-8"]),
        // The full form's other keys.
        Bad("lower_is_better naming an unknown metric", "m.json",
            "{\"metrics\": {\"f1\": 0.8}, \"lower_is_better\": [\"latency_ms\"]}", ["lower_is_better", "\"latency_ms\""]),
        Bad("lower_is_better not a list", "m.json",
            "{\"metrics\": {\"latency_ms\": 8}, \"lower_is_better\": \"latency_ms\"}", ["lower_is_better", "list"]),
        Bad("lower_is_better holding a number", "m.json",
            "{\"metrics\": {\"latency_ms\": 8}, \"lower_is_better\": [3]}", ["lower_is_better", "number"]),
        Bad("lower_is_better holding an empty name", "m.json",
            "{\"metrics\": {\"latency_ms\": 8}, \"lower_is_better\": [\"\"]}", ["lower_is_better"]),
        Bad("eval_set unknown key", "m.json",
            "{\"metrics\": {\"f1\": 0.8}, \"eval_set\": {\"name\": \"h\", \"path\": \"/data/h.csv\"}}", ["eval_set", "\"path\""]),
        Bad("eval_set hash too short", "m.json",
            "{\"metrics\": {\"f1\": 0.8}, \"eval_set\": {\"sha256\": \"3f9a1c0e\"}}", ["eval_set.sha256", "64 hex"]),
        Bad("eval_set hash too long", "m.json",
            "{\"metrics\": {\"f1\": 0.8}, \"eval_set\": {\"sha256\": \"\(hex)0\"}}", ["eval_set.sha256"]),
        Bad("eval_set hash not hex", "m.json",
            "{\"metrics\": {\"f1\": 0.8}, \"eval_set\": {\"sha256\": \"\(String(hex.dropLast()))g\"}}", ["eval_set.sha256"]),
        Bad("eval_set hash with another algorithm", "m.json",
            "{\"metrics\": {\"f1\": 0.8}, \"eval_set\": {\"sha256\": \"md5:\(hex)\"}}", ["eval_set.sha256"]),
        Bad("eval_set hash a number", "m.json",
            "{\"metrics\": {\"f1\": 0.8}, \"eval_set\": {\"sha256\": 12}}", ["eval_set.sha256"]),
        Bad("eval_set empty", "m.json", "{\"metrics\": {\"f1\": 0.8}, \"eval_set\": {}}", ["eval_set", "name or a sha256"]),
        Bad("eval_set empty name", "m.json", "{\"metrics\": {\"f1\": 0.8}, \"eval_set\": {\"name\": \"\"}}", ["eval_set.name"]),
        Bad("eval_set not an object", "m.json", "{\"metrics\": {\"f1\": 0.8}, \"eval_set\": \"holdout\"}", ["eval_set"]),
        Bad("unknown key beside metrics", "m.json", "{\"metrics\": {\"f1\": 0.8}, \"notes\": \"good run\"}", ["\"notes\"", "metrics"]),
        Bad("a metric beside metrics", "m.json", "{\"metrics\": {\"f1\": 0.8}, \"recall\": 0.7}", ["\"recall\""]),
        Bad("unknown key beside metrics in YAML", "m.yaml", "metrics:\n  f1: 0.8\nowner: alice\n", ["\"owner\""]),
        // Names and duplicates.
        Bad("duplicate key", "m.json", "{\"f1\": 0.8, \"f1\": 0.9}", ["duplicate key \"f1\""]),
        Bad("duplicate key in YAML", "m.yaml", "f1: 0.8\nf1: 0.9\n", ["f1"]),
        Bad("a metric given twice by dots and nesting", "m.json", "{\"test.f1\": 0.8, \"test\": {\"f1\": 0.9}}", ["\"test.f1\"", "twice"]),
        Bad("a metric name with a space", "m.json", "{\"f 1\": 0.8}", ["f 1"]),
        Bad("an empty metric name", "m.json", "{\"\": 0.8}", ["metric name"]),
        Bad("a metric name of 129 characters", "m.json", "{\"\(String(repeating: "m", count: 129))\": 0.8}", ["mmmmmmmm"]),
        Bad("a non-ASCII metric name", "m.json", "{\"précision\": 0.8}", ["pr"]),
        // Syntax.
        Bad("trailing comma", "m.json", "{\"f1\": 0.8,}", ["not valid JSON", "line 1, column 12"]),
        Bad("YAML syntax error", "m.yaml", "f1: [0.8\n", ["not valid YAML"]),
    ]

    @Test("refusals are invalid input naming the file and the key", arguments: bad)
    func refusal(c: Bad) {
        let path = "runs/7/" + c.path
        let error = #expect(throws: MregError.self) { try MetricManifest.parse(c.bytes, path: path) }
        guard let error else { return }
        #expect(error.kind == .invalidInput, "\(error.message)")
        #expect(error.message.contains("metrics file \(path)"), "\(error.message)")
        for m in c.mentions {
            #expect(error.message.contains(m), "\(c.name): \(error.message.debugDescription) should mention \(m.debugDescription)")
        }
        #expect(!error.message.contains("\n"), "one line: \(error.message.debugDescription)")
    }

    @Test("load reads the file and names it when it is missing")
    func load() throws {
        let t = TemporaryDirectory()
        let p = t.write("m.json", "{\"f1\": 0.5}")
        #expect(try MetricManifest.load(path: p).values == ["f1": 0.5])
        let missing = t.join("nope.json")
        let e = #expect(throws: MregError.self) { try MetricManifest.load(path: missing) }
        #expect(e?.kind == .invalidInput)
        #expect(e?.message.contains(missing) == true)
    }
}
