import Foundation
import Testing
import _MregTestSupport

/// `mreg show` displays the reference profile of a version registered with `--reference`
/// (docs/cli.md, "show"; docs/monitoring.md).
@Suite("Show reference profile")
struct ShowReferenceTests {
    @Test("text and JSON: rows, columns with kind, values, missing and a summary, the profile's object id; null without a reference")
    func showReference() throws {
        let lab = Lab()
        lab.t.write("ref.csv", "amount,merchant,note\n10,grocery,\n30,travel,\n20,grocery,\n,online,\n")
        lab.t.write("art/w.bin", "weights")
        lab.t.write("m.json", #"{"recall": 0.8}"#)
        let reg = lab.run(["register", "fraud", "art", "--metrics", "m.json", "--reference", "ref.csv"])
        #expect(reg.status == 0, "\(reg)")
        let j = lab.run(["show", "fraud@1", "--json"])
        #expect(j.status == 0, "\(j)")
        let reference = j.json["reference"] as? [String: Any] ?? [:]
        let object = reference["object"] as? String ?? ""
        #expect(object.hasPrefix("sha256:") && object == j.json["reference_profile"] as? String, "\(j)")
        #expect(reference["rows"] as? Int == 4)
        let columns = reference["columns"] as? [String: [String: Any]] ?? [:]
        #expect(Set(columns.keys) == ["amount", "merchant", "note"])
        let amount = columns["amount"] ?? [:]
        #expect(amount["kind"] as? String == "numeric" && amount["count"] as? Int == 3 && amount["missing"] as? Int == 1)
        #expect(amount["min"] as? Double == 10 && amount["max"] as? Double == 30 && amount["mean"] as? Double == 20)
        let merchant = columns["merchant"] ?? [:]
        #expect(merchant["kind"] as? String == "categorical" && merchant["values"] as? Int == 3 && merchant["complete"] as? Bool == true)
        #expect((merchant["top"] as? [[String: Any]])?.first?["value"] as? String == "grocery")
        #expect(columns["note"]?["kind"] as? String == "empty" && columns["note"]?["missing"] as? Int == 4)
        // The stored profile object is the one named.
        #expect(FileManager.default.fileExists(atPath: lab.registry + "/objects/" + object.dropFirst(7).prefix(2) + "/" + object.dropFirst(9)), "\(object)")

        let text = lab.run(["show", "fraud@1"])
        #expect(text.status == 0, "\(text)")
        let short = String(object.dropFirst(7).prefix(12))
        #expect(text.stdout.contains("reference 4 rows, 3 columns, profile \(short)"), "\(text)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("COLUMN") && $0.contains("KIND") && $0.contains("MISSING") })
        #expect(lines.contains { $0.hasPrefix("amount") && $0.contains("numeric") && $0.contains("min 10, max 30, mean 20") }, "\(text)")
        #expect(lines.contains { $0.hasPrefix("merchant") && $0.contains("categorical") && $0.contains("3 values: grocery (2)") }, "\(text)")
        #expect(lines.contains { $0.hasPrefix("note") && $0.contains("every value missing") }, "\(text)")

        lab.register(#"{"recall": 0.7}"#)
        let none = lab.run(["show", "fraud@2", "--json"])
        #expect(none.status == 0 && none.json["reference"] is NSNull, "\(none)")
        #expect(!lab.run(["show", "fraud@2"]).stdout.contains("reference "))
    }
}
