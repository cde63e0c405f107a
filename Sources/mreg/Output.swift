import MregCore

#if canImport(Glibc)
import Glibc
#endif

/// Printing: stdout for results, stderr for errors and progress; JSON when asked.
enum Output {
    static func line(_ s: String) {
        print(s)
    }

    static func json(_ value: JSON) {
        print(value.pretty())
    }

    static func error(_ message: String) {
        var s = "mreg: error: " + oneLine(message) + "\n"
        s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    static func warn(_ message: String) {
        var s = "mreg: " + oneLine(message) + "\n"
        s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// An error or warning is one line, whatever a path or name it quotes holds: control
    /// characters (a newline in a file name) are shown escaped, as `\n` or `\u{1b}`.
    static func oneLine(_ message: String) -> String {
        // C0 controls, DEL and C1 controls (U+0080–U+009F: some terminals act on U+009B as CSI).
        func control(_ u: Unicode.Scalar) -> Bool { u.value < 32 || (u.value >= 127 && u.value < 160) }
        guard message.unicodeScalars.contains(where: control) else { return message }
        var out = String.UnicodeScalarView()
        for u in message.unicodeScalars {
            switch u.value {
            case 10: out.append(contentsOf: "\\n".unicodeScalars)
            case 13: out.append(contentsOf: "\\r".unicodeScalars)
            case 9: out.append(contentsOf: "\\t".unicodeScalars)
            case 0..<32, 127..<160: out.append(contentsOf: "\\u{\(String(u.value, radix: 16))}".unicodeScalars)
            default: out.append(u)
            }
        }
        return String(out)
    }

    static var stdoutIsTerminal: Bool { isatty(1) == 1 }
    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// Left-aligned columns separated by two spaces.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for r in all { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        return all.map { r in
            r.enumerated().map { i, c in i == r.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n)
        var u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) B" : "\(Double(Int(v * 10)) / 10) \(units[u])"
    }
}

/// Progress on a terminal (stderr) for work that takes longer than a second; silent otherwise.
final class TerminalProgress: ProgressReporter {
    private var total: UInt64 = 0
    private var done: UInt64 = 0
    private var what = ""
    private var started = 0.0
    private var lastDraw = 0.0
    private var drawn = false

    /// A reporter, or nil when stderr is not a terminal or output is JSON.
    static func make(json: Bool) -> TerminalProgress? {
        (json || !Output.stderrIsTerminal) ? nil : TerminalProgress()
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func start(total: UInt64, what: String) {
        self.total = total
        self.what = what
        done = 0
        started = Self.now()
    }

    func advance(by bytes: UInt64) {
        done += bytes
        let t = Self.now()
        guard t - started >= 1, t - lastDraw >= 0.1 else { return }
        lastDraw = t
        drawn = true
        let pct = total == 0 ? 100 : Int(Double(done) * 100 / Double(total))
        let rate = Double(done) / (t - started) / 1_048_576
        var s = "\r\(what): \(pct)% \(Output.bytes(done)) of \(Output.bytes(total)), \(Int(rate)) MiB/s   "
        s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    func finish() {
        guard drawn else { return }
        var s = "\r\u{1B}[K"
        s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}
