import Crypto
import Foundation

/// An SSH signature in the SSHSIG format of `ssh-keygen -Y sign` (OpenSSH PROTOCOL.sshsig).
///
/// The signer signs `"SSHSIG" ‖ string(namespace) ‖ string("") ‖ string(hash) ‖ string(H(message))`;
/// the blob is `"SSHSIG" ‖ uint32(1) ‖ string(public key) ‖ string(namespace) ‖ string("") ‖
/// string(hash) ‖ string(string("ssh-ed25519") ‖ string(64-byte signature))`, armoured between
/// `-----BEGIN SSH SIGNATURE-----` and `-----END SSH SIGNATURE-----`, base64 wrapped at 70 columns.
/// Ed25519 is deterministic, so mreg's signature of a message is byte for byte ssh-keygen's.
public struct SSHSig: Equatable, Sendable {
    public var publicKey: SSHPublicKey
    public var namespace: String
    public var hashAlgorithm: String
    /// The 64-byte Ed25519 signature.
    public var signature: [UInt8]

    public static let namespace = "mreg"
    static let magic = Array("SSHSIG".utf8)
    static let label = "SSH SIGNATURE"

    /// Signs `message` in `namespace` with SHA-512, as `ssh-keygen -Y sign -n NAMESPACE` does.
    static func sign(_ message: [UInt8], with key: SSHPrivateKey, namespace: String = SSHSig.namespace) throws -> SSHSig {
        let data = signedData(message, namespace: namespace, hash: "sha512")!
        return SSHSig(publicKey: key.publicKey, namespace: namespace, hashAlgorithm: "sha512", signature: try key.sign(data))
    }

    /// The bytes Ed25519 signs; nil for a hash algorithm SSHSIG does not define.
    static func signedData(_ message: [UInt8], namespace: String, hash: String) -> [UInt8]? {
        let digest: [UInt8]
        switch hash {
        case "sha512": digest = [UInt8](SHA512.hash(data: message))
        case "sha256": digest = [UInt8](SHA256.hash(data: message))
        default: return nil
        }
        var w = SSHWriter()
        w.raw(magic)
        w.string(namespace)
        w.string("")
        w.string(hash)
        w.string(digest)
        return w.bytes
    }

    /// Whether the signature is valid over `message` in its own namespace (the caller checks the
    /// namespace is the one it wants).
    func isValid(for message: [UInt8]) -> Bool {
        guard let data = Self.signedData(message, namespace: namespace, hash: hashAlgorithm) else { return false }
        return publicKey.isValidSignature(signature, for: data)
    }

    var blob: [UInt8] {
        var sig = SSHWriter()
        sig.string(SSHPublicKey.type)
        sig.string(signature)
        var w = SSHWriter()
        w.raw(Self.magic)
        w.uint32(1)
        w.string(publicKey.blob)
        w.string(namespace)
        w.string("")
        w.string(hashAlgorithm)
        w.string(sig.bytes)
        return w.bytes
    }

    /// The armoured text, as ssh-keygen writes a `.sig` file.
    public var armoured: String { SSHArmour.wrap(blob, label: Self.label) }

    /// Reads an armoured signature; the reason when it is not a usable one.
    public static func parse(_ text: String) throws -> SSHSig {
        let blob: [UInt8]
        switch SSHArmour.unwrap(text, label: label) {
        case .success(let b): blob = b
        case .failure(.badBase64): throw SigningError("the signature is not valid base64")
        case .failure: throw SigningError("not an SSH signature (no -----BEGIN \(label)----- … -----END \(label)----- block)")
        }
        var r = SSHReader(blob)
        guard r.raw(magic.count) == magic, let version = r.uint32() else { throw SigningError("not an SSHSIG signature") }
        guard version == 1 else { throw SigningError("SSHSIG version \(version) is not supported (1)") }
        guard let keyBlob = r.string(), let ns = r.text(), r.string() != nil, let hash = r.text(), let sigBlob = r.string(), r.atEnd else {
            throw SigningError("malformed SSHSIG signature")
        }
        let key: SSHPublicKey
        switch SSHPublicKey.parse(blob: keyBlob) {
        case .success(let k): key = k
        case .failure(let e): throw SigningError("signed with \(e.reason)")
        }
        guard hash == "sha512" || hash == "sha256" else { throw SigningError("hash algorithm \(hash) is not one SSHSIG defines") }
        var s = SSHReader(sigBlob)
        guard let type = s.text(), let raw = s.string(), s.atEnd else { throw SigningError("malformed signature blob") }
        guard type == SSHPublicKey.type, raw.count == 64 else { throw SigningError("a \(type) signature; mreg verifies \(SSHPublicKey.type)") }
        return SSHSig(publicKey: key, namespace: ns, hashAlgorithm: hash, signature: raw)
    }
}
