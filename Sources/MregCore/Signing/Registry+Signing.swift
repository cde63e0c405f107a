/// A key and a lifetime: what `--sign KEYFILE [--expires D]` and `sign --key` give.
public struct Signer: Sendable {
    public var key: SSHPrivateKey
    /// Seconds from signing to expiry.
    public var lifetime: Int64

    public init(keyFile: String, expires: String?) throws {
        lifetime = try UTCTime.duration(expires ?? UTCTime.defaultExpiry)
        key = try SSHPrivateKey.load(keyFile)
    }
}

/// What `mreg sign` did.
public struct SignResult: Sendable {
    public var statement: Statement
    public var statementBytes: [UInt8]
    /// The signature (nil when only a statement was prepared for an outside signer).
    public var signature: SSHSig?
    public var signatureID: ObjectID?
    public var entryID: ObjectID?
    public var entry: HistoryEntry?
}

extension Registry {
    /// The entry that made the current champion of `s` champion (a promotion, override or
    /// rollback), or nil when the stage has no champion.
    func championChange(_ m: ModelName, _ s: StageName, headID: ObjectID, head: HistoryEntry) throws -> (id: ObjectID, entry: HistoryEntry)? {
        guard let champion = head.state.champions[s.value] else { return nil }
        let found: (ObjectID, HistoryEntry)
        if head.event.changesChampion && head.stage == s.value {
            found = (headID, head)
        } else {
            guard let id = head.state.priorChanges[s.value] else {
                throw MregError.corrupt("history of \(m): \(s) has a champion but no entry that made it champion; run `mreg fsck`")
            }
            found = (id, try entry(id))
        }
        guard found.1.stage == s.value, found.1.event.changesChampion, found.1.version == champion.version, found.1.record == champion.record else {
            throw MregError.corrupt("history of \(m): entry \(found.0) is linked as the change that made \(m)@\(champion.version) champion of \(s), but it is not")
        }
        return found
    }

    /// The statement for `record` as champion of `stage` made by the entry numbered `sequence`.
    func statement(_ record: VersionRecord, _ recordID: ObjectID, stage: StageName, sequence: Int, lifetime: Int64) -> Statement {
        let now = UTCTime.now()
        return Statement(model: record.model, stage: stage, version: record.version, record: recordID,
                         tree: TreeDigest.of(record.artifacts), sequence: sequence, signedAt: now, expires: now + lifetime)
    }

    /// Signs and stores a statement; the `details.signatures` value of the entry that records it.
    /// Called by promote and rollback (inside their history append, where `sequence` is known).
    func signatureDetail(_ signer: Signer?, _ record: VersionRecord, _ recordID: ObjectID, stage: StageName, sequence: Int) throws -> JSON? {
        guard let signer else { return nil }
        let st = statement(record, recordID, stage: stage, sequence: sequence, lifetime: signer.lifetime)
        let sig = try SSHSig.sign(st.bytes, with: signer.key)
        let id = try store.put(SignatureObject(statementBytes: st.bytes, armoured: sig.armoured, comment: signer.key.comment).json.canonicalBytes)
        return .array([.string(id.description)])
    }

