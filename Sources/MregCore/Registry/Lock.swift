#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A lock file created exclusively (`<ref>.lock`, as git does), holding the holder's pid, host and
/// time so that a waiter can say who holds it.
///
/// Waiters retry with exponential back-off up to a bounded time (`MREG_LOCK_TIMEOUT` seconds,
/// default 10), then fail with an error naming the lock and its holder. A lock left by a process
/// that no longer runs on this host is reported as stale, with how to clear it. Readers never lock.
final class LockFile {
    let path: String
    private var held = false

    private init(path: String) { self.path = path }

    /// Takes the lock or throws `MregError` (exit 1) after the timeout.
    ///
    /// A lock whose holder ran on this host and no longer runs (a killed command) is removed and
    /// taken over, with a warning: see `breakStale`.
    static func acquire(_ path: String, timeout: Double? = nil) throws -> LockFile {
        let limit = try timeout ?? Environment.lockTimeout()
        let lock = LockFile(path: path)
        var delayMicros: UInt32 = 1_000
        var waited = 0.0
        let nonce = UInt64.random(in: 0...UInt64.max)
        let content = Array("pid \(Sys.pid)\nhost \(Sys.hostname())\nsince \(Clock.nowISO())\nnonce \(nonce)\n".utf8)
        // The holder's details go into a temp file that is then linked to the lock name: the lock
        // appears with its content or not at all, so a killed taker never leaves an anonymous lock.
        let staged = path + ".tmp-\(Sys.pid)-\(nonce)"
        let sfd = try Sys.open(staged, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        do {
            defer { Sys.close(sfd) }
            try Sys.writeAll(sfd, content, path: staged)
        } catch {
            try? Sys.unlink(staged)
            throw error
        }
        defer { try? Sys.unlink(staged) }
        while true {
            do {
                try Sys.link(staged, path)
                lock.held = true
                return lock
            } catch let f as Sys.Failure where f.errno == EEXIST {
                if breakStale(path) { continue }
                if waited >= limit { throw timeoutError(path, waited: limit) }
                // Jitter keeps many waiters from waking in step.
                let sleep = delayMicros / 2 + UInt32.random(in: 0...(delayMicros / 2))
                usleep(sleep)
                waited += Double(sleep) / 1e6
                delayMicros = min(delayMicros * 2, 100_000)
            } catch let f as Sys.Failure {
                throw MregError.io("cannot create lock \(path): \(f.reason)")
            }
        }
    }

    /// Removes `path` if its holder ran on this host and is gone. Returns true if it did.
    ///
    /// Two processes may find the same stale lock; only one may remove it, and never a lock that a
    /// third process took meanwhile. So the remover first takes `<path>.break` exclusively, then
    /// re-reads the lock and removes it only if it still holds exactly the stale content (each
    /// holder writes a random nonce). A `.break` left by a killed remover is not broken
    /// automatically: the timeout error then names it.
    static func breakStale(_ path: String) -> Bool {
        guard let bytes = try? Sys.readFile(path, limit: 4096), let h = holder(bytes),
              let pid = h.pid, h.host == Sys.hostname(), pid != Sys.pid, !Sys.processAlive(pid) else { return false }
        let breaker = path + ".break"
        guard let fd = try? Sys.open(breaker, O_WRONLY | O_CREAT | O_EXCL, 0o644) else { return false }
        Sys.close(fd)
        defer { try? Sys.unlink(breaker) }
        guard let again = try? Sys.readFile(path, limit: 4096), again == bytes else { return false }
        guard (try? Sys.unlink(path)) != nil else { return false }
        Diagnostics.warn("removed stale lock \(path): its holder, pid \(pid) on \(h.host ?? "this host")\(h.since.map { " since \($0)" } ?? ""), is no longer running")
        return true
    }

    /// Removes the lock file. Safe to call twice.
    func release() {
        guard held else { return }
        held = false
        try? Sys.unlink(path)
    }

    deinit { release() }

    struct Holder {
        var pid: Int32?
        var host: String?
        var since: String?
    }

    static func holder(of path: String) -> Holder? {
        guard let bytes = try? Sys.readFile(path, limit: 4096) else { return nil }
        return holder(bytes)
    }

    static func holder(_ bytes: [UInt8]) -> Holder? {
        var h = Holder()
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "pid": h.pid = Int32(parts[1])
            case "host": h.host = parts[1]
            case "since": h.since = parts[1]
            default: break
            }
        }
        return h
    }

    private static func timeoutError(_ path: String, waited: Double) -> MregError {
        guard let h = holder(of: path), let pid = h.pid else {
            return MregError.io("timed out after \(Int(waited))s waiting for lock \(path); if no mreg process is running, remove it")
        }
        let host = h.host ?? "unknown host"
        let since = h.since.map { " since \($0)" } ?? ""
        if Sys.exists(path + ".break") {
            return MregError.io("timed out after \(Int(waited))s waiting for lock \(path): \(path).break was left by a process that was removing a stale lock and was killed; if no mreg process is running, remove both files (see docs/operations.md)")
        }
        if host == Sys.hostname() && !Sys.processAlive(pid) {
            return MregError.io("lock \(path) is stale: held by pid \(pid) on \(host)\(since), which is no longer running; remove \(path) and retry (see docs/operations.md)")
        }
        return MregError.io("timed out after \(Int(waited))s waiting for lock \(path), held by pid \(pid) on \(host)\(since); retry later, or if that process is gone remove the lock (see docs/operations.md)")
    }
}

