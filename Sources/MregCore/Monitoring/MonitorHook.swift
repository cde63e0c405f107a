#if canImport(Glibc)
import Glibc
#endif

/// `monitor --exec CMD`: runs CMD with `/bin/sh -c`, the transitions' JSON on its standard input
/// (from a temporary file, so a command that does not read it cannot block or break mreg), its
/// standard output and error both mreg's standard error (mreg's standard output stays the
/// report, `--json` stays JSON), and the environment of mreg.
public enum MonitorHook {
    /// Runs `command` with `input` on its standard input and waits for it.
    ///
    /// - Returns: nil when it exited 0, else why not ("exited 3", "was killed by signal 9",
    ///   "could not be started: …"), for a warning; the caller's exit code does not change.
    public static func run(_ command: String, input: [UInt8], tmpDir: String) -> String? {
        var template = Array((tmpDir + "/monitor-exec.XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return "could not be started: cannot create a file in \(tmpDir) (\(String(cString: strerror(errno))))" }
        let path = String(cString: template)
        defer { unlink(path) }
        var written = 0
        while written < input.count {
            let n = input[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                return "could not be started: cannot write its input to \(path) (\(String(cString: strerror(errno))))"
            }
            written += n
        }
        guard lseek(fd, 0, SEEK_SET) == 0 else { close(fd); return "could not be started: cannot rewind its input" }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fd, 0)
        posix_spawn_file_actions_addclose(&actions, fd)
        posix_spawn_file_actions_adddup2(&actions, 2, 1)
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ)
        close(fd)
        guard rc == 0 else { return "could not be started: \(String(cString: strerror(rc)))" }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return "could not be waited for: \(String(cString: strerror(errno)))" }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
        let signal = status & 0x7f
        if signal == 0 {
            let code = (status >> 8) & 0xff
            return code == 0 ? nil : "exited \(code)"
        }
        return "was killed by signal \(signal)"
    }
}
