import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// One-line values, output escaping, display width (Names/TextRules.swift), recorded times
/// (System/Clock.swift) and parameter checks (Metrics/InputLimits.swift).
@Suite("Text rules unit")
struct TextRulesTests {
    @Test("one-line values refuse every character that breaks a line or drives a terminal")
    func oneLine() throws {
        try TextRules.checkOneLine("retrained on October data — ünïcödé, emoji 🙂", what: "-m", limit: 4096)
        for (bad, words) in [("a\nb", "a line break (U+000A at character 2)"), ("a\u{1B}[2J", "an escape sequence character (U+001B"),
                             ("\u{9B}2J", "an escape sequence character (U+009B at character 1)"), ("a\tb", "a tab (U+0009 at character 2)"),
                             ("a\u{2029}", "a line break (U+2029"), ("a\u{0}", "a control character (U+0000"),
                             ("\u{2066}x", "a bidirectional-text control (U+2066")] {
            let e = #expect(throws: MregError.self) { try TextRules.checkOneLine(bad, what: "--reason", limit: 100) }
            #expect(e?.message.hasPrefix("--reason contains \(words)") == true, "\(e?.message ?? "")")
            #expect(e?.message.contains("); it must be one line of plain text") == true, "\(e?.message ?? "")")
            #expect(e?.kind == .invalidInput)
        }
        #expect(throws: MregError.self) { try TextRules.checkOneLine("xxxxx", what: "-m", limit: 4) }
        #expect(throws: MregError.self) { try TextRules.checkOneLine("", what: "--data", limit: 4, allowEmpty: false) }
    }

    @Test("escaping: every forbidden character is written out; newlines kept only for multi-line output")
    func escaping() {
        #expect(TextRules.escaped("a\nb\u{1B}[2J\u{9B}c\u{2028}\t") == "a\\nb\\u{1b}[2J\\u{9b}c\\u{2028}\\t")
        #expect(TextRules.escaped("a\nb\u{1B}\tc", keepNewlines: true) == "a\nb\\u{1b}\tc")
        #expect(TextRules.escaped("a\r\nb\rc", keepNewlines: true) == "a\r\nb\\rc")
        #expect(TextRules.escaped("plain ünïcödé 🙂") == "plain ünïcödé 🙂")
        #expect(TextRules.fromEnvironment("eve\n#9") == "eve\\n#9")
        #expect(TextRules.fromEnvironment(String(repeating: "x", count: 1000)).utf8.count == 256)
    }

    @Test("display width counts terminal columns, not characters or UTF-16 units")
    func width() {
        #expect(TextRules.displayWidth("e\u{301}te\u{301}") == 3)
        #expect(TextRules.displayWidth("\u{E9}t\u{E9}") == 3)
        #expect(TextRules.displayWidth("\u{6A21}\u{578B}") == 4)
        #expect(TextRules.displayWidth("a\u{200B}b") == 2)
    }

    @Test("recorded times: only YYYY-MM-DDTHH:MM:SSZ naming a real instant")
    func times() {
        for good in ["2026-10-01T09:00:00Z", "2024-02-29T23:59:60Z", "0001-01-01T00:00:00Z"] { #expect(Clock.isValidISO(good), "\(good)") }
        for bad in ["not-a-time", "", "2026-10-01T09:00:00", "2026-10-01 09:00:00Z", "2025-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
                    "2026-10-01T24:00:00Z", "2026-10-01T09:60:00Z", "2026-00-01T09:00:00Z", "2026-10-01T09:00:00.5Z", "２026-10-01T09:00:00Z"] {
            #expect(!Clock.isValidISO(bad), "\(bad)")
        }
    }

    @Test("fsck reports a history entry with a malformed time")
    func fsckTime() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        t.write("a/w.bin", "weights")
        _ = try r.register(RegisterRequest(model: try ModelName("fraud"), paths: [t.join("a")], metricsFile: t.write("m.json", #"{"f1": 0.5}"#)))
        #expect(try r.fsck().ok)
        let m = try ModelName("fraud")
        var e = try r.entry(try #require(try r.head(m)))
        e.time = "not-a-time"
        let id = try r.store.put(e.json.canonicalBytes)
        try Registry.writeFileAtomically(r.headPath(m), Array("\(id)\n".utf8), tmpDir: r.tmpDir)
        let report = try r.fsck()
        #expect(report.problems.contains { $0.contains("entry \(id) has a malformed time \"not-a-time\"") }, "\(report.problems)")
    }

    @Test("params: collisions after flattening, keys that are not one line, and the count limit")
    func params() throws {
        func check(_ text: String) throws { try ParamsLimits.check(JSON.parse(Array(text.utf8)), path: "p.json") }
        try check(#"{"a": {"b": 1}, "a.c": 2, "e": {}, "l": [{"x": 1}], "n": null}"#)
        let e = #expect(throws: MregError.self) { try check(#"{"a.b": 1, "a": {"b": 2}}"#) }
        #expect(e?.message == #"params file p.json: parameter "a.b" is given twice (as "a" → "b" and as "a.b"); flattened names must be unique"#)
        #expect(throws: MregError.self) { try check(#"{"a": {"b.c": 1}, "a.b": {"c": 2}}"#) }
        #expect(throws: MregError.self) { try check(#"{"a\u001b[2J": 1}"#) }
        let many = "{" + (0...10_000).map { "\"p\($0)\": 1" }.joined(separator: ",") + "}"
        let m = #expect(throws: MregError.self) { try check(many) }
        #expect(m?.message == "params file p.json: more than 10000 parameters (the limit, counted after flattening)")
    }
}
