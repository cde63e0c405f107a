import ArgumentParser
import MregCore

struct Alerts: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or set the alert policy of a model.",
        discussion: """
            Without --set, prints the alert policy in force, or the default policy when none is set. \
            With --set FILE, validates the YAML policy (docs/monitoring.md: one-line `when:` conditions \
            with for, min_rows, resolve_after, severity) and records it in the history. Column rules \
            are checked against the newest version registered with --reference.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "name"))
    var name: String

    @Option(name: .long, help: ArgumentHelp("A YAML alert policy to put in force (docs/monitoring.md).", valueName: "file"))
    var set: String?

    func run() throws {
        let model = try ModelName(name)
        let registry = try global.open()
        if let file = set {
            let result = try registry.setAlertPolicy(model, from: file)
            let id = try result.map { $0.id } ?? registry.alertPolicy(model)?.id
            if global.json {
                Output.json(.object(["model": .string(model.value), "alert_policy": id.map { .string($0.description) } ?? .null,
                                     "changed": .bool(result != nil)]))
            } else if let result {
                Output.line("alert policy of \(model) set to \(result.id)")
            } else {
                Output.line("alert policy of \(model) unchanged (\(id.map { "\($0)" } ?? "-"))")
            }
            return
        }
        let current = try registry.alertPolicy(model)
        let text = current?.policy.text ?? AlertPolicy.defaultText
        if global.json {
            Output.json(.object(["model": .string(model.value), "alert_policy": current.map { .string($0.id.description) } ?? .null,
                                 "text": .string(text), "default": .bool(current == nil)]))
        } else {
            Output.line(current.map { "# alert policy \($0.id)" } ?? "# \(model) has no alert policy: the default applies")
            Output.line(text.hasSuffix("\n") ? String(text.dropLast()) : text)
        }
    }
}
