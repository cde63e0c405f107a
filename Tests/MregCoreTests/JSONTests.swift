import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// Unit tests of the strict JSON reader and canonical writer (Format/JSON.swift).
@Suite("JSON unit")
struct JSONTests {
    static func parse(_ text: String) throws -> JSON { try JSON.parse(Array(text.utf8)) }
    static func canonical(_ v: JSON) -> String { String(decoding: v.canonicalBytes, as: UTF8.self) }

    /// The parse error for a text, or nil (and a failed expectation) if it parsed.
    static func parseError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSON.ParseError? {
        parseError(Array(text.utf8), sourceLocation: sourceLocation)
    }

    static func parseError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> JSON.ParseError? {
        do {
            let v = try JSON.parse(bytes)
            Issue.record("parsed as \(v), expected an error", sourceLocation: sourceLocation)
            return nil
        } catch let e as JSON.ParseError {
            return e
        } catch {
            Issue.record("unexpected error type \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    // MARK: - Round trips

    static let documents: [String] = [
        "null", "true", "false", "0", "-1", "0.5", "\"\"", "\"text\"", "[]", "{}",
        "[1,2,3]", "{\"a\":1}",
        "{\"artifacts\":[{\"executable\":false,\"object\":\"sha256:00\",\"path\":\"a/b.bin\",\"size\":12}],\"format\":1,\"model\":\"fraud\"}",
        "{\"nested\":{\"deeper\":{\"list\":[null,true,false,{\"x\":[]}]}}}",
        "{\"escapes\":\"quote \\\" backslash \\\\ newline \\n tab \\t cr \\r ctl \\u0001 del \u{7f}\"}",
        "{\"unicode\":\"modèle 模型 😀 \\u00e9\"}",
        "{\"numbers\":[0,1,-1,0.1,-0.25,1e-07,123456789,9007199254740992,1.5e+300,-2.5e-300]}",
    ]

    @Test("parse → canonical → parse is the identity, and canonical bytes are a fixed point", arguments: documents)
    func roundTrip(text: String) throws {
        let v = try Self.parse(text)
        let bytes = v.canonicalBytes
        let again = try JSON.parse(bytes)
        #expect(again == v)
        #expect(again.canonicalBytes == bytes)
        // Pretty output reads back to the same value too.
        #expect(try Self.parse(v.pretty()) == v)
    }

    @Test("canonical bytes: keys sorted at every level, no spaces, independent of input order and spacing")
    func canonicalSorted() throws {
        let a = try Self.parse("{ \"b\" : 1 , \"a\" : { \"z\" : [ 1 , 2 ] , \"y\" : null } , \"C\" : true }")
        let b = try Self.parse("{\"C\":true,\"a\":{\"y\":null,\"z\":[1,2]},\"b\":1}")
        #expect(a == b)
        #expect(Self.canonical(a) == "{\"C\":true,\"a\":{\"y\":null,\"z\":[1,2]},\"b\":1}")
        #expect(a.canonicalBytes == b.canonicalBytes)
        // Built in code in another insertion order: same bytes.
        var o1: [String: JSON] = [:]
        var o2: [String: JSON] = [:]
        let keys = (0..<50).map { "key\($0)" }
        for k in keys { o1[k] = .number(Double(k.count)) }
        for k in keys.reversed() { o2[k] = .number(Double(k.count)) }
        #expect(JSON.object(o1).canonicalBytes == JSON.object(o2).canonicalBytes)
        let text = Self.canonical(.object(o1))
        let positions = keys.sorted().map { text.range(of: "\"\($0)\"")!.lowerBound }
        #expect(positions == positions.sorted())
        // Arrays keep their order.
        #expect(Self.canonical(.array([.number(3), .number(1), .number(2)])) == "[3,1,2]")
        // Stable: the same value always gives the same bytes.
        #expect(a.canonicalBytes == a.canonicalBytes)
        #expect(!a.canonicalBytes.contains(32) && !a.canonicalBytes.contains(10))
    }

    @Test("pretty output is indented with sorted keys")
    func pretty() throws {
        let v = try Self.parse("{\"b\":[1,{}],\"a\":\"x\"}")
        #expect(v.pretty() == "{\n  \"a\": \"x\",\n  \"b\": [\n    1,\n    {}\n  ]\n}")
    }

    // MARK: - Numbers

    static let numberCases: [(Double, String)] = [
        (0, "0"), (1, "1"), (-1, "-1"), (42, "42"), (1_000_000, "1000000"), (-7, "-7"),
        (12, "12"), (0.1, "0.1"), (-0.5, "-0.5"), (0.871, "0.871"), (1e-7, "1e-07"),
        (-2.5e-10, "-2.5e-10"), (123456789012, "123456789012"),
    ]

    @Test("numbers: integers without a fraction, shortest text that reads back", arguments: numberCases)
    func numberFormat(value: Double, expected: String) throws {
        let text = Self.canonical(.number(value))
        #expect(text == expected)
        #expect(try Self.parse(text) == .number(value))
    }

    @Test("numbers of every magnitude read back to the same double")
    func numberRoundTrip() throws {
        var values: [Double] = [0.1 + 0.2, 1.0 / 3.0, -2.0 / 3.0, 1e15, 1e16, 123456789.125, 5e-324, 1.7976931348623157e308,
                                -1e-300, 9_007_199_254_740_993, 0.000001, 1e21, 4.35, 100.5]
        var x = 1.0
        for _ in 0..<40 { x *= -3.7; values.append(x); values.append(1 / x) }
        for v in values {
            let text = Self.canonical(.number(v))
            #expect(try Self.parse(text) == .number(v), "\(v) printed as \(text)")
        }
        #expect(Self.canonical(.number(-0.0)) == "0" || Self.canonical(.number(-0.0)) == "-0")
    }

    @Test("values JSON cannot hold (infinity, NaN) are written as null, never as invalid JSON")
    func nonFiniteWrittenAsNull() throws {
        for v in [Double.infinity, -Double.infinity, Double.nan] {
            #expect(Self.canonical(.number(v)) == "null")
            let doc = JSON.object(["x": .number(v), "y": .array([.number(v), .number(1)])])
            #expect(try Self.parse(Self.canonical(doc)) == .object(["x": .null, "y": .array([.null, .number(1)])]))
        }
    }

    @Test("numbers for people: 10 significant digits, whole numbers exact")
    func display() {
        #expect(JSON.display(11.5 * 1.1) == "12.65")
        #expect(JSON.display(0.1 + 0.2) == "0.3")
        #expect(JSON.display(123_456_789_012) == "123456789012")
        #expect(JSON.display(-987_654_321_098_765) == "-987654321098765")
        #expect(JSON.display(1.5e308) == "1.5e+308")
        #expect(JSON.display(0) == "0")
    }

    @Test("number syntax accepted by RFC 8259")
    func numberSyntax() throws {
        #expect(try Self.parse("0") == .number(0))
        #expect(try Self.parse("-0") == .number(0))
        #expect(try Self.parse("1E3") == .number(1000))
        #expect(try Self.parse("1e+3") == .number(1000))
        #expect(try Self.parse("1.5e-3") == .number(0.0015))
        #expect(try Self.parse("  12  ") == .number(12))
        #expect(try Self.parse("1e-07") == .number(1e-7))
        #expect(try Self.parse("7").int == 7)
        #expect(try Self.parse("7.5").int == nil)
    }

    // MARK: - Strings

    @Test("string escapes and unicode, including surrogate pairs")
    func strings() throws {
        #expect(try Self.parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"") == .string("a\"b\\c/d\u{8}\u{c}\n\r\t"))
        #expect(try Self.parse("\"\\u0041\\u00e9\\u6a21\"") == .string("Aé模"))
        #expect(try Self.parse("\"\\uD83D\\uDE00\"") == .string("😀"))
        #expect(try Self.parse("\"\\ud83d\\ude00\"") == .string("😀"))
        #expect(try Self.parse("\"😀 raw UTF-8\"") == .string("😀 raw UTF-8"))
        #expect(try Self.parse("\"\\u0000\"") == .string("\u{0}"))
        // Writing: quotes, backslashes and control characters escaped; UTF-8 kept as is.
        #expect(Self.canonical(.string("a\"b\\c\n\r\t\u{1}\u{1f}")) == "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f\"")
        #expect(Self.canonical(.string("😀é")) == "\"😀é\"")
        for s in ["", "plain", "\u{0}", "\u{7f}", "😀", "a\"\\\n\u{1}b", "𝄞 clef", "\u{feff}bom", "\u{2028}"] {
            #expect(try JSON.parse(JSON.string(s).canonicalBytes) == .string(s), "\(s.debugDescription)")
        }
    }

    @Test("unpaired surrogates and bad escapes are refused", arguments: [
        "\"\\ud83d\"", "\"\\ud83dx\"", "\"\\ud83d\\u0041\"", "\"\\ude00\"", "\"\\x41\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\",
    ])
    func badEscapes(text: String) {
        let e = Self.parseError(text)
        #expect(e?.line == 1)
        #expect(e != nil)
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        let e = Self.parseError([0x22, 0xff, 0xfe, 0x22])
        #expect(e?.reason.contains("UTF-8") == true)
        #expect(Self.parseError([0x22, 0xc3, 0x22]) != nil)
    }

    // MARK: - Strict errors with line and column

    struct BadCase: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var line: Int
        var column: Int
        var reason: String
        var testDescription: String { name }
    }

    static let badCases: [BadCase] = [
        BadCase(name: "trailing comma in an object", text: "{\"a\": 1,}", line: 1, column: 9, reason: "expected a key"),
        BadCase(name: "trailing comma in a list", text: "[1, 2,]", line: 1, column: 7, reason: "expected a value"),
        BadCase(name: "trailing comma on a later line", text: "{\n  \"a\": 1,\n}", line: 3, column: 1, reason: "expected a key"),
        BadCase(name: "duplicate key", text: "{\"a\": 1, \"a\": 2}", line: 1, column: 10, reason: "duplicate key \"a\""),
        BadCase(name: "duplicate key, nested, on line 3", text: "{\"x\": {\n \"k\": 1,\n \"k\": 2}}", line: 3, column: 2, reason: "duplicate key \"k\""),
        BadCase(name: "NaN", text: "{\"f1\": NaN}", line: 1, column: 8, reason: "NaN"),
        BadCase(name: "Infinity", text: "[Infinity]", line: 1, column: 2, reason: "Infinity"),
        BadCase(name: "-Infinity", text: "{\"f1\": -Infinity}", line: 1, column: 9, reason: "Infinity"),
        BadCase(name: "lower-case nan", text: "[nan]", line: 1, column: 2, reason: "expected a value"),
        BadCase(name: "leading zero", text: "{\"f1\": 01}", line: 1, column: 9, reason: "expected ','"),
        BadCase(name: "leading zero at the top", text: "007", line: 1, column: 2, reason: "after the end"),
        BadCase(name: "negative leading zero", text: "[-01]", line: 1, column: 4, reason: "expected ','"),
        BadCase(name: "a lone minus", text: "[-]", line: 1, column: 3, reason: "invalid number"),
        BadCase(name: "a fraction without digits", text: "[1.]", line: 1, column: 4, reason: "invalid number"),
        BadCase(name: "a leading dot", text: "[.5]", line: 1, column: 2, reason: "expected a value"),
        BadCase(name: "an exponent without digits", text: "[1e]", line: 1, column: 4, reason: "invalid number"),
        BadCase(name: "a plus sign", text: "[+1]", line: 1, column: 2, reason: "expected a value"),
        BadCase(name: "a hex number", text: "[0x10]", line: 1, column: 3, reason: "expected ','"),
        BadCase(name: "out of range", text: "{\"f1\": 1e999}", line: 1, column: 8, reason: "out of range"),
        BadCase(name: "unterminated string", text: "{\"a\": \"abc", line: 1, column: 11, reason: "unterminated string"),
        BadCase(name: "unterminated key", text: "{\"ab", line: 1, column: 5, reason: "unterminated string"),
        BadCase(name: "newline in a string", text: "[\"a\nb\"]", line: 1, column: 4, reason: "control character"),
        BadCase(name: "tab in a string", text: "[\"a\tb\"]", line: 1, column: 4, reason: "control character"),
        BadCase(name: "NUL in a string", text: "[\"a\u{0}b\"]", line: 1, column: 4, reason: "control character"),
        BadCase(name: "trailing text", text: "{\"a\": 1} x", line: 1, column: 10, reason: "after the end"),
        BadCase(name: "two documents", text: "{}\n{}", line: 2, column: 1, reason: "after the end"),
        BadCase(name: "empty document", text: "", line: 1, column: 1, reason: "end of the document"),
        BadCase(name: "only spaces", text: "  \n ", line: 2, column: 2, reason: "end of the document"),
        BadCase(name: "unclosed object", text: "{\"a\": 1", line: 1, column: 8, reason: "inside an object"),
        BadCase(name: "unclosed list", text: "[1, 2", line: 1, column: 6, reason: "inside a list"),
        BadCase(name: "single quotes", text: "{'a': 1}", line: 1, column: 2, reason: "expected a key"),
        BadCase(name: "unquoted key", text: "{a: 1}", line: 1, column: 2, reason: "expected a key"),
        BadCase(name: "missing colon", text: "{\"a\" 1}", line: 1, column: 6, reason: "expected ':'"),
        BadCase(name: "comment", text: "{\"a\": 1 // no\n}", line: 1, column: 9, reason: "expected ','"),
        BadCase(name: "a truncated literal", text: "[tru]", line: 1, column: 2, reason: "expected a value"),
        BadCase(name: "column counts characters, not bytes", text: "{\"é😀\": 1,}", line: 1, column: 10, reason: "expected a key"),
    ]

    @Test("strict errors carry line, column and a reason", arguments: badCases)
    func strictErrors(c: BadCase) {
        guard let e = Self.parseError(c.text) else { return }
        #expect(e.line == c.line, "\(e)")
        #expect(e.column == c.column, "\(e)")
        #expect(e.reason.contains(c.reason), "\(e)")
        #expect(e.description.hasPrefix("line \(c.line), column \(c.column): "))
    }

    @Test("nesting deeper than 200 levels is refused; 200 is accepted", arguments: [201, 202, 1_000, 100_000])
    func deepNesting(depth: Int) {
        let lists = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let e1 = Self.parseError(lists)
        #expect(e1?.reason.contains("nested too deeply") == true)
        #expect(e1?.line == 1)
        #expect(e1?.column == 201)
        let objects = String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)
        #expect(Self.parseError(objects)?.reason.contains("nested too deeply") == true)
    }

    @Test("200 levels of nesting parse")
    func nestingLimit() throws {
        let depth = 200
        let v = try Self.parse(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        var level = 0
        var cur = v
        while case .array(let a) = cur, let first = a.first { cur = first; level += 1 }
        #expect(level == depth - 1)
    }

    // MARK: - Accessors

    @Test("accessors and type names")
    func accessors() throws {
        let v = try Self.parse("{\"s\":\"x\",\"n\":2.5,\"b\":true,\"a\":[1],\"o\":{},\"z\":null}")
        #expect(v["s"]?.string == "x")
        #expect(v["n"]?.number == 2.5)
        #expect(v["b"]?.bool == true)
        #expect(v["a"]?.array == [.number(1)])
        #expect(v["o"]?.object == [:])
        #expect(v["z"]?.isNull == true)
        #expect(v["missing"] == nil)
        #expect(v["s"]?["x"] == nil)
        #expect(JSON.number(9_007_199_254_740_993).int == nil || JSON.number(9_007_199_254_740_993).int == 9_007_199_254_740_992)
        #expect(JSON.number(-3).int == -3)
        #expect(JSON.number(1e300).int == nil)
        #expect([JSON.null, .bool(true), .number(1), .string(""), .array([]), .object([:])].map(\.typeName)
                == ["null", "a boolean", "a number", "a string", "a list", "an object"])
    }
}
