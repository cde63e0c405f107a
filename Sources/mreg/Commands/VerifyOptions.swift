import ArgumentParser
import MregCore

/// `--verify --trust FILE [--state FILE]` of fetch and resolve (docs/signing.md).
struct VerifyOptions: ParsableArguments {
    @Flag(name: .long, help: "Refuse (exit 6) unless enough allowed signers signed the champion REF names (REF is NAME@STAGE).")
    var verify = false

    @Option(name: .long, help: ArgumentHelp("With --verify: the allowed_signers file of this host (git's format; `# mreg-threshold STAGE N` lines).", valueName: "file"))
    var trust: String?

    @Option(name: .long, help: ArgumentHelp("With --verify: the file recording the highest history number verified per model and stage (refuses rollbacks).", valueName: "file"))
    var state: String?

    /// The verifier and the stage REF names, or nil without --verify.
    func make(_ ref: VersionRef) throws -> (DeployVerifier, StageName)? {
        guard verify else {
            if trust != nil || state != nil { throw MregError(.invalidInput, "--trust and --state go with --verify") }
            return nil
        }
        guard let trust else { throw MregError(.invalidInput, "--verify needs --trust FILE: the allowed_signers file of this host") }
        let (_, stage) = try DeployVerifier.stage(of: ref)
        return (try DeployVerifier(trustFile: trust, stateFile: state), stage)
    }

    static func json(_ v: Verification) -> JSON {
        .object(["sequence": .number(Double(v.sequence)), "tree": .string(v.tree.description), "threshold": .number(Double(v.threshold)),
                 "signers": .array(v.signers.map { .object(["fingerprint": .string($0.fingerprint), "principals": .string($0.principals)]) })])
    }

    static func line(_ v: Verification) -> String {
        "verified: history #\(v.sequence), signed by \(v.signers.map(\.principals).joined(separator: ", ")) (\(v.signers.count) of \(v.threshold) required), tree \(v.tree)"
    }
}
