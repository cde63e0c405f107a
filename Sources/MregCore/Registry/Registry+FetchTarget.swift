#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// Where a fetch writes: the parent of `--out`, opened component by component without following
/// a link, and the leaf name in it. Every later step is relative to `parent`.
struct FetchTarget {
    let parent: DirectoryDescriptor
    let leaf: [UInt8]
    /// `--out` as the user gave it, for messages.
    let given: String
    /// The real absolute path of `--out`, for the result (from the kernel's name of `parent`).
    let shown: String
    /// `--out` is an existing directory.
    let exists: Bool
}

extension Registry {
    /// Opens the parent of `out`, refuses a link at any component, and refuses an `out` that is a
    /// directory of a registry (this one by device and inode, however it is reached: `..`, a bind
    /// mount), lies inside one, or contains this registry.
    func fetchTarget(_ out: String) throws -> FetchTarget {
        // Bytes, as the user gave them: a name need not be UTF-8.
        var outPath = RawArguments.bytes(of: out)
        let slash = UInt8(ascii: "/")
        while outPath.count > 1 && outPath.last == slash { outPath.removeLast() }
        let cut = outPath.lastIndex(of: slash)
        let parentPath = cut.map { $0 == 0 ? [slash] : Array(outPath[..<$0]) } ?? [UInt8(ascii: ".")]
        let leafName = cut.map { Array(outPath[($0 + 1)...]) } ?? outPath
        let leaf = String(decoding: leafName, as: UTF8.self)
        guard leaf != "." && leaf != ".." && !leaf.isEmpty else { throw MregError.invalid("--out \(out): name a directory to create") }
        let parent: DirectoryDescriptor
        do { parent = try DirectoryDescriptor.open(resolving: parentPath) } catch {
            switch error {
            case .missing(let p): throw MregError.invalid("--out \(out): the parent directory \(p) does not exist")
            case .symbolicLink(let p):
                throw MregError.invalid("--out \(out): \(p) is a symbolic link; fetch never follows links: give the real path (realpath)")
            case .notDirectory(let p): throw MregError.invalid("--out \(out): \(p) is not a directory")
            case .other(let p, let e): throw MregError.io("--out \(out): cannot open \(p): \(String(cString: strerror(e)))")
            }
        }
        var exists = false
        var outID: FileIdentity?
        if let st = parent.status(leafName) {
            switch st.st_mode & S_IFMT {
            case S_IFLNK: throw MregError.invalid("--out \(out) is a symbolic link; fetch never follows links: give the real directory")
            case S_IFDIR: exists = true; outID = FileIdentity(st)
            default: throw MregError.invalid("--out \(out) exists and is not a directory")
            }
        }
        let realParent = Sys.realpath("/proc/self/fd/\(parent.fd)") ?? parent.path
        let shown = realParent == "/" ? "/" + leaf : realParent + "/" + leaf

        let inside = MregError.invalid("--out \(out) is inside the registry \(root) (or contains it); fetch somewhere else")
        let own = try registryDirectories()
        if let outID, own.contains(outID) { throw inside }
        try parent.lineage { dir, id in
            if own.contains(id) { throw inside }
            if Self.isRegistryRoot(dir) {
                let other = Sys.realpath("/proc/self/fd/\(dir.fd)") ?? dir.path
                throw MregError.invalid("--out \(out) is inside the registry \(other); fetch somewhere else")
            }
        }
        if let outID {
            try DirectoryDescriptor.open(resolving: root).lineage { _, id in if id == outID { throw inside } }
        }
        return FetchTarget(parent: parent, leaf: leafName, given: out, shown: shown, exists: exists)
    }

