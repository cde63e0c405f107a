#if canImport(Glibc)
import Glibc
#endif
import CMregSys

public struct FetchResult: Sendable {
    public var version: ResolvedVersion
    public var files: Int
    public var bytes: UInt64
    public var out: String
    /// `--out` already held exactly this version (verified): nothing was written.
    public var upToDate = false
}

extension Registry {
    /// Writes a version's artifacts into `out`, verified and atomically.
    ///
    /// `out`'s parent is opened one component at a time with `O_NOFOLLOW` (see `fetchTarget`), and
    /// every later step is relative to that descriptor: the tree is built in a new temporary
    /// directory beside `out`, every file's hash is verified while it is written, everything is
    /// fsynced, and only then is the directory renamed into place. `out` must not exist, be an
    /// empty directory, already hold exactly this version (a verified no-op), or (with `force`) be
    /// a directory whose old contents are swapped out atomically and then removed.
    ///
    /// `check` (`--verify`) sees the version and record about to be written, before anything is
    /// (and before an up-to-date `out` is accepted as it is).
    public func fetch(_ ref: VersionRef, out: String, force: Bool, progress: ProgressReporter? = nil,
                      check: ((ResolvedVersion, VersionRecord) throws -> Void)? = nil) throws -> FetchResult {
        let target = try fetchTarget(out)
        let parent = target.parent
        var nonEmpty = false
        if target.exists {
            nonEmpty = !((try? parent.openDirectory(target.leaf).entries().isEmpty) ?? false)
        }

        let version = try resolve(ref)
        let record = try record(of: version)
        if let conflict = record.pathConflict { throw MregError.corrupt("\(version.name) cannot be fetched: \(conflict)") }
        try check?(version, record)
        if nonEmpty {
            if Self.holds(record, in: parent, name: target.leaf) {
                return FetchResult(version: version, files: record.artifacts.count, bytes: record.totalSize, out: target.shown, upToDate: true)
            }
            if !force {
                throw MregError.invalid("--out \(out) exists, is not empty and does not hold exactly \(version.name); use --force to replace its contents")
            }
        }

        let tmpName = Array(".\(Self.shortened(target.leaf)).mreg-fetch-\(Sys.pid)-\(UInt32.random(in: 0...UInt32.max))".utf8)
        let tmpPath = parent.display(tmpName)
        do { try parent.makeDirectory(tmpName, 0o700) } catch let f as Sys.Failure {
            throw MregError.io("cannot create \(tmpPath) beside --out: \(f.reason)")
        }
        var committed = false
        defer { if !committed { parent.removeTree(tmpName) } }
        let bytes = try writeTree(record, version: version, into: parent.openDirectory(tmpName), progress: progress)

        if target.exists && force {
            // Swap the finished tree with the old one in one step, then remove the old one.
            do { try parent.exchange(tmpName, target.leaf) } catch let f as Sys.Failure {
                throw MregError.io("--out \(out): cannot replace atomically: \(f.reason)")
            }
            committed = true
            try parent.sync()
            if let e = parent.removeTree(tmpName) {
                let reason = (e as? Sys.Failure).map { "\($0.path): \($0.call) failed: \($0.reason)" } ?? "\(e)"
                Diagnostics.warn("fetched into \(target.shown), but the old contents left in \(tmpPath) could not all be removed (\(reason))")
            }
        } else {
            do { try parent.rename(tmpName, to: target.leaf) } catch let f as Sys.Failure {
                if f.errno == ENOTEMPTY || f.errno == EEXIST {
                    throw MregError.conflict("--out \(out) was filled by something else during the fetch; nothing was changed")
                }
                throw MregError.io("--out \(out): rename failed: \(f.reason)")
            }
            committed = true
            try parent.sync()
        }
        return FetchResult(version: version, files: record.artifacts.count, bytes: bytes, out: target.shown)
    }

    /// Writes every artifact of `record` under `root` (a new, empty directory), verifying each
    /// object's hash as its bytes are written; syncs every file and directory. Returns the bytes.
    private func writeTree(_ record: VersionRecord, version: ResolvedVersion, into root: DirectoryDescriptor,
                           progress: ProgressReporter?) throws -> UInt64 {
        var dirs: [String: DirectoryDescriptor] = ["": root]
        func directory(_ rel: String) throws -> DirectoryDescriptor {
            if let d = dirs[rel] { return d }
            let (p, name) = Self.split(rel)
            let parent = try directory(p == "." ? "" : p)
            do { try parent.makeDirectory(Array(name.utf8), 0o755) } catch let f as Sys.Failure where f.errno == EEXIST {}
            let d = try parent.openDirectory(Array(name.utf8))
            dirs[rel] = d
            return d
        }

        // Many files: one syncfs of the file system instead of a journal commit per file and
        // directory (as a batched register does); a few files: an fsync of each.
        let batched = record.artifacts.count > Self.fetchFsyncLimit
        progress?.start(total: record.totalSize, what: "fetch \(version.name)")
        var bytes: UInt64 = 0
        for a in record.artifacts {
            guard ArtifactPath.isSafe(a.path) else { throw MregError.corrupt("\(version.name): unsafe artifact path \(ModelName.show(a.path))") }
            let (dir, name) = Self.split(a.path)
            let d = try directory(dir == "." ? "" : dir)
            let display = d.display(Array(name.utf8))
            let fd: Int32
            do {
                fd = try d.openFile(Array(name.utf8), O_WRONLY | O_CREAT | O_EXCL, 0o600)
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
            if !batched { try Sys.fsync(fd, path: display) }
            bytes += info.size
        }
        progress?.finish()
        _ = fchmod(root.fd, 0o755)
        if batched {
            try FaultInjection.check(.fsync, root.path)
            _ = try Sys.retrying("syncfs", root.path) { mreg_syncfs(root.fd) }
        } else {
            for d in dirs.values { try d.sync() }
        }
        return bytes
    }

    /// Above this many files, a fetch makes its tree durable with one `syncfs` instead of an fsync per file.
    static let fetchFsyncLimit = 16

    /// At most 200 bytes of `name`, cut at a character boundary, so that a temporary name built
    /// from it stays within the 255-byte limit of a file name.
    static func shortened(_ name: [UInt8]) -> String {
        var out = ""
        var bytes = 0
        for c in String(decoding: name, as: UTF8.self) {
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

    /// Removes a tree without following symbolic links (names as bytes, see DirectoryDescriptor).
    static func removeTree(_ path: String) {
        let (parent, leaf) = split(path)
        guard let dir = try? DirectoryDescriptor.open(resolving: parent) else { return }
        dir.removeTree(Array(leaf.utf8))
    }
}
