#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A seam for tests: make the N-th system call of a kind fail, or end the process there.
///
/// Set `MREG_FAULT=KIND:N:ACTION` where KIND is `write`, `fsync`, `rename`, `link`, `open`, `read`,
/// `mkdir` or `any`, N counts calls of that kind from 1 in this process, and ACTION is `eio`,
/// `enospc` or `crash` (the process ends at once with exit status 86, as a power cut would leave it,
/// without running any clean-up). Unset, the seam costs one branch per call.
enum FaultInjection {
    enum Call: String, CaseIterable {
        case open, read, write, fsync, rename, link, mkdir
    }

    private struct Plan {
        var kind: String
        var n: Int
        var action: String
    }

    nonisolated(unsafe) private static var plan: Plan? = {
        // A malformed spec is refused when the registry is opened (Environment.validate).
        guard let spec = try? Environment.faultSpec() else { return nil }
        return Plan(kind: spec.kind, n: spec.n, action: spec.action)
    }()
    /// Calls counted so far. Commands make system calls from several threads at once (push and
    /// pull copy eight objects at a time), so the count is taken under a lock.
    private static let counts = Mutex<[String: Int]>([:])

    static func check(_ call: Call, _ path: String) throws {
        guard let plan else { return }
        guard plan.kind == call.rawValue || plan.kind == "any" else { return }
        let key = plan.kind
        let count = counts.withLock { counts in
            let count = (counts[key] ?? 0) + 1
            counts[key] = count
            return count
        }
        guard count == plan.n else { return }
        switch plan.action {
        case "crash":
            _exit(86)
        case "enospc":
            throw Sys.Failure(call: call.rawValue, path: path, errno: ENOSPC)
        default:
            throw Sys.Failure(call: call.rawValue, path: path, errno: EIO)
        }
    }
}
