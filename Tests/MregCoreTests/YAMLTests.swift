import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// The one YAML reader (Format/YAML.swift, Format/YAMLEvents.swift): YAML 1.2 core-schema
/// scalars, anchors and aliases refused before expansion, and errors in mreg's words.
@Suite("YAML reader")
struct YAMLTests {
    static func value(_ scalar: String) throws -> JSON {
        try YAML.parse("v: \(scalar)\n", source: "t.yaml")["v"] ?? .null
    }

    static func error(_ text: String, source: String = "metrics file m.yaml") -> String {
        do {
            _ = try YAML.parse(text, source: source)
            return "(accepted)"
        } catch let e as MregError {
            return e.message
        } catch {
            return "\(error)"
        }
    }

    // MARK: - The core schema (YAML 1.2.2, 10.3.2)

    @Test("core-schema integers and floats", arguments: [
        ("012", 12.0), ("0012", 12), ("-012", -12), ("+12", 12), ("0o17", 15), ("0o0", 0), ("0x1F", 31), ("0xff", 255),
        ("1e3", 1000), ("-.5", -0.5), (".5", 0.5), ("1.", 1), ("0.80000000001", 0.80000000001), ("1e-7", 1e-7),
    ])
    func numbers(text: String, expected: Double) throws {
        #expect(try Self.value(text) == .number(expected), "\(text)")
    }

    @Test("YAML 1.1 numbers are text in 1.2", arguments: ["1:20", "0b101", "1_000", "0x", "0o8", "0o", "-0x1F", "+0o7", "190:20:30", "0xG", "1,000"])
    func notNumbers(text: String) throws {
        #expect(try Self.value(text) == .string(text), "\(text)")
    }

