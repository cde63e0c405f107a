import ArgumentParser
import MregCore

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create an empty registry.",
        discussion: """
            DIR (or --registry DIR) defaults to ./.registry. It must not exist, or be an empty \
            directory, and must not be inside another registry (registries cannot be nested: the outer one's gc would delete the inner one's data). MREG_REGISTRY is not used to choose where: init warns when it is set to \
            another place, since the other commands would keep using that one.
            """)

    @Argument(help: ArgumentHelp("Where to create the registry.", valueName: "dir"))
    var directory: String?

    @Option(name: .long, help: ArgumentHelp("Where to create the registry (the same as DIR).", valueName: "path"))
    var registry: String?

    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false

    func validate() throws {
        if let directory, let registry, directory != registry {
            throw ValidationError("give the registry directory once: DIR \(directory) and --registry \(registry) differ")
        }
    }

    func run() throws {
        let r = try Registry.create(at: directory ?? registry ?? Registry.defaultDirectory)
        if json {
            Output.json(.object(["registry": .string(RemoteRegistries.location(of: r))]))
        } else {
            Output.line("Initialized empty mreg registry in \(Output.field(RemoteRegistries.location(of: r)))")
        }
        if let env = Registry.environmentRegistry(otherThan: RemoteRegistries.location(of: r)) {
            Output.warn("warning: MREG_REGISTRY is set to \(env): commands without --registry will use that registry, not this one; unset it to use \(r.root)")
        }
    }
}
