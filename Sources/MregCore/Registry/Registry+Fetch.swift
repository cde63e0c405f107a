#if canImport(Glibc)
import Glibc
#endif
import CMregSys

public struct FetchResult: Sendable {
    public var version: ResolvedVersion
    public var files: Int
    public var bytes: UInt64
    public var out: String
}

extension Registry {
    /// Writes a version's artifacts into `out`, verified and atomically.
    ///
    /// The tree is built in a new temporary directory beside `out` through directory handles
    /// opened with `O_NOFOLLOW` (so no symbolic link is ever followed and nothing is written outside
    /// it), every file's hash is verified while it is written, everything is fsynced, and only then
    /// is the directory renamed into place. `out` must not exist, be an empty directory, or (with
    /// `force`) a directory whose old contents are swapped out atomically and then removed.
    ///
    /// `check` (`--verify`) sees the version and record about to be written, before anything is.
    public func fetch(_ ref: VersionRef, out: String, force: Bool, progress: ProgressReporter? = nil,
                      check: ((ResolvedVersion, VersionRecord) throws -> Void)? = nil) throws -> FetchResult {
        var outPath = out
        while outPath.count > 1 && outPath.hasSuffix("/") { outPath.removeLast() }
        if !outPath.hasPrefix("/") { outPath = Sys.currentDirectory() + "/" + outPath }
        let (parent, leaf) = Self.split(outPath)
        guard leaf != "." && leaf != ".." && !leaf.isEmpty else { throw MregError.invalid("--out \(out): name a directory to create") }
        // Never follow a symbolic link mreg did not create: not in the parents, not at --out.
        var prefix = ""
        for component in parent.split(separator: "/") {
            prefix += "/" + component
            guard let st = Sys.linkStatus(prefix) else {
                throw MregError.invalid("--out \(out): the parent directory \(prefix) does not exist")
            }
            if (st.st_mode & S_IFMT) == S_IFLNK {
                throw MregError.invalid("--out \(out): \(prefix) is a symbolic link; fetch never follows links: give the real path (realpath)")
            }
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw MregError.invalid("--out \(out): \(prefix) is not a directory") }
        }
        // Every parent is a real directory, so the kernel's answer for the parent is its real path:
        // `x/../reg/objects`, `x//..//reg` and the like are compared as what they name.
        let realParent = Sys.realpath(parent) ?? parent
        let target = realParent == "/" ? "/" + leaf : realParent + "/" + leaf
        if target == root || target.hasPrefix(root + "/") || root.hasPrefix(target + "/") {
            throw MregError.invalid("--out \(out) is inside the registry \(root) (or contains it); fetch somewhere else")
        }
        var existing = false
        if let st = Sys.linkStatus(outPath) {
            switch st.st_mode & S_IFMT {
            case S_IFLNK: throw MregError.invalid("--out \(out) is a symbolic link; fetch never follows links: give the real directory")
            case S_IFDIR:
                existing = true
                let empty = (try? Sys.listDirectory(outPath).isEmpty) ?? false
                if !empty && !force { throw MregError.invalid("--out \(out) exists and is not empty; use --force to replace its contents") }
            default: throw MregError.invalid("--out \(out) exists and is not a directory")
            }
        }

        let version = try resolve(ref)
        let record = try record(of: version)
        if let conflict = record.pathConflict { throw MregError.corrupt("\(version.name) cannot be fetched: \(conflict)") }
        try check?(version, record)

