import Foundation
import Testing
import _MregTestSupport

/// The real browser of the dashboard tests: Debian's `chromium`, headless. Without it the browser
/// tests are skipped and say so on stderr; `scripts/test.sh` installs it (scripts/install-deps.sh).
enum Chromium {
    static let binary: String? = {
        let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        if found == nil {
            FileHandle.standardError.write(Data("""
                SKIPPED: the dashboard browser tests (DashboardBrowser) need a chromium binary, which is not installed; \
                run scripts/test.sh (it installs Debian's chromium) or apt-get install chromium.

                """.utf8))
        }
        return found
    }()

    static var available: Bool { binary != nil }

    /// Runs chromium headless on a local file with its own profile directory; stdout and exit status.
    static func run(_ args: [String], page: String, scratch: TemporaryDirectory) -> (status: Int32, stdout: String, stderr: String) {
        let arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                         "--user-data-dir=" + scratch.join("chromium-profile-\(UUID().uuidString)")]
            + args + ["file://" + page]
        let r = Subprocess.run(binary!, arguments: arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": scratch.path])
        return (r.status, r.stdout, r.stderr)
    }

    /// The DOM after parsing, as chromium serialises it.
    static func dumpDOM(_ page: String, scratch: TemporaryDirectory) -> String {
        let r = run(["--dump-dom"], page: page, scratch: scratch)
        #expect(r.status == 0, "chromium --dump-dom: \(r.stderr)")
        return r.stdout
    }

    /// A screenshot of the page; the PNG's bytes.
    static func screenshot(_ page: String, to png: String, width: Int, height: Int, scratch: TemporaryDirectory) -> Data {
        let r = run(["--screenshot=" + png, "--window-size=\(width),\(height)"], page: page, scratch: scratch)
        #expect(r.status == 0, "chromium --screenshot: \(r.stderr)")
        return FileManager.default.contents(atPath: png) ?? Data()
    }
}

/// Width and height from a PNG's IHDR chunk, nil when the bytes are not a PNG.
func pngSize(_ d: Data) -> (width: Int, height: Int)? {
    let b = [UInt8](d)
    guard b.count > 24, b[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], b[12..<16] == [0x49, 0x48, 0x44, 0x52] else { return nil }
    func u32(_ i: Int) -> Int { Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3]) }
    return (u32(16), u32(20))
}

/// A copy of the example registry (`.registry-example`, made by scripts/make-example-registry.sh).
func exampleRegistry(in t: TemporaryDirectory) throws -> String {
    let source = URL(fileURLWithPath: FixturePaths.root()).deletingLastPathComponent().appendingPathComponent(".registry-example").path
    let copy = t.join("registry")
    try FileManager.default.copyItem(atPath: source, toPath: copy)
    return copy
}
