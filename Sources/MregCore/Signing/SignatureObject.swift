/// A signature as the registry keeps it: one object holding the statement's exact bytes, the
/// armoured SSHSIG signature over them, and the signer key's comment (informative only: nothing
/// trusts it; the fingerprint is what names the signer). History entries list these objects under
/// `details.signatures`.
///
///     {"comment":"alice@laptop","format":1,"signature":"-----BEGIN SSH SIGNATURE-----\n…",
///      "statement":"mreg-statement v1\n…","type":"mreg.signature"}
public struct SignatureObject: Equatable, Sendable {
    public var statementBytes: [UInt8]
    public var armoured: String
    public var comment: String

    public static let type = "mreg.signature"
    static let sizeLimit = 64 << 10

    public var json: JSON {
        .object(["type": .string(Self.type), "format": .number(1),
                 "statement": .string(String(decoding: statementBytes, as: UTF8.self)),
                 "signature": .string(armoured), "comment": .string(comment)])
    }

    public init(statementBytes: [UInt8], armoured: String, comment: String) {
        self.statementBytes = statementBytes
        self.armoured = armoured
        self.comment = comment
    }

    init(json: JSON) throws {
        guard json["type"]?.string == Self.type, json["format"]?.int == 1 else { throw SigningError("not an mreg signature object") }
        guard let st = json["statement"]?.string, let sig = json["signature"]?.string else { throw SigningError("statement or signature missing") }
        self.init(statementBytes: Array(st.utf8), armoured: sig, comment: json["comment"]?.string ?? "")
    }
}

/// One signature found in the history, read as far as it could be.
public struct SignatureInfo: Sendable {
    public var id: ObjectID
    public var object: SignatureObject?
    public var signature: SSHSig?
    public var statement: Statement?
    /// Why the signature is not a valid `mreg` signature over its statement, or nil when it is.
    /// (Whether the signer is trusted is for the deploy host's trust file to say.)
    public var problem: String?

    /// `SHA256:… comment`, or the object id when the signature could not be read.
    public var signer: String {
        guard let s = signature else { return "signature \(id.short) (unreadable)" }
        let c = object?.comment ?? ""
        return s.publicKey.fingerprint + (c.isEmpty ? "" : " (\(c))")
    }
}

extension Registry {
    /// The ids listed under `details.signatures` of an entry.
    static func signatureIDs(_ e: HistoryEntry) -> [ObjectID] {
        (e.details["signatures"]?.array ?? []).compactMap { $0.string.flatMap(ObjectID.init) }
    }

    /// Reads and checks one signature object: well formed, namespace `mreg`, valid over its statement.
    public func signatureInfo(_ id: ObjectID) -> SignatureInfo {
        var info = SignatureInfo(id: id)
        do {
            let bytes = try store.get(id, limit: UInt64(SignatureObject.sizeLimit))
            let obj = try SignatureObject(json: try JSON.parse(bytes))
            info.object = obj
            let sig = try SSHSig.parse(obj.armoured)
            info.signature = sig
            info.statement = try? Statement.parse(obj.statementBytes)
            if sig.namespace != SSHSig.namespace {
                info.problem = "signed in namespace \"\(sig.namespace)\", not \"\(SSHSig.namespace)\""
            } else if !sig.isValid(for: obj.statementBytes) {
                info.problem = "bad signature: it does not verify over its statement"
            } else if info.statement == nil {
                info.problem = "bad statement: " + Self.statementError(obj.statementBytes)
            }
        } catch let e as SigningError {
            info.problem = "unreadable signature object \(id): \(e.reason)"
        } catch let e as MregError {
            info.problem = e.message
        } catch {
            info.problem = "unreadable signature object \(id): \(error)"
        }
        return info
    }

    static func statementError(_ bytes: [UInt8]) -> String {
        do { _ = try Statement.parse(bytes); return "" } catch let e as SigningError { return e.reason } catch { return "\(error)" }
    }

    /// The signatures an entry lists, read and checked.
    public func signatures(of e: HistoryEntry) -> [SignatureInfo] { Self.signatureIDs(e).map(signatureInfo) }
}

extension Registry {
    /// fsck: what is wrong with the signatures an entry lists (a missing object is reported by
    /// the reachability check): unreadable, bad, or about another champion than the entry's.
    func signatureProblems(_ id: ObjectID, _ e: HistoryEntry) -> [String] {
        Self.signatureIDs(e).filter(store.contains).compactMap { sid in
            let s = signatureInfo(sid)
            let problem: String?
            if let p = s.problem {
                problem = p
            } else if let st = s.statement, st.model != e.model || st.stage.value != e.stage || st.record != e.record {
                problem = "its statement is about \(st.model)@\(st.version) in \(st.stage), not this entry's champion"
            } else if let st = s.statement, st.sequence != (e.event == .signed ? e.details["sequence"]?.int : e.seq) {
                problem = "its statement is for history #\(st.sequence)"
            } else {
                problem = nil
            }
            return problem.map { "history entry \(id) of \(e.model): signature \(sid): \($0)" }
        }
    }
}
