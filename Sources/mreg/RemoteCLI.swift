import ArgumentParser
import Foundation
import MregCore
import MregRemote

#if canImport(Glibc)
import Glibc
#endif

/// Commands on a registry at `s3://BUCKET/PREFIX`: each runs on a working copy that is pushed back
/// when it succeeds (MregCore's RemoteSession). What it prints on stdout is held until its changes
/// are committed, so a command that lost a race prints no success line; a `register` that lost
/// the race for its version number is run again (it takes the next number), up to 10 times.
enum RemoteCLI {
    static func install() {
        RemoteRegistries.install { url in try S3Storage.forURL(url) }
    }

    /// Whether this run may touch a remote registry (an argument or MREG_REGISTRY is a URL).
    static func involved(_ arguments: [String]) -> Bool {
        arguments.contains(where: RemoteRegistries.isURL)
            || (ProcessInfo.processInfo.environment["MREG_REGISTRY"].map(RemoteRegistries.isURL) ?? false)
    }

    /// The URL of the registry the options name (`--registry`, else MREG_REGISTRY), when it is one:
    /// fsck and gc then work on the bucket itself rather than on a working copy.
    static func url(_ global: GlobalOptions) -> String? {
        let named = global.registry ?? ProcessInfo.processInfo.environment["MREG_REGISTRY"].flatMap { $0.isEmpty ? nil : $0 }
        return named.flatMap { RemoteRegistries.isURL($0) ? $0 : nil }
    }

    /// Runs `command`, pushes what it changed, and prints its output once that is done.
    static func run(_ command: inout ParsableCommand, arguments: [String]) throws {
        guard involved(arguments) else { try command.run(); return }
        let held = HeldOutput()
        defer { held.restore() }
        let attempts = command is Register ? 10 : 1
        for attempt in 1...attempts {
            held.start()
            do {
                try command.run()
                try RemoteRegistries.finish()
                held.release()
                return
            } catch let e as MregError where e.kind == .conflict && attempt < attempts {
                RemoteRegistries.discard()
                held.drop()
                Thread.sleep(forTimeInterval: Double.random(in: 0.02...0.05 * Double(attempt * attempt)))
            } catch let code as ExitCode {
                // The command finished and says so with its exit code (promote blocked: 3, with a
                // `blocked` entry written): push what it wrote, then show what it printed.
                try RemoteRegistries.finish()
                held.release()
                throw code
            } catch {
                RemoteRegistries.discard()
                held.drop()
                throw error
            }
        }
    }
}

/// Standard output redirected to an unlinked temporary file until `release` copies it out.
final class HeldOutput {
    private var saved: Int32 = -1
    private var file: Int32 = -1

    func start() {
        fflush(nil)
        if saved < 0 {
            saved = dup(1)
            var template = Array((NSTemporaryDirectory() + "/mreg-out-XXXXXX").utf8CString)
            file = mkstemp(&template)
            if file >= 0 { unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }) }
        }
        guard file >= 0 else { return }
        _ = ftruncate(file, 0)
        _ = lseek(file, 0, SEEK_SET)
        dup2(file, 1)
    }

    func drop() {
        fflush(nil)
        if file >= 0 { _ = ftruncate(file, 0); _ = lseek(file, 0, SEEK_SET) }
    }

    func release() {
        fflush(nil)
        guard file >= 0, saved >= 0 else { return }
        let length = lseek(file, 0, SEEK_CUR)
        _ = lseek(file, 0, SEEK_SET)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var left = Int(length)
        while left > 0 {
            let n = read(file, &buffer, min(buffer.count, left))
            if n <= 0 { break }
            var off = 0
            while off < n {
                let w = buffer.withUnsafeBytes { write(saved, $0.baseAddress! + off, n - off) }
                if w <= 0 { break }
                off += w
            }
            left -= n
        }
        _ = ftruncate(file, 0)
        _ = lseek(file, 0, SEEK_SET)
    }

    func restore() {
        fflush(nil)
        guard saved >= 0 else { return }
        dup2(saved, 1)
        close(saved)
        if file >= 0 { close(file) }
        saved = -1
        file = -1
    }
}
