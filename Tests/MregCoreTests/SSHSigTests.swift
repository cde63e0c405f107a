import Crypto
import Foundation
import Testing
@testable import MregCore

@Suite("SSH keys, SSHSIG, statements, allowed_signers")
struct SSHSigTests {
    static let seed = [UInt8](repeating: 7, count: 32)
    static func key(_ comment: String = "test@host") -> SSHPrivateKey {
        SSHPrivateKey(key: try! Curve25519.Signing.PrivateKey(rawRepresentation: seed), comment: comment)
    }

    static func statement() -> Statement {
        Statement(model: try! ModelName("fraud"), stage: .production, version: 3,
                  record: ObjectID("sha256:" + String(repeating: "ab", count: 32))!,
                  tree: ObjectID("sha256:" + String(repeating: "cd", count: 32))!,
                  sequence: 7, signedAt: 1_764_625_200, expires: 1_772_401_200)
    }

    @Test("the statement text is exactly the documented nine lines, and reads back")
    func statementText() throws {
        let st = Self.statement()
        let want = """
            mreg-statement v1
            model fraud
            stage production
            version 3
            record sha256:\(String(repeating: "ab", count: 32))
            tree sha256:\(String(repeating: "cd", count: 32))
            sequence 7
            signed-at 2025-12-01T21:40:00Z
            expires 2026-03-01T21:40:00Z

            """
        #expect(st.text == want)
        #expect(try Statement.parse(st.bytes) == st)
    }

    @Test("non-canonical statements are refused, naming the line", arguments: [
        ("version 3\n", "version 03\n", "canonical"),
        ("model fraud\n", "model Fraud\n", "line 2: bad model name"),
        ("sequence 7\n", "sequence 7 \n", "line 7: bad sequence number"),
        ("expires 2026-03-01T21:40:00Z\n", "expires 2026-02-30T21:40:00Z\n", "line 9: bad time"),
        ("mreg-statement v1\n", "mreg-statement v2\n", "line 1"),
        ("stage production\n", "", "a statement has 9 lines"),
        ("expires 2026-03-01T21:40:00Z\n", "expires 2026-03-01T21:40:00Z\nextra x\n", "a statement has 9 lines"),
        ("expires 2026-03-01T21:40:00Z\n", "expires 2026-03-01T21:40:00Z", "newline"),
    ])
    func badStatements(from: String, to: String, reason: String) {
        let text = Self.statement().text.replacingOccurrences(of: from, with: to)
        do {
            _ = try Statement.parse(Array(text.utf8))
            Issue.record("accepted \(text)")
        } catch let e as SigningError {
            #expect(e.reason.contains(reason), "\(e.reason)")
        } catch { Issue.record("\(error)") }
    }

    @Test("the tree digest is SHA-256 over sorted path NUL mode NUL size NUL id LF lines")
    func treeDigest() {
        let a = ObjectID("sha256:" + String(repeating: "11", count: 32))!
        let b = ObjectID("sha256:" + String(repeating: "22", count: 32))!
        let arts = [Artifact(path: "z/model.bin", object: a, size: 10, executable: false),
                    Artifact(path: "run.sh", object: b, size: 5, executable: true)]
        let text = "run.sh\u{0}755\u{0}5\u{0}\(b)\nz/model.bin\u{0}644\u{0}10\u{0}\(a)\n"
        #expect(TreeDigest.of(arts) == ObjectID.of(Array(text.utf8)))
        #expect(TreeDigest.of(arts.reversed()) == TreeDigest.of(arts), "order of the record does not matter")
        var changed = arts
        changed[1].executable = false
        #expect(TreeDigest.of(changed) != TreeDigest.of(arts), "the mode is covered")
    }

    @Test("sign, armour, parse, verify; a changed byte or namespace does not verify")
    func signVerify() throws {
        let k = Self.key()
        let msg = Self.statement().bytes
        let sig = try SSHSig.sign(msg, with: k)
        let text = sig.armoured
        #expect(text.hasPrefix("-----BEGIN SSH SIGNATURE-----\n"))
        #expect(text.hasSuffix("\n-----END SSH SIGNATURE-----\n"))
        #expect(text.split(separator: "\n").dropFirst().dropLast().allSatisfy { $0.count <= 70 })
        let back = try SSHSig.parse(text)
        #expect(back == sig)
        #expect(back.namespace == "mreg" && back.hashAlgorithm == "sha512")
        #expect(back.isValid(for: msg))
        #expect(!back.isValid(for: msg.dropLast() + [UInt8(ascii: "x")]))
        var other = back
        other.namespace = "git"
        #expect(!other.isValid(for: msg), "the namespace is signed")
        #expect(throws: SigningError.self) { try SSHSig.parse("-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n") }
    }

