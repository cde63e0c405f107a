import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// Reading a large CSV table in two parts at once (Tables/TableReader+Parts.swift): whatever the
/// file, the result is that of reading it in one part — the same rows, lines, ids, slices,
/// evaluation set and object id, or the same refusal.
@Suite("Reading a table in two parts")
struct PartsReadingTests {
    /// A deterministic generator for the tables below (the profiler's).
    typealias Rng = SplitMix64

    /// Ids that stress the order: shared prefixes, one id the prefix of another, lengths on both
    /// sides of eight bytes, non-ASCII ids.
    static func id(_ i: Int, _ rng: inout Rng) -> String {
        switch rng.below(5) {
        case 0: return "row-\(i)"
        case 1: return String(repeating: "p", count: rng.below(12)) + "\(i)"
        case 2: return "customer-000\(i)-x"
        case 3: return "é\(i)ü"
        default: return "n\(i * 7919 % 100_003)"
        }
    }

    /// A binary predictions table of `rows` rows: id, label, score, weight, segment (a slice
    /// column whose later values first appear late in the file), with CRLF line ends, blank
    /// lines and a byte-order mark when asked.
    static func table(rows: Int, seed: UInt64 = 1, crlf: Bool = false, bom: Bool = false) -> String {
        var rng = Rng(seed: seed)
        let eol = crlf ? "\r\n" : "\n"
        var out = (bom ? "\u{FEFF}" : "") + "id,label,score,weight,segment" + eol
        for i in 0..<rows {
            let segment = "s\(min(i * 30 / rows, 29) + rng.below(2))"
            out += "\(id(i, &rng)),\(rng.below(2)),0.\(rng.below(1_000_000)),\(rng.below(5)),\(segment)" + eol
            if rng.below(97) == 0 { out += eol }
        }
        return out
    }

    /// Reads `text` as predictions in two parts (from 0 bytes) and in one part; `merged` says
    /// whether the parts were used (else the reader fell back to one part).
    static func both(_ text: String, options: PredictionOptions = PredictionOptions(sliceBy: ["segment"]))
        -> (parts: Result<ReadPredictions, MregError>, one: Result<ReadPredictions, MregError>, merged: Bool) {
        let dir = TemporaryDirectory()
        let path = dir.write("p.csv", text)
        let merged = SharedValue(false)
        func read(_ body: () throws -> ReadPredictions) -> Result<ReadPredictions, MregError> {
            do { return .success(try body()) } catch let e as MregError { return .failure(e) } catch { return .failure(MregError.invalid("\(error)")) }
        }
        let parts = read {
            let overrides = try options.overrides()
            let (id, b) = try TableReader.read(path: path, source: "predictions file \(path)", format: .csv, partsFrom: 0,
                                               inParts: { PredictionBuilder(source: "predictions file \(path)", options: options, overrides: overrides) },
                                               merge: { merged.update { $0 = true }; try $0.append($1, lineOffset: $2) })
            return try b.finish(format: .csv, object: id)
        }
        let one = read { try PredictionReader.read(path: path, options: options, partsFrom: Int.max) }
        #expect((try? PredictionReader.read(path: path, options: options, partsFrom: 0))?.evalSet == (try? one.get())?.evalSet)
        return (parts, one, merged.value)
    }

    static func expectSame(_ a: ReadPredictions, _ b: ReadPredictions) {
        #expect(a.table.ids == b.table.ids)
        #expect(a.table.labels == b.table.labels)
        #expect(a.table.scores == b.table.scores)
        #expect(a.table.weights == b.table.weights)
        #expect(a.table.times == b.table.times)
        #expect(a.table.slices == b.table.slices)
        #expect(a.evalSet == b.evalSet)
        #expect(a.object == b.object)
        #expect(a.columns == b.columns)
    }

