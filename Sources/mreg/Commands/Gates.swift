import ArgumentParser
import MregCore

struct Gates: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or set the gate policy of a model.",
        discussion: """
            Without --set, prints the policy in force (or says that the default policy applies). \
            With --set FILE, validates the YAML policy (docs/gates.md) and records it in the history; \
            on a model that does not exist yet, this creates it, so the criteria can be written down \
            before the first candidate.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "name"))
    var name: String

    @Option(name: .long, help: ArgumentHelp("A YAML gate policy to put in force (docs/gates.md).", valueName: "file"))
    var set: String?

    func run() throws {
        let model = try ModelName(name)
        let registry = try global.open()
        if let file = set {
            let result = try registry.setPolicy(model, from: file)
            // After a change, the id is the one just committed: nothing more is read, so nothing
            // can fail once the change is made.
            let id = try result.map { $0.id } ?? registry.policy(model)?.id
            if global.json {
                Output.json(.object(["model": .string(model.value), "policy": id.map { .string($0.description) } ?? .null,
                                     "changed": .bool(result != nil)]))
            } else if let result {
                Output.line("policy of \(model) set to \(result.id)")
            } else {
                Output.line("policy of \(model) unchanged (\(id.map { "\($0)" } ?? "-"))")
            }
            return
        }
        let current = try registry.policy(model)
        if global.json {
            Output.json(.object(["model": .string(model.value), "policy": current.map { .string($0.id.description) } ?? .null,
                                 "text": current.map { .string($0.policy.text) } ?? .null,
                                 "default": .bool(current == nil)]))
        } else if let current {
            Output.line("# policy \(current.id)")
            Output.line(current.policy.text.hasSuffix("\n") ? String(current.policy.text.dropLast()) : current.policy.text)
        } else {
            Output.line("\(model) has no gate policy: the default applies (never worse than the champion on a metric both report, better on at least one; see docs/gates.md)")
        }
    }
}
