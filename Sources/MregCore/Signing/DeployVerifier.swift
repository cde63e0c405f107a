/// What a verified fetch or resolve accepted.
public struct Verification: Sendable {
    public var version: ResolvedVersion
    public var stage: StageName
    public var sequence: Int
    public var tree: ObjectID
    /// The allowed signers counted: fingerprint and the principals of their trust-file line.
    public var signers: [(fingerprint: String, principals: String)]
    public var threshold: Int
}

/// Checks, before any byte is written, that the champion a deploy host is about to fetch is what
/// enough of the people it trusts signed (docs/signing.md). The trust root (`--trust`) and the
/// state file come from the deploy host, never from the registry being verified; every refusal is
/// exit 6 with one line saying which check failed.
public struct DeployVerifier: Sendable {
    public var trust: AllowedSigners
    public var statePath: String?
    public var state: VerifyState?
    /// The time the command started: expiry and trust-file dates are checked against it.
    public var startedAt: Int64

    public init(trustFile: String, stateFile: String?) throws {
        startedAt = UTCTime.now()
        trust = try AllowedSigners.load(trustFile)
        statePath = stateFile
        state = try stateFile.map { try VerifyState.load($0) }
    }

    /// The model and stage of a ref that `--verify` accepts: `NAME@STAGE`, the current champion.
    public static func stage(of ref: VersionRef) throws -> (ModelName, StageName) {
        guard case .champion(let m, let s, 0) = ref else {
            throw MregError.invalid("--verify: \(ref) is not NAME@STAGE; a verified fetch names the current champion of a stage (what was signed)")
        }
        return (m, s)
    }

    /// Verifies `version` (with its `record`, read by the caller and the one it will write) as the
    /// champion of `stage`; throws exit 6 naming the first failed check, exit 4 if the champion
    /// moved since `version` was resolved.
    public func verify(_ registry: Registry, _ version: ResolvedVersion, _ record: VersionRecord, stage: StageName) throws -> Verification {
        let m = version.model
        let (headID, head) = try registry.headEntry(m)
        guard let (change, sigs) = try registry.championSignatures(m, stage, headID: headID, head: head) else {
            throw MregError.invalid("\(m)@\(stage): stage \(stage) has no champion")
        }
        guard change.record == version.recordID else {
            throw MregError.conflict("the champion of \(m)@\(stage) changed while it was being fetched; nothing was written; retry")
        }
        let tree = TreeDigest.of(record.artifacts)
        let context = "\(m)@\(stage) is \(version.name) (history #\(change.seq))"
        func refuse(_ reason: String) -> MregError { MregError(.refused, "verification refused: \(context): \(reason)") }
        if sigs.isEmpty { throw refuse("unsigned: no signature in the registry covers it") }

        var accepted: [String: (fingerprint: String, principals: String)] = [:]
        var failures: [String] = []
        for info in sigs {
            let who = info.signer
            if let problem = info.problem { failures.append("\(problem) (\(who))"); continue }
            guard let sig = info.signature, let st = info.statement else { continue }
            let allowed: [AllowedSigners.Entry]
            switch trust.allow(sig.publicKey, namespace: SSHSig.namespace, at: startedAt) {
            case .success(let e): allowed = e
            case .failure(let e): failures.append("signer not allowed: \(who): \(e.reason)"); continue
            }
            if let mismatch = Self.mismatch(st, version, stage: stage, tree: tree, sequence: change.seq) {
                failures.append("statement names other bytes: the statement signed by \(who) \(mismatch)")
                continue
            }
            guard st.expires > startedAt else {
                failures.append("expired: the statement signed by \(who) expired at \(UTCTime.format(st.expires)), before this command started (\(UTCTime.format(startedAt)))")
                continue
            }
            accepted[sig.publicKey.fingerprint] = (sig.publicKey.fingerprint, allowed.map(\.principals).joined(separator: ","))
        }
        let threshold = trust.threshold(for: stage)
        if accepted.count < threshold {
            let names = accepted.values.map(\.principals).sorted().joined(separator: ", ")
            let counted = "\(accepted.count) distinct allowed signer\(accepted.count == 1 ? "" : "s")\(names.isEmpty ? "" : " (\(names))"), "
                + "\(trust.path) requires \(threshold) for \(stage)"
            if let first = failures.first { throw refuse("\(first); \(counted)") }
            throw refuse("fewer signers than the threshold: \(counted)")
        }
        if let state, let seen = state.sequence(m, stage), change.seq < seen {
            throw refuse("rollback: history #\(change.seq) is below #\(seen), which \(state.path) recorded for \(m)@\(stage): an older state of the registry is being replayed")
        }
        return Verification(version: version, stage: stage, sequence: change.seq, tree: tree,
                            signers: accepted.values.sorted { $0.principals < $1.principals }, threshold: threshold)
    }

    /// How a statement differs from what is being fetched, or nil when it names exactly it.
    static func mismatch(_ st: Statement, _ v: ResolvedVersion, stage: StageName, tree: ObjectID, sequence: Int) -> String? {
        if st.model != v.model || st.stage != stage { return "is about \(st.model)@\(st.stage), not \(v.model)@\(stage)" }
        if st.record != v.recordID || st.version != v.version {
            return "names record \(st.record) (\(st.model)@\(st.version)), but the registry's champion is \(v.name), record \(v.recordID)"
        }
        if st.tree != tree { return "names artifact tree \(st.tree), the record's tree is \(tree)" }
        if st.sequence != sequence { return "is for history #\(st.sequence), but the champion was made by history #\(sequence)" }
        return nil
    }

    /// After the fetch succeeded: records the sequence number in the state file.
    public func commit(_ v: Verification) throws {
        guard let statePath else { return }
        try VerifyState.record(statePath, v.version.model, v.stage, sequence: v.sequence, record: v.version.recordID)
    }
}