    /// Device and inode of the registry's directories: the root, its top-level directories, the
    /// object fan-out directories and each model's directories, so a bind mount of any of them is
    /// recognised. (Directories that hold only files, `objects/xx` and `versions`, are not listed.)
    func registryDirectories() throws -> Set<FileIdentity> {
        var ids: Set<FileIdentity> = []
        func collect(_ dir: DirectoryDescriptor, depth: Int, underModels: Bool) throws {
            ids.insert(try dir.identity())
            guard depth == 0 || depth == 1 || (depth == 2 && underModels) else { return }
            for (name, type) in try dir.entries() where type == DT_DIR || type == DT_UNKNOWN {
                guard let st = dir.status(name), (st.st_mode & S_IFMT) == S_IFDIR else { continue }
                guard let sub = try? dir.openDirectory(name) else { continue }
                try collect(sub, depth: depth + 1, underModels: depth == 0 ? name == Array("models".utf8) : underModels)
            }
        }
        try collect(DirectoryDescriptor.open(resolving: root), depth: 0, underModels: false)
        return ids
    }

    /// The registry that `path` (existing or not) would lie inside, found by walking `..` up from
    /// its parent's descriptor and asking each directory whether it is a registry root (so `..`,
    /// links and bind mounts in the path are seen through); nil when there is none.
    static func enclosingRegistry(of path: String) -> String? {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        let (parentPath, _) = split(p)
        guard let parent = try? DirectoryDescriptor.open(following: parentPath) else { return nil }
        var found: String?
        try? parent.lineage { dir, _ in
            if found == nil && isRegistryRoot(dir) { found = Sys.realpath("/proc/self/fd/\(dir.fd)") ?? dir.path }
        }
        return found
    }

    /// Whether `dir` is the root of an mreg registry: a `config` file that says so, and `objects/`.
    static func isRegistryRoot(_ dir: DirectoryDescriptor) -> Bool {
        guard let objects = dir.status(Array("objects".utf8)), (objects.st_mode & S_IFMT) == S_IFDIR,
              let fd = try? dir.openFile(Array(configName.utf8), O_RDONLY | O_NONBLOCK) else { return false }
        defer { Sys.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return false }
        return String(decoding: buffer[0..<n], as: UTF8.self).contains("\"mreg-registry\"")
    }

    /// Whether the directory `name` in `parent` holds exactly `record`'s files: the same paths and
    /// nothing else (no links, no other names), the same sizes and modes, and bytes that hash to
    /// each artifact's id. Every file is read and hashed: a match is verified, not assumed.
    static func holds(_ record: VersionRecord, in parent: DirectoryDescriptor, name: [UInt8]) -> Bool {
        var files: [String: Artifact] = [:]
        var dirs: Set<String> = [""]
        for a in record.artifacts {
            files[a.path] = a
            var p = Substring(a.path)
            while let slash = p.lastIndex(of: "/") {
                p = p[..<slash]
                dirs.insert(String(p))
            }
        }
        var seen = 0
        func walk(_ dir: DirectoryDescriptor, _ prefix: String) -> Bool {
            guard let entries = try? dir.entries() else { return false }
            for (raw, _) in entries {
                guard let name = String(validating: raw, as: UTF8.self), let st = dir.status(raw) else { return false }
                let rel = prefix.isEmpty ? name : prefix + "/" + name
                switch st.st_mode & S_IFMT {
                case S_IFDIR:
                    guard dirs.contains(rel), let sub = try? dir.openDirectory(raw), walk(sub, rel) else { return false }
                case S_IFREG:
                    guard let a = files[rel], UInt64(st.st_size) == a.size,
                          st.st_mode & 0o7777 == (a.executable ? 0o755 : 0o644),
                          hash(raw, in: dir) == a.object else { return false }
                    seen += 1
                default:
                    return false
                }
            }
            return true
        }
        guard let top = try? parent.openDirectory(name) else { return false }
        return walk(top, "") && seen == files.count
    }

    private static func hash(_ name: [UInt8], in dir: DirectoryDescriptor) -> ObjectID? {
        guard let fd = try? dir.openFile(name, O_RDONLY | O_NONBLOCK) else { return nil }
        defer { Sys.close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: ObjectStore.bufferSize)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return ObjectID(digest: hasher.finalize())
    }
}
