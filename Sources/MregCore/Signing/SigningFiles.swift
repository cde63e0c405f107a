#if canImport(Glibc)
import Glibc
#endif

/// Files the signing commands write for a user: key pairs and exported statements.
public enum SigningFiles {
    /// `FILE` (mode 0600) and `FILE.pub` (0644) as ssh-keygen writes them; neither may exist.
    public static func writeKeyPair(_ key: SSHPrivateKey, to path: String) throws {
        for p in [path, path + ".pub"] where Sys.linkStatus(p) != nil {
            throw MregError.invalid("--out \(path): \(p) already exists; mreg never overwrites a key")
        }
        let dir = Registry.split(path).0
        guard Sys.isDirectory(dir) else { throw MregError.invalid("--out \(path): the directory \(dir) does not exist") }
        try create(path, Array(key.privateFileText.utf8), mode: 0o600)
        do { try create(path + ".pub", Array(key.publicFileText.utf8), mode: 0o644) } catch {
            try? Sys.unlink(path)
            throw error
        }
        try Sys.fsyncDirectory(dir)
    }

    /// Creates a new file exclusively, writes and syncs it.
    static func create(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        let fd: Int32
        do { fd = try Sys.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode) } catch let f as Sys.Failure {
            throw MregError.invalid("cannot create \(path): \(f.reason)")
        }
        do {
            defer { Sys.close(fd) }
            _ = fchmod(fd, mode)  // whatever the umask
            try Sys.writeAll(fd, bytes, path: path)
            try Sys.fsync(fd, path: path)
        } catch {
            try? Sys.unlink(path)
            throw error
        }
    }

    /// Writes `DIR/statement` and, when signed, `DIR/statement.sig` (creating DIR), so that
    /// `ssh-keygen -Y verify -n mreg -f allowed_signers -I ID -s DIR/statement.sig < DIR/statement`
    /// checks them, and `ssh-keygen -Y sign -n mreg -f KEY DIR/statement` signs a prepared one.
    /// Returns the paths written.
    public static func export(_ r: SignResult, to dir: String) throws -> [String] {
        if Sys.linkStatus(dir) == nil {
            do { try Sys.mkdir(dir) } catch let f as Sys.Failure { throw MregError.invalid("--export \(dir): cannot create it: \(f.reason)") }
        }
        guard Sys.isDirectory(dir, followLinks: false) else { throw MregError.invalid("--export \(dir): not a directory") }
        var files = [(dir + "/statement", r.statementBytes)]
        if let sig = r.signature { files.append((dir + "/statement.sig", Array(sig.armoured.utf8))) } else {
            try? Sys.unlink(dir + "/statement.sig")  // an older signature would not match the new statement
        }
        for (path, bytes) in files { try Registry.writeFileAtomically(path, bytes, tmpDir: dir) }
        return files.map(\.0)
    }
}
