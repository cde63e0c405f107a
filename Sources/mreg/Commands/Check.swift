import ArgumentParser
import MregCore

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate the gates exactly as promote would, and change nothing.",
        discussion: "Exits 0 if the promotion would pass, 3 if it would be blocked.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The candidate version: NAME@N, NAME@STAGE (its champion), NAME@STAGE~K (K champion changes back), NAME (the latest) or sha256:PREFIX.", valueName: "ref"))
    var ref: String

    @Option(name: .long, help: ArgumentHelp("The stage to check against.", valueName: "stage"))
    var stage: String = "production"

    func run() throws {
        let versionRef = try VersionRef(ref)
        let stageName = try StageName(stage)
        let ev = try global.open().evaluate(versionRef, stage: stageName)
        let outcome = ev.alreadyChampion ? "unchanged" : ev.report.passed ? "would_pass" : "would_block"
        if global.json {
            Output.json(GateViews.json(ev, outcome: outcome, entry: nil))
        } else {
            Output.line(GateViews.header(ev))
            Output.line(ev.report.table())
            if ev.alreadyChampion {
                Output.line("\(ev.candidate.name) already is the champion of \(stageName)")
            } else {
                Output.line(ev.report.passed ? "PASS: \(ev.candidate.name) may be promoted to \(stageName)"
                                             : "BLOCK: \(ev.candidate.name) would be blocked from \(stageName)")
            }
        }
        if !ev.report.passed && !ev.alreadyChampion { throw ExitCode(3) }
    }
}

/// Shared printing of gate evaluations.
enum GateViews {
    static func header(_ ev: GateEvaluation) -> String {
        let champ = ev.championAtStart.map { "\(ev.candidate.model)@\($0.version)" } ?? "none"
        let policy = ev.policyID.map { "policy \($0.short)" } ?? "default policy"
        return "\(ev.candidate.name) → \(ev.stage) (champion \(champ), \(policy))"
    }

    static func json(_ ev: GateEvaluation, outcome: String, entry: (ObjectID, HistoryEntry)?) -> JSON {
        .object([
            "outcome": .string(outcome),
            "candidate": Views.resolved(ev.candidate),
            "stage": .string(ev.stage.value),
            "champion": ev.championAtStart.map { .string("\(ev.candidate.model)@\($0.version)") } ?? .null,
            "policy": ev.policyID.map { .string($0.description) } ?? .null,
            "passed": .bool(ev.report.passed),
            "report": ev.report.json,
            "entry": entry.map { .object(["id": .string($0.0.description), "seq": .number(Double($0.1.seq))]) } ?? .null,
        ])
    }
}
