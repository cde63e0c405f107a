import Foundation
import Testing
import _MregTestSupport

/// Hostile input: each is refused with an error naming it, exit 2, and the registry unchanged.
@Suite("Hostile input")
struct HostileInputTests {
    static let names: [String] = [
        "..", ".", "../x", "a/../../b", "/etc/passwd", "a\\..\\b", "%2e%2e%2f", "a\u{01}b", "a\nb", "a\tb",
        "x.lock", String(repeating: "a", count: 4096), "Fraud", "FRAUD", "fr\u{0430}ud" /* Cyrillic a */,
        "ｆｒａｕｄ" /* full width */, "fraud\u{200B}" /* zero-width space */, "", " fraud", "-fraud", "_x",
    ]

    func lab() -> Lab {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        lab.t.write("m.json", #"{"f1": 0.5}"#)
        lab.t.write("art/w.bin", "weights")
        return lab
    }

    func expectRefused(_ lab: Lab, _ args: [String], mentioning needle: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let before = lab.snapshot()
        let r = lab.run(args)
        #expect(r.status == 2, "\(args.map { $0.debugDescription }): \(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("mreg: error: "), "\(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.dropLast().split(separator: "\n", omittingEmptySubsequences: false).count == 1, "one line: \(r)", sourceLocation: sourceLocation)
        if let needle { #expect(r.stderr.contains(needle), "should mention \(needle): \(r)", sourceLocation: sourceLocation) }
        #expect(lab.snapshot() == before, "changed the registry", sourceLocation: sourceLocation)
    }

    @Test("hostile model names are refused by register, naming the reason", arguments: names)
    func hostileModelName(name: String) {
        let lab = lab()
        // A leading "-" is read as an option by the argument parser: still exit 2, other words.
        let needle = name.isEmpty ? "empty" : name.hasPrefix("-") ? nil : "model name"
        expectRefused(lab, ["register", name, "art", "--metrics", "m.json"], mentioning: needle)
        expectRefused(lab, ["show", name + "@1"])
    }

    @Test("hostile stage and baseline names are refused", arguments: names.filter { !$0.isEmpty })
    func hostileStageName(name: String) {
        let lab = lab()
        let dash = name.hasPrefix("-")
        expectRefused(lab, ["promote", "fraud@1", "--stage", name], mentioning: dash ? nil : "stage name")
        expectRefused(lab, ["baseline", "fraud", name, "--metrics", "m.json"], mentioning: dash ? nil : "baseline name")
    }

    @Test("a symbolic link inside a registered tree is refused")
    func symlinkInTree() {
        let lab = lab()
        lab.t.write("tree/w.bin", "x")
        lab.t.symlink("tree/link", to: "/etc/passwd")
        expectRefused(lab, ["register", "fraud", "tree", "--metrics", "m.json"], mentioning: "symbolic link")
        lab.t.symlink("toplink", to: lab.t.join("tree/w.bin"))
        expectRefused(lab, ["register", "fraud", "toplink", "--metrics", "m.json"], mentioning: "symbolic link")
    }

    @Test("a FIFO inside a registered tree is refused")
    func fifoInTree() {
        let lab = lab()
        lab.t.write("tree/w.bin", "x")
        #expect(mkfifo(lab.t.join("tree/pipe"), 0o644) == 0)
        expectRefused(lab, ["register", "fraud", "tree", "--metrics", "m.json"], mentioning: "FIFO")
    }

    @Test("a device is refused")
    func device() {
        let lab = lab()
        expectRefused(lab, ["register", "fraud", "/dev/null", "--metrics", "m.json"], mentioning: "character device")
    }

    @Test("hard links are stored as the regular files they are")
    func hardLink() throws {
        let lab = lab()
        lab.t.write("tree/w.bin", "shared bytes")
        #expect(link(lab.t.join("tree/w.bin"), lab.t.join("tree/w2.bin")) == 0)
        #expect(lab.run(["register", "fraud", "tree", "--metrics", "m.json"]).status == 0)
        #expect(lab.run(["fetch", "fraud", "--out", lab.t.join("out")]).status == 0)
        #expect(lab.t.read("out/w2.bin") == Data("shared bytes".utf8))
    }

    @Test("a file whose size does not match what was read is refused (it changed while being registered)")
    func changingFile() {
        let lab = lab()
        // /proc files report size 0 and then produce bytes: the same check catches a file that grows.
        expectRefused(lab, ["register", "fraud", "/proc/self/status", "--metrics", "m.json"], mentioning: "changed while it was being registered")
    }

    @Test("fetch --out through a symbolic link, at the end or in a parent, is refused")
    func fetchThroughLinks() {
        let lab = lab()
        lab.t.mkdir("real")
        lab.t.symlink("linkdir", to: lab.t.join("real"))
        expectRefused(lab, ["fetch", "fraud@1", "--out", lab.t.join("linkdir")], mentioning: "symbolic link")
        expectRefused(lab, ["fetch", "fraud@1", "--out", lab.t.join("linkdir/out")], mentioning: "symbolic link")
        #expect(try! FileManager.default.contentsOfDirectory(atPath: lab.t.join("real")).isEmpty)
        expectRefused(lab, ["fetch", "fraud@1", "--out", lab.registry + "/objects/x"], mentioning: "inside the registry")
        // However it is spelled, and even with --force on an existing registry directory.
        for spelling in ["real/../reg/models", "real//..//reg/objects", "real/./../reg/tmp", "real/../reg"] {
            expectRefused(lab, ["fetch", "fraud@1", "--force", "--out", lab.t.join(spelling)], mentioning: "inside the registry")
        }
        expectRefused(lab, ["fetch", "fraud@1", "--force", "--out", lab.t.join("real/..")], mentioning: "name a directory")
        expectRefused(lab, ["fetch", "fraud@1", "--out", lab.t.join("no/such/parent/out")], mentioning: "does not exist")
    }

    @Test("labels and lineage with control characters are refused")
    func labelsAndLineage() {
        let lab = lab()
        expectRefused(lab, ["register", "fraud", "art", "--metrics", "m.json", "--label", "noequals"], mentioning: "key=value")
        expectRefused(lab, ["register", "fraud", "art", "--metrics", "m.json", "--label", "k=a\nb"], mentioning: "one line")
        expectRefused(lab, ["register", "fraud", "art", "--metrics", "m.json", "--label", "k k=v"], mentioning: "key must be")
        expectRefused(lab, ["register", "fraud", "art", "--metrics", "m.json", "--data", ""], mentioning: "--data")
        expectRefused(lab, ["register", "fraud", "art", "art", "--metrics", "m.json"], mentioning: "both be stored")
    }
}
