import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// A hand-edited or hostile registry: fsck reports each problem, and reading commands fail with
/// exit 1 without writing anything outside --out (or creating --out at all).
@Suite("Hostile registry")
struct HostileRegistryTests {
    /// A registry with fraud@1 and fraud@2 registered.
    static func make() -> TemporaryDirectory {
        let t = TemporaryDirectory("mreg-hostile")
        t.write("m.json", #"{"f1": 0.8}"#)
        t.write("v1/weights.bin", randomBytes(100_000, seed: 1))
        t.write("v1/notes.txt", String(repeating: "compressible text ", count: 5000))
        t.write("v2/weights.bin", randomBytes(100_000, seed: 2))
        #expect(Mreg.run(["init", "reg"], cwd: t.path).status == 0)
        #expect(Mreg.run(["register", "fraud", "v1", "--metrics", "m.json"], cwd: t.path, registry: "reg").status == 0)
        #expect(Mreg.run(["register", "fraud", "v2", "--metrics", "m.json"], cwd: t.path, registry: "reg").status == 0)
        return t
    }

    func run(_ t: TemporaryDirectory, _ args: [String]) -> CommandResult { Mreg.run(args, cwd: t.path, registry: t.join("reg")) }

    func overwrite(_ path: String, _ data: Data) {
        chmod(path, 0o644)
        FileManager.default.createFile(atPath: path, contents: data)
    }

    func objectPath(_ t: TemporaryDirectory, _ id: String) -> String {
        let hex = String(id.dropFirst(7))
        return t.join("reg/objects/\(hex.prefix(2))/\(hex.dropFirst(2))")
    }

    func artifactObject(_ t: TemporaryDirectory, _ ref: String, _ path: String) -> String {
        let show = run(t, ["show", ref, "--json"])
        let arts = show.json["artifacts"] as? [[String: Any]] ?? []
        return arts.first { $0["path"] as? String == path }?["object"] as? String ?? ""
    }

    func expectFsckFails(_ t: TemporaryDirectory, mentioning needle: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let r = run(t, ["fsck"])
        #expect(r.status == 1, "\(r)", sourceLocation: sourceLocation)
        #expect(r.stdout.contains(needle), "fsck output should mention \(needle): \(r)", sourceLocation: sourceLocation)
    }

    @Test("a ref holding garbage, a short hash or an upper-case hash", arguments: ["garbage\n", "sha256:abcd\n", "", "SHA256:" + String(repeating: "A", count: 64) + "\n"])
    func garbageHead(content: String) {
        let t = Self.make()
        overwrite(t.join("reg/models/fraud/HEAD"), Data(content.utf8))
        expectFsckFails(t, mentioning: "models/fraud/HEAD")
        let r = run(t, ["resolve", "fraud"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("models/fraud/HEAD"), "\(r)")
    }

    @Test("a ref pointing at a missing object")
    func headToMissingObject() {
        let t = Self.make()
        overwrite(t.join("reg/models/fraud/HEAD"), Data(("sha256:" + String(repeating: "ab", count: 32) + "\n").utf8))
        expectFsckFails(t, mentioning: "missing")
        #expect(run(t, ["resolve", "fraud"]).status == 1)
    }

    @Test("an artifact object replaced by a symbolic link is reported and never followed")
    func objectIsSymlink() throws {
        let t = Self.make()
        let p = objectPath(t, artifactObject(t, "fraud@1", "weights.bin"))
        t.write("secret", "do not copy")
        try FileManager.default.removeItem(atPath: p)
        try FileManager.default.createSymbolicLink(atPath: p, withDestinationPath: t.join("secret"))
        expectFsckFails(t, mentioning: "symbolic link")
        let r = run(t, ["fetch", "fraud@1", "--out", t.join("out")])
        #expect(r.status == 1, "\(r)")
        #expect(!t.exists("out"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.path).allSatisfy { !$0.contains("mreg-fetch") })
    }

    /// Replaces a file with a FIFO nobody writes to: opening it for reading would block forever.
    func fifo(_ path: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        #expect(mkfifo(path, 0o644) == 0)
    }

    @Test("a FIFO in place of a ref, an object or the config is reported; no command waits on it",
          arguments: ["HEAD", "object", "config"])
    func fifoInRegistry(_ which: String) throws {
        let t = Self.make()
        switch which {
        case "HEAD": try fifo(t.join("reg/models/fraud/HEAD"))
        case "object": try fifo(objectPath(t, artifactObject(t, "fraud@1", "weights.bin")))
        default: try fifo(t.join("reg/config"))
        }
        let r = run(t, which == "object" ? ["fetch", "fraud@1", "--out", t.join("out")] : ["resolve", "fraud"])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("not a regular file"), "\(r)")
        #expect(!t.exists("out"))
        let fsck = run(t, ["fsck"])
        #expect(fsck.status == 1, "\(fsck)")
        if which != "config" { #expect(fsck.stdout.contains("not a regular file"), "\(fsck)") }
    }

    @Test("a symbolic link in place of a ref is reported, not followed")
    func headIsSymlink() throws {
        let t = Self.make()
        let head = t.join("reg/models/fraud/HEAD")
        try FileManager.default.moveItem(atPath: head, toPath: t.join("elsewhere"))
        try FileManager.default.createSymbolicLink(atPath: head, withDestinationPath: t.join("elsewhere"))
        let r = run(t, ["resolve", "fraud"])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("symbolic link"), "\(r)")
        expectFsckFails(t, mentioning: "symbolic link")
    }

    @Test("a user's metrics from a FIFO nobody writes to, or a device, are refused; a pipe with data is read")
    func metricsFromFifo() throws {
        let t = Self.make()
        let before = TreeSnapshot(t.join("reg"))
        try fifo(t.join("m.fifo"))
        let silent = run(t, ["register", "fraud", "v1", "--metrics", "m.fifo"])
        #expect(silent.status == 2, "\(silent)")
        #expect(silent.stderr.contains("m.fifo") && silent.stderr.contains("empty"), "\(silent)")
        let device = run(t, ["register", "fraud", "v1", "--metrics", "/dev/null"])
        #expect(device.status == 2, "\(device)")
        #expect(device.stderr.contains("/dev/null: not a regular file or a pipe"), "\(device)")
        #expect(TreeSnapshot(t.join("reg")) == before)
        // `--metrics <(command)` or /dev/stdin from a pipe: the bytes are read.
        let sh = Process()
        sh.executableURL = URL(fileURLWithPath: "/bin/sh")
        sh.arguments = ["-c", "echo '{\"f1\": 0.9}' | \"$0\" register fraud v1 --metrics /dev/stdin --registry reg", Mreg.binary]
        sh.currentDirectoryURL = URL(fileURLWithPath: t.path)
        try sh.run()
        sh.waitUntilExit()
        #expect(sh.terminationStatus == 0)
        #expect(run(t, ["show", "fraud@3", "--json"]).json["metrics"] != nil)
    }

    @Test("a fan-out directory replaced by a symbolic link is reported; nothing is read or written through it")
    func fanOutIsSymlink() throws {
        let t = Self.make()
        let object = objectPath(t, artifactObject(t, "fraud@1", "weights.bin"))
        let fan = (object as NSString).deletingLastPathComponent
        try FileManager.default.moveItem(atPath: fan, toPath: t.join("outside"))
        try FileManager.default.createSymbolicLink(atPath: fan, withDestinationPath: t.join("outside"))
        let outside = TreeSnapshot(t.join("outside"))
        let fetch = run(t, ["fetch", "fraud@1", "--out", t.join("out")])
        #expect(fetch.status == 1, "\(fetch)")
        #expect(fetch.stderr.contains("is a symbolic link; objects are not read or written through it"), "\(fetch)")
        #expect(!t.exists("out"))
        // Registering the same bytes again does not write into the link's target either.
        let again = run(t, ["register", "fraud", "v1", "--metrics", "m.json"])
        #expect(again.status == 1, "\(again)")
        #expect(again.stderr.contains("is a symbolic link"), "\(again)")
        #expect(TreeSnapshot(t.join("outside")) == outside)
        expectFsckFails(t, mentioning: "unexpected symbolic link in the object store")
    }

    @Test("a compressed object that inflates far beyond its declared size")
    func inflationBomb() throws {
        let t = Self.make()
        let id = artifactObject(t, "fraud@1", "notes.txt")
        let p = objectPath(t, id)
        let bomb = try ObjectStore.deflateAll([UInt8](repeating: 0, count: 20 << 20), level: 9)
        overwrite(p, Data("MREG1 zlib 90000\n".utf8) + Data(bomb))
        expectFsckFails(t, mentioning: String(id.dropFirst(7).prefix(12)))
        let r = run(t, ["fetch", "fraud@1", "--out", t.join("out")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("more than its declared"), "\(r)")
        #expect(!t.exists("out"))
        // The header declares 20 MiB where the record says 90,000 bytes: refused before writing.
        overwrite(p, Data("MREG1 zlib \(20 << 20)\n".utf8) + Data(bomb))
        let big = run(t, ["fetch", "fraud@1", "--out", t.join("out")])
        #expect(big.status == 1)
        #expect(big.stderr.contains("more than the 90000 expected"), "\(big)")
        #expect(!t.exists("out"))
    }

    @Test("a record naming a path with .. or an absolute path", arguments: ["../evil.txt", "/tmp/evil.txt", "a/../../evil.txt"])
    func recordWithUnsafePath(path: String) throws {
        let t = Self.make()
        let registry = try Registry.open(explicit: t.join("reg"))
        let idx = t.join("reg/models/fraud/versions/1")
        let recordID = try #require(ObjectID(String(decoding: FileManager.default.contents(atPath: idx)!, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        var json = try JSON.parse(try registry.store.get(recordID))
        guard case .object(var o) = json, case .array(var arts) = o["artifacts"]!, case .object(var a0) = arts[0] else {
            Issue.record("unexpected record shape"); return
        }
        a0["path"] = .string(path)
        arts[0] = .object(a0)
        o["artifacts"] = .array(arts)
        json = .object(o)
        let evil = try registry.store.put(json.canonicalBytes)
        overwrite(idx, Data("\(evil)\n".utf8))
        expectFsckFails(t, mentioning: "not a safe relative path")
        let r = run(t, ["fetch", "fraud@1", "--out", t.join("deep/out")])
        #expect(r.status != 0)
        #expect(!t.exists("evil.txt") && !t.exists("deep/evil.txt") && !FileManager.default.fileExists(atPath: "/tmp/evil.txt"))
    }

    @Test("a record whose paths conflict (a file and a directory of the same name) is reported; fetch refuses it")
    func recordWithConflictingPaths() throws {
        let t = Self.make()
        let registry = try Registry.open(explicit: t.join("reg"))
        let idx = t.join("reg/models/fraud/versions/1")
        let recordID = try #require(ObjectID(String(decoding: FileManager.default.contents(atPath: idx)!, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        guard case .object(var o) = try JSON.parse(try registry.store.get(recordID)), case .array(var arts) = o["artifacts"]!,
              case .object(var a0) = arts[0], case .object(var a1) = arts[1] else {
            Issue.record("unexpected record shape"); return
        }
        a0["path"] = .string("sub")
        a1["path"] = .string("sub/x")
        arts[0] = .object(a0)
        arts[1] = .object(a1)
        o["artifacts"] = .array(arts)
        overwrite(idx, Data("\(try registry.store.put(JSON.object(o).canonicalBytes))\n".utf8))
        expectFsckFails(t, mentioning: "would be a file and a directory")
        let r = run(t, ["fetch", "fraud@1", "--out", t.join("out")])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("fraud@1 cannot be fetched"), "\(r)")
        #expect(!t.exists("out"))
        // The record still reads: list, show and gc work (such records may predate the check).
        #expect(run(t, ["list", "fraud"]).status == 0)
        #expect(run(t, ["show", "fraud@1"]).status == 0)
        #expect(run(t, ["gc", "--grace", "0"]).status == 0)
    }

    @Test("a model whose HEAD was deleted: fsck reports lost history, gc removes nothing")
    func headDeleted() throws {
        let t = Self.make()
        let before = Set(try FileManager.default.subpathsOfDirectory(atPath: t.join("reg/objects")))
        try FileManager.default.removeItem(atPath: t.join("reg/models/fraud/HEAD"))
        expectFsckFails(t, mentioning: "HEAD is missing but 2 versions are indexed")
        let gc = run(t, ["gc", "--grace", "0"])
        #expect(gc.status == 1, "\(gc)")
        #expect(gc.stderr.contains("gc stopped, nothing removed"), "\(gc)")
        #expect(Set(try FileManager.default.subpathsOfDirectory(atPath: t.join("reg/objects"))) == before)
        #expect(t.exists("reg/models/fraud/versions/2"))
    }

    @Test("a one-version model whose HEAD was deleted is kept too: it cannot be told from nothing")
    func headDeletedOneVersion() throws {
        let t = Self.make()
        t.write("c/w.bin", randomBytes(5000, seed: 9))
        t.write("p.yaml", "stages:\n  production:\n    gates:\n      - f1 >= champion\n")
        #expect(run(t, ["register", "churn", "c", "--metrics", "m.json"]).status == 0)
        #expect(run(t, ["promote", "churn@1"]).status == 0)
        #expect(run(t, ["gates", "churn", "--set", "p.yaml"]).status == 0)
        let before = Set(try FileManager.default.subpathsOfDirectory(atPath: t.join("reg/objects")))
        try FileManager.default.removeItem(atPath: t.join("reg/models/churn/HEAD"))
        expectFsckFails(t, mentioning: "HEAD is missing but 1 version is indexed")
        let gc = run(t, ["gc", "--grace", "0"])
        #expect(gc.status == 1, "\(gc)")
        #expect(Set(try FileManager.default.subpathsOfDirectory(atPath: t.join("reg/objects"))) == before)
        #expect(t.exists("reg/models/churn/versions/1"))
        // A register of that model does not start a new history over the lost one.
        let register = run(t, ["register", "churn", "c", "--metrics", "m.json"])
        #expect(register.status == 1, "\(register)")
        #expect(register.stderr.contains("churn cannot be written"), "\(register)")
        #expect(!t.exists("reg/models/churn/HEAD") && !t.exists("reg/models/churn/CREATING"))
        expectFsckFails(t, mentioning: "HEAD is missing but 1 version is indexed")
    }

    @Test("a truncated history entry")
    func truncatedEntry() throws {
        let t = Self.make()
        let head = String(decoding: t.read("reg/models/fraud/HEAD")!, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let p = objectPath(t, head)
        let data = try Data(contentsOf: URL(fileURLWithPath: p))
        overwrite(p, data.prefix(data.count / 2))
        expectFsckFails(t, mentioning: "history of fraud")
        #expect(run(t, ["list"]).status == 1)
    }

    @Test("a broken hash chain: an entry in the middle is missing")
    func brokenChain() throws {
        let t = Self.make()
        let registry = try Registry.open(explicit: t.join("reg"))
        let headID = try #require(try registry.head(ModelName("fraud")))
        let prev = try #require(try registry.entry(headID).prev)
        try FileManager.default.removeItem(atPath: objectPath(t, prev.description))
        expectFsckFails(t, mentioning: "missing")
        // gc refuses to work on a registry it cannot fully read.
        let gc = run(t, ["gc", "--grace", "0"])
        #expect(gc.status == 1, "\(gc)")
        #expect(gc.stderr.contains("nothing removed"), "\(gc)")
    }

    @Test("a stray file in the object store and a version index pointing elsewhere")
    func straysAndIndex() throws {
        let t = Self.make()
        t.write("reg/objects/zz-not-an-object", "x")
        let one = t.read("reg/models/fraud/versions/1")!
        overwrite(t.join("reg/models/fraud/versions/2"), one)
        let r = run(t, ["fsck"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("zz-not-an-object"), "\(r)")
        #expect(r.stdout.contains("versions/2"), "\(r)")
    }

    @Test("a large raw object (kernel copy path) that is damaged is refused by fetch", arguments: ["flip", "truncate", "append"])
    func damagedLargeObject(damage: String) throws {
        let t = Self.make()
        t.write("big/w.bin", randomBytes(2_500_000, seed: 77))
        #expect(run(t, ["register", "big", "big", "--metrics", "m.json"]).status == 0)
        // Undamaged, it is fetched byte for byte.
        #expect(run(t, ["fetch", "big@1", "--out", t.join("ok")]).status == 0)
        #expect(t.read("ok/w.bin") == t.read("big/w.bin"))
        let p = objectPath(t, artifactObject(t, "big@1", "w.bin"))
        var data = try Data(contentsOf: URL(fileURLWithPath: p))
        switch damage {
        case "flip": data[data.count - 1_000_000] ^= 0x80
        case "truncate": data = data.prefix(data.count - 10)
        default: data.append(0)
        }
        overwrite(p, data)
        let r = run(t, ["fetch", "big@1", "--out", t.join("out")])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains(String(artifactObject(t, "big@1", "w.bin").dropFirst(7))), "\(r)")
        #expect(!t.exists("out"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.path).allSatisfy { !$0.contains("mreg-fetch") })
    }
}
