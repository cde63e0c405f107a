import Foundation

/// A temporary directory removed when the value goes away.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "mreg-test") {
        var template = Array((NSTemporaryDirectory() + "/\(label)-XXXXXX").utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(p != nil, "mkdtemp failed")
        path = URL(fileURLWithPath: String(cString: p!)).resolvingSymlinksInPath().path
    }

    deinit {
        // Objects are read-only; make everything writable so it can be removed.
        _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+w", path]).waitUntilExit()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Absolute path of a relative one inside this directory.
    public func join(_ relative: String) -> String { path + "/" + relative }

    /// Writes a file, creating its parent directories.
    @discardableResult
    public func write(_ relative: String, _ contents: String, executable: Bool = false) -> String {
        write(relative, Data(contents.utf8), executable: executable)
    }

    @discardableResult
    public func write(_ relative: String, _ data: Data, executable: Bool = false) -> String {
        let full = join(relative)
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: full, contents: data, attributes: [.posixPermissions: executable ? 0o755 : 0o644])
        return full
    }

    @discardableResult
    public func mkdir(_ relative: String) -> String {
        let full = join(relative)
        try! FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        return full
    }

    public func symlink(_ relative: String, to target: String) {
        try! FileManager.default.createSymbolicLink(atPath: join(relative), withDestinationPath: target)
    }

    public func read(_ relative: String) -> Data? { FileManager.default.contents(atPath: join(relative)) }
    public func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: join(relative)) }
}

/// Deterministic pseudo-random bytes (incompressible) for artifacts.
public func randomBytes(_ count: Int, seed: UInt64 = 42) -> Data {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    var out = Data(count: count)
    out.withUnsafeMutableBytes { (buf: UnsafeMutableRawBufferPointer) in
        for i in 0..<count {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            buf[i] = UInt8(truncatingIfNeeded: state)
        }
    }
    return out
}

/// The package's top-level `Fixtures/` directory.
public enum FixturePaths {
    public static func root(file: String = #filePath) -> String {
        var url = URL(fileURLWithPath: file)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.appendingPathComponent("Fixtures").path
            }
        }
        fatalError("Fixtures/ not found above \(file)")
    }

    public static func path(_ relative: String) -> String { root() + "/" + relative }
}

/// The result of running the `mreg` binary.
public struct CommandResult: Sendable, CustomStringConvertible {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }

    /// stdout parsed as a JSON object.
    public var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] ?? [:]
    }
}

/// Runs the built `mreg` binary (`MREG_BIN` overrides where it is found).
public enum Mreg {
    public static var binary: String {
        if let p = ProcessInfo.processInfo.environment["MREG_BIN"], !p.isEmpty { return p }
        // The test bundle runs from the build products directory, beside the executable.
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("mreg").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return "mreg"
    }

    /// Runs `mreg ARGS` in `cwd` with a clean environment plus `env`; stdin is empty.
    @discardableResult
    public static func run(_ args: [String], cwd: String, env: [String: String] = [:], registry: String? = nil) -> CommandResult {
        let arguments = (registry.map { ["--registry", $0] } ?? []).isEmpty ? args : insertRegistry(args, registry!)
        var environment = ["PATH": "/usr/bin:/bin", "HOME": cwd, "MREG_USER": "tester", "MREG_HOST": "testhost",
                           "MREG_LOCK_TIMEOUT": "5"]
        for (k, v) in env { environment[k] = v }
        return Subprocess.run(binary, arguments: arguments, environment: environment, cwd: cwd)
    }

    /// Puts `--registry PATH` after the subcommand name (options follow the subcommand).
    static func insertRegistry(_ args: [String], _ registry: String) -> [String] {
        guard let first = args.first else { return args }
        return [first, "--registry", registry] + args.dropFirst()
    }
}

/// Every file and directory under a path with its type, mode and content hash, to assert that a
/// failed command left a registry byte-for-byte unchanged.
public struct TreeSnapshot: Equatable, CustomStringConvertible {
    public var entries: [String: String]

    public init(_ root: String) {
        var entries: [String: String] = [:]
        let fm = FileManager.default
        if let e = fm.enumerator(atPath: root) {
            for case let rel as String in e {
                let full = root + "/" + rel
                let attrs = (try? fm.attributesOfItem(atPath: full)) ?? [:]
                let type = (attrs[.type] as? FileAttributeType)?.rawValue ?? "?"
                let mode = (attrs[.posixPermissions] as? Int).map { String($0, radix: 8) } ?? "?"
                var digest = ""
                if type == FileAttributeType.typeRegular.rawValue, let d = fm.contents(atPath: full) {
                    digest = String(d.count) + ":" + Self.fnv(d)
                }
                entries[rel] = "\(type) \(mode) \(digest)"
            }
        }
        self.entries = entries
    }

    public var description: String { entries.keys.sorted().map { "\($0) \(entries[$0]!)" }.joined(separator: "\n") }

    private static func fnv(_ d: Data) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in d { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }
}

/// Runs a program to its end with stdin empty, reading stdout and stderr fully before waiting (a
/// large output cannot block the child).
public enum Subprocess {
    public static func run(_ executable: String, arguments: [String], environment: [String: String], cwd: String? = nil) -> CommandResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        p.environment = environment
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try! p.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        p.waitUntilExit()
        return CommandResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}
