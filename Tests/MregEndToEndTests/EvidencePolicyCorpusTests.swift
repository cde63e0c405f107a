import Foundation
import Testing
import _MregTestSupport

/// The evidence-rule block of Fixtures/bad/README.md (`with P% confidence`, `confidence:`,
/// `require:`, slices): `mreg gates --set` refuses each file with exit 2 and exactly the error
/// in the table, at the line and column of the file's `# at:`, and changes nothing.
@Suite("Bad evidence policies")
struct EvidencePolicyCorpusTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var file: String
        var error: String
        var testDescription: String { file }
    }

    static let rows: [Row] = {
        let text = (try? String(contentsOfFile: FixturePaths.path("bad/README.md"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 5, cells[2] == "mreg gates --set" else { return nil }
            return Row(file: cells[1], error: cells[3])
        }
    }()

    @Test("the table lists every evidence-rule file")
    func complete() throws {
        #expect(Self.rows.count >= 20)
        let files = try FileManager.default.contentsOfDirectory(atPath: FixturePaths.path("bad/policies"))
            .filter { ["with-", "slice-", "stage-confidence-", "require-"].contains(where: $0.hasPrefix) }
        #expect(Set(files.map { "policies/\($0)" }) == Set(Self.rows.map(\.file)))
    }

    @Test("each file is refused with its exact error", arguments: rows)
    func refused(row: Row) throws {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        let path = FixturePaths.path("bad/" + row.file)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let at = try #require(text.split(separator: "\n").dropFirst().first.flatMap { $0.hasPrefix("# at: ") ? $0.dropFirst(6) : nil })
        let before = lab.snapshot()
        let r = lab.run(["gates", "fraud", "--set", path])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr == "mreg: error: policy \(path): \(at): \(row.error)\n", "\(r)")
        #expect(r.stdout.isEmpty)
        #expect(lab.snapshot() == before)
    }
}
