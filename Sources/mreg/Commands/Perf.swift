import ArgumentParser
import MregCore

struct Perf: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Production metrics per window with 95% intervals, next to the serving version's evaluation.",
        discussion: """
            TARGET is a model (its champion at --stage, default production, serves) or a version \
            (NAME@N). Windows are whole hours, days or weeks (UTC, aligned to the epoch). A window \
            with fewer labelled rows than --min-labelled says so instead of showing label metrics; \
            DEGRADED marks a metric whose production interval lies below the evaluation interval. \
            See docs/production.md.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The model (NAME) or a version (NAME@N, NAME@STAGE).", valueName: "target"))
    var target: String

    @Option(name: .long, help: ArgumentHelp("The stage whose champion serves (when TARGET is a model).", valueName: "stage"))
    var stage: String = "production"

    @Option(name: .long, help: ArgumentHelp("Window length: 12h, 1d, 7d, 2w.", valueName: "w"))
    var window: String = "1d"

    @Option(name: .long, help: ArgumentHelp("Only rows from this time on (RFC 3339, a date or Unix seconds).", valueName: "t"))
    var since: String?

    @Option(name: .long, help: ArgumentHelp("Fewest labelled rows a window needs for label metrics.", valueName: "n"))
    var minLabelled: Int = 30

    func run() throws {
        let ref = target.contains("@") || target.hasPrefix("sha256:") ? try VersionRef(target) : nil
        let model = try ref.map { r -> ModelName in
            guard let m = r.model else { throw ValidationError("give NAME or NAME@N, not an id") }
            return m
        } ?? ModelName(target)
        guard minLabelled >= 1 else { throw ValidationError("--min-labelled must be at least 1") }
        let request = PerfRequest(model: model, ref: ref, stage: try StageName(stage), window: try PerfRequest.parseWindow(window),
                                  since: try since.map(PerfRequest.parseSince), minLabelled: minLabelled)
        let report = try global.open().performance(request)
        if global.json { Output.json(ProductionViews.perf(report)); return }
        let who = report.stage.map { "\(report.served.name), champion at \($0)" } ?? report.served.name
        Output.line("\(who): windows of \(window), 95% Wilson intervals; evaluation in brackets after the production value")
        if report.windows.isEmpty { Output.line("no production rows\(since.map { " since \($0)" } ?? "")"); return }
        let shown = ["accuracy", "recall", "precision", "acceptance_rate"]
        var rows: [[String]] = []
        for w in report.windows {
            var r = [TimeText.format(w.from), ProductionViews.count(w.counts.rows), ProductionViews.count(w.counts.labelled)]
            for name in shown {
                guard let m = w.metrics.first(where: { $0.name == name }) else {
                    r.append(w.tooFewLabelled && name != "acceptance_rate" ? "too few labelled rows" : "-")
                    continue
                }
                r.append(ProductionViews.metric(m))
            }
            r.append(w.degraded.isEmpty ? "" : "DEGRADED: " + w.degraded.joined(separator: ", "))
            rows.append(r)
        }
        Output.line(Output.table(["window", "rows", "labelled", "accuracy", "recall", "precision", "acceptance", ""], rows))
    }
}
