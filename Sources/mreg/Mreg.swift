import ArgumentParser
import MregCore

#if canImport(Glibc)
import Glibc
#endif

@main
struct Mreg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mreg",
        abstract: "A file-based machine-learning model registry with codified promotion gates.",
        usage: "mreg [--registry <path>] [--json] <subcommand> [<arguments and options>]",
        discussion: """
            A registry is a directory (default .registry, found by walking up from the working \
            directory; --registry PATH or MREG_REGISTRY overrides), or s3://BUCKET/PREFIX in an \
            S3-compatible bucket (docs/remotes.md).

            Global options, before or after the subcommand (mreg --registry /srv/reg list is mreg list --registry /srv/reg):
              --registry <path>   The registry directory (see above).
              --json              Print machine-readable JSON (shapes in docs/cli.md).

            Exit codes: 0 success, 1 I/O error or corruption, 2 invalid input, 3 promotion blocked \
            by gates, 4 lost a race to a concurrent update (nothing changed; retry), 5 an alert newly fired (monitor), \
            6 verification refused (--verify).
            """,
        version: MregVersion.current,
        subcommands: [
            Init.self, Register.self, List.self, Show.self, Diff.self, Gates.self, Baseline.self,
            Check.self, Promote.self, Rollback.self, Log.self, Resolve.self, Fetch.self, Fsck.self, GC.self,
            Sign.self, Key.self,
            Alerts.self,
            Dashboard.self,
            Push.self, Pull.self, Clone.self,
            Observe.self, Perf.self, AB.self,
            Monitor.self,
        ]
    )

    static func main() {
        Diagnostics.handler = { Output.warn("warning: " + $0) }
        do {
            let arguments = Array(CommandLine.arguments.dropFirst())
            guard let moved = GlobalOptions.movedAfterSubcommand(arguments) else {
                Output.error("the global options \(arguments.joined(separator: " ")) need a subcommand after them, as in `mreg --json list` (see `mreg help`)")
                Glibc.exit(2)
            }
            var command = try parseAsRoot(moved)
            try Clock.checkOverride()
            // Remotes (s3://): a working copy pushed back after the command (RemoteCLI.swift).
            RemoteCLI.install()
            try RemoteCLI.run(&command, arguments: moved)
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            if let e = MregError.wrap(error) {
                Output.error(e.message)
                Glibc.exit(e.exitCode)
            }
            let code = exitCode(for: error)
            if code == .success {
                self.exit(withError: error)  // --help, --version
            }
            // Argument-parser reports usage errors as 64; mreg's contract is 2.
            var message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
            if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
            Output.error(message + " (see `mreg help`)")
            Glibc.exit(2)
        }
    }
}

enum MregVersion {
    static let current = "0.1.0"
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The registry directory (else MREG_REGISTRY, else the nearest .registry).", valueName: "path"))
    var registry: String?

    @Flag(name: .long, help: "Print machine-readable JSON (shapes in docs/cli.md).")
    var json = false

    func open() throws -> Registry { try Registry.open(explicit: registry) }

    /// `mreg --registry DIR --json list` means `mreg list --registry DIR --json`: the global
    /// options given before the subcommand are moved after its name, where the subcommand parses
    /// them (as `git -C DIR log` reads). Before `help`, `--help` or `--version` they are dropped.
    /// Nil when nothing but global options is given.
    static func movedAfterSubcommand(_ args: [String]) -> [String]? {
        var leading: [String] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--json" || a.hasPrefix("--registry=") {
                leading.append(a)
                i += 1
            } else if a == "--registry" {
                leading += args[i..<min(i + 2, args.count)]
                i += 2
            } else {
                break
            }
        }
        guard !leading.isEmpty else { return args }
        guard i < args.count else { return nil }
        let rest = args[i...]
        if rest.first == "help" || rest.first!.hasPrefix("-") { return Array(rest) }
        return [rest.first!] + leading + rest.dropFirst()
    }
}
