import Crypto
import Foundation

/// An OpenSSH Ed25519 public key: the key type mreg signs and verifies with.
public struct SSHPublicKey: Hashable, Sendable {
    public static let type = "ssh-ed25519"
    /// The 32 bytes of the Ed25519 public key.
    public let raw: [UInt8]

    init?(raw: [UInt8]) {
        guard raw.count == 32 else { return nil }
        self.raw = raw
    }

    /// The wire blob: string("ssh-ed25519") ‖ string(32 bytes).
    public var blob: [UInt8] {
        var w = SSHWriter()
        w.string(Self.type)
        w.string(raw)
        return w.bytes
    }

    /// `SHA256:` and the unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it.
    public var fingerprint: String {
        var b64 = Data(SHA256.hash(data: blob)).base64EncodedString()
        while b64.hasSuffix("=") { b64.removeLast() }
        return "SHA256:" + b64
    }

    /// The key as one `.pub` / allowed_signers field pair: `ssh-ed25519 AAAA…`.
    public var openSSH: String { Self.type + " " + Data(blob).base64EncodedString() }

    /// Reads a wire blob; the reason when it is not an Ed25519 key.
    static func parse(blob: [UInt8]) -> Result<SSHPublicKey, SigningError> {
        var r = SSHReader(blob)
        guard let type = r.text() else { return .failure(.init("malformed public key")) }
        guard type == Self.type else { return .failure(.init("a \(type) key; mreg uses \(Self.type) keys only")) }
        guard let raw = r.string(), r.atEnd, let key = SSHPublicKey(raw: raw) else {
            return .failure(.init("malformed \(Self.type) public key"))
        }
        return .success(key)
    }

    /// Reads `ssh-ed25519 BASE64 [comment]` (a `.pub` line); the reason when it is not one.
    static func parse(type: Substring, base64: Substring) -> Result<SSHPublicKey, SigningError> {
        guard let data = Data(base64Encoded: String(base64)) else { return .failure(.init("the key is not valid base64")) }
        let parsed = parse(blob: [UInt8](data))
        if case .success(let k) = parsed, type != Self.type {
            return .failure(.init("the key type \(type) does not match the key (\(Self.type)) \(k.fingerprint)"))
        }
        return parsed
    }

    func isValidSignature(_ signature: [UInt8], for data: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature, for: data)
    }
}

/// Why a key, signature or trust file cannot be used: the reason, without the file's name.
public struct SigningError: Error, Equatable, Sendable {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// An unencrypted OpenSSH Ed25519 private key (`-----BEGIN OPENSSH PRIVATE KEY-----`,
/// the openssh-key-v1 format of PROTOCOL.key), as `ssh-keygen -t ed25519 -N ''` writes it.
public struct SSHPrivateKey: Sendable {
    let key: Curve25519.Signing.PrivateKey
    public let publicKey: SSHPublicKey
    public let comment: String

    static let label = "OPENSSH PRIVATE KEY"
    static let magic = Array("openssh-key-v1\0".utf8)

    init(key: Curve25519.Signing.PrivateKey, comment: String) {
        self.key = key
        self.publicKey = SSHPublicKey(raw: [UInt8](key.publicKey.rawRepresentation))!
        self.comment = comment
    }

    /// A new random key.
    public static func generate(comment: String) -> SSHPrivateKey {
        SSHPrivateKey(key: Curve25519.Signing.PrivateKey(), comment: comment)
    }

    /// Reads a private key file a user named (exit 2 with the file and the reason when it cannot).
    public static func load(_ path: String) throws -> SSHPrivateKey {
        let bytes = try UserFile.bytes(path, what: "key")
        guard let text = String(validating: bytes, as: UTF8.self) else { throw MregError.invalid("key \(path): not a text file") }
        let key: SSHPrivateKey
        do { key = try parse(text) } catch let e as SigningError { throw MregError.invalid("key \(path): \(e.reason)") }
        if let st = Sys.status(path), st.st_mode & 0o077 != 0 {
            Diagnostics.warn("key \(path) can be read by other users (mode \(String(st.st_mode & 0o777, radix: 8))); `chmod 600 \(path)`, as ssh requires")
        }
        return key
    }

    /// `USER@HOST`, the comment ssh-keygen gives a new key.
    public static var defaultComment: String { Sys.userName() + "@" + Sys.hostname() }

