import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// What a run of `ssh-keygen` gave.
struct ToolResult: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// Whether the real `ssh-keygen` is there (the tests run it with PATH=/usr/bin:/bin). Without it the
/// signing suite is skipped, and says so on stderr: `scripts/test.sh` installs openssh-client.
let sshKeygenAvailable: Bool = {
    let found = ["/usr/bin/ssh-keygen", "/bin/ssh-keygen"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    if !found {
        FileHandle.standardError.write(Data("""
            SKIPPED: the signing tests (SigningTests) need OpenSSH's ssh-keygen, which is not installed; \
            run scripts/test.sh (it installs openssh-client) or apt-get install openssh-client.

            """.utf8))
    }
    return found
}()

/// Runs the real `ssh-keygen` (OpenSSH) in a directory; stdin from a file when given.
func sshKeygen(_ args: [String], cwd: String, stdin: String? = nil) -> ToolResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["ssh-keygen"] + args
    p.currentDirectoryURL = URL(fileURLWithPath: cwd)
    p.environment = ["PATH": "/usr/bin:/bin", "HOME": cwd]
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = stdin.map { FileHandle(forReadingAtPath: cwd + "/" + $0)! } ?? FileHandle.nullDevice
    try! p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ToolResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

/// A registry with fraud@1..3 (each better than the last), keys made by ssh-keygen, and a trust file.
final class SigningLab {
    let lab = Lab()
    var t: TemporaryDirectory { lab.t }

    init(versions: Int = 3) {
        for i in 0..<versions { lab.register("{\"f1\": \(0.80 + Double(i) * 0.05)}") }
    }

    @discardableResult
    func run(_ args: [String], env: [String: String] = [:]) -> CommandResult { lab.run(args, env: env) }

    /// `ssh-keygen -t ed25519 -N '' -C NAME -f NAME`.
    func key(_ name: String) {
        let r = sshKeygen(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", name], cwd: t.path)
        #expect(r.status == 0, "\(r)")
    }

    func pub(_ name: String) -> String {
        let f = String(decoding: t.read(name + ".pub") ?? Data(), as: UTF8.self).split(separator: " ")
        return f.count >= 2 ? "\(f[0]) \(f[1])" : "missing"
    }

    /// An allowed_signers file naming these keys for namespace mreg, with a threshold line.
    @discardableResult
    func trust(_ names: [String], threshold: Int? = nil, file: String = "allowed_signers") -> String {
        var text = "# release managers\n"
        if let threshold { text += "# mreg-threshold production \(threshold)\n" }
        for n in names { text += "\(n) namespaces=\"mreg\" \(pub(n))\n" }
        return t.write(file, text)
    }

    func fetch(_ out: String = "out", state: String? = "state", env: [String: String] = [:]) -> CommandResult {
        run(["fetch", "fraud@production", "--verify", "--trust", "allowed_signers", "--out", out] + (state.map { ["--state", $0] } ?? []), env: env)
    }

    func registry() throws -> Registry { try Registry.open(explicit: lab.registry) }

    /// Appends a `signed` entry listing these signature objects, as a hostile writer could.
    func appendSigned(_ ids: [ObjectID], stage: String = "production") throws {
        let reg = try registry()
        try reg.append(try ModelName("fraud")) { _, cur in
            (.signed, ["stage": .string(stage), "signatures": .array(ids.map { .string($0.description) })], cur!.state)
        }
    }

    /// The signature objects the current champion of production lists.
    func championSignatureIDs() throws -> [ObjectID] {
        try registry().championSignatures(ModelName("fraud"), StageName("production"))!.signatures.map(\.id)
    }

    func expectRefused(_ r: CommandResult, _ needle: String, out: String = "out", sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 6, "\(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("mreg: error: verification refused: fraud@production is "), "\(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(needle), "expected \(needle): \(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r)", sourceLocation: sourceLocation)
        #expect(!t.exists(out), "nothing may be written to --out on refusal", sourceLocation: sourceLocation)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: t.path)) ?? []
        #expect(!leftovers.contains { $0.contains("mreg-fetch") }, sourceLocation: sourceLocation)
    }
}

@Suite("Signed promotions and verified fetches", .enabled(if: sshKeygenAvailable, "needs ssh-keygen (openssh-client): run scripts/test.sh"))
struct SigningTests {
    @Test("promote --sign, a co-signature by a second release manager, fetch --verify with a threshold of 2")
    func happyPathTwoSigners() throws {
        let s = SigningLab()
        s.key("alice")
        s.key("bob")
        s.trust(["alice", "bob"], threshold: 2)
        let p = s.run(["promote", "fraud@1", "--sign", "alice", "--expires", "30d"])
        #expect(p.status == 0, "\(p)")
        #expect(p.stdout.contains("SIGNED: by SHA256:"), "\(p)")
        // One signature is not enough for a threshold of 2.
        s.expectRefused(s.fetch(), "fewer signers than the threshold: 1 distinct allowed signer (alice), allowed_signers requires 2 for production")
        let c = s.run(["sign", "fraud@production", "--stage", "production", "--key", "bob"])
        #expect(c.status == 0, "\(c)")
        #expect(c.stdout.hasPrefix("SIGNED: fraud@1 as champion of production (history #4) by SHA256:"), "\(c)")
        let f = s.fetch()
        #expect(f.status == 0, "\(f)")
        #expect(f.stdout.contains("verified: history #4, signed by alice, bob (2 of 2 required)"), "\(f)")
        #expect(s.t.read("out/w.bin") == randomBytes(1000, seed: 1))
        let state = String(decoding: s.t.read("state") ?? Data(), as: UTF8.self)
        #expect(state.contains("\nfraud production 4 sha256:"), "\(state)")
        // resolve --verify agrees, and says nothing was changed in the state file.
        let r = s.run(["resolve", "fraud@production", "--verify", "--trust", "allowed_signers", "--state", "state", "--json"])
        #expect(r.status == 0, "\(r)")
        #expect((r.json["verified"] as? [String: Any])?["sequence"] as? Int == 4, "\(r)")
        // log and show name both signers by the fingerprint ssh-keygen -l prints, with the key comment.
        let fpAlice = sshKeygen(["-l", "-f", "alice.pub"], cwd: s.t.path).stdout.split(separator: " ")[1]
        let fpBob = sshKeygen(["-l", "-f", "bob.pub"], cwd: s.t.path).stdout.split(separator: " ")[1]
        let log = s.run(["log", "fraud"])
        #expect(log.stdout.contains("signed by \(fpAlice) (alice), expires "), "\(log)")
        #expect(log.stdout.contains("signed fraud@1 as champion of production (history #4)"), "\(log)")
        #expect(log.stdout.contains("signed by \(fpBob) (bob), expires "), "\(log)")
        let show = s.run(["show", "fraud@1"])
        #expect(show.stdout.contains("signed    production: signed by \(fpAlice) (alice)"), "\(show)")
        #expect(show.stdout.contains("signed    production: signed by \(fpBob) (bob)"), "\(show)")
        // fsck checks the signatures; gc keeps them.
        #expect(s.run(["fsck"]).status == 0)
        #expect(s.run(["gc", "--grace", "0"]).status == 0)
        #expect(s.fetch("out2").status == 0)
    }

    @Test("unsigned: a promotion without --sign is refused")
    func unsigned() {
        let s = SigningLab()
        s.key("alice")
        s.trust(["alice"])
        #expect(s.run(["promote", "fraud@1"]).status == 0)
        s.expectRefused(s.fetch(), "is fraud@1 (history #4): unsigned: no signature in the registry covers it")
        let r = s.run(["resolve", "fraud@production", "--verify", "--trust", "allowed_signers"])
        #expect(r.status == 6 && r.stderr.contains("unsigned"), "\(r)")
        #expect(r.stdout.isEmpty)
    }

    @Test("a statement re-signed by a key the deploy host does not know is refused")
    func unknownSigner() {
        let s = SigningLab()
        s.key("alice")
        s.key("mallory")
        s.trust(["alice"])
        #expect(s.run(["promote", "fraud@1", "--sign", "mallory"]).status == 0)
        s.expectRefused(s.fetch(), "signer not allowed: SHA256:")
        #expect(s.fetch().stderr.contains("(mallory): the key is not in allowed_signers"))
        // The same key allowed only for git signatures is refused too.
        s.t.write("allowed_signers", "mallory namespaces=\"git\" \(s.pub("mallory"))\n")
        s.expectRefused(s.fetch(), "does not allow the key to sign in namespace mreg")
        // …and one whose valid-before date has passed.
        s.t.write("allowed_signers", "mallory valid-before=\"20200101Z\" \(s.pub("mallory"))\n")
        s.expectRefused(s.fetch(), "valid-after/valid-before")
    }

    @Test("an old signed state replayed after a newer one is refused with the state file, a rollback through mreg passes")
    func replay() throws {
        let s = SigningLab()
        s.key("alice")
        s.trust(["alice"])
        #expect(s.run(["promote", "fraud@1", "--sign", "alice"]).status == 0)
        #expect(s.fetch("out1").status == 0)
        let oldHead = s.t.read("reg/models/fraud/HEAD")!
        #expect(s.run(["promote", "fraud@2", "--sign", "alice"]).status == 0)
        #expect(s.fetch("out2").status == 0)
        // An attacker (or a stale mirror) puts the old, validly signed history back.
        try oldHead.write(to: URL(fileURLWithPath: s.t.join("reg/models/fraud/HEAD")))
        #expect(s.lab.champion() == "fraud@1")
        let stateBefore = s.t.read("state")
        s.expectRefused(s.fetch(), "rollback: history #4 is below #5, which state recorded for fraud@production")
        #expect(s.t.read("state") == stateBefore, "a refused fetch leaves the state file alone")
        // Without a state file only expiry limits a replay: the host has nothing to compare with.
        #expect(s.fetch("out3", state: nil).status == 0)
    }

    @Test("a rollback made through mreg has a higher sequence number and passes")
    func legitimateRollback() {
        let s = SigningLab()
        s.key("alice")
        s.trust(["alice"])
        #expect(s.run(["promote", "fraud@1", "--sign", "alice"]).status == 0)
        #expect(s.run(["promote", "fraud@2", "--sign", "alice"]).status == 0)
        #expect(s.fetch("out1").status == 0)
        let rb = s.run(["rollback", "fraud", "--reason", "latency", "--sign", "alice"])
        #expect(rb.status == 0 && rb.stdout.contains("SIGNED: by SHA256:"), "\(rb)")
        let f = s.fetch("out2")
        #expect(f.status == 0 && f.stdout.contains("verified: history #6"), "\(f)")
        #expect(s.t.read("out2/w.bin") == randomBytes(1000, seed: 1))
    }

    @Test("a signature copied onto another champion (record id swapped) is refused: the statement names other bytes")
    func swappedRecord() throws {
        let s = SigningLab()
        s.key("alice")
        s.trust(["alice"])
        #expect(s.run(["promote", "fraud@1", "--sign", "alice"]).status == 0)
        let signedV1 = try s.championSignatureIDs()
        #expect(s.run(["promote", "fraud@2"]).status == 0)
        try s.appendSigned(signedV1)
        s.expectRefused(s.fetch(), "statement names other bytes: the statement signed by SHA256:")
        #expect(s.fetch().stderr.contains("names record sha256:"), "")
        #expect(s.fetch().stderr.contains("(fraud@1), but the registry's champion is fraud@2"))
        // An existing --out replaced with --force is left as it was.
        s.t.write("deployed/w.bin", "the model in service")
        let forced = s.run(["fetch", "fraud@production", "--verify", "--trust", "allowed_signers", "--out", "deployed", "--force"])
        #expect(forced.status == 6, "\(forced)")
        #expect(s.t.read("deployed/w.bin") == Data("the model in service".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.t.join("deployed")) == ["w.bin"])
        // fsck reports the copied signature as being about another champion.
        let fsck = s.run(["fsck"])
        #expect(fsck.status == 1 && fsck.stdout.contains("its statement is about fraud@1 in production, not this entry's champion"), "\(fsck)")
    }

    @Test("an expired statement is refused (indefinite freeze)")
    func expired() {
        let s = SigningLab()
        s.key("alice")
        s.trust(["alice"])
        let p = s.run(["promote", "fraud@1", "--sign", "alice", "--expires", "1d"], env: ["MREG_TIME": "2020-01-01T00:00:00Z"])
        #expect(p.status == 0, "\(p)")
        s.expectRefused(s.fetch(), "expired: the statement signed by SHA256:")
        #expect(s.fetch().stderr.contains("expired at 2020-01-02T00:00:00Z, before this command started"))
        // Re-signing renews it.
        #expect(s.run(["sign", "fraud@1", "--key", "alice"]).status == 0)
        #expect(s.fetch().status == 0)
    }

    @Test("a signature over the statement in another namespace is refused")
    func otherNamespace() throws {
        let s = SigningLab()
        s.key("alice")
        s.trust(["alice"])
        #expect(s.run(["promote", "fraud@1"]).status == 0)
        #expect(s.run(["sign", "fraud@production", "--export", "x"]).status == 0)
        #expect(sshKeygen(["-Y", "sign", "-n", "file", "-f", "alice", "x/statement"], cwd: s.t.path).status == 0)
        // mreg will not record it…
        let rec = s.run(["sign", "fraud@1", "--statement", "x/statement", "--signature", "x/statement.sig"])
        #expect(rec.status == 2 && rec.stderr.contains("signed in namespace \"file\"; sign with -n mreg"), "\(rec)")
        // …and a hostile writer who puts it in is refused at the deploy host.
        let obj = SignatureObject(statementBytes: Array(s.t.read("x/statement")!), armoured: String(decoding: s.t.read("x/statement.sig")!, as: UTF8.self), comment: "alice")
        let id = try s.registry().store.put(obj.json.canonicalBytes)
        try s.appendSigned([id])
        s.expectRefused(s.fetch(), "signed in namespace \"file\", not \"mreg\"")
    }

    @Test("a statement altered after signing (its expiry pushed out) is a bad signature")
    func tamperedStatement() throws {
        let s = SigningLab()
        s.key("alice")
        s.trust(["alice"])
        #expect(s.run(["promote", "fraud@1", "--sign", "alice", "--expires", "1d"], env: ["MREG_TIME": "2020-01-01T00:00:00Z"]).status == 0)
        let reg = try s.registry()
        let info = reg.signatureInfo(try s.championSignatureIDs()[0])
        var st = info.statement!
        st.expires += 100 * 365 * 86400
        let forged = SignatureObject(statementBytes: st.bytes, armoured: info.object!.armoured, comment: "alice")
        try s.appendSigned([try reg.store.put(forged.json.canonicalBytes)])
        // The genuine one is expired, the forged one does not verify: the first failure is named.
        let r = s.fetch()
        s.expectRefused(r, "bad signature: it does not verify over its statement")
        #expect(s.run(["fsck"]).stdout.contains("bad signature"))
    }

    @Test("a history entry listing an object that is not a signature is refused, not trusted")
    func notASignature() throws {
        let s = SigningLab()
        s.key("alice")
        s.trust(["alice"])
        #expect(s.run(["promote", "fraud@1"]).status == 0)
        let resolved = s.run(["resolve", "fraud@1"]).stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
        let record = try #require(ObjectID(String(resolved.last ?? "")))
        try s.appendSigned([record])
        s.expectRefused(s.fetch(), "unreadable signature object \(record): not an mreg signature object")
    }

    @Test("a threshold of 2 with one signer is refused even when both signatures are by that signer")
    func thresholdOneSigner() {
        let s = SigningLab()
        s.key("alice")
        s.key("bob")
        s.trust(["alice", "bob"], threshold: 2)
        #expect(s.run(["promote", "fraud@1", "--sign", "alice"]).status == 0)
        #expect(s.run(["sign", "fraud@1", "--key", "alice"]).status == 0)
        s.expectRefused(s.fetch(), "fewer signers than the threshold: 1 distinct allowed signer (alice), allowed_signers requires 2 for production")
    }

    @Test("mreg's signature verifies with ssh-keygen -Y verify and is byte for byte ssh-keygen's")
    func mregToOpenSSH() {
        let s = SigningLab()
        s.key("alice")
        s.trust(["alice"])
        #expect(s.run(["promote", "fraud@1"]).status == 0)
        let r = s.run(["sign", "fraud@production", "--key", "alice", "--export", "exp"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("wrote \(s.t.path)/exp/statement.sig") || r.stdout.contains("wrote exp/statement.sig"), "\(r)")
        let v = sshKeygen(["-Y", "verify", "-n", "mreg", "-f", "allowed_signers", "-I", "alice", "-s", "exp/statement.sig"], cwd: s.t.path, stdin: "exp/statement")
        #expect(v.status == 0, "\(v)")
        #expect(v.stdout.contains("Good \"mreg\" signature for alice with ED25519 key SHA256:"), "\(v)")
        // Wrong namespace: ssh-keygen refuses it too, so the namespace really is in the signature.
        let wrong = sshKeygen(["-Y", "verify", "-n", "file", "-f", "allowed_signers", "-I", "alice", "-s", "exp/statement.sig"], cwd: s.t.path, stdin: "exp/statement")
        #expect(wrong.status != 0)
        // Ed25519 is deterministic: ssh-keygen's signature of the same statement is the same file.
        s.t.write("again/statement", s.t.read("exp/statement")!)
        #expect(sshKeygen(["-Y", "sign", "-n", "mreg", "-f", "alice", "again/statement"], cwd: s.t.path).status == 0)
        #expect(s.t.read("again/statement.sig") == s.t.read("exp/statement.sig"))
    }

    @Test("a signature made by ssh-keygen -Y sign over mreg's statement is recorded and counts")
    func openSSHToMreg() {
        let s = SigningLab()
        s.key("alice")
        s.key("bob")
        s.trust(["alice", "bob"], threshold: 2)
        #expect(s.run(["promote", "fraud@1", "--sign", "alice"]).status == 0)
        let prep = s.run(["sign", "fraud@production", "--export", "x"])
        #expect(prep.status == 0 && prep.stdout.contains("ssh-keygen -Y sign -n mreg -f KEY x/statement"), "\(prep)")
        #expect(!s.t.exists("x/statement.sig"))
        let statement = String(decoding: s.t.read("x/statement")!, as: UTF8.self)
        #expect(statement.hasPrefix("mreg-statement v1\nmodel fraud\nstage production\nversion 1\nrecord sha256:"), "\(statement)")
        #expect(sshKeygen(["-Y", "sign", "-n", "mreg", "-f", "bob", "x/statement"], cwd: s.t.path).status == 0)
        let rec = s.run(["sign", "fraud@production", "--statement", "x/statement", "--signature", "x/statement.sig"])
        #expect(rec.status == 0, "\(rec)")
        let f = s.fetch()
        #expect(f.status == 0 && f.stdout.contains("signed by alice, bob (2 of 2 required)"), "\(f)")
        // A statement edited before signing is not recorded.
        s.t.write("y/statement", statement.replacingOccurrences(of: "version 1\n", with: "version 2\n"))
        #expect(sshKeygen(["-Y", "sign", "-n", "mreg", "-f", "bob", "y/statement"], cwd: s.t.path).status == 0)
        let bad = s.run(["sign", "fraud@production", "--statement", "y/statement", "--signature", "y/statement.sig"])
        #expect(bad.status == 2 && bad.stderr.contains("the statement is not about fraud@1 as champion of production"), "\(bad)")
    }

    @Test("key generate writes what ssh-keygen reads; an encrypted key is refused with a clear message")
    func keys() throws {
        let s = SigningLab(versions: 1)
        let g = Mreg.run(["key", "generate", "--out", "k", "--comment", "carol@release"], cwd: s.t.path)
        #expect(g.status == 0, "\(g)")
        let mode = try FileManager.default.attributesOfItem(atPath: s.t.join("k"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(String(decoding: s.t.read("k")!, as: UTF8.self).hasPrefix("-----BEGIN OPENSSH PRIVATE KEY-----\n"))
        // ssh-keygen derives the same public key from mreg's private key file, and prints the same fingerprint.
        let y = sshKeygen(["-y", "-f", "k"], cwd: s.t.path)
        #expect(y.status == 0 && y.stdout.hasPrefix(s.pub("k")), "\(y)")
        let l = sshKeygen(["-l", "-f", "k.pub"], cwd: s.t.path)
        #expect(l.stdout == Mreg.run(["key", "fingerprint", "k"], cwd: s.t.path).stdout, "\(l)")
        #expect(l.stdout.contains("carol@release"))
        #expect(Mreg.run(["key", "generate", "--out", "k"], cwd: s.t.path).status == 2, "never overwrites a key")
        // And ssh-keygen signs with it.
        s.t.write("msg", "hello\n")
        #expect(sshKeygen(["-Y", "sign", "-n", "mreg", "-f", "k", "msg"], cwd: s.t.path).status == 0)
        // A passphrase-protected key: exit 2, one line, nothing changed.
        #expect(sshKeygen(["-q", "-t", "ed25519", "-N", "secret", "-f", "enc"], cwd: s.t.path).status == 0)
        let before = s.lab.snapshot()
        let p = s.run(["promote", "fraud@1", "--sign", "enc"])
        #expect(p.status == 2, "\(p)")
        #expect(p.stderr.contains("key enc: the key is encrypted with a passphrase (aes256-ctr, bcrypt); mreg reads only unencrypted keys"), "\(p)")
        #expect(s.lab.snapshot() == before)
        // A private key others can read still signs, with a warning.
        chmod(s.t.join("k"), 0o644)
        let loose = s.run(["promote", "fraud@1", "--sign", "k"])
        #expect(loose.status == 0 && loose.stderr.contains("mreg: warning: key k can be read by other users (mode 644)"), "\(loose)")
        let pubAsKey = s.run(["promote", "fraud@1", "--sign", "k.pub"])
        #expect(pubAsKey.status == 2 && pubAsKey.stderr.contains("this is a public key"), "\(pubAsKey)")
    }

    @Test("--verify takes NAME@STAGE and needs --trust; a malformed trust file names its line")
    func usage() {
        let s = SigningLab(versions: 1)
        s.key("alice")
        s.trust(["alice"])
        #expect(s.run(["promote", "fraud@1", "--sign", "alice"]).status == 0)
        let byNumber = s.run(["fetch", "fraud@1", "--verify", "--trust", "allowed_signers", "--out", "out"])
        #expect(byNumber.status == 2 && byNumber.stderr.contains("is not NAME@STAGE"), "\(byNumber)")
        let noTrust = s.run(["fetch", "fraud@production", "--verify", "--out", "out"])
        #expect(noTrust.status == 2 && noTrust.stderr.contains("--verify needs --trust"), "\(noTrust)")
        s.t.write("bad_state", "fraud production seven sha256:x\n")
        let badState = s.run(["fetch", "fraud@production", "--verify", "--trust", "allowed_signers", "--state", "bad_state", "--out", "out"])
        #expect(badState.status == 2 && badState.stderr.contains("state file bad_state: line 1: expected \"MODEL STAGE SEQUENCE sha256:RECORD\""), "\(badState)")
        let noDir = s.run(["fetch", "fraud@production", "--verify", "--trust", "allowed_signers", "--state", "nodir/state", "--out", "out"])
        #expect(noDir.status == 2 && noDir.stderr.contains("the directory nodir does not exist"), "\(noDir)")
        s.t.write("bad_signers", "alice\n")
        let bad = s.run(["fetch", "fraud@production", "--verify", "--trust", "bad_signers", "--out", "out"])
        #expect(bad.status == 2 && bad.stderr.contains("trust file bad_signers: line 1:"), "\(bad)")
        #expect(!s.t.exists("out"))
    }
}