        // All work happens relative to one handle on the parent, so a parent swapped for a link
        // during the fetch cannot redirect it.
        let parentFD = try Sys.open(parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        defer { Sys.close(parentFD) }
        let tmpName = ".\(Self.shortened(leaf)).mreg-fetch-\(Sys.pid)-\(UInt32.random(in: 0...UInt32.max))"
        let tmpPath = parent == "/" ? "/" + tmpName : parent + "/" + tmpName
        if mkdirat(parentFD, tmpName, 0o700) != 0 {
            throw MregError.io("cannot create \(tmpPath) beside --out: \(String(cString: strerror(errno)))")
        }
        var committed = false
        defer { if !committed { Self.removeTree(tmpPath) } }

        let rootFD = try Sys.openAt(parentFD, tmpName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, displayPath: tmpPath)
        var dirFDs: [String: Int32] = ["": rootFD]
        defer { for fd in dirFDs.values { Sys.close(fd) } }

        func directoryFD(_ rel: String) throws -> Int32 {
            if let fd = dirFDs[rel] { return fd }
            let (p, name) = Self.split(rel)
            let parentFD = try directoryFD(p == "." ? "" : p)
            if mkdirat(parentFD, name, 0o755) != 0 && errno != EEXIST {
                throw MregError.io("\(tmpPath)/\(rel): mkdir failed: \(String(cString: strerror(errno)))")
            }
            let fd = try Sys.openAt(parentFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, displayPath: tmpPath + "/" + rel)
            dirFDs[rel] = fd
            return fd
        }

        progress?.start(total: record.totalSize, what: "fetch \(version.name)")
        var bytes: UInt64 = 0
        for a in record.artifacts {
            guard ArtifactPath.isSafe(a.path) else { throw MregError.corrupt("\(version.name): unsafe artifact path \(ModelName.show(a.path))") }
            let (dir, name) = Self.split(a.path)
            let dfd = try directoryFD(dir == "." ? "" : dir)
            let display = tmpPath + "/" + a.path
            let fd: Int32
            do {
                fd = try Sys.openAt(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600, displayPath: display)
            } catch let f as Sys.Failure {
                throw MregError.corrupt("\(version.name): cannot create artifact \(a.path): \(f.reason)")
            }
            defer { Sys.close(fd) }
            // Large raw objects: kernel copy while another thread hashes; else stream and hash.
            // An object that declares more than the record's size is refused before any byte is
            // written, so a damaged object cannot fill the disk under --out.
            let copied = a.size >= UInt64(ObjectStore.bufferSize)
                ? try store.copyRaw(a.object, to: fd, outPath: display, sizeLimit: a.size) { progress?.advance(by: $0) } : nil
            let info = try copied ?? store.stream(a.object, sizeLimit: a.size) { chunk in
                try Sys.writeAll(fd, chunk, path: display)
                progress?.advance(by: UInt64(chunk.count))
            }
            guard info.size == a.size else {
                throw MregError.corrupt("\(version.name): artifact \(a.path) is \(info.size) bytes, its record says \(a.size)")
            }
            _ = fchmod(fd, a.executable ? 0o755 : 0o644)
            try Sys.fsync(fd, path: display)
            bytes += info.size
        }
        progress?.finish()
        _ = fchmod(rootFD, 0o755)
        for fd in dirFDs.values { try Sys.fsync(fd, path: tmpPath) }

        if existing && force {
            // Swap the finished tree with the old one in one step, then remove the old one.
            try FaultInjection.check(.rename, outPath)
            guard mreg_rename_exchange(parentFD, tmpName, leaf) == 0 else {
                throw MregError.io("--out \(out): cannot replace atomically: \(String(cString: strerror(errno)))")
            }
            committed = true
            try Sys.fsync(parentFD, path: parent)
            Self.removeTree(tmpPath)
        } else {
            try FaultInjection.check(.rename, outPath)
            if renameat(parentFD, tmpName, parentFD, leaf) != 0 {
                let e = errno
                if e == ENOTEMPTY || e == EEXIST {
                    throw MregError.conflict("--out \(out) was filled by something else during the fetch; nothing was changed")
                }
                throw MregError.io("--out \(out): rename failed: \(String(cString: strerror(e)))")
            }
            committed = true
            try Sys.fsync(parentFD, path: parent)
        }
        return FetchResult(version: version, files: record.artifacts.count, bytes: bytes, out: target)
    }

    /// At most 200 bytes of `name`, cut at a character boundary, so that a temporary name built
    /// from it stays within the 255-byte limit of a file name.
    static func shortened(_ name: String) -> String {
        var out = ""
        var bytes = 0
        for c in name {
            bytes += c.utf8.count
            if bytes > 200 { break }
            out.append(c)
        }
        return out
    }

    /// `("a/b", "c")` for `"a/b/c"`, `(".", "c")` for `"c"`, `("/", "c")` for `"/c"`.
    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = slash == path.startIndex ? "/" : String(path[..<slash])
        return (dir, String(path[path.index(after: slash)...]))
    }

    /// Removes a tree without following symbolic links.
    static func removeTree(_ path: String) {
        guard let st = Sys.linkStatus(path) else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in (try? Sys.listDirectory(path)) ?? [] { removeTree(path + "/" + name) }
            try? Sys.rmdir(path)
        } else {
            try? Sys.unlink(path)
        }
    }
}
