import ArgumentParser
import MregCore

struct Observe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record a batch of production rows served by a version, or late labels joined by id.",
        discussion: """
            mreg observe REF FILE appends FILE (CSV or JSON Lines: id, time, score and/or prediction, \
            optional version, label, human, outcome) to the model's observation log; the same bytes \
            twice count once. mreg observe NAME --labels FILE joins ground truth (id, label) to the \
            rows observed earlier; labels for ids never observed are counted and reported. See docs/production.md.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The version that served the rows (NAME@N, NAME@STAGE, NAME for the latest); with --labels, the model.", valueName: "ref"))
    var ref: String

    @Argument(help: ArgumentHelp("The rows, CSV or JSON Lines.", valueName: "file"))
    var file: String?

    @Option(name: .long, help: ArgumentHelp("Where the rows came from.", valueName: "traffic|canary|ab|human|sample"))
    var source: String = "traffic"

    @Option(name: .long, help: ArgumentHelp("Late ground truth (id, label) to join to rows observed earlier.", valueName: "file"))
    var labels: String?

    @Option(name: .long, help: ArgumentHelp("The file's format when the extension does not say.", valueName: "csv|jsonl"))
    var format: String?

    @Option(name: .long, help: ArgumentHelp("The column of a role (id, time, version, score, prediction, label, human, outcome) (repeatable).", valueName: "role=name"))
    var col: [String] = []

    func run() throws {
        let result: ObserveResult
        if let labels {
            if file != nil { throw ValidationError("give either FILE or --labels FILE, not both") }
            if !col.isEmpty { throw ValidationError("--col applies to observed rows; a labels file has the columns id and label") }
            let registry = try global.open()
            result = try registry.observeLabels(try ModelName(ref), path: labels, format: format)
        } else {
            guard let file else { throw ValidationError("give the rows to observe: mreg observe REF FILE (or --labels FILE)") }
            guard let src = ObservationSource(rawValue: source), src != .labels else {
                throw ValidationError("--source \(source): expected traffic, canary, ab, human or sample")
            }
            let versionRef = try VersionRef(ref)
            let registry = try global.open()
            result = try registry.observe(versionRef, path: file, source: src, format: format, columns: col)
        }
        let e = result.entry
        if !result.duplicate, let u = e.labelsUnknown, u > 0 {
            Output.warn("warning: \(u) label\(u == 1 ? "" : "s") name\(u == 1 ? "s" : "") ids never observed for \(e.model); they were not joined")
        }
        if global.json {
            var o = e.json.object!
            o["entry"] = .string(e.id?.description ?? "")
            o["duplicate"] = .bool(result.duplicate)
            Output.json(.object(o))
            return
        }
        if result.duplicate {
            Output.line("\(e.model): these bytes were already observed as batch #\(e.seq) (\(e.observedAt)); nothing added")
        } else if e.isLabels {
            Output.line("\(e.model): labels #\(e.seq): \(e.rows) label\(e.rows == 1 ? "" : "s"), \(e.labelsMatched ?? 0) joined to observed rows, "
                        + "\(e.labelsUnknown ?? 0) for ids never observed, \(e.labelsDuplicate ?? 0) labelled before")
        } else {
            let served = e.versions.map { "\(e.model)@\($0)" }.joined(separator: ", ")
            let range = e.timeFrom.map { TimeText.format($0) + " .. " + TimeText.format(e.timeTo ?? $0) } ?? ""
            Output.line("\(e.model): batch #\(e.seq) (\(e.source.rawValue)): \(e.rows) row\(e.rows == 1 ? "" : "s") served by \(served), \(range)")
        }
    }
}
