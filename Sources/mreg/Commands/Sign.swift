import ArgumentParser
import MregCore

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Co-sign the current champion of a stage (a second release manager).",
        discussion: """
            REF must be the champion of --stage. With --key, signs mreg's statement about it (SSHSIG, namespace mreg) and records the signature in the history; --export DIR also writes DIR/statement and DIR/statement.sig for `ssh-keygen -Y verify`. With --export alone, only writes the statement, for `ssh-keygen -Y sign -n mreg -f KEY DIR/statement`; record that with --statement DIR/statement --signature DIR/statement.sig. See docs/signing.md.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The champion to sign.", valueName: "ref"))
    var ref: String

    @Option(name: .long, help: ArgumentHelp("The stage (default production).", valueName: "stage"))
    var stage: String = "production"

    @Option(name: .long, help: ArgumentHelp("The private key to sign with (OpenSSH Ed25519, unencrypted).", valueName: "keyfile"))
    var key: String?

    @Option(name: .long, help: ArgumentHelp("How long the signature holds (default 90d; s, m, h, d, w).", valueName: "duration"))
    var expires: String?

    @Option(name: .long, help: ArgumentHelp("Write the statement (and signature) into this directory.", valueName: "dir"))
    var export: String?

    @Option(name: .long, help: ArgumentHelp("Record this ssh-keygen signature (with --statement).", valueName: "sigfile"))
    var signature: String?

    @Option(name: .long, help: ArgumentHelp("The statement --signature signs (as --export wrote it).", valueName: "file"))
    var statement: String?

    func run() throws {
        let versionRef = try VersionRef(ref)
        let stageName = try StageName(stage)
        guard (signature == nil) == (statement == nil) else { throw MregError(.invalidInput, "--signature and --statement go together") }
        guard key == nil || signature == nil else { throw MregError(.invalidInput, "give --key or --signature, not both") }
        guard key != nil || signature != nil || export != nil else {
            throw MregError(.invalidInput, "give --key KEYFILE to sign, --signature with --statement to record an ssh-keygen signature, or --export DIR to prepare a statement")
        }
        let lifetime = try UTCTime.duration(expires ?? UTCTime.defaultExpiry)
        let signer = try key.map { try Signer(keyFile: $0, expires: expires) }
        let external = signature.map { (statement: statement!, signature: $0) }
        let r = try global.open().sign(versionRef, stage: stageName, signer: signer, lifetime: lifetime, external: external)
        let files = try export.map { try SigningFiles.export(r, to: $0) } ?? []
        let st = r.statement
        if global.json {
            Output.json(.object([
                "model": .string(st.model.description), "stage": .string(st.stage.description), "version": .number(Double(st.version)),
                "sequence": .number(Double(st.sequence)), "expires": .string(UTCTime.format(st.expires)),
                "signer": r.signature.map { JSON.string($0.publicKey.fingerprint) } ?? .null,
                "signature": r.signatureID.map { JSON.string($0.description) } ?? .null,
                "entry": r.entry.map { JSON.object(["id": .string(r.entryID!.description), "seq": .number(Double($0.seq))]) } ?? .null,
                "exported": .array(files.map { .string($0) }),
            ]))
            return
        }
        let what = "\(st.model)@\(st.version) as champion of \(st.stage) (history #\(st.sequence))"
        if let sig = r.signature, let e = r.entry {
            Output.line("SIGNED: \(what) by \(sig.publicKey.fingerprint)\(signer.map { $0.key.comment.isEmpty ? "" : " (\($0.key.comment))" } ?? ""), expires \(UTCTime.format(st.expires)); recorded as history entry #\(e.seq)")
        } else if let dir = export {
            Output.line("prepared the statement for \(what), expiring \(UTCTime.format(st.expires)): sign it with `ssh-keygen -Y sign -n mreg -f KEY \(dir)/statement`, then record it with `mreg sign \(ref) --stage \(stageName) --statement \(dir)/statement --signature \(dir)/statement.sig`")
        }
        for f in files { Output.line("wrote \(f)") }
    }
}

/// `--sign KEYFILE [--expires D]` of promote and rollback.
struct SignOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Sign the new champion with this key (OpenSSH Ed25519; see docs/signing.md).", valueName: "keyfile"))
    var sign: String?

    @Option(name: .long, help: ArgumentHelp("With --sign: how long the signature holds (default 90d; s, m, h, d, w).", valueName: "duration"))
    var expires: String?

    func signer() throws -> Signer? {
        guard let sign else {
            if expires != nil { throw MregError(.invalidInput, "--expires goes with --sign") }
            return nil
        }
        return try Signer(keyFile: sign, expires: expires)
    }

    /// Prints who signed the entry just written.
    func report(_ global: GlobalOptions, _ entry: HistoryEntry?, unchanged: Bool = false) {
        if unchanged, sign != nil { Output.line("not signed: nothing changed; co-sign the champion with `mreg sign`") }
        if let entry, sign != nil, entry.event == .blocked { Output.line("not signed: the promotion was blocked") }
        guard sign != nil, let entry, let registry = try? global.open() else { return }
        for s in registry.signatures(of: entry) {
            let expiry = s.statement.map { ", expires \(UTCTime.format($0.expires))" } ?? ""
            Output.line("SIGNED: by \(s.signer)\(expiry) (statement for history #\(entry.seq))")
        }
    }
}

/// How log and show list signatures.
enum SignatureViews {
    static func line(_ s: SignatureInfo) -> String {
        guard s.problem == nil, let st = s.statement else { return "signature \(s.id.short) by \(s.signer): \(s.problem ?? "unreadable")" }
        return "signed by \(s.signer), expires \(UTCTime.format(st.expires))"
    }

    static func json(_ s: SignatureInfo) -> JSON {
        .object(["id": .string(s.id.description), "fingerprint": s.signature.map { JSON.string($0.publicKey.fingerprint) } ?? .null,
                 "comment": .string(s.object?.comment ?? ""), "sequence": s.statement.map { JSON.number(Double($0.sequence)) } ?? .null,
                 "expires": s.statement.map { JSON.string(UTCTime.format($0.expires)) } ?? .null,
                 "problem": s.problem.map { JSON.string($0) } ?? .null])
    }
}
