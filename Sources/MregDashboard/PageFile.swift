import Foundation
import MregCore
#if canImport(Glibc)
import Glibc
#endif

/// Writes a page the way the registry writes its files: a temporary file beside the target,
/// fsync, rename over the target, fsync of the directory. A reader (a wall screen reloading
/// every minute) sees the old page or the new one, never half of one.
public enum PageFile {
    public static func write(_ path: String, _ text: String) throws {
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let tmp = (dir.isEmpty ? "" : dir + "/") + ".mreg-dashboard-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        func fail(_ what: String, _ p: String) -> MregError {
            MregError(.operational, "cannot \(what) \(p): \(String(cString: strerror(errno)))")
        }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("write", tmp) }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        do {
            defer { close(fd) }
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; throw fail("write", tmp) }
                bytes = bytes.dropFirst(n)
            }
            guard fsync(fd) == 0 else { throw fail("fsync", tmp) }
        }
        guard rename(tmp, path) == 0 else { throw fail("write", path) }
        ok = true
        let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}

public enum DashboardOutput {
    /// Creates `dir` (and its parents) when missing; refuses a path that is a file (exit 2).
    public static func makeDirectory(_ dir: String) throws {
        var st = stat()
        if stat(dir, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw MregError(.invalidInput, "--out \(dir): not a directory") }
            return
        }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw MregError(.operational, "cannot create \(dir): \(error.localizedDescription)")
        }
    }

    /// Refuses (exit 2) an `--out FILE` whose directory does not exist or that is a directory.
    public static func checkParent(_ file: String) throws {
        var st = stat()
        if stat(file, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw MregError(.invalidInput, "--out \(file): is a directory (--out names the page file; --all --out names a directory)")
        }
        let dir = file.lastIndex(of: "/").map { String(file[..<$0]) } ?? "."
        guard stat(dir.isEmpty ? "/" : dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw MregError(.invalidInput, "--out \(file): directory \(dir) does not exist")
        }
    }
}
