import ArgumentParser
import MregCore

struct Promote: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a version champion of a stage if every gate passes.",
        discussion: """
            The gates are evaluated against the champion read at the start; the champion is swapped \
            only if it is unchanged (else exit 4, nothing changed). A blocked promotion is recorded \
            in the history with its report and exits 3. --override REASON promotes despite failed \
            gates, recording the reason and the failed rules.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The candidate version: NAME@N, NAME@STAGE (its champion), NAME@STAGE~K (K champion changes back), NAME (the latest) or sha256:PREFIX.", valueName: "ref"))
    var ref: String

    @Option(name: .long, help: ArgumentHelp("The stage to promote into.", valueName: "stage"))
    var stage: String = "production"

    @Option(name: .long, help: ArgumentHelp("Promote despite failed gates, for this reason (on the record).", valueName: "reason"))
    var override: String?

    @OptionGroup var signing: SignOptions

    func run() throws {
        let versionRef = try VersionRef(ref)
        let stageName = try StageName(stage)
        let r = try global.open().promote(versionRef, stage: stageName, overrideReason: override, signer: signing.signer())
        let ev = r.evaluation
        let entry = r.entryID.flatMap { id in r.entry.map { (id, $0) } }
        if global.json {
            Output.json(GateViews.json(ev, outcome: r.outcome.rawValue, entry: entry))
        } else {
            Output.line(GateViews.header(ev))
            Output.line(ev.report.table())
            let replaced = ev.championAtStart.map { " (replaced \(ev.candidate.model)@\($0.version))" } ?? ""
            switch r.outcome {
            case .promoted: Output.line("PROMOTED: \(ev.candidate.name) is now champion of \(stageName)\(replaced)")
            case .overridden: Output.line("OVERRIDDEN: \(ev.candidate.name) is now champion of \(stageName)\(replaced) despite failed gates; reason on record")
            case .blocked: Output.line("BLOCKED: \(ev.candidate.name) stays out of \(stageName); recorded as history entry #\(r.entry?.seq ?? 0)")
            case .unchanged: Output.line("\(ev.candidate.name) already is the champion of \(stageName); nothing changed")
            }
            signing.report(global, r.entry, unchanged: r.outcome == .unchanged)
        }
        if r.outcome == .blocked { throw ExitCode(3) }
    }
}