    @Test("a table read in two parts is the table read in one: ids, values, slices, evaluation set, object id",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func sameTable(crlf: Bool, bom: Bool) throws {
        let (parts, one, merged) = Self.both(Self.table(rows: 6000, seed: crlf ? 2 : 3, crlf: crlf, bom: bom))
        #expect(merged, "the two parts were merged, not read again in one")
        let (p, o) = (try parts.get(), try one.get())
        #expect(p.table.count == 6000)
        Self.expectSame(p, o)
        // Slice values first seen in the second part keep the codes one read gives them.
        #expect(p.table.slices.first?.values.count == 31)
    }

    @Test("a duplicate id across the parts is refused with the lines of a one-part read")
    func duplicateAcrossParts() {
        let table = Self.table(rows: 4000, seed: 4)
        let header = table.firstIndex(of: "\n")!
        let text = String(table[...header]) + "twice,0,0.25,1,s0\n" + String(table[table.index(after: header)...]) + "twice,1,0.5,1,s3\n"
        let (parts, one, merged) = Self.both(text)
        #expect(merged)
        guard case .failure(let e) = parts, case .failure(let f) = one else { Issue.record("accepted"); return }
        #expect(e.message == f.message)
        #expect(e.message.contains("id twice appears again (first on line 2)"), "\(e.message)")
    }

    @Test("a bad row in the second part is refused as a one-part read refuses it")
    func badRowInSecondPart() {
        var text = Self.table(rows: 3000, seed: 5)
        text += "late,1,1.5,1,s1\n"
        let (parts, one, merged) = Self.both(text)
        #expect(!merged, "given up for the one-part read")
        guard case .failure(let e) = parts, case .failure(let f) = one else { Issue.record("accepted"); return }
        #expect(e.message == f.message)
        #expect(e.message.contains("column \"score\": 1.5 is outside [0, 1]"), "\(e.message)")
    }

    @Test("a quoted field with line breaks across the cut: read again in one part, same result")
    func quotedFieldAcrossCut() throws {
        var rows = ["id,label,score,note"]
        for i in 0..<400 { rows.append("r\(i),\(i % 2),0.\(i),plain") }
        rows.append("long,1,0.5,\"" + String(repeating: "a line\n", count: 4000) + "\"")
        for i in 400..<800 { rows.append("r\(i),\(i % 2),0.\(i),plain") }
        let (parts, one, merged) = Self.both(rows.joined(separator: "\n") + "\n", options: PredictionOptions())
        #expect(!merged, "the cut falls inside the quoted field")
        Self.expectSame(try parts.get(), try one.get())
    }

    @Test("lines of the second part's rows are the file's lines (blank lines and quoted line breaks before the cut)")
    func linesAcrossParts() throws {
        final class Lines: TableConsumer {
            var lines: [Int] = []
            func header(_ columns: [String]) throws {}
            func row(_ row: TableRow) throws { lines.append(row.line) }
        }
        var text = "a,b\n\"x\ny\",1\n\n"
        for i in 0..<5000 { text += "\(i),\(i)\n" + (i % 13 == 0 ? "\n" : "") }
        let dir = TemporaryDirectory()
        let path = dir.write("t.csv", text)
        var merged = false
        let (id, parts) = try TableReader.read(path: path, source: "t.csv", format: .csv, partsFrom: 0, inParts: { Lines() },
                                               merge: { first, second, offset in merged = true; first.lines += second.lines.map { $0 + offset } })
        let one = Lines()
        let oneID = try TableReader.read(path: path, source: "t.csv", format: .csv, into: one)
        #expect(merged)
        #expect(parts.lines == one.lines)
        #expect(id == oneID)
    }

    @Test("merging two lists' byte orders gives the byte order of the lists joined")
    func mergedOrders() {
        var rng = Rng(seed: 9)
        for round in 0..<50 {
            func list(_ n: Int) -> [String] {
                let pool = ["", "a", "ab", "abc", "abcdefgh", "abcdefghi", "abcdefgh\u{0}", "é", "zz", "row-1", "row-10"]
                let letters: [Unicode.Scalar] = ["a", "b", "€", "\u{0}", "z"]
                return (0..<n).map { _ in
                    if rng.below(3) == 0 { return pool[rng.below(pool.count)] }
                    var s = String.UnicodeScalarView()
                    for _ in 0..<rng.below(11) { s.append(letters[rng.below(letters.count)]) }
                    return String(s)
                }
            }
            let (a, b) = (list(rng.below(60)), list(rng.below(60)))
            let (la, lb) = (IdList(a), IdList(b))
            let merged = IdList.merged(la, la.byteOrder(), lb, lb.byteOrder())
            #expect(merged == IdList(a + b).byteOrder(), "round \(round)")
        }
    }

}

extension SplitMix64 {
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
