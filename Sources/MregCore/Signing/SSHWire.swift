import Foundation

/// The SSH wire encoding (RFC 4251 §5) as OpenSSH's key and signature formats use it:
/// `uint32` big-endian, and `string` = a `uint32` length followed by that many bytes.
struct SSHWriter {
    var bytes: [UInt8] = []

    mutating func raw(_ b: [UInt8]) { bytes += b }
    mutating func raw(_ s: String) { bytes += Array(s.utf8) }

    mutating func uint32(_ v: UInt32) {
        bytes += [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
    }

    mutating func string(_ b: [UInt8]) {
        uint32(UInt32(b.count))
        bytes += b
    }

    mutating func string(_ s: String) { string(Array(s.utf8)) }
}

/// Reads the SSH wire encoding; every read fails (nil) rather than running past the end.
struct SSHReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { offset == bytes.count }
    var remaining: [UInt8] { Array(bytes[offset...]) }

    mutating func raw(_ n: Int) -> [UInt8]? {
        guard n >= 0, bytes.count - offset >= n else { return nil }
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }

    mutating func uint32() -> UInt32? {
        guard let b = raw(4) else { return nil }
        return UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
    }

    mutating func string() -> [UInt8]? {
        guard let n = uint32() else { return nil }
        return raw(Int(n))
    }

    mutating func text() -> String? { string().flatMap { String(validating: $0, as: UTF8.self) } }
}

/// PEM-like armour as OpenSSH writes it: a BEGIN line, base64 wrapped at 70 columns, an END line.
enum SSHArmour {
    static func wrap(_ bytes: [UInt8], label: String) -> String {
        let b64 = Data(bytes).base64EncodedString()
        var lines = ["-----BEGIN \(label)-----"]
        var i = b64.startIndex
        while i < b64.endIndex {
            let j = b64.index(i, offsetBy: 70, limitedBy: b64.endIndex) ?? b64.endIndex
            lines.append(String(b64[i..<j]))
            i = j
        }
        lines.append("-----END \(label)-----")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The bytes between the BEGIN and END lines, or a reason why there are none.
    static func unwrap(_ text: String, label: String) -> Result<[UInt8], ArmourError> {
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map { String($0).trimmingCharacters(in: " \t\r") }
        guard let begin = lines.firstIndex(of: "-----BEGIN \(label)-----") else { return .failure(.noBegin) }
        guard let end = lines[begin...].firstIndex(of: "-----END \(label)-----") else { return .failure(.noEnd) }
        let body = lines[(begin + 1)..<end].joined()
        guard let data = Data(base64Encoded: body) else { return .failure(.badBase64) }
        return .success([UInt8](data))
    }

    enum ArmourError: Error {
        case noBegin, noEnd, badBase64
    }
}
