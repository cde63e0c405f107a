import ArgumentParser
import MregCore

struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy models to another registry (a directory or s3://BUCKET/PREFIX).",
        discussion: """
            Objects first, then each model's HEAD by compare-and-swap, fast-forward only: a model \
            whose history diverged in the destination is left as it is and reported (exit 4). \
            Interrupted, the destination is valid and a rerun completes it. See docs/remotes.md.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Models to push (default: all).", valueName: "name"))
    var names: [String] = []

    @Option(name: .long, help: ArgumentHelp("The destination registry.", valueName: "url-or-dir"))
    var to: String

    func run() throws {
        let source = try RemoteRegistries.storage(for: global.registry, how: "--registry")
        let destination = try RemoteRegistries.storage(for: to, how: "--to")
        let report = try RegistryCopy(from: source, to: destination).run(models: try RemoteCopyViews.models(names))
        RemoteCopyViews.show(report, from: source.location, to: destination.location, json: global.json)
    }
}
