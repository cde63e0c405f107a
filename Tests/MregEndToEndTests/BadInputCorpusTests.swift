import Foundation
import Testing
import _MregTestSupport

/// The corpus in Fixtures/bad (its README's table) and the other bad inputs of `register`,
/// `show`, `resolve`, `fetch` and registry discovery: exit 2, one line naming the thing, nothing changed.
@Suite("Bad input")
struct BadInputCorpusTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var file: String
        var option: String
        var expected: String
        var testDescription: String { file }
    }

    static let rows: [Row] = {
        let text = (try? String(contentsOfFile: FixturePaths.path("bad/README.md"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3, cells[1].hasPrefix("--") else { return nil }
            return Row(file: cells[0], option: cells[1], expected: cells[2])
        }
    }()

    @Test("the corpus table lists every file in it")
    func corpusComplete() throws {
        #expect(Self.rows.count >= 28)
        for dir in ["metrics", "params", "trust", "keys", "predictions"] {
            let files = try FileManager.default.contentsOfDirectory(atPath: FixturePaths.path("bad/" + dir)).map { "\(dir)/\($0)" }
            #expect(Set(files) == Set(Self.rows.map(\.file).filter { $0.hasPrefix(dir + "/") }))
        }
    }

    func expectRefused(_ lab: Lab, _ args: [String], cwd: String? = nil, mentioning needles: [String],
                       status: Int32 = 2, sourceLocation: SourceLocation = #_sourceLocation) {
        let before = lab.snapshot()
        let r = cwd.map { Mreg.run(args, cwd: $0) } ?? lab.run(args)
        #expect(r.status == status, "\(args): \(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("mreg: error: "), "\(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.dropLast().split(separator: "\n", omittingEmptySubsequences: false).count == 1, "one line: \(r)", sourceLocation: sourceLocation)
        for n in needles { #expect(r.stderr.contains(n), "should mention \(n): \(r)", sourceLocation: sourceLocation) }
        #expect(r.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(lab.snapshot() == before, "\(args) changed the registry", sourceLocation: sourceLocation)
    }

    @Test("every corpus file is refused", arguments: rows)
    func corpus(row: Row) {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        lab.t.write("art/w.bin", "weights")
        let path = FixturePaths.path("bad/" + row.file)
        var args = ["register", "fraud", "art", "--metrics", FixturePaths.path("metrics/flat.json")]
        if row.option.hasPrefix("--predictions") {
            // `--predictions [OPTION...]`: the file as the predictions, then the options; an error
            // about an option alone (--abstain, --beta) need not name the file.
            let options = row.option.split(separator: " ").dropFirst().map(String.init)
            args = ["register", "fraud", "art", "--predictions", path] + options
            expectRefused(lab, args, mentioning: options.isEmpty || row.expected.contains("predictions file") ? [row.file, row.expected] : [row.expected])
            return
        }
        if row.option == "--metrics" { args[4] = path } else { args += ["--params", path] }
        // Signing (docs/signing.md): a deploy host's trust file, a release manager's key.
        if row.option == "--trust" { args = ["fetch", "fraud@production", "--verify", "--trust", path, "--out", lab.t.join("out")] }
        if row.option == "--sign" { args = ["promote", "fraud@1", "--sign", path] }
        expectRefused(lab, args, mentioning: [row.file, row.expected])
    }

    @Test("the good fixtures are accepted")
    func goodFixtures() throws {
        let lab = Lab()
        lab.t.write("art/w.bin", "weights")
        for m in ["flat.json", "nested.json", "full.json", "full.yaml"] {
            let r = lab.run(["register", "fraud", "art", "--metrics", FixturePaths.path("metrics/" + m), "--params", FixturePaths.path("params/params.json")])
            #expect(r.status == 0, "\(m): \(r)")
        }
        let show = lab.run(["show", "fraud@2", "--json"])
        let metrics = (show.json["metrics"] as? [String: Any])?["metrics"] as? [String: Double]
        #expect(metrics == ["test.f1": 0.87, "test.auc": 0.93, "train.f1": 0.95])
        let full = lab.run(["show", "fraud@4", "--json"])
        #expect(((full.json["metrics"] as? [String: Any])?["lower_is_better"] as? [String]) == ["latency_p99_ms"])
    }

    @Test("missing, unreadable and directory files; missing artifacts")
    func files() {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        lab.t.write("art/w.bin", "weights")
        lab.t.write("m.json", #"{"f1": 0.5}"#)
        expectRefused(lab, ["register", "fraud", "art", "--metrics", "nope.json"], mentioning: ["nope.json", "no such file"])
        expectRefused(lab, ["register", "fraud", "art", "--metrics", "art"], mentioning: ["art", "is a directory"])
        expectRefused(lab, ["register", "fraud", "missing-dir", "--metrics", "m.json"], mentioning: ["missing-dir", "no such file or directory"])
        expectRefused(lab, ["register", "fraud", "--metrics", "m.json"], mentioning: ["Missing expected argument", "<path>"])
        if getuid() != 0 {
            lab.t.write("secret.json", #"{"f1": 0.5}"#)
            chmod(lab.t.join("secret.json"), 0)
            expectRefused(lab, ["register", "fraud", "art", "--metrics", "secret.json"], mentioning: ["secret.json", "permission denied"])
        }
    }

    @Test("unknown models and versions, bad id prefixes")
    func unknownNames() {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        for command in [["show"], ["resolve"], ["fetch", "--out", "o"]] {
            let head = Array(command.prefix(1)), tail = Array(command.dropFirst())
            expectRefused(lab, head + ["nope"] + tail, mentioning: ["unknown model \"nope\""])
            expectRefused(lab, head + ["fraud@99"] + tail, mentioning: ["unknown version fraud@99", "has 1 version"])
            expectRefused(lab, head + ["sha256:0123456"] + tail, mentioning: ["too short", "at least 8"])
            expectRefused(lab, head + ["sha256:zzzzzzzz"] + tail, mentioning: ["hex digits"])
            expectRefused(lab, head + ["sha256:00000000"] + tail, mentioning: ["no version record"])
        }
        expectRefused(lab, ["list", "nope"], mentioning: ["unknown model"])
    }

    @Test("an 8-digit id prefix resolves to its version (ambiguity: see RegistryResolveTests)")
    func uniquePrefix() throws {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        let r = lab.run(["resolve", "fraud@1"])
        let hex = String(r.stdout.split(separator: " ")[1].dropFirst(7).prefix(8))
        #expect(lab.run(["resolve", "sha256:" + hex]).stdout.hasPrefix("fraud@1 "))
        #expect(lab.run(["resolve", "sha256:" + hex.uppercased()]).stdout.hasPrefix("fraud@1 "))
    }

    @Test("registry discovery: missing, not a registry, --out into the registry")
    func registries() {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        lab.t.mkdir("plain")
        expectRefused(lab, ["list", "--registry", lab.t.join("nowhere")], cwd: lab.t.path, mentioning: ["nowhere", "does not exist"])
        expectRefused(lab, ["list", "--registry", lab.t.join("plain")], cwd: lab.t.path, mentioning: ["plain", "not an mreg registry"])
        expectRefused(lab, ["fetch", "fraud@1", "--out", lab.registry + "/models/x"], mentioning: ["inside the registry"])
        let env = Mreg.run(["list"], cwd: lab.t.join("plain"), env: ["MREG_REGISTRY": lab.t.join("plain")])
        #expect(env.status == 2 && env.stderr.contains("MREG_REGISTRY"))
        let none = Mreg.run(["list"], cwd: "/")
        #expect(none.status == 2 && none.stderr.contains("no registry found"))
    }
}
