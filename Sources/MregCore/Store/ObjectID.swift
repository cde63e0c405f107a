import Crypto

/// The name of an object: `sha256:` and the 64 lower-case hex digits of the SHA-256 of its bytes.
///
/// The initialiser validates, so an `ObjectID` can always be turned into a path safely.
public struct ObjectID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 64 lower-case hex digits.
    public let hex: String

    public static let prefix = "sha256:"

    /// Parses `sha256:<64 hex>`; nil for anything else (short, upper-case, other characters).
    public init?(_ text: String) {
        guard text.hasPrefix(Self.prefix) else { return nil }
        let hex = String(text.dropFirst(Self.prefix.count))
        guard Self.isFullHex(hex) else { return nil }
        self.hex = hex
    }

    init(hex: String) {
        precondition(Self.isFullHex(hex))
        self.hex = hex
    }

    init(digest: SHA256.Digest) {
        self.hex = Hex.encode(digest)
    }

    /// The id of these bytes.
    public static func of<B: Sequence>(_ bytes: B) -> ObjectID where B.Element == UInt8 {
        var h = SHA256()
        let array = Array(bytes)
        array.withUnsafeBytes { h.update(bufferPointer: $0) }
        return ObjectID(digest: h.finalize())
    }

    public var description: String { Self.prefix + hex }
    /// The first 12 hex digits, for tables.
    public var short: String { String(hex.prefix(12)) }

    public static func < (a: ObjectID, b: ObjectID) -> Bool { a.hex < b.hex }

    static func isFullHex(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    static func isHexPrefix(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}

enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    static func encode<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
