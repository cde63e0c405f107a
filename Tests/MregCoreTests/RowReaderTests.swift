import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// The streaming table reader (Tables/): RFC 4180 CSV fed in chunks of any size, JSON Lines,
/// numbers, times, and the predictions reader's checks, each refusal naming line and column.
@Suite("Row reader")
struct RowReaderTests {
    /// Collects records as arrays of strings with their lines.
    final class Collect: TableConsumer {
        var header: [String] = []
        var rows: [(Int, [String])] = []
        func header(_ columns: [String]) throws { header = columns }
        func row(_ row: TableRow) throws { rows.append((row.line, header.indices.map { row.field($0).text })) }
    }

    static func tokenize(_ text: String, chunk: Int) throws -> [(Int, [String])] {
        var t = CSVTokenizer()
        var out: [(Int, [String])] = []
        let bytes = Array(text.utf8)
        let emit: (CSVRecord) throws -> Void = { r in out.append((r.line, (0..<r.count).map { String(decoding: r[$0], as: UTF8.self) })) }
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            try bytes[start..<end].withUnsafeBufferPointer { try t.feed($0, emit) }
            start = end
        }
        try t.finish(emit)
        return out
    }

    static func read(_ text: String, format: TableFormat = .csv, chunk: Int = 1 << 20) throws -> Collect {
        let c = Collect()
        let reader = TableReader(source: "t.csv", format: format, consumer: c)
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            try bytes[start..<end].withUnsafeBufferPointer { try reader.feed($0) }
            start = end
        }
        _ = try reader.finish()
        return c
    }

    @Test("RFC 4180: quotes, doubled quotes, CRLF, line breaks in quotes, in chunks of any size")
    func rfc4180() throws {
        let text = "id,text,n\r\n1,\"a, b\",2\r\n2,\"say \"\"hi\"\"\",3\r\n3,\"two\nlines\",4\r\n\r\n4,,5\n5,\"\",6"
        let expected: [(Int, [String])] = [(1, ["id", "text", "n"]), (2, ["1", "a, b", "2"]), (3, ["2", "say \"hi\"", "3"]),
                                           (4, ["3", "two\nlines", "4"]), (7, ["4", "", "5"]), (8, ["5", "", "6"])]
        for chunk in [1, 2, 3, 7, 1 << 20] {
            let got = try Self.tokenize(text, chunk: chunk)
            #expect(got.map(\.0) == expected.map(\.0), "chunk \(chunk)")
            #expect(got.map(\.1) == expected.map(\.1), "chunk \(chunk)")
        }
    }

    @Test("records without quotes are read in place: the same fields and lines in chunks of every size")
    func plainRecordsInPlace() throws {
        // Plain LF records (read in place), a blank line, a quoted record (the state machine),
        // empty fields, a lone separator and an unterminated last record, cut at every offset.
        let text = "id,v\n1,a\n\n2,\"q,\"\"x\"\n3,\n,\n4,last"
        let expected: [(Int, [String])] = [(1, ["id", "v"]), (2, ["1", "a"]), (4, ["2", "q,\"x"]), (5, ["3", ""]),
                                           (6, ["", ""]), (7, ["4", "last"])]
        for chunk in 1...text.utf8.count {
            let got = try Self.tokenize(text, chunk: chunk)
            #expect(got.map(\.0) == expected.map(\.0), "chunk \(chunk)")
            #expect(got.map(\.1) == expected.map(\.1), "chunk \(chunk)")
        }
        // A quote inside an unquoted field is still refused when the record would read in place.
        #expect(throws: MregError.self) { try Self.read("a,b\n1,x\"y\n") }
    }

    @Test("malformed CSV is refused with its line", arguments: [
        ("a,b\n1,\"x\"y\n", 2, "text after the closing quote"),
        ("a,b\n1,x\"y\n", 2, "a quote inside an unquoted field"),
        ("a,b\n1,2\n3,\"open\n\n", 3, "a quoted field is never closed"),
        ("a,b\r1,2\n", 1, "a carriage return not followed by a line feed"),
    ])
    func malformed(text: String, line: Int, reason: String) {
        #expect(throws: MregError.self) { try Self.read(text) }
        do { _ = try Self.read(text) } catch let e as MregError {
            #expect(e.message.contains("line \(line)"), "\(e.message)")
            #expect(e.message.contains(reason), "\(e.message)")
            #expect(e.kind == .invalidInput)
        } catch { Issue.record("\(error)") }
    }

    @Test("table-level refusals: empty, header only, ragged, not UTF-8, duplicate header")
    func tableRefusals() {
        func message(_ text: String, _ format: TableFormat = .csv) -> String {
            do { _ = try Self.read(text, format: format); return "" } catch { return "\(error)" }
        }
        #expect(message("").contains("the file is empty"))
        #expect(message("id,label,score\n").contains("a header only"))
        #expect(message("id,label\n1,0\n2,1,3\n").contains("line 3: 3 fields where the header has 2"))
        #expect(message("id,name\n1,caf\u{E9}\n").isEmpty)
        let bad = "id,name\n1,ok\n2,x" + String(decoding: [0xFF], as: UTF8.self) + "\n"
        #expect(message(bad).isEmpty)  // U+FFFD after decoding: valid; raw bytes are tested below
        #expect(message("a,a\n1,2\n").contains("names this column twice"))
        #expect(message("{\"id\": 1}\n[1]\n", .jsonl).contains("line 2: expected a JSON object"))
        #expect(message("{\"id\": 1,}\n", .jsonl).contains("line 1: not valid JSON"))
    }

    @Test("bytes that are not UTF-8 are refused with line and column")
    func notUTF8() {
        let c = Collect()
        let reader = TableReader(source: "t.csv", format: .csv, consumer: c)
        let bytes: [UInt8] = Array("id,name\n1,ok\n2,x".utf8) + [0xC3, 0x28] + [0x0A]
        do {
            try bytes.withUnsafeBufferPointer { try reader.feed($0) }
            _ = try reader.finish()
            Issue.record("accepted")
        } catch let e as MregError {
            #expect(e.message.contains("line 3, column \"name\": not UTF-8 text"), "\(e.message)")
        } catch { Issue.record("\(error)") }
        for (b, ok) in [([0xE2, 0x82, 0xAC], true), ([0xED, 0xA0, 0x80], false), ([0xC0, 0xAF], false), ([0xF4, 0x90, 0x80, 0x80], false),
                        ([0xF0, 0x9F, 0x98, 0x80], true)] as [([UInt8], Bool)] {
            #expect(b.withUnsafeBufferPointer { UTF8Check.isValid($0) } == ok, "\(b)")
        }
    }

    @Test("a byte-order mark is skipped; JSON Lines rows by key; blank lines skipped")
    func bomAndJSONLines() throws {
        let c = try Self.read("\u{FEFF}id,label\n1,0\n")
        #expect(c.header == ["id", "label"])
        let j = try Self.read("{\"id\": \"a\", \"label\": true, \"score\": 0.25}\n\n{\"score\": 1, \"id\": 7, \"label\": false}\r\n", format: .jsonl, chunk: 5)
        #expect(j.header == ["id", "label", "score"])
        #expect(j.rows.map(\.0) == [1, 3])
        #expect(j.rows.map(\.1) == [["a", "true", "0.25"], ["7", "false", "1"]])
    }

    @Test("numbers read exactly as strtod does; NaN, infinities and text refused")
    func numbers() {
        func parse(_ s: String) -> Result<Double, NumberProblem> { var s = s; return s.withUTF8 { NumberText.parse($0) } }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let v = Double.random(in: 0...1, using: &rng)
            for text in ["\(v)", String(format: "%.6f", v), String(format: "%.17g", v), String(format: "%.3e", v * 1e5)] {
                #expect((try? parse(text).get()) == strtod(text, nil), "\(text)")
            }
        }
        for (text, v) in [("0", 0.0), ("-1.5", -1.5), ("+2", 2), ("1e-3", 0.001), ("1E2", 100), (".5", 0.5), ("5.", 5),
                          ("0.1000000000000000055511151231257827", 0.1), ("123456789012345678901234", 1.2345678901234568e23)] {
            #expect((try? parse(text).get()) == v, "\(text)")
        }
        for text in ["nan", "NaN", "inf", "-Infinity", "1e999"] {
            guard case .failure(.notFinite) = parse(text) else { Issue.record("\(text) accepted"); continue }
        }
        for text in ["", " 1", "1 ", "0x10", "1e", "abc", "1.2.3", "--1", "."] {
            guard case .failure = parse(text) else { Issue.record("\(text) accepted"); continue }
        }
    }

    @Test("times: RFC 3339 and Unix seconds")
    func times() {
        #expect(TimeText.parse("1970-01-01T00:00:00Z") == 0)
        #expect(TimeText.parse("2026-10-01T12:00:00Z") == 1_790_856_000)
        #expect(TimeText.parse("2026-10-01T14:00:00+02:00") == 1_790_856_000)
        #expect(TimeText.parse("2026-10-01 12:00:00.5Z") == 1_790_856_000.5)
        #expect(TimeText.parse("1790856000") == 1_790_856_000)
        #expect(TimeText.format(1_790_856_000) == "2026-10-01T12:00:00Z")
        #expect(TimeText.format(951_782_400) == "2000-02-29T00:00:00Z")
        for bad in ["2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-10-01T12:00:00", "yesterday", "2026-10-01T25:00:00Z"] {
            #expect(TimeText.parse(bad) == nil, "\(bad)")
        }
    }

    static func predictions(_ text: String, name: String = "p.csv", options: PredictionOptions = PredictionOptions()) throws -> ReadPredictions {
        let dir = TemporaryDirectory()
        let path = dir.write(name, text)
        return try PredictionReader.read(path: path, options: options)
    }

    static func refusal(_ text: String, name: String = "p.csv", options: PredictionOptions = PredictionOptions()) -> String {
        do { _ = try predictions(text, name: name, options: options); return "accepted" } catch { return "\(error)" }
    }

    @Test("predictions: roles, --col, task inference, identity")
    func predictionsRead() throws {
        let r = try Self.predictions("row,y,p,merchant\nb,1,0.9,new\na,0,0.2,old\n",
                                     options: PredictionOptions(columns: ["id=row", "label=y", "score=p"], sliceBy: ["merchant"]))
        #expect(r.table.task == .binary)
        #expect(r.table.ids == ["b", "a"])
        #expect(r.table.labels == [1, 0])
        #expect(r.table.scores == [0.9, 0.2])
        #expect(r.columns == ["id": "row", "label": "y", "score": "p"])
        #expect(r.table.slices == [.init(name: "merchant", values: ["new", "old"], codes: [0, 1])])
        // The same rows in another order and with other scores: the same evaluation set.
        let s = try Self.predictions("id,label,score\na,0,0.7\nb,1,0.1\n")
        #expect(s.evalSet == r.evalSet)
        #expect(try Self.predictions("id,label,score\na,1,0.7\nb,1,0.1\n").evalSet != r.evalSet)
        // Regression by its columns; prediction-only 0/1 is binary.
        #expect(try Self.predictions("id,label,prediction\na,1.5,2\nb,3,2.5\n").table.task == .regression)
        #expect(try Self.predictions("id,label,prediction\na,1,0\nb,0,0\n").table.task == .binary)
        #expect(try Self.predictions("id,label,prediction,lower,upper\na,1,1,0,2\nb,0,0,0,1\n").table.task == .regression)
        let j = try Self.predictions("{\"id\":\"a\",\"label\":true,\"score\":0.5,\"time\":\"2026-10-01T00:00:00Z\"}\n{\"id\":\"b\",\"label\":false,\"score\":0,\"time\":1790000000}\n",
                                     name: "p.jsonl")
        #expect(j.format == .jsonl)
        #expect(j.table.labels == [1, 0])
        #expect(j.table.times?.count == 2)
    }

    @Test("predictions: every bad row named by file, line, column and reason")
    func predictionsRefused() {
        let cases: [(String, PredictionOptions, String)] = [
            ("id,label,score\na,0,0.5\nb,1,1.3\n", .init(), "line 3, column \"score\": 1.3 is outside [0, 1]"),
            ("id,label,score\na,2,0.5\n", .init(), "line 2, column \"label\": 2 is not 0 or 1"),
            ("id,label,score\na,0,0.5\nb,1,0.2\na,1,0.4\n", .init(), "line 4, column \"id\": id a appears again (first on line 2)"),
            ("id,label,score\n,0,0.5\n", .init(), "line 2, column \"id\": empty id"),
            ("id,label,score\na,0,NaN\n", .init(), "line 2, column \"score\": NaN is not a finite number"),
            ("id,label,score\na,0,\n", .init(), "line 2, column \"score\": empty value"),
            ("id,label,score\na,0\n", .init(), "line 2: 2 fields where the header has 3"),
            ("id,score\na,0.5\n", .init(), "no \"label\" column"),
            ("id,label\na,1\n", .init(), "no \"score\" or \"prediction\" column"),
            ("id,label,score\na,0,0.5\n", .init(columns: ["score=prob"]), "--col score=prob: predictions file"),
            ("id,label,score\na,0,0.5\n", .init(columns: ["colour=x"]), "unknown role"),
            ("id,label,score,time\na,0,0.5,yesterday\n", .init(), "line 2, column \"time\": yesterday is neither an RFC 3339 time"),
            ("id,label,score,weight\na,0,0.5,-1\n", .init(), "column \"weight\": -1 is negative"),
            ("id,label,score\na,0,0.5\n", .init(sliceBy: ["merchant"]), "--slice-by merchant"),
            ("id,label,prediction\na,x,1\n", .init(task: .regression), "line 2, column \"label\": x is not a number"),
        ]
        for (text, options, needle) in cases {
            let m = Self.refusal(text, options: options)
            #expect(m.contains(needle), "\(needle) in \(m)")
            #expect(m.contains("p.csv") || m.contains("unknown role"), "\(m)")
        }
        let many = "id,label,score,m\n" + (0..<101).map { "r\($0),0,0.5,v\($0)" }.joined(separator: "\n")
        #expect(Self.refusal(many, options: .init(sliceBy: ["m"])).contains("line 102, column \"m\": more than 100 distinct values"))
    }
}
