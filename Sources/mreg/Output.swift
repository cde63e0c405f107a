import MregCore

#if canImport(Glibc)
import Glibc
#endif

/// Printing: stdout for results, stderr for errors and progress; JSON when asked.
///
/// Every line printed goes through here, and here every control character, C1 control, line
/// separator and bidirectional override in it is escaped (`TextRules.escaped`): whatever a record,
/// a history entry, a policy or a file name holds, no escape sequence reaches the terminal raw and
/// no value adds a line of its own. A command needs nothing more than `line`, `table` and `field`.
enum Output {
    /// Prints `s`; its `\n` separate lines, any other control character is shown escaped.
    static func line(_ s: String) {
        print(TextRules.escaped(s, keepNewlines: true))
    }

    /// A user-supplied value inside a line (a message, a reason, a user name): escaped whole, so
    /// even a line break read from an old or hand-made record shows as `\n`.
    static func field(_ s: String) -> String {
        TextRules.escaped(s)
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
        TextRules.escaped(message)
    }

    static var stdoutIsTerminal: Bool { isatty(1) == 1 }
    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// Left-aligned columns separated by two spaces. Each cell is one line (escaped like `field`)
    /// and padded by the columns a terminal gives it, so names in NFD or with wide characters
    /// line up.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = ([header] + rows).map { $0.map(field) }
        var widths = [Int](repeating: 0, count: header.count)
        for r in all { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], TextRules.displayWidth(c)) } }
        return all.map { r in
            r.enumerated().map { i, c in
                i == r.count - 1 || i >= widths.count ? c : c + String(repeating: " ", count: max(0, widths[i] - TextRules.displayWidth(c)))
            }.joined(separator: "  ")
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
