import ArgumentParser
import MregCore

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the history of a model, newest first.",
        discussion: """
            Registered, policy changed, baseline set, promoted, blocked, overridden and rolled back, with \
            who and when. With --stage, the promoted, overridden and rolled back entries are the champion \
            changes that NAME@STAGE~K counts: ~1 is the champion the newest one replaced, ~2 the one \
            before that (blocked entries do not count).
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "name"))
    var name: String

    @Option(name: .long, help: ArgumentHelp("Only entries about this stage.", valueName: "stage"))
    var stage: String?

    @Option(name: [.customShort("n"), .customLong("max-count")], parsing: .unconditional, help: ArgumentHelp("At most this many entries.", valueName: "n"))
    var maxCount: Int?

    func run() throws {
        let model = try ModelName(name)
        let stageName = try stage.map { try StageName($0) }
        if let n = maxCount, n < 1 { throw MregError(.invalidInput, "--max-count must be 1 or more") }
        let registry = try global.open()
        let entries = try registry.log(model, stage: stageName, limit: maxCount ?? .max)
        if global.json {
            Output.json(.object(["model": .string(model.value), "entries": .array(entries.map { id, e in
                var o = e.json.object!
                o["id"] = .string(id.description)
                let signed = registry.signatures(of: e)
                if !signed.isEmpty { o["signed_by"] = .array(signed.map(SignatureViews.json)) }
                return .object(o)
            })]))
            return
        }
        for (id, e) in entries {
            Output.line(Output.field("#\(e.seq)  \(e.time)  \(e.user)@\(e.host)  \(id.short)"))
            Output.line("    " + Output.field(Self.describe(model, e)))
            for s in registry.signatures(of: e) { Output.line("    " + Output.field(SignatureViews.line(s))) }
        }
    }

    static func describe(_ m: ModelName, _ e: HistoryEntry) -> String {
        let v = e.version.map { "\(m)@\($0)" } ?? "?"
        let stage = e.stage ?? "?"
        let replaced = e.details["replaced"]?["version"]?.int.map { " (replaced \(m)@\($0))" } ?? ""
        switch e.event {
        case .registered:
            let msg = e.details["message"]?.string.flatMap { $0.isEmpty ? nil : ": \($0)" } ?? ""
            return "registered \(v)\(msg)"
        case .policy:
            return "gate policy set to \(e.details["policy"]?.string ?? "?")"
        case .baseline:
            return "baseline \(e.details["baseline"]?.string ?? "?") set to \(e.details["baseline_object"]?.string ?? "?")"
        case .promoted:
            return "promoted \(v) to \(stage)\(replaced)"
        case .blocked:
            let failed = (try? e.details["report"].map { try GateReport(json: $0) })??.results.filter { $0.verdict == .fail }.map(\.rule) ?? []
            return "blocked \(v) from \(stage): \(failed.count) rule\(failed.count == 1 ? "" : "s") failed: \(failed.joined(separator: "; "))"
        case .overridden:
            let failed = e.details["failed_rules"]?.array?.compactMap(\.string) ?? []
            return "OVERRODE gates: \(v) to \(stage)\(replaced); reason: \(e.details["reason"]?.string ?? "?"); failed: \(failed.joined(separator: "; "))"
        case .signed:
            return "signed \(v) as champion of \(stage) (history #\(e.details["sequence"]?.int ?? 0))"
        case .alertPolicy:
            return "alert policy set to \(e.details["alert_policy"]?.string ?? "?")"
        case .monitored:
            let n = e.details["windows"]?.int ?? 0
            let t = e.details["transitions"]?.array ?? []
            let fired = t.filter { $0["kind"]?.string == "fired" }.count
            return "monitored \(v) at \(stage): \(n) window\(n == 1 ? "" : "s") to \(e.details["to"]?.string ?? "?"), "
                + "\(fired) fired, \(t.count - fired) resolved"
        case .rolledBack:
            let from = e.details["replaced"]?["version"]?.int.map { "\(m)@\($0)" } ?? "?"
            return "rolled back \(stage) from \(from) to \(v); reason: \(e.details["reason"]?.string ?? "?")"
        }
    }
}
