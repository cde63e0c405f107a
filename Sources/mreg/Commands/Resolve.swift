import ArgumentParser
import MregCore

struct Resolve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the version a name resolves to and its record id (for scripts).",
        discussion: """
            Prints `NAME@N sha256:<id>`. In NAME@STAGE~K, every promotion, override and rollback of \
            the stage is one step back; a sha256:PREFIX needs at least 8 hex digits.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The version to resolve: NAME@N, NAME@STAGE (its champion), NAME@STAGE~K (K champion changes back), NAME (the latest) or sha256:PREFIX.", valueName: "ref"))
    var ref: String

    func run() throws {
        let v = try global.open().resolve(try VersionRef(ref))
        if global.json {
            Output.json(Views.resolved(v))
        } else {
            Output.line("\(v.name) \(v.recordID)")
        }
    }
}
