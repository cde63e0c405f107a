import Foundation
import Testing
import _MregTestSupport

/// What users feed mreg and what mreg prints (issue 11, items 5, 6, 7, 10, 15, 16): YAML anchors
/// and aliases and YAML 1.1 numbers in every YAML input, one-line values that cannot forge
/// history, output that never sends a raw escape sequence, and limits with clear errors.
@Suite("Input hardening")
struct InputHardeningTests {
    func expectRefused(_ lab: Lab, _ args: [String], env: [String: String] = [:], mentioning needles: [String],
                       sourceLocation: SourceLocation = #_sourceLocation) {
        let before = lab.snapshot()
        let r = lab.run(args, env: env)
        #expect(r.status == 2, "\(args.map(\.debugDescription)): \(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("mreg: error: "), "\(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.dropLast().split(separator: "\n", omittingEmptySubsequences: false).count == 1, "one line: \(r)",
                sourceLocation: sourceLocation)
        for n in needles { #expect(r.stderr.contains(n), "should mention \(n): \(r)", sourceLocation: sourceLocation) }
        #expect(r.stdout.isEmpty, "\(r)", sourceLocation: sourceLocation)
        #expect(lab.snapshot() == before, "\(args) changed the registry", sourceLocation: sourceLocation)
    }

    func lab() -> Lab {
        let lab = Lab()
        lab.register(#"{"f1": 0.5}"#)
        lab.t.write("m.json", #"{"f1": 0.6}"#)
        lab.t.write("art/w.bin", "weights")
        return lab
    }

    static let bomb: String = {
        var lines = ["a0: &a0 [\"lol\"]"]
        for i in 1...9 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ",") + "]") }
        return lines.joined(separator: "\n") + "\n"
    }()

    // MARK: - Item 5: anchors and aliases in every YAML input

    @Test("an alias bomb and a lone alias are refused as metrics, params, baseline and policy")
    func aliasesEverywhere() {
        let lab = lab()
        lab.t.write("bomb.yaml", Self.bomb)
        lab.t.write("alias.yaml", "f1: *v\n")
        for file in ["bomb.yaml", "alias.yaml"] {
            let needles = [file, "line 1, column 5: anchors and aliases are not supported"]
            expectRefused(lab, ["register", "fraud", "art", "--metrics", file], mentioning: needles)
            expectRefused(lab, ["register", "fraud", "art", "--metrics", "m.json", "--params", file], mentioning: needles)
            expectRefused(lab, ["baseline", "fraud", "base", "--metrics", file], mentioning: needles)
            expectRefused(lab, ["gates", "fraud", "--set", file], mentioning: needles)
        }
    }

    // MARK: - Item 7: YAML 1.2 core-schema numbers

    @Test("metrics and params read YAML numbers by the 1.2 core schema; 1.1 forms are refused as metrics")
    func yaml12Numbers() throws {
        let lab = lab()
        lab.t.write("m.yaml", "f1: 012\nn_oct: 0o17\nn_hex: 0x1F\nlr: .5\n")
        lab.t.write("p.yaml", "depth: 012\nwhen: 1:20\nmask: 0b101\nbig: 1_000\non: yes\n")
        let r = lab.run(["register", "fraud", "art", "--metrics", "m.yaml", "--params", "p.yaml"])
        #expect(r.status == 0, "\(r)")
        let show = lab.run(["show", "fraud@2", "--json"])
        let metrics = (show.json["metrics"] as? [String: Any])?["metrics"] as? [String: Double]
        #expect(metrics == ["f1": 12, "n_oct": 15, "n_hex": 31, "lr": 0.5])
        let params = show.json["params"] as? [String: Any]
        #expect(params?["depth"] as? Double == 12)
        #expect(params?["when"] as? String == "1:20" && params?["mask"] as? String == "0b101" && params?["big"] as? String == "1_000")
        #expect(params?["on"] as? String == "yes")
        for (text, shown) in [("1:20", "\"1:20\""), ("0b101", "\"0b101\""), ("1_000", "\"1_000\""), ("0x", "\"0x\"")] {
            lab.t.write("bad.yaml", "f1: \(text)\n")
            expectRefused(lab, ["register", "fraud", "art", "--metrics", "bad.yaml"],
                          mentioning: ["bad.yaml", "metric \"f1\" is a string, not a number: \(shown)"])
        }
    }

    // MARK: - Item 6: history and output cannot be forged

    static let forgeries: [(String, String)] = [
        ("a line break", "ok\n#8  2026-10-01T09:00:00Z  admin@ci  1234567890ab\n    promoted fraud@1 to production"),
        ("a line break", "ok\rx"), ("a line break", "ok\u{85}x"), ("a line break", "ok\u{2028}x"), ("a line break", "ok\u{2029}x"),
        ("an escape sequence character", "ok\u{1B}[2J\u{1B}]0;pwned\u{07}"), ("an escape sequence character", "ok\u{9B}2J"),
        ("a tab", "ok\tx"), ("a control character", "ok\u{7F}"), ("a bidirectional-text control", "ok\u{202E}x"),
    ]

    @Test("every one-line value refuses line breaks, escape sequences, C1 controls and tabs")
    func oneLineValues() {
        let lab = lab()
        lab.register(#"{"f1": 0.4}"#)
        #expect(lab.run(["promote", "fraud@1", "--override", "first"]).status == 0)
        #expect(lab.run(["promote", "fraud@2", "--override", "second"]).status == 0)
        for (what, bad) in Self.forgeries {
            let reg = ["register", "fraud", "art", "--metrics", "m.json"]
            expectRefused(lab, reg + ["-m", bad], mentioning: ["--message contains \(what)"])
            expectRefused(lab, reg + ["--label", "team=\(bad)"], mentioning: ["--label team: the value contains \(what)"])
            expectRefused(lab, reg + ["--data", bad], mentioning: ["--data", "contains \(what)"])
            expectRefused(lab, reg + ["--code-revision", bad], mentioning: ["--code-revision contains \(what)"])
            expectRefused(lab, ["promote", "fraud@1", "--override", bad], mentioning: ["--override reason contains \(what)"])
            expectRefused(lab, ["rollback", "fraud", "--reason", bad], mentioning: ["--reason contains \(what)"])
        }
    }

    /// Every human-output command on a registry whose user-supplied strings hold what escaping is for.
    static let humanCommands: [[String]] = [
        ["show", "fraud@2"], ["show", "fraud@3"], ["list"], ["list", "fraud"], ["log", "fraud"], ["diff", "fraud@3", "fraud@2"],
        ["check", "fraud@3"], ["promote", "fraud@3"], ["gates", "fraud"], ["fsck"], ["resolve", "fraud@3"],
    ]

    @Test("no human output sends a raw ESC, C1 control or line separator, and history lines cannot be forged")
    func escapedOutput() throws {
        let lab = lab()
        // Values that are allowed in, or come from the environment or from names on disk.
        let env = ["MREG_USER": "eve\n#9  2026-10-01T09:00:00Z  root@prod  000000000000\u{1B}[2J", "MREG_HOST": "h\u{9B}31m\u{2028}x"]
        lab.t.write("tree/a\u{9B}2J\u{2028}.bin", "x")
        lab.t.write("p.json", #"{"note": "\u001b[2J\u009b31m", "k": "\u2028"}"#)
        lab.t.write("p2.json", #"{"note": "plain"}"#)
        #expect(lab.run(["register", "fraud", "tree", "--metrics", "m.json", "--params", "p.json"], env: env).status == 0)
        #expect(lab.run(["register", "fraud", "art", "--metrics", "m.json", "--params", "p2.json", "-m", "fine"], env: env).status == 0)
        #expect(lab.policy("stages:\n  production:\n    gates: [\"f1 >= 0.1\"]\n").status == 0)
        for args in Self.humanCommands {
            let r = lab.run(args, env: env)
            #expect(r.status == 0 || r.status == 3, "\(args): \(r)")
            for bad in ["\u{1B}", "\u{9B}", "\u{2028}", "\u{85}"] {
                #expect(!r.stdout.contains(bad) && !r.stderr.contains(bad), "\(args) printed \(bad.unicodeScalars.first!.value): \(r)")
            }
        }
        // The forged user name shows escaped on its entry's line: no line of log starts a fake entry.
        let log = lab.run(["log", "fraud"]).stdout
        #expect(log.contains("eve\\n#9  2026-10-01T09:00:00Z  root@prod  000000000000\\u{1b}[2J@h\\u{9b}31m\\u{2028}x"), "\(log)")
        #expect(!log.split(separator: "\n").contains { $0.hasPrefix("#9 ") }, "\(log)")
        // JSON output stays valid JSON with the controls escaped.
        let show = lab.run(["show", "fraud@2", "--json"])
        #expect(show.stdout.contains(#""note": "\u001b[2J\u009b31m""#), "\(show.stdout)")
        #expect((show.json["params"] as? [String: Any])?["note"] as? String == "\u{1B}[2J\u{9B}31m")
    }

    // MARK: - Item 10: params whose flattened names collide

    @Test("params whose flattened names collide are refused, naming the file and the key; distinct ones are kept")
    func paramsCollide() {
        let lab = lab()
        lab.t.write("p.json", #"{"a.b": 1, "a": {"b": 2}}"#)
        expectRefused(lab, ["register", "fraud", "art", "--metrics", "m.json", "--params", "p.json"],
                      mentioning: ["params file p.json", #"parameter "a.b" is given twice"#])
        lab.t.write("ok.json", #"{"a.c": 1, "a": {"b": 2}, "e": {}, "l": [1, {"x": 1}]}"#)
        #expect(lab.run(["register", "fraud", "art", "--metrics", "m.json", "--params", "ok.json"]).status == 0)
    }

    // MARK: - Item 15: messages

    @Test("a non-UTF-8 file name and a path over PATH_MAX each say what is wrong")
    func walkMessages() throws {
        let lab = lab()
        lab.t.write("bad/ok.bin", "x")
        let name = lab.t.join("bad/") .utf8CString.dropLast() + [0x66, -1, 0]  // "f\xFF"
        let fd = name.withUnsafeBufferPointer { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) }
        #expect(fd >= 0)
        close(fd)
        expectRefused(lab, ["register", "fraud", "bad", "--metrics", "m.json"], mentioning: ["bad/f", "the file name is not valid UTF-8"])

        lab.t.mkdir("deep")
        var dir = open(lab.t.join("deep"), O_RDONLY | O_DIRECTORY)
        let component = String(repeating: "d", count: 250)
        for _ in 0..<17 {
            #expect(mkdirat(dir, component, 0o755) == 0)
            let next = openat(dir, component, O_RDONLY | O_DIRECTORY)
            close(dir)
            dir = next
        }
        let f = openat(dir, "w.bin", O_CREAT | O_WRONLY, 0o644)
        #expect(f >= 0)
        close(f)
        close(dir)
        expectRefused(lab, ["register", "fraud", "deep", "--metrics", "m.json"], mentioning: ["over the system limit of 4095 (PATH_MAX)"])
    }

    @Test("the size limit names the input; a tab in a label, -n -1 and --grace -5 say what is wrong; MREG_TIME is checked")
    func messages() {
        let lab = lab()
        lab.t.write("big.json", "{\"f1\": 0.5" + String(repeating: " ", count: 17 << 20) + "}")
        expectRefused(lab, ["register", "fraud", "art", "--metrics", "big.json"],
                      mentioning: ["metrics file big.json: larger than 16 MiB, the limit for a metrics file"])
        expectRefused(lab, ["register", "fraud", "art", "--metrics", "m.json", "--params", "big.json"], mentioning: ["params file big.json: larger than 16 MiB"])
        expectRefused(lab, ["register", "fraud", "art", "--metrics", "m.json", "--label", "team=a\tb"],
                      mentioning: ["--label team: the value contains a tab (U+0009 at character 2)", "use spaces instead of tabs"])
        expectRefused(lab, ["log", "fraud", "-n", "-1"], mentioning: ["--max-count must be 1 or more"])
        expectRefused(lab, ["list", "fraud", "-n", "-1"], mentioning: ["--max-count must be 1 or more"])
        expectRefused(lab, ["gc", "--grace", "-5"], mentioning: ["--grace must be a number of seconds, 0 or more"])
        for bad in ["not-a-time", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-10-01 09:00:00", "2026-10-01T09:00:00Z\n#9"] {
            expectRefused(lab, ["register", "fraud", "art", "--metrics", "m.json"], env: ["MREG_TIME": bad], mentioning: ["MREG_TIME", "is not a UTC time"])
        }
        let ok = lab.run(["register", "fraud", "art", "--metrics", "m.json"], env: ["MREG_TIME": "2024-02-29T23:59:60Z"])
        #expect(ok.status == 0, "\(ok)")
    }

    @Test("a gate report shows the digits that explain its verdict")
    func gateDigits() {
        let lab = Lab()
        lab.register(#"{"f1": 0.80000000001}"#)
        lab.register(#"{"f1": 0.8}"#)
        #expect(lab.policy("stages:\n  production:\n    gates: [\"f1 > 0.8\"]\n").status == 0)
        let pass = lab.run(["check", "fraud@1"])
        #expect(pass.status == 0, "\(pass)")
        #expect(pass.stdout.contains("0.80000000001 > 0.8") && !pass.stdout.contains("0.8 > 0.8"), "\(pass.stdout)")
        let fail = lab.run(["check", "fraud@2"])
        #expect(fail.status == 3 && fail.stdout.contains("0.8 is not > 0.8"), "\(fail.stdout)")
        let diff = lab.run(["diff", "fraud@1", "fraud@2"])
        #expect(diff.stdout.contains("0.80000000001") && diff.stdout.contains("0.8 "), "\(diff.stdout)")
    }

    @Test("tables pad names in NFD and with wide characters by the columns they take")
    func tableWidths() throws {
        let lab = lab()
        lab.t.write("tree/e\u{301}te\u{301}-nfd.bin", "1")
        lab.t.write("tree/\u{E9}t\u{E9}-nfc.bin", "22")
        lab.t.write("tree/\u{6A21}\u{578B}.bin", "333")
        lab.t.write("tree/plain-name.bin", "4444")
        #expect(lab.run(["register", "fraud", "tree", "--metrics", "m.json"]).status == 0)
        let out = lab.run(["show", "fraud@2"]).stdout
        let rows = out.split(separator: "\n").filter { $0.contains(".bin") || $0.hasPrefix("FILE") }
        #expect(rows.count == 5, "\(out)")
        // The SIZE column starts at the same terminal column in every row.
        let starts = rows.map { row -> Int in
            let cell = row[..<row.range(of: "  ", options: [], range: row.startIndex..<row.endIndex)!.lowerBound]
            let rest = row[cell.endIndex...].prefix { $0 == " " }
            return cell.unicodeScalars.reduce(0) { w, u in
                w + (u.properties.generalCategory == .nonspacingMark ? 0 : (0x4E00...0x9FFF).contains(u.value) ? 2 : 1)
            } + rest.count
        }
        #expect(Set(starts).count == 1, "\(starts)\n\(out)")
    }

    // MARK: - Item 16: limits

    @Test("documented limits: labels, --data, message length, metrics and params counts")
    func limits() {
        let lab = lab()
        let reg = ["register", "fraud", "art", "--metrics", "m.json"]
        expectRefused(lab, reg + (0...100).flatMap { ["--label", "k\($0)=v"] }, mentioning: ["101 labels given; the limit is 100"])
        expectRefused(lab, reg + (0...100).flatMap { ["--data", "d\($0)"] }, mentioning: ["101 --data identifiers given; the limit is 100"])
        expectRefused(lab, reg + ["-m", String(repeating: "x", count: 4097)], mentioning: ["--message is 4097 bytes long; the limit is 4096 bytes"])
        expectRefused(lab, reg + ["--label", "k=" + String(repeating: "x", count: 1025)], mentioning: ["the limit is 1024 bytes"])
        #expect(lab.run(reg + ["-m", String(repeating: "é", count: 2048)] + (0..<100).flatMap { ["--label", "k\($0)=v"] }).status == 0)
        lab.t.write("many.json", "{" + (0..<10_000).map { "\"m\($0)\": 0.5" }.joined(separator: ",") + "}")
        #expect(lab.run(["register", "fraud", "art", "--metrics", "many.json"]).status == 0)
    }
}
