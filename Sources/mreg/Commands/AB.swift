import ArgumentParser
import MregCore

struct AB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ab",
        abstract: "Compare two versions on the production rows each served in the same period.",
        discussion: """
            Difference B - A with its 95% interval and p-value (two-proportion z test; a difference \
            of means for non-0/1 outcomes; the delta method for f1 and balanced_accuracy; DeLong's \
            variance for roc_auc), sample sizes, and a verdict: B better, B worse, or not \
            established (with the rows per group the observed difference needs at 80% power). \
            Exit 0 when a verdict is established, 3 when it is not. See docs/production.md.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Version A (the reference), NAME@N or NAME@STAGE.", valueName: "a"))
    var a: String

    @Argument(help: ArgumentHelp("Version B (the challenger).", valueName: "b"))
    var b: String

    @Option(name: .long, help: ArgumentHelp("What to compare: outcome, recall, precision, accuracy, specificity, positive_rate, acceptance_rate, human_precision, human_recall, f1, balanced_accuracy, roc_auc (default outcome if rows have one, else recall).", valueName: "m"))
    var metric: String?

    @Option(name: .long, help: ArgumentHelp("Only rows from this time on (RFC 3339, a date or Unix seconds).", valueName: "t"))
    var since: String?

    func run() throws {
        let request = ABRequest(a: try VersionRef(a), b: try VersionRef(b), metric: metric, since: try since.map(PerfRequest.parseSince))
        let r = try global.open().abTest(request)
        if global.json {
            Output.json(ProductionViews.ab(r))
        } else {
            Output.line("\(r.metric) on production rows from \(TimeText.format(r.from)) to \(TimeText.format(r.to)) (\(r.method))")
            func share(_ x: Double, _ n: Double, _ value: Double?) -> String {
                guard n > 0 else { return "no \(r.unit)" }
                guard r.isProportion else {
                    guard let value else { return "undefined on \(ProductionViews.count(n)) \(r.unit)" }
                    return ProductionViews.number(value) + (r.approximate ? " (approx.)" : "") + " on \(ProductionViews.count(n)) \(r.unit)"
                }
                return ProductionViews.number(x / n) + " (\(ProductionViews.count(x))/\(ProductionViews.count(n)) \(r.unit))"
            }
            Output.line("  A \(r.a.name): \(share(r.xA, r.nA, r.valueA))")
            Output.line("  B \(r.b.name): \(share(r.xB, r.nB, r.valueB))")
            if let t = r.test {
                Output.line("  B - A: \(ProductionViews.signed(t.difference)) [\(ProductionViews.signed(t.interval.low)), \(ProductionViews.signed(t.interval.high))], p = \(ProductionViews.pValue(t.pValue))")
            }
            var verdict = "verdict: \(r.verdict.rawValue)"
            if !r.established {
                if let still = r.rowsStillNeeded, let n = r.rowsNeeded {
                    verdict += "; the observed difference needs \(ProductionViews.count(n)) \(r.unit) per version at 80% power, \(ProductionViews.count(still)) more"
                } else if r.test != nil {
                    verdict += "; no difference observed"
                }
            }
            Output.line(verdict)
        }
        if !r.established { throw ExitCode(3) }
    }
}
