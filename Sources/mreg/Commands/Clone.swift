import ArgumentParser
import MregCore

struct Clone: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a new registry that is a copy of another (directory or s3://BUCKET/PREFIX).",
        discussion: "DEST must not exist or be empty, as for init. Every object is verified on the way. See docs/remotes.md.")

    @Argument(help: ArgumentHelp("The registry to copy.", valueName: "source"))
    var source: String

    @Argument(help: ArgumentHelp("Where to create the copy.", valueName: "dest"))
    var destination: String

    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false

    func run() throws {
        let from = try RemoteRegistries.storage(for: source, how: "clone")
        let to = try RemoteRegistries.createStorage(at: destination)
        let report = try RegistryCopy(from: from, to: to).run()
        RemoteCopyViews.show(report, from: from.location, to: to.location, json: json)
    }
}
