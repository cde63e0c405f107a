#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// What a signer vouches for: this record, with this artifact tree, is the champion of this stage
/// as of this history entry, until it expires. The signed bytes are `text` (docs/signing.md):
///
///     mreg-statement v1
///     model fraud
///     stage production
///     version 3
///     record sha256:<64 hex>
///     tree sha256:<64 hex>
///     sequence 7
///     signed-at 2026-12-01T21:40:00Z
///     expires 2027-03-01T21:40:00Z
///
/// Nine lines in this order, each `key SP value LF`, ASCII, nothing before or after. Names follow
/// the model- and stage-name rules (no spaces); times are UTC to the second. A statement is read
/// back only if writing it again gives the same bytes.
public struct Statement: Equatable, Sendable {
    public var model: ModelName
    public var stage: StageName
    public var version: Int
    public var record: ObjectID
    /// `TreeDigest.of` the record's artifacts.
    public var tree: ObjectID
    /// The `seq` of the history entry that made this version champion of the stage.
    public var sequence: Int
    public var signedAt: Int64
    public var expires: Int64

    static let header = "mreg-statement v1"
    static let sizeLimit = 4096

    public var text: String {
        [Self.header, "model \(model)", "stage \(stage)", "version \(version)", "record \(record)", "tree \(tree)",
         "sequence \(sequence)", "signed-at \(UTCTime.format(signedAt))", "expires \(UTCTime.format(expires))"]
            .map { $0 + "\n" }.joined()
    }

    public var bytes: [UInt8] { Array(text.utf8) }

    /// Reads a statement; the reason, naming the line, when the bytes are not one.
    public static func parse(_ bytes: [UInt8]) throws -> Statement {
        guard bytes.count <= sizeLimit else { throw SigningError("a statement is at most \(sizeLimit) bytes") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw SigningError("the statement is not UTF-8 text") }
        guard text.hasSuffix("\n") else { throw SigningError("the statement does not end with a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.first == header else { throw SigningError("line 1: expected \"\(header)\"") }
        let keys = ["model", "stage", "version", "record", "tree", "sequence", "signed-at", "expires"]
        guard lines.count == keys.count + 1 else { throw SigningError("a statement has \(keys.count + 1) lines, this one \(lines.count)") }
        var values: [String] = []
        for (i, key) in keys.enumerated() {
            let line = lines[i + 1]
            guard line.hasPrefix(key + " ") else { throw SigningError("line \(i + 2): expected \"\(key) …\"") }
            values.append(String(line.dropFirst(key.count + 1)))
        }
        func fail(_ line: Int, _ what: String) -> SigningError { SigningError("line \(line): \(what)") }
        guard let model = try? ModelName(values[0]) else { throw fail(2, "bad model name") }
        guard let stage = try? StageName(values[1]) else { throw fail(3, "bad stage name") }
        guard let version = Int(values[2]), version >= 1 else { throw fail(4, "bad version") }
        guard let record = ObjectID(values[3]) else { throw fail(5, "bad record id") }
        guard let tree = ObjectID(values[4]) else { throw fail(6, "bad tree digest") }
        guard let sequence = Int(values[5]), sequence >= 1 else { throw fail(7, "bad sequence number") }
        guard let signedAt = UTCTime.parse(values[6]) else { throw fail(8, "bad time (YYYY-MM-DDTHH:MM:SSZ)") }
        guard let expires = UTCTime.parse(values[7]) else { throw fail(9, "bad time (YYYY-MM-DDTHH:MM:SSZ)") }
        let s = Statement(model: model, stage: stage, version: version, record: record, tree: tree,
                          sequence: sequence, signedAt: signedAt, expires: expires)
        guard s.bytes == bytes else { throw SigningError("the statement is not in canonical form (numbers with leading zeros?)") }
        return s
    }
}

/// The digest of a version's artifact tree that a statement names.
///
/// SHA-256 over one line per artifact, sorted by the path's UTF-8 bytes:
/// `path NUL mode NUL size NUL object-id LF`, where mode is `644` or `755`, size is decimal bytes
/// and object-id is `sha256:<64 hex>` of the file's content. Written as `sha256:<64 hex>`.
public enum TreeDigest {
    public static func of(_ artifacts: [Artifact]) -> ObjectID {
        var h = SHA256()
        for a in artifacts.sorted(by: { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }) {
            let line = Array("\(a.path)\0\(a.executable ? "755" : "644")\0\(a.size)\0\(a.object)\n".utf8)
            h.update(data: line)
        }
        return ObjectID(digest: h.finalize())
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` ⇄ seconds since the epoch, and `90d`-style durations.
public enum UTCTime {
    public static func format(_ t: Int64) -> String {
        var tt = time_t(t)
        var tmv = tm()
        gmtime_r(&tt, &tmv)
        func pad(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(tmv.tm_year + 1900, 4))-\(pad(tmv.tm_mon + 1, 2))-\(pad(tmv.tm_mday, 2))T\(pad(tmv.tm_hour, 2)):\(pad(tmv.tm_min, 2)):\(pad(tmv.tm_sec, 2))Z"
    }

    public static func parse(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        guard b.count == 20, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58, b[19] == 90 else { return nil }
        func num(_ r: Range<Int>) -> Int32? {
            var v: Int32 = 0
            for i in r { guard b[i] >= 48 && b[i] <= 57 else { return nil }; v = v * 10 + Int32(b[i] - 48) }
            return v
        }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16),
              let se = num(17..<19), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 60 else { return nil }
        var tmv = tm()
        tmv.tm_year = y - 1900
        tmv.tm_mon = mo - 1
        tmv.tm_mday = d
        tmv.tm_hour = h
        tmv.tm_min = mi
        tmv.tm_sec = se
        let t = Int64(timegm(&tmv))
        return format(t) == s ? t : nil  // refuses 2026-02-30 and the like
    }

    /// Now, as `Clock.nowISO` gives it (so `MREG_TIME` fixes it in tests and examples).
    public static func now() -> Int64 {
        parse(Clock.nowISO()) ?? Int64(time(nil))
    }

    /// The default life of a signature.
    public static let defaultExpiry = "90d"

    /// `N` followed by `s`, `m`, `h`, `d` or `w`: seconds; at most ten years.
    public static func duration(_ text: String, option: String = "--expires") throws -> Int64 {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        guard let unit = text.last, let mult = units[unit], let n = Int64(text.dropLast()), n > 0,
              text.dropLast().allSatisfy(\.isASCII), n <= 3650 * 86400 / mult else {
            throw MregError.invalid("\(option) \(ModelName.show(text)): a duration is a positive whole number and a unit s, m, h, d or w (e.g. 90d), at most ten years")
        }
        return n * mult
    }
}
