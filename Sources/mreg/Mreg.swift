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
        discussion: """
            A registry is a directory (default .registry, found by walking up from the working \
            directory; --registry PATH or MREG_REGISTRY overrides).

            Exit codes: 0 success, 1 I/O error or corruption, 2 invalid input, 3 promotion blocked \
            by gates, 4 lost a race to a concurrent update (nothing changed; retry), 6 verification refused (--verify).
            """,
        version: MregVersion.current,
        subcommands: [
            Init.self, Register.self, List.self, Show.self, Diff.self, Gates.self, Baseline.self,
            Check.self, Promote.self, Rollback.self, Log.self, Resolve.self, Fetch.self, Fsck.self, GC.self,
            Sign.self, Key.self,
        ]
    )

    static func main() {
        Diagnostics.handler = { Output.warn("warning: " + $0) }
        do {
            var command = try parseAsRoot()
            try Clock.checkOverride()
            try command.run()
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
}
