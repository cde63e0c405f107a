/// The environment variables mreg reads that hold numbers or switches, each parsed strictly.
///
/// A value that does not parse is an error naming the variable (exit 2), never a silent default:
/// `MREG_LOCK_TIMEOUT=nan` once waited forever, and `=-1` or `=ten` quietly meant 10 seconds.
/// `validate()` runs when a registry is opened or created, so a bad value fails every command
/// at once, not only the ones that happen to wait for a lock.
public enum Environment {
    /// Longest accepted `MREG_LOCK_TIMEOUT`: one day.
    static let maxLockTimeout = 86_400.0

    /// Checks every numeric or switch variable that is set; throws on the first bad one.
    public static func validate() throws {
        _ = try lockTimeout()
        _ = try statCacheDisabled()
        _ = try faultSpec()
    }

    /// `MREG_LOCK_TIMEOUT`: seconds to wait for a lock, a decimal number from 0 to 86400
    /// (default 10 when unset or empty).
    public static func lockTimeout() throws -> Double {
        guard let text = Sys.environment("MREG_LOCK_TIMEOUT"), !text.isEmpty else { return 10 }
        guard let v = decimal(text), v <= maxLockTimeout else {
            throw MregError.invalid("MREG_LOCK_TIMEOUT=\(ModelName.show(text)): give a number of seconds from 0 to \(Int(maxLockTimeout)), such as 10 or 2.5")
        }
        return v
    }

    /// `MREG_NO_STAT_CACHE`: `1` turns the stat cache off; `0` or unset leaves it on.
    static func statCacheDisabled() throws -> Bool {
        guard let text = Sys.environment("MREG_NO_STAT_CACHE"), !text.isEmpty else { return false }
        switch text {
        case "1": return true
        case "0": return false
        default: throw MregError.invalid("MREG_NO_STAT_CACHE=\(ModelName.show(text)): give 1 (cache off) or 0 (cache on)")
        }
    }

    /// `MREG_FAULT=KIND:N:ACTION` (tests only; see FaultInjection), or nil when unset.
    static func faultSpec() throws -> (kind: String, n: Int, action: String)? {
        guard let text = Sys.environment("MREG_FAULT"), !text.isEmpty else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let kinds = FaultInjection.Call.allCases.map(\.rawValue) + ["any"]
        guard parts.count == 3, kinds.contains(parts[0]), parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let n = Int(parts[1]), n >= 1, ["eio", "enospc", "crash"].contains(parts[2]) else {
            throw MregError.invalid("MREG_FAULT=\(ModelName.show(text)): expected KIND:N:ACTION with KIND one of \(kinds.joined(separator: ", ")), N a count from 1, ACTION eio, enospc or crash")
        }
        return (parts[0], n, parts[2])
    }

    /// Digits with an optional fraction (`10`, `2.5`); nil for anything else: signs, exponents,
    /// hexadecimal, `nan`, `inf` and spaces are refused.
    static func decimal(_ text: String) -> Double? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 12 && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }) else { return nil }
        return Double(text)
    }
}
