import ArgumentParser
import MregCore

struct Baseline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set a named baseline: metrics every candidate must beat, whatever the champion.",
        discussion: "Rules refer to it as baseline.NAME (docs/gates.md). Setting it again replaces it, on the record. On a model that does not exist yet, this creates it (with no versions).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "name"))
    var name: String

    @Argument(help: ArgumentHelp("The baseline name: a-z 0-9 . _ -, at most 64 characters.", valueName: "baseline"))
    var baseline: String

    @Option(name: .long, help: ArgumentHelp("Metric manifest of the baseline, JSON or YAML (required).", valueName: "file"))
    var metrics: String

    func run() throws {
        let model = try ModelName(name)
        let registry = try global.open()
        let r = try registry.setBaseline(model, name: baseline, metricsFile: metrics)
        if global.json {
            Output.json(.object(["model": .string(model.value), "baseline": .string(baseline), "id": .string(r.id.description)]))
        } else {
            Output.line("baseline \(baseline) of \(model) set to \(r.id)")
        }
    }
}