    /// The public key and comment of a private key file or a `.pub` file.
    public static func loadPublic(_ path: String) throws -> (SSHPublicKey, String) {
        let bytes = try UserFile.bytes(path, what: "key")
        guard let text = String(validating: bytes, as: UTF8.self) else { throw MregError.invalid("key \(path): not a text file") }
        let line = text.trimmingCharacters(in: " \t\r\n")
        guard line.hasPrefix("ssh-") else {
            let k = try load(path)
            return (k.publicKey, k.comment)
        }
        let f = line.split(separator: " ", maxSplits: 2)
        guard f.count >= 2 else { throw MregError.invalid("key \(path): expected \"ssh-ed25519 BASE64 [comment]\"") }
        switch SSHPublicKey.parse(type: f[0], base64: f[1]) {
        case .success(let k): return (k, f.count > 2 ? String(f[2]) : "")
        case .failure(let e): throw MregError.invalid("key \(path): \(e.reason)")
        }
    }

    /// Parses the armoured openssh-key-v1 text.
    static func parse(_ text: String) throws -> SSHPrivateKey {
        let trimmed = text.trimmingCharacters(in: " \t\r\n")
        if trimmed.hasPrefix("ssh-") || trimmed.hasPrefix("ecdsa-") {
            throw SigningError("this is a public key; give the private key file (the one without .pub)")
        }
        if trimmed.hasPrefix("-----BEGIN ") && !trimmed.hasPrefix("-----BEGIN \(label)-----") {
            throw SigningError("not an OpenSSH private key (\(trimmed.prefix { $0 != "\n" })); mreg reads ssh-keygen's format: ssh-keygen -t ed25519")
        }
        let bytes: [UInt8]
        switch SSHArmour.unwrap(text, label: label) {
        case .success(let b): bytes = b
        case .failure(.badBase64): throw SigningError("the key is not valid base64")
        case .failure: throw SigningError("not an OpenSSH private key (no -----BEGIN \(label)----- … -----END \(label)----- block)")
        }
        var r = SSHReader(bytes)
        guard r.raw(magic.count) == magic else { throw SigningError("not an openssh-key-v1 key") }
        guard let cipher = r.text(), let kdf = r.text(), r.string() != nil, let count = r.uint32() else {
            throw SigningError("truncated key header")
        }
        guard cipher == "none" && kdf == "none" else {
            throw SigningError("the key is encrypted with a passphrase (\(cipher), \(kdf)); mreg reads only unencrypted keys: "
                               + "sign with `ssh-keygen -Y sign -n mreg -f KEY STATEMENT` and record it with `mreg sign --signature`")
        }
        guard count == 1 else { throw SigningError("the file holds \(count) keys; mreg reads files of one key") }
        guard let pubBlob = r.string(), let privateSection = r.string() else { throw SigningError("truncated key") }
        let pub: SSHPublicKey
        switch SSHPublicKey.parse(blob: pubBlob) {
        case .success(let k): pub = k
        case .failure(let e): throw e
        }
        var p = SSHReader(privateSection)
        guard let c1 = p.uint32(), let c2 = p.uint32() else { throw SigningError("truncated private section") }
        guard c1 == c2 else { throw SigningError("the private section does not check (damaged key)") }
        guard p.text() == SSHPublicKey.type, let pubRaw = p.string(), let secret = p.string(), let comment = p.string() else {
            throw SigningError("malformed \(SSHPublicKey.type) private section")
        }
        guard pubRaw == pub.raw, secret.count == 64, Array(secret[32...]) == pub.raw else {
            throw SigningError("the private key does not match its public key (damaged key)")
        }
        // Padding 1, 2, 3, … up to the cipher block size.
        for (i, b) in p.remaining.enumerated() where b != UInt8(truncatingIfNeeded: i + 1) {
            throw SigningError("bad padding in the private section (damaged key)")
        }
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: Array(secret[..<32])),
              [UInt8](key.publicKey.rawRepresentation) == pub.raw else {
            throw SigningError("the private key does not derive its public key (damaged key)")
        }
        return SSHPrivateKey(key: key, comment: String(decoding: comment, as: UTF8.self))
    }

    /// The key file as ssh-keygen writes it (unencrypted).
    public var privateFileText: String {
        var section = SSHWriter()
        let check = UInt32.random(in: 0...UInt32.max)
        section.uint32(check)
        section.uint32(check)
        section.string(SSHPublicKey.type)
        section.string(publicKey.raw)
        section.string([UInt8](key.rawRepresentation) + publicKey.raw)
        section.string(comment)
        var pad: UInt8 = 1
        while section.bytes.count % 8 != 0 { section.raw([pad]); pad += 1 }
        var w = SSHWriter()
        w.raw(Self.magic)
        w.string("none")
        w.string("none")
        w.string("")
        w.uint32(1)
        w.string(publicKey.blob)
        w.string(section.bytes)
        return SSHArmour.wrap(w.bytes, label: Self.label)
    }

    /// The `.pub` line: `ssh-ed25519 AAAA… comment`.
    public var publicFileText: String { publicKey.openSSH + (comment.isEmpty ? "" : " " + comment) + "\n" }

    func sign(_ data: [UInt8]) throws -> [UInt8] { [UInt8](try key.signature(for: data)) }
}
