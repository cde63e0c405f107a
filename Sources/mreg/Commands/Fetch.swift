import ArgumentParser
import MregCore

struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a version's artifacts into a directory, verified and atomically.",
        discussion: """
            The tree is built beside --out DIR and renamed into place once every file's hash is \
            verified, so DIR appears complete or not at all. DIR must not exist or be empty, unless --force.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The version to fetch: NAME@N, NAME@STAGE (its champion), NAME@STAGE~K (K champion changes back), NAME (the latest) or sha256:PREFIX.", valueName: "ref"))
    var ref: String

    @Option(name: .long, help: ArgumentHelp("The directory to create (required).", valueName: "dir"))
    var out: String

    @Flag(name: .long, help: "Replace the contents of a non-empty --out (atomically).")
    var force = false

    func run() throws {
        let versionRef = try VersionRef(ref)
        let registry = try global.open()
        let r = try registry.fetch(versionRef, out: out, force: force, progress: TerminalProgress.make(json: global.json))
        if global.json {
            var o = Views.resolved(r.version).object!
            o["out"] = .string(r.out)
            o["files"] = .number(Double(r.files))
            o["bytes"] = .number(Double(r.bytes))
            Output.json(.object(o))
        } else {
            Output.line("fetched \(r.version.name) (\(r.files) file\(r.files == 1 ? "" : "s"), \(Output.bytes(r.bytes))) into \(r.out)")
        }
    }
}
