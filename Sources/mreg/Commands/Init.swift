import ArgumentParser
import MregCore

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create an empty registry.",
        discussion: "DIR defaults to ./.registry. It must not exist, or be an empty directory.")

    @Argument(help: ArgumentHelp("Where to create the registry.", valueName: "dir"))
    var directory: String = Registry.defaultDirectory

    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false

    func run() throws {
        let r = try Registry.create(at: directory)
        if json {
            Output.json(.object(["registry": .string(r.root)]))
        } else {
            Output.line("Initialized empty mreg registry in \(r.root)")
        }
    }
}
