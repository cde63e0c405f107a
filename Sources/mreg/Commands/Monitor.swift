import ArgumentParser
import MregCore

#if canImport(Glibc)
import Glibc
#endif

struct Monitor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate the alert policy over the production windows since the last run; report what fired or resolved.",
        discussion: """
            For cron. Reads the observation log of the champion of --stage (default production), \
            builds the complete windows (--window, UTC, aligned to the epoch) since the last run, \
            compares them with the version's reference profile and evaluation under the alert \
            policy in force (`mreg alerts NAME`, else the default), and records the new alert state \
            in the history. A performance rule's window that had too few labelled rows waits for \
            its late labels and is decided once, by the first run that finds them (up to 60 days). \
            Prints only transitions (an alert that fired or resolved), nothing when \
            there are none; --all prints every alert's state. With --exec CMD, runs CMD through \
            /bin/sh -c with the transitions as JSON on standard input when there are any; a failing \
            CMD is reported on stderr and the state stays recorded. Exit 5 when an alert newly \
            fired, else 0. See docs/monitoring.md.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "name"))
    var name: String

    @Option(name: .long, help: ArgumentHelp("The stage whose champion serves.", valueName: "stage"))
    var stage: String = "production"

    @Option(name: .long, help: ArgumentHelp("Window length: 12h, 1d, 7d, 2w.", valueName: "w"))
    var window: String = "1d"

    @Flag(name: .long, help: "Also print every alert's current state and value.")
    var all = false

    @Option(name: .long, help: ArgumentHelp("A command (run by /bin/sh -c) that gets the transitions as JSON on standard input.", valueName: "cmd"))
    var exec: String?

    func run() throws {
        let request = MonitorRequest(model: try ModelName(name), stage: try StageName(stage), window: try PerfRequest.parseWindow(window))
        let registry = try global.open()
        let report = try registry.monitor(request)
        if global.json {
            var o = report.json.object ?? [:]
            if all { o["alerts"] = MonitorViews.alerts(report.state) }
            Output.json(.object(o))
        } else {
            if report.noObservations {
                Output.line("\(report.served.name) (champion at \(report.stage)) has no observed rows yet (mreg observe); nothing to evaluate")
            }
            if !report.transitions.isEmpty {
                Output.line(Output.table(["", "severity", "alert", "value", "window", "since"], report.transitions.map(MonitorViews.row)))
            }
            if all {
                let last = report.state.lastWindowEnd.map { "up to \($0)" } ?? "no window evaluated yet"
                Output.line("\(report.served.name), champion at \(report.stage): \(report.state.alerts.count) alerts, \(last)")
                Output.line(Output.table(["alert", "severity", "state", "since", "value"], MonitorViews.stateRows(report.state)))
            }
        }
        if let exec, !report.transitions.isEmpty {
            fflush(nil)  // the report first, then what CMD prints
            if let failure = MonitorHook.run(exec, input: Array((report.json.pretty() + "\n").utf8), tmpDir: registry.root + "/tmp") {
                Output.warn("warning: --exec \(exec) \(failure); the alert state is recorded"
                            + (report.entry.map { " (history entry \($0.short))" } ?? ""))
            }
        }
        if report.fired { throw ExitCode(5) }
    }
}

/// How `monitor` shows transitions and alert states.
enum MonitorViews {
    static func value(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "-" }
        return ProductionViews.format3(v)
    }

    static func row(_ t: AlertTransition) -> [String] {
        let compared = t.threshold.map { " (threshold \(value($0)))" } ?? ""
        return [t.kind == .fired ? "FIRED" : "resolved", t.severity.rawValue, t.key.description, value(t.value) + compared,
                "\(t.windowStart) .. \(t.windowEnd)", t.since]
    }

    static func stateRows(_ s: AlertState) -> [[String]] {
        s.alerts.keys.sorted().map { k in
            let r = s.alerts[k]!
            return [k.description, r.severity.rawValue, r.status.rawValue, r.since, value(r.value)]
        }
    }

    static func alerts(_ s: AlertState) -> JSON {
        s.json["alerts"] ?? .array([])
    }
}
