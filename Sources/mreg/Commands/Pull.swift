import ArgumentParser
import MregCore

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy models from another registry (a directory or s3://BUCKET/PREFIX) into this one.",
        discussion: """
            Objects first, verified, then each model's HEAD, fast-forward only: a model whose \
            history here diverged from the source's is left as it is and reported (exit 4). \
            See docs/remotes.md.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Models to pull (default: all).", valueName: "name"))
    var names: [String] = []

    @Option(name: .long, help: ArgumentHelp("The source registry.", valueName: "url-or-dir"))
    var from: String

    func run() throws {
        let source = try RemoteRegistries.storage(for: from, how: "--from")
        let destination = try RemoteRegistries.storage(for: global.registry, how: "--registry")
        let report = try RegistryCopy(from: source, to: destination).run(models: try RemoteCopyViews.models(names))
        RemoteCopyViews.show(report, from: source.location, to: destination.location, json: global.json)
    }
}
