#if canImport(Glibc)
import Glibc
#endif
import CMregSys

/// An open directory, and every operation mreg does inside a directory it does not own (`fetch
/// --out`, `init`), relative to that descriptor: nothing is resolved by path again once the
/// directory is open, so a component swapped for a symbolic link cannot redirect a later step.
///
/// Names are bytes (`[UInt8]`): a directory may hold names that are not UTF-8, and those are
/// listed, compared and removed as they are. `path` is for messages only.
final class DirectoryDescriptor {
    let fd: Int32
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { Sys.close(fd) }

    /// Why a path could not be opened as a directory, for the caller's message.
    enum OpenFailure: Error {
        case missing(String)
        case symbolicLink(String)
        case notDirectory(String)
        case other(String, Int32)
    }

    /// Opens `path` one component at a time with `openat(O_NOFOLLOW | O_DIRECTORY)`, from "/" for
    /// an absolute path and from the working directory otherwise. A symbolic link anywhere, even
    /// one swapped in while this runs, fails the open (`symbolicLink`); `..` is the kernel's
    /// parent of the directory already open, never a textual step.
    static func open(resolving path: String) throws(OpenFailure) -> DirectoryDescriptor {
        try open(resolving: Array(path.utf8))
    }

    /// `open(resolving:)` for a path given as bytes (a name need not be UTF-8).
    static func open(resolving path: [UInt8]) throws(OpenFailure) -> DirectoryDescriptor {
        let absolute = path.first == UInt8(ascii: "/")
        let components = path.split(separator: UInt8(ascii: "/")).filter { !$0.elementsEqual(".".utf8) }
        // Directories on the way are only searched (O_PATH: no read permission needed, as for
        // any path lookup); the last one is opened for reading, to be listed and fsynced.
        var current = Glibc.open(absolute ? "/" : ".", (components.isEmpty ? O_RDONLY : pathOnly) | O_DIRECTORY | O_CLOEXEC)
        guard current >= 0 else { throw .other(absolute ? "/" : ".", errno) }
        var shown = absolute ? "" : "."
        for (index, component) in components.enumerated() {
            let name = Array(component)
            shown += "/" + String(decoding: name, as: UTF8.self)
            let mode = index == components.count - 1 ? O_RDONLY : pathOnly
            let next = withName(name) { openat(current, $0, mode | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            let e = errno
            if next < 0 {
                defer { Sys.close(current) }
                var st = FileStatus()
                let found = withName(name) { fstatat(current, $0, &st, AT_SYMLINK_NOFOLLOW) } == 0
                if !found { throw .missing(shown) }
                let type = st.st_mode & S_IFMT
                // A directory now, after the open failed with ELOOP or ENOTDIR: it was a symbolic
                // link at the moment of the open (swapped in and out again).
                if e == ELOOP || type == S_IFLNK || (e == ENOTDIR && type == S_IFDIR) { throw .symbolicLink(shown) }
                if type != S_IFDIR { throw .notDirectory(shown) }
                throw .other(shown, e)
            }
            Sys.close(current)
            current = next
        }
        return DirectoryDescriptor(fd: current, path: path.isEmpty ? "." : String(decoding: path, as: UTF8.self))
    }

    /// Opens a directory by its path, following links as any program does (for a directory mreg
    /// only inspects, such as the parent of a registry being created): an O_PATH handle.
    static func open(following path: String) throws -> DirectoryDescriptor {
        let fd = try Sys.open(path, pathOnly | O_DIRECTORY)
        return DirectoryDescriptor(fd: fd, path: path)
    }

    /// Opens the subdirectory `name` without following a link.
    func openDirectory(_ name: [UInt8]) throws -> DirectoryDescriptor {
        let shown = display(name)
        let fd = try Sys.retrying("open", shown) { Self.withName(name) { openat(self.fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) } }
        return DirectoryDescriptor(fd: fd, path: shown)
    }

    /// O_PATH (Linux): a handle for lookups and `fstat` only, which needs no read permission.
    static let pathOnly: Int32 = 0o10000000

    /// The parent directory (`..` of this descriptor), as an O_PATH handle: for `lineage`,
    /// `status` and opening names in it, not for listing or fsync.
    func parent() throws -> DirectoryDescriptor {
        let fd = try Sys.retrying("open", path + "/..") { openat(self.fd, "..", Self.pathOnly | O_DIRECTORY | O_CLOEXEC) }
        return DirectoryDescriptor(fd: fd, path: path + "/..")
    }

    /// `fstatat(AT_SYMLINK_NOFOLLOW)`: the entry itself; nil when there is none.
    func status(_ name: [UInt8]) -> FileStatus? {
        var st = FileStatus()
        return Self.withName(name) { fstatat(fd, $0, &st, AT_SYMLINK_NOFOLLOW) } == 0 ? st : nil
    }

    func status() throws -> FileStatus { try Sys.fstat(fd, path: path) }

    /// Opens a file in this directory (`O_NOFOLLOW` is always added).
    func openFile(_ name: [UInt8], _ flags: Int32, _ mode: mode_t = 0o600) throws -> Int32 {
        let shown = display(name)
        try FaultInjection.check(.open, shown)
        return try Sys.retrying("open", shown) { Self.withName(name) { openat(fd, $0, flags | O_NOFOLLOW | O_CLOEXEC, mode) } }
    }

    func makeDirectory(_ name: [UInt8], _ mode: mode_t) throws {
        let shown = display(name)
        try FaultInjection.check(.mkdir, shown)
        _ = try Sys.retrying("mkdir", shown) { Self.withName(name) { mkdirat(fd, $0, mode) } }
    }

    /// `renameat` within this directory; fails with EEXIST or ENOTEMPTY when `to` is a non-empty directory.
    func rename(_ from: [UInt8], to: [UInt8]) throws {
        let shown = display(to)
        try FaultInjection.check(.rename, shown)
        _ = try Sys.retrying("rename", shown) { Self.withName(from) { f in Self.withName(to) { renameat(fd, f, fd, $0) } } }
    }

    /// Exchanges two names of this directory in one step (`renameat2(RENAME_EXCHANGE)`).
    func exchange(_ a: [UInt8], _ b: [UInt8]) throws {
        let shown = display(b)
        try FaultInjection.check(.rename, shown)
        _ = try Sys.retrying("renameat2", shown) { Self.withName(a) { x in Self.withName(b) { mreg_rename_exchange(fd, x, $0) } } }
    }

    func sync() throws { try Sys.fsync(fd, path: path) }

    /// The names in this directory as bytes, without "." and "..", with their `d_type`.
    func entries() throws -> [(name: [UInt8], type: UInt8)] {
        let copy = try Sys.retrying("open", path) { openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard let dir = fdopendir(copy) else {
            Sys.close(copy)
            throw Sys.Failure(call: "opendir", path: path, errno: errno)
        }
        defer { closedir(dir) }
        var names: [(name: [UInt8], type: UInt8)] = []
        // Read in place: a dirent is only as long as its name (see Sys.listDirectory).
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        let typeOffset = MemoryLayout<dirent>.offset(of: \dirent.d_type)!
        while let entry = readdir(dir) {
            let raw = UnsafeRawPointer(entry)
            let cName = (raw + nameOffset).assumingMemoryBound(to: UInt8.self)
            let name = Array(UnsafeBufferPointer(start: cName, count: strlen(UnsafeRawPointer(cName).assumingMemoryBound(to: CChar.self))))
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append((name, raw.load(fromByteOffset: typeOffset, as: UInt8.self)))
        }
        return names
    }

    /// Removes `name` and everything under it, by descriptors, never following a link; names that
    /// are not UTF-8 are removed like any other. Returns the first failure, after trying the rest.
    @discardableResult
    func removeTree(_ name: [UInt8]) -> Error? {
        guard let st = status(name) else { return nil }
        var firstError: Error?
        if (st.st_mode & S_IFMT) == S_IFDIR {
            do {
                let sub = try openDirectory(name)
                _ = fchmod(sub.fd, 0o700) // a read-only directory's entries could not be removed
                for (child, _) in try sub.entries() {
                    if let e = sub.removeTree(child), firstError == nil { firstError = e }
                }
            } catch {
                firstError = firstError ?? error
            }
            if Self.withName(name, { unlinkat(fd, $0, AT_REMOVEDIR) }) != 0 && firstError == nil {
                firstError = Sys.Failure(call: "rmdir", path: display(name), errno: errno)
            }
        } else if Self.withName(name, { unlinkat(fd, $0, 0) }) != 0 {
            firstError = Sys.Failure(call: "unlink", path: display(name), errno: errno)
        }
        return firstError
    }

    /// Device and inode of this directory.
    func identity() throws -> FileIdentity { FileIdentity(try status()) }

    /// This directory and each of its ancestors up to "/", by `..` from the descriptor (so a bind
    /// mount or a `..` in the path given is seen as what it is).
    func lineage(_ visit: (DirectoryDescriptor, FileIdentity) throws -> Void) throws {
        var current = self
        var seen = try identity()
        while true {
            try visit(current, seen)
            let up = try current.parent()
            let upID = try up.identity()
            if upID == seen { return }
            current = up
            seen = upID
        }
    }

    func display(_ name: [UInt8]) -> String {
        (path == "/" ? "" : path) + "/" + String(decoding: name, as: UTF8.self)
    }

    static func withName<T>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        (name + [0]).withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }
}

/// A file's device and inode: what it is, however it was reached.
struct FileIdentity: Hashable {
    let device: UInt64
    let inode: UInt64

    init(_ st: FileStatus) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }
}

enum RawArguments {
    /// The bytes the user gave for an argument that Swift decoded to `decoded`. Arguments are
    /// decoded with invalid UTF-8 replaced by U+FFFD, which would make a path name another file;
    /// the process's own argv still holds the bytes (alone, or after `--option=`).
    static func bytes(of decoded: String) -> [UInt8] {
        guard decoded.unicodeScalars.contains("\u{FFFD}") else { return Array(decoded.utf8) }
        for i in 0..<Int(CommandLine.argc) {
            guard let arg = CommandLine.unsafeArgv[i] else { continue }
            let raw = Array(UnsafeBufferPointer(start: UnsafeRawPointer(arg).assumingMemoryBound(to: UInt8.self), count: strlen(arg)))
            if String(decoding: raw, as: UTF8.self) == decoded { return raw }
            if let eq = raw.firstIndex(of: UInt8(ascii: "=")), raw.first == UInt8(ascii: "-"),
               String(decoding: raw[(eq + 1)...], as: UTF8.self) == decoded {
                return Array(raw[(eq + 1)...])
            }
        }
        return Array(decoded.utf8)
    }
}