    /// Co-signs the current champion of `stage`, which `ref` must name: with `signer`, or by
    /// recording `external` (a statement and an ssh-keygen signature over it), or — with neither —
    /// only prepares the statement for an outside signer (nothing is recorded).
    ///
    /// A new `signed` history entry, appended only if the champion is still the one signed
    /// (else exit 4, nothing changed). The champion does not change.
    public func sign(_ ref: VersionRef, stage: StageName, signer: Signer?, lifetime: Int64,
                     external: (statement: String, signature: String)? = nil) throws -> SignResult {
        let v = try resolve(ref)
        let m = v.model
        let (headID, head) = try headEntry(m)
        guard let (changeID, change) = try championChange(m, stage, headID: headID, head: head) else {
            throw MregError.invalid("\(m)@\(stage): stage \(stage) has no champion to sign")
        }
        guard change.record == v.recordID else {
            throw MregError.invalid("\(ref) is \(v.name), but the champion of \(stage) is \(m)@\(change.version ?? 0); `mreg sign` signs the current champion only")
        }
        let record = try record(of: v)
        var st = statement(record, v.recordID, stage: stage, sequence: change.seq, lifetime: lifetime)
        var bytes = st.bytes
        let sig: SSHSig
        var comment = ""
        if let signer {
            sig = try SSHSig.sign(bytes, with: signer.key)
            comment = signer.key.comment
        } else if let external {
            let what = "signature \(external.signature)"
            bytes = try UserFile.bytes(external.statement, what: "statement")
            let sigBytes = try UserFile.bytes(external.signature, what: "signature")
            do { st = try Statement.parse(bytes) } catch let e as SigningError { throw MregError.invalid("statement \(external.statement): \(e.reason)") }
            do { sig = try SSHSig.parse(String(decoding: sigBytes, as: UTF8.self)) } catch let e as SigningError { throw MregError.invalid("\(what): \(e.reason)") }
            guard sig.namespace == SSHSig.namespace else {
                throw MregError.invalid("\(what): signed in namespace \"\(sig.namespace)\"; sign with -n \(SSHSig.namespace)")
            }
            guard sig.isValid(for: bytes) else { throw MregError.invalid("\(what): bad signature: it does not verify over the statement") }
            let want = statement(record, v.recordID, stage: stage, sequence: change.seq, lifetime: 0)
            guard st.model == m, st.stage == stage, st.version == v.version, st.record == v.recordID, st.tree == want.tree, st.sequence == change.seq else {
                throw MregError.invalid("\(what): the statement is not about \(v.name) as champion of \(stage) (history #\(change.seq)); prepare it with `mreg sign \(v.name) --stage \(stage) --export DIR`")
            }
            guard st.expires > UTCTime.now() else { throw MregError.invalid("\(what): the statement expired at \(UTCTime.format(st.expires))") }
        } else {
            return SignResult(statement: st, statementBytes: bytes)
        }
        let sigID = try store.put(SignatureObject(statementBytes: bytes, armoured: sig.armoured, comment: comment).json.canonicalBytes)
        let (entryID, entry) = try append(m) { curID, current in
            guard let curID, let cur = current, try championChange(m, stage, headID: curID, head: cur)?.id == changeID else {
                throw MregError.conflict("the champion of \(stage) changed while signing; nothing changed; retry")
            }
            return (.signed, ["stage": .string(stage.value), "version": .number(Double(v.version)), "record": .string(v.recordID.description),
                              "sequence": .number(Double(change.seq)), "signatures": .array([.string(sigID.description)])], cur.state)
        }
        return SignResult(statement: st, statementBytes: bytes, signature: sig, signatureID: sigID, entryID: entryID, entry: entry)
    }

    /// The signatures recorded for the current champion of `stage`: those of the entry that made
    /// it champion and of every `signed` entry for the stage after it, newest first.
    public func championSignatures(_ m: ModelName, _ s: StageName) throws -> (change: HistoryEntry, signatures: [SignatureInfo])? {
        let (headID, head) = try headEntry(m)
        return try championSignatures(m, s, headID: headID, head: head)
    }

    func championSignatures(_ m: ModelName, _ s: StageName, headID: ObjectID, head: HistoryEntry) throws -> (change: HistoryEntry, signatures: [SignatureInfo])? {
        guard let (changeID, change) = try championChange(m, s, headID: headID, head: head) else { return nil }
        var ids: [ObjectID] = []
        try walkHistory(m, from: headID) { id, e in
            if id == changeID || (e.event == .signed && e.stage == s.value) { ids += Self.signatureIDs(e) }
            return id != changeID
        }
        return (change, ids.map(signatureInfo))
    }
}
