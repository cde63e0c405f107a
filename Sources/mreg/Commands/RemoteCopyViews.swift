import MregCore

/// What push, pull and clone print: one line per model, or JSON.
enum RemoteCopyViews {
    static func show(_ report: RegistryCopy.Report, from: String, to: String, json: Bool) {
        if json {
            Output.json(.object([
                "from": .string(from), "to": .string(to), "objects_copied": .number(Double(report.objectsCopied)),
                "models": .array(report.models.map {
                    .object(["model": .string($0.model), "outcome": .string($0.outcome.rawValue), "head": .string($0.head)])
                }),
            ]))
            return
        }
        Output.line("\(report.objectsCopied) object\(report.objectsCopied == 1 ? "" : "s") copied from \(Output.field(from)) to \(Output.field(to))")
        for m in report.models { Output.line("\(m.model): \(m.outcome.rawValue)") }
    }

    static func models(_ names: [String]) throws -> [ModelName] { try names.map { try ModelName($0) } }
}
