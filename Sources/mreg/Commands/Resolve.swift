import ArgumentParser
import MregCore

struct Resolve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the version a name resolves to and its record id (for scripts).",
        discussion: "Prints `NAME@N sha256:<id>`. Forms: NAME@N, NAME@STAGE, NAME@STAGE~K, NAME (latest), sha256:PREFIX.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The version to resolve.", valueName: "ref"))
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