    @Test("infinities, NaN, booleans and null by the core schema; 1.1 words stay text")
    func words() throws {
        for t in [".inf", ".Inf", ".INF", "+.inf"] { #expect(try Self.value(t) == .number(.infinity), "\(t)") }
        for t in ["-.inf", "-.Inf", "-.INF"] { #expect(try Self.value(t) == .number(-.infinity), "\(t)") }
        for t in [".nan", ".NaN", ".NAN"] { #expect(try Self.value(t).number?.isNaN == true, "\(t)") }
        for t in ["true", "True", "TRUE"] { #expect(try Self.value(t) == .bool(true)) }
        for t in ["false", "False", "FALSE"] { #expect(try Self.value(t) == .bool(false)) }
        for t in ["~", "null", "Null", "NULL", ""] { #expect(try Self.value(t) == .null, "\(t)") }
        for t in ["yes", "no", "on", "off", "y", "n", "nan", "inf", ".infinity"] { #expect(try Self.value(t) == .string(t), "\(t)") }
        #expect(try Self.value("'012'") == .string("012"))
        #expect(try Self.value("!!str 12") == .string("12"))
        #expect(try Self.value("!!float 12") == .number(12))
    }

    // MARK: - Anchors and aliases

    /// Nine levels of `*a`, each a list of nine of the previous: 9^9 (387 million) leaves.
    static let bomb: String = {
        var lines = ["a0: &a0 [\"lol\"]"]
        for i in 1...9 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ",") + "]") }
        return lines.joined(separator: "\n") + "\n"
    }()

    @Test("an alias bomb is refused at its first anchor, before any expansion")
    func bomb() {
        #expect(Self.bomb.utf8.count < 450)
        let m = Self.error(Self.bomb)
        #expect(m == "metrics file m.yaml: line 1, column 5: anchors and aliases are not supported (found the anchor &a0; write the value out)", "\(m)")
    }

    @Test("an alias and an anchor alone are refused, naming line and column")
    func aliases() {
        #expect(Self.error("f1: *v\n") == "metrics file m.yaml: line 1, column 5: anchors and aliases are not supported (found the alias *v; write the value out)")
        #expect(Self.error("f1: 0.5\nf2: &x 0.6\n") .hasPrefix("metrics file m.yaml: line 2, column 5: anchors and aliases"))
        #expect(Self.error("test: &t\n  f1: 0.5\n").contains("line 1, column 7: anchors and aliases"))
        #expect(Self.error("<<: *base\n").contains("found the alias *base"))
    }

    @Test("gate policies go through the same reader: an alias bomb and an alias are refused")
    func policies() {
        for text in [Self.bomb, "stages:\n  production: &p\n    gates: [f1 > 0.5]\n  staging: *p\n"] {
            let e = #expect(throws: MregError.self) { try GatePolicy.parse(text, source: "policy p.yaml") }
            #expect(e?.message.hasPrefix("policy p.yaml: line ") == true && e?.message.contains("anchors and aliases are not supported") == true,
                    "\(e?.message ?? "")")
        }
    }

    // MARK: - Other refusals

    @Test("tags beyond the core schema, several documents, deep nesting, duplicate keys")
    func refusals() {
        #expect(Self.error("f1: !!python/object:os.system 1\n").contains("line 1, column 5: tag \"tag:yaml.org,2002:python/object:os.system\" is not supported"))
        #expect(Self.error("f1: !custom 1\n").contains("tag \"!custom\" is not supported"))
        #expect(Self.error("f1: !!int 1.5\n").contains("\"1.5\" is not a YAML 1.2 int"))
        #expect(Self.error("f1: 1\n---\nf2: 2\n").contains("line 2, column 1: not valid YAML: a second document starts here"))
        #expect(Self.error("f1: 1\nf1: 2\n") == "metrics file m.yaml: line 2, column 1: duplicate key \"f1\" (each key may appear once)")
        #expect(Self.error("? [a]\n: 1\n").contains("keys must be plain text"))
        let deep = String(repeating: "[", count: 150) + String(repeating: "]", count: 150)
        let m = Self.error(deep)
        #expect(m == "metrics file m.yaml: line 1, column 101: nested more than 100 levels deep", "\(m)")
        // Deeper still, libyaml's scanner stops first; its words are replaced by mreg's.
        let deeper = Self.error(String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000))
        #expect(deeper == "metrics file m.yaml: not valid YAML: line 1, column 1: nested too deeply", "\(deeper)")
        #expect(Self.error(String(repeating: "- ", count: 150) + "x\n").contains("nested more than 100 levels deep"))
    }

    @Test("libyaml's own wording does not leak")
    func wording() {
        #expect(EventReader.words("Maximum nesting level reached, set with yaml_set_max_nest_level())") == "nested too deeply")
        let m = Self.error("a: [1, 2\nb: 3\n")
        #expect(m.hasPrefix("metrics file m.yaml: not valid YAML: line "), "\(m)")
        #expect(!m.contains("yaml_"), "\(m)")
        #expect(Self.error("f1: \"\\e[2J\"\nf2: \u{1B}\n").contains("not valid YAML"))
    }

    @Test("a byte-order mark: YAML skips it, JSON names it")
    func bom() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        #expect(try MetricManifest.parse(bom + Array("f1: 0.5\n".utf8), path: "m.yaml").values == ["f1": 0.5])
        let e = #expect(throws: MregError.self) { try MetricManifest.parse(bom + Array("{\"f1\": 0.5}".utf8), path: "m.json") }
        #expect(e?.message == "metrics file m.json: starts with a byte-order mark (U+FEFF), which JSON does not allow; save it as UTF-8 without a BOM")
    }

    // MARK: - Numbers for people

    @Test("gate values show the digits that tell them apart")
    func distinctDisplay() {
        #expect(JSON.display(0.80000000001, distinctFrom: [0.8]) == "0.80000000001")
        #expect(JSON.display(0.8, distinctFrom: [0.80000000001]) == "0.8")
        #expect(JSON.display(0.8, distinctFrom: [0.8]) == "0.8")
        #expect(JSON.display(12.650000000000002, distinctFrom: [12.65]) == "12.650000000000002")
        #expect(JSON.display(11.5 * 1.1, distinctFrom: [13]) == "12.65")
        #expect(JSON.display(row: [0.80000000001, nil, 0.8]) == ["0.80000000001", "-", "0.8"])
        let r = GateReport(stage: "production", passed: true, policyKind: "policy", notes: [], results: [
            RuleResult(rule: "f1 > 0.8", metric: "f1", candidate: 0.80000000001, reference: 0.8, threshold: 0.8, verdict: .pass, reason: "x"),
        ])
        #expect(r.table().contains("0.80000000001"), "\(r.table())")
    }
}