/// A whole-registry advisory lock (`flock` on `<registry>/gc.lock`): commands that write objects
/// hold it shared, `gc` holds it exclusively, so `gc` never removes an object that a running
/// `register` has written but not yet referenced. Released by the kernel if the process dies.
///
/// `flock` gives a waiting exclusive taker no preference: while shared holders overlap, gc never
/// finds the lock free (20 looping writers starved it). So `gc` first takes a turnstile,
/// `<registry>/gc.turnstile`, exclusively, and holds it while it waits for `gc.lock`; every shared
/// taker passes through the turnstile (takes it shared and lets go at once) before taking
/// `gc.lock`. Once gc waits, no new writer gets in, the ones inside finish, and gc gets its lock;
/// it then lets go of the turnstile. A writer waits at most `MREG_LOCK_TIMEOUT` in all (turnstile
/// and lock together), as before.
///
/// A process that already holds the lock shared (register, whose commit takes it again) does not
/// pass through the turnstile a second time: it would wait for a gc that waits for it.
final class RegistryLock {
    private let fd: Int32
    private let sharedKey: String?

    /// Registry root → shared holds of this process.
    private static let sharedHolds = Mutex<[String: Int]>([:])

    private init(fd: Int32, sharedKey: String?) {
        self.fd = fd
        self.sharedKey = sharedKey
    }

    static func shared(_ registry: String) throws -> RegistryLock {
        let limit = try Environment.lockTimeout()
        var waited = 0.0
        let reentering = sharedHolds.withLock { ($0[registry] ?? 0) > 0 }
        if !reentering {
            // Passing through the turnstile: taken and let go at once, so a waiting gc holds new writers here.
            Sys.close(try locked(registry + "/gc.turnstile", LOCK_SH, limit: limit, waited: &waited,
                                 timeout: "waiting for \(registry)/gc.lock: mreg gc is running; retry later"))
        }
        let fd = try locked(registry + "/gc.lock", LOCK_SH, limit: limit, waited: &waited,
                            timeout: "waiting for \(registry)/gc.lock: mreg gc is running; retry later")
        sharedHolds.withLock { $0[registry, default: 0] += 1 }
        return RegistryLock(fd: fd, sharedKey: registry)
    }

    static func exclusive(_ registry: String) throws -> RegistryLock {
        let limit = try Environment.lockTimeout()
        var waited = 0.0
        let turnstile = try locked(registry + "/gc.turnstile", LOCK_EX, limit: limit, waited: &waited,
                                   timeout: "waiting for \(registry)/gc.turnstile: another mreg gc is running; retry later")
        // Closing it lets go of the turnstile: once gc holds gc.lock, or when it gives up.
        defer { Sys.close(turnstile) }
        let fd = try locked(registry + "/gc.lock", LOCK_EX, limit: limit, waited: &waited,
                            timeout: "waiting for \(registry)/gc.lock: other mreg commands are writing; retry later")
        return RegistryLock(fd: fd, sharedKey: nil)
    }

    /// Opens (creating) `path` and takes `mode` on it within `limit` seconds in all (`waited`
    /// counts across calls); the descriptor, or a timeout error "timed out after Ns <timeout>".
    private static func locked(_ path: String, _ mode: Int32, limit: Double, waited: inout Double, timeout: String) throws -> Int32 {
        let fd = try Sys.open(path, O_RDWR | O_CREAT, 0o644)
        do {
            guard try poll(fd, mode, path, limit: limit, waited: &waited) else {
                throw MregError.io("timed out after \(Int(limit))s \(timeout)")
            }
        } catch {
            Sys.close(fd)
            throw error
        }
        return fd
    }

    /// Tries `flock(mode)` with exponential back-off (1 ms to 100 ms) until `waited` reaches
    /// `limit`. Returns false on timeout.
    private static func poll(_ fd: Int32, _ mode: Int32, _ path: String, limit: Double, waited: inout Double) throws -> Bool {
        var delay: UInt32 = 1_000
        while flock(fd, mode | LOCK_NB) != 0 {
            let e = errno
            if e == EINTR { continue }
            guard e == EWOULDBLOCK else { throw MregError.io("cannot lock \(path): \(String(cString: strerror(e)))") }
            if waited >= limit { return false }
            usleep(delay)
            waited += Double(delay) / 1e6
            delay = min(delay * 2, 100_000)
        }
        return true
    }

    deinit {
        if let sharedKey {
            Self.sharedHolds.withLock { holds in
                holds[sharedKey, default: 1] -= 1
                if holds[sharedKey] == 0 { holds[sharedKey] = nil }
            }
        }
        Sys.close(fd)
    }
}
