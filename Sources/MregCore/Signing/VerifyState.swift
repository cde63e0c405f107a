/// A deploy host's record of what it fetched verified: per model and stage, the highest history
/// sequence number it accepted. A statement numbered below it is an older state of the registry
/// being replayed (TUF's rollback attack) and is refused.
///
/// A text file, one line per model and stage, `MODEL STAGE SEQUENCE RECORD-ID`, `#` comments:
///
///     # mreg verified fetches: model stage sequence record
///     fraud production 9 sha256:…
///
/// A missing file holds nothing yet. It is rewritten only after a verified fetch succeeded, under
/// `FILE.lock`, through a temporary file that is synced and renamed over it.
public struct VerifyState: Sendable {
    public var path: String
    public var entries: [String: (sequence: Int, record: ObjectID)] = [:]

    static func key(_ m: ModelName, _ s: StageName) -> String { "\(m) \(s)" }

    public func sequence(_ m: ModelName, _ s: StageName) -> Int? { entries[Self.key(m, s)]?.sequence }

    /// Reads the state file (empty when it does not exist yet); exit 2 when it is malformed or
    /// its directory does not exist.
    public static func load(_ path: String) throws -> VerifyState {
        let dir = Registry.split(path).0
        guard Sys.isDirectory(dir) else { throw MregError.invalid("state file \(path): the directory \(dir) does not exist") }
        var out = VerifyState(path: path)
        guard Sys.exists(path) else { return out }
        let bytes = try UserFile.bytes(path, what: "state file")
        guard let text = String(validating: bytes, as: UTF8.self) else { throw MregError.invalid("state file \(path): not UTF-8 text") }
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw).trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard f.count == 4, let m = try? ModelName(f[0]), let s = try? StageName(f[1]), let seq = Int(f[2]), seq >= 1,
                  let rid = ObjectID(f[3]) else {
                throw MregError.invalid("state file \(path): line \(i + 1): expected \"MODEL STAGE SEQUENCE sha256:RECORD\"")
            }
            guard out.entries[key(m, s)] == nil else { throw MregError.invalid("state file \(path): line \(i + 1): \(m) \(s) appears twice") }
            out.entries[key(m, s)] = (seq, rid)
        }
        return out
    }

    var text: String {
        "# mreg verified fetches: model stage sequence record\n"
            + entries.keys.sorted().map { "\($0) \(entries[$0]!.sequence) \(entries[$0]!.record)\n" }.joined()
    }

    /// Records a verified fetch: re-reads the file under its lock, keeps the higher number, and
    /// replaces the file atomically.
    public static func record(_ path: String, _ m: ModelName, _ s: StageName, sequence: Int, record: ObjectID) throws {
        let lock = try LockFile.acquire(path + ".lock")
        defer { lock.release() }
        var st = try load(path)
        if let old = st.entries[key(m, s)], old.sequence > sequence { return }
        st.entries[key(m, s)] = (sequence, record)
        try Registry.writeFileAtomically(path, Array(st.text.utf8), tmpDir: Registry.split(path).0)
    }
}
