import Foundation
import Testing
import _MregTestSupport

/// `register --reference` and `mreg alerts` on the built binary (docs/monitoring.md).
@Suite("Monitoring end to end")
struct MonitoringEndToEndTests {
    /// A registry with fraud@1 registered with the reference features of Fixtures/monitoring.
    static func lab() -> (Lab, CommandResult) {
        let lab = Lab()
        lab.t.write("m.json", #"{"auc": 0.9, "recall": 0.8}"#)
        lab.t.write("art/w.bin", "weights")
        let r = lab.run(["register", "fraud", "art", "--metrics", "m.json", "--reference", FixturePaths.path("monitoring/reference.csv"), "--json"])
        return (lab, r)
    }

    @Test("register --reference stores the profile as an object named by the version record; fsck and gc keep it")
    func registerReference() throws {
        let (lab, r) = Self.lab()
        #expect(r.status == 0, "\(r)")
        let id = try #require(r.json["reference_profile"] as? String)
        let record = lab.run(["show", "fraud@1", "--json"])
        #expect(record.status == 0)
        #expect(lab.run(["gc"]).status == 0)
        let fsck = lab.run(["fsck"])
        #expect(fsck.status == 0, "\(fsck)")
        // The object is there, zlib or not, under its id's fan-out directory.
        let hex = String(id.dropFirst("sha256:".count))
        let objects = lab.registry + "/objects/" + hex.prefix(2)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: objects)) ?? []
        #expect(names.contains { $0.hasPrefix(String(hex.dropFirst(2))) }, "\(names)")
        // Without --reference, the record has no such key and reads as before.
        lab.t.write("art2/w.bin", "weights 2")
        let plain = lab.run(["register", "fraud", "art2", "--metrics", "m.json", "--json"])
        #expect(plain.status == 0 && plain.json["reference_profile"] is NSNull)
    }

    @Test("a reference file with no rows is refused, naming it, and nothing changes")
    func referenceWithoutRows() {
        let (lab, _) = Self.lab()
        let before = lab.snapshot()
        lab.t.write("art3/w.bin", "weights 3")
        let r = lab.run(["register", "fraud", "art3", "--metrics", "m.json", "--reference", FixturePaths.path("bad/reference/header-only.csv")])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.hasPrefix("mreg: error: reference file ") && r.stderr.contains("header-only.csv: a header only, no rows to read"), "\(r)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(lab.snapshot() == before)
        let format = lab.run(["register", "fraud", "art3", "--metrics", "m.json", "--reference-format", "csv"])
        #expect(format.status == 2 && format.stderr.contains("--reference-format needs --reference FILE"), "\(format)")
    }

    @Test("mreg alerts: the default until a policy is set; --set records an alert_policy entry; the same policy again changes nothing")
    func setPolicy() throws {
        let (lab, _) = Self.lab()
        let shown = lab.run(["alerts", "fraud"])
        #expect(shown.status == 0 && shown.stdout.contains("fraud has no alert policy: the default applies") && shown.stdout.contains("schema_changes > 0"), "\(shown)")
        lab.t.write("a.yaml", "alerts:\n  - when: psi(amount) > 0.3   # tuned\n    for: 3 windows\n")
        let set = lab.run(["alerts", "fraud", "--set", "a.yaml"])
        #expect(set.status == 0 && set.stdout.hasPrefix("alert policy of fraud set to sha256:"), "\(set)")
        let again = lab.run(["alerts", "fraud", "--set", "a.yaml", "--json"])
        #expect(again.status == 0 && again.json["changed"] as? Bool == false, "\(again)")
        let now = lab.run(["alerts", "fraud", "--json"])
        #expect(now.json["default"] as? Bool == false && (now.json["text"] as? String)?.contains("# tuned") == true)
        let log = lab.run(["log", "fraud"])
        #expect(log.stdout.contains("alert policy set to sha256:"), "\(log)")
        #expect(lab.run(["fsck"]).status == 0)
        // The gate policy is untouched.
        #expect(lab.run(["gates", "fraud"]).stdout.contains("has no gate policy"))
    }

    static let badFiles: [String] = (try? FileManager.default.contentsOfDirectory(atPath: FixturePaths.path("bad/alerts")).sorted()) ?? []

    @Test("every bad alert policy is refused by mreg alerts --set: exit 2, one line, nothing changed", arguments: badFiles)
    func badPolicy(name: String) throws {
        let (lab, _) = Self.lab()
        let path = FixturePaths.path("bad/alerts/\(name)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let expect = String(text.split(separator: "\n")[0].dropFirst("# expect: ".count))
        let before = lab.snapshot()
        let r = lab.run(["alerts", "fraud", "--set", path])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.hasPrefix("mreg: error: alert policy \(path): line "), "\(r)")
        #expect(r.stderr.contains(expect), "\(r)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stdout.isEmpty)
        #expect(lab.snapshot() == before)
    }
}
