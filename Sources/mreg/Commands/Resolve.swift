import ArgumentParser
import MregCore

struct Resolve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the version a name resolves to and its record id (for scripts).",
        discussion: """
            Prints `NAME@N sha256:<id>`. Forms: NAME@N, NAME@STAGE (the champion), NAME@STAGE~K (the \
            champion K champion changes back: every promotion, override and rollback is one step), NAME \
            (latest), sha256:PREFIX (at least 8 hex digits).
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