    @Test("private key file: written as openssh-key-v1, read back; fingerprint format")
    func privateKeyRoundTrip() throws {
        let k = Self.key("alice@laptop")
        let text = k.privateFileText
        #expect(text.hasPrefix("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"))
        let back = try SSHPrivateKey.parse(text)
        #expect(back.publicKey == k.publicKey && back.comment == "alice@laptop")
        #expect(k.publicKey.fingerprint.hasPrefix("SHA256:") && !k.publicKey.fingerprint.hasSuffix("="))
        #expect(k.publicKey.fingerprint.count == 7 + 43)
        #expect(k.publicFileText.hasPrefix("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI") && k.publicFileText.hasSuffix(" alice@laptop\n"))
        #expect(throws: SigningError.self) { try SSHPrivateKey.parse(k.publicFileText) }
        #expect(throws: SigningError.self) { try SSHPrivateKey.parse("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n") }
    }

    @Test("allowed_signers: principals, options, thresholds, errors with line numbers")
    func allowedSigners() throws {
        let k = Self.key()
        let text = """
            # comment
            # mreg-threshold production 2
            # mreg-threshold * 1
            alice,alice2@x namespaces="mreg,git" \(k.publicKey.openSSH) alice's key
            bob namespaces="git" \(k.publicKey.openSSH)
            old namespaces="mreg",valid-after="20200101",valid-before="20210101Z" \(k.publicKey.openSSH)
            rsa-user ssh-rsa AAAAB3NzaC1yc2E=

            """
        let a = try AllowedSigners.parse(text, path: "t")
        #expect(a.threshold(for: .production) == 2)
        #expect(a.threshold(for: try StageName("staging")) == 1)
        #expect(a.entries.count == 4)
        guard case .success(let lines) = a.allow(k.publicKey, namespace: "mreg", at: 1_800_000_000) else { Issue.record("not allowed"); return }
        #expect(lines.map(\.principals) == ["alice,alice2@x"])
        guard case .failure(let e) = a.allow(k.publicKey, namespace: "file", at: 1_800_000_000) else { Issue.record("allowed"); return }
        #expect(e.reason.contains("namespace file"))
        let other = SSHPrivateKey.generate(comment: "")
        guard case .failure(let e2) = a.allow(other.publicKey, namespace: "mreg", at: 0) else { Issue.record("allowed"); return }
        #expect(e2.reason == "the key is not in t")
        for (bad, reason) in [("# mreg-threshold production zero\n", "line 1: expected \"# mreg-threshold STAGE N\""),
                              ("alice\n", "line 1: expected \"principals"),
                              ("a foo=\"1\" \(k.publicKey.openSSH)\n", "line 1: unknown option"),
                              ("a ssh-ed25519 !!!\n", "line 1: the key is not valid base64"),
                              ("\na valid-before=\"2020\" \(k.publicKey.openSSH)\n", "line 2: valid-before")] {
            do {
                _ = try AllowedSigners.parse(bad, path: "t")
                Issue.record("accepted \(bad)")
            } catch let e as SigningError { #expect(e.reason.hasPrefix(reason), "\(e.reason)") } catch { Issue.record("\(error)") }
        }
    }

    @Test("durations", arguments: [("90d", Int64(90 * 86400)), ("1s", 1), ("12h", 43200), ("2w", 1_209_600), ("30m", 1800)])
    func durations(text: String, seconds: Int64) throws {
        #expect(try UTCTime.duration(text) == seconds)
    }

    @Test("bad durations", arguments: ["", "d", "0d", "-1d", "1y", "1.5d", "99999w"])
    func badDurations(text: String) {
        #expect(throws: MregError.self) { try UTCTime.duration(text) }
    }
}
