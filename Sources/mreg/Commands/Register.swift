import ArgumentParser
import MregCore

struct Register: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Store files and directories as a new version of a model.",
        discussion: """
            A file is stored under its base name; a directory contributes its contents, with paths \
            relative to it. Executable bits are kept; symbolic links, devices and FIFOs are refused. \
            The model is created by its first register (or by a policy or baseline set before it). \
            Prints NAME@N and the id of the version record.

            With --predictions FILE (CSV or JSON Lines with the columns id, label and score or prediction) \
            mreg computes the metrics itself, with 95% bootstrap intervals, and stores the file with the \
            version; --metrics is then optional (its metrics are kept as reported; a name both reported \
            and computed is an error). Columns, metrics and options: docs/evaluation.md.

            With --reference FILE (the training or validation features, CSV or JSON Lines) mreg stores \
            a profile of every column with the version, for drift and integrity monitoring \
            (docs/monitoring.md).
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The model name: a-z 0-9 . _ -, at most 64 characters.", valueName: "name"))
    var name: String

    @Argument(help: ArgumentHelp("Files and directories to store (at least one).", valueName: "path"))
    var paths: [String]

    @Option(name: .long, help: ArgumentHelp("Metric manifest, JSON or YAML (docs/format.md): required, unless --predictions is given.", valueName: "file"))
    var metrics: String?

    @Option(name: .long, help: ArgumentHelp("Parameters, a JSON or YAML object (at most 64 levels deep, finite numbers).", valueName: "file"))
    var params: String?

    @Option(name: [.short, .long], help: ArgumentHelp("A message for the record: one line of at most 4,096 bytes.", valueName: "message"))
    var message: String = ""

    @Option(name: .long, help: ArgumentHelp("A label (repeatable): key of 1-64 characters A-Z a-z 0-9 . _ -, value one line of at most 1,024 bytes.", valueName: "key=value"))
    var label: [String] = []

    @Option(name: .long, help: ArgumentHelp("Lineage: an identifier of the training data, one line of at most 1,024 bytes (repeatable).", valueName: "id"))
    var data: [String] = []

    @Option(name: .long, help: ArgumentHelp("Lineage: the revision of the training code, one line of at most 1,024 bytes.", valueName: "rev"))
    var codeRevision: String?

    @OptionGroup(title: "Metrics computed from predictions") var evaluation: EvaluationOptions

    @Option(name: .long, help: ArgumentHelp("Reference features (CSV or JSON Lines) to profile for monitoring.", valueName: "file"))
    var reference: String?

    @Option(name: .long, help: ArgumentHelp("The reference file's format when the extension does not say.", valueName: "csv|jsonl"))
    var referenceFormat: String?

    func run() throws {
        let model = try ModelName(name)
        let predictions = try evaluation.request()
        if metrics == nil && predictions == nil { throw ValidationError("give --metrics FILE or --predictions FILE") }
        if reference == nil && referenceFormat != nil { throw ValidationError("--reference-format needs --reference FILE") }
        let registry = try global.open()
        var request = RegisterRequest(model: model, paths: paths, metricsFile: metrics, paramsFile: params, message: message,
                                      labels: label, data: data, codeRevision: codeRevision, predictions: predictions)
        request.reference = reference.map { ReferenceRequest(path: $0, format: referenceFormat) }
        let result = try registry.register(request, progress: TerminalProgress.make(json: global.json))
        let r = result.record
        if global.json {
            Output.json(.object([
                "model": .string(r.model.value), "version": .number(Double(r.version)), "name": .string(r.name),
                "id": .string(result.recordID.description), "files": .number(Double(result.files)),
                "bytes": .number(Double(r.totalSize)), "new_bytes": .number(Double(result.newBytes)),
                "reference_profile": r.referenceProfile.map { .string($0.description) } ?? .null,
            ]))
        } else {
            Output.line("\(r.name) \(result.recordID)")
        }
    }
}
