import ArgumentParser
import MregCore

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two versions: metrics, params, artifact files, evaluation set.",
        discussion: """
            Deltas are FIRST - SECOND, marked better/worse by each metric's direction. SECOND defaults \
            to the production champion; when SECOND names a champion (NAME@STAGE) the gate verdict for \
            promoting FIRST there is shown too. Params and files that are the same in both are counted, \
            not listed. --fail-on-regression exits 3 if any shared metric got worse.

            NAME@STAGE~K is the champion K changes back (every promotion, override and rollback is one \
            step): after a rollback, `mreg diff fraud@production~1 fraud@production` compares the \
            version rolled back from with the one restored.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The first version (the candidate): NAME@N, NAME@STAGE (its champion), NAME@STAGE~K (K champion changes back), NAME (the latest) or sha256:PREFIX.", valueName: "ref"))
    var first: String

    @Argument(help: ArgumentHelp("The second version (default: NAME@production).", valueName: "ref"))
    var second: String?

    @Flag(name: .long, help: "Exit 3 when any metric both versions report is worse in the first.")
    var failOnRegression = false

    func run() throws {
        let a = try VersionRef(first)
        let b = try second.map { try VersionRef($0) }
        let d = try global.open().diff(a, b)
        if global.json {
            Output.json(json(d))
        } else {
            Output.line(text(d))
        }
        if failOnRegression && d.regressed { throw ExitCode(3) }
    }

    /// Files in both versions with the same content and mode: left out of the file table.
    private func unchangedFiles(_ d: VersionDiff) -> Int {
        Set(d.aRecord.artifacts.map(\.path)).union(d.bRecord.artifacts.map(\.path)).count - d.artifacts.count
    }

    /// Params (flattened) with the same value in both versions: left out of the param table.
    private func unchangedParams(_ d: VersionDiff) -> Int {
        Set(Registry.flatten(d.aRecord.params).keys).union(Registry.flatten(d.bRecord.params).keys).count - d.params.count
    }

    private func num(_ v: Double?) -> JSON { v.map { .number($0) } ?? .null }

    private func json(_ d: VersionDiff) -> JSON {
        .object([
            "a": Views.resolved(d.a), "b": Views.resolved(d.b),
            "metrics": .array(d.metrics.map {
                .object(["name": .string($0.name), "a": num($0.a), "b": num($0.b), "delta": num($0.delta),
                         "relative": num($0.relative), "lower_is_better": .bool($0.lowerIsBetter), "change": .string($0.change.rawValue)]
                    .merging(EvaluationViews.diffMetricJSON(d, $0.name)) { a, _ in a })
            }),
            "evaluation": EvaluationViews.diffEvaluationJSON(d),
            "importance": EvaluationViews.importanceJSON(d),
            "params": .array(d.params.map { entry($0) }),
            "artifacts": .array(d.artifacts.map { entry($0) }),
            "eval_set": .object(["a": d.aRecord.metrics.evalSet.map { .string($0.label) } ?? .null,
                                  "b": d.bRecord.metrics.evalSet.map { .string($0.label) } ?? .null,
                                  "mismatch": d.evalSetMismatch.map { .string($0) } ?? .null]),
            "regressed": .bool(d.regressed),
            "unchanged_files": .number(Double(unchangedFiles(d))), "unchanged_params": .number(Double(unchangedParams(d))),
            "gates": d.gates.map { GateViews.json($0, outcome: $0.report.passed ? "would_pass" : "would_block", entry: nil) } ?? .null,
        ])
    }

    private func entry(_ e: VersionDiff.Entry) -> JSON {
        .object(["key": .string(e.key), "a": e.a.map { .string($0) } ?? .null, "b": e.b.map { .string($0) } ?? .null,
                 "change": .string(e.change.rawValue)])
    }

    private func text(_ d: VersionDiff) -> String {
        func signed(_ v: Double?) -> String { v.map { ($0 > 0 ? "+" : "") + Views.metric($0) } ?? "" }
        func pct(_ v: Double?) -> String {
            guard let v else { return "" }
            let p = (v * 1000).rounded() / 10
            return (p > 0 ? "+" : "") + Views.metric(p) + "%"
        }
        var out: [String] = ["\(d.a.name) vs \(d.b.name)", ""]
        var header = ["METRIC", d.a.name, d.b.name, "DELTA", "REL", ""]
        var rows = d.metrics.map { m in
            // Values that differ are shown with the digits that tell them apart.
            [m.name + (m.lowerIsBetter ? " (lower)" : "")] + JSON.display(row: [m.a, m.b])
                + [signed(m.delta), pct(m.relative), m.change.rawValue]
        }
        EvaluationViews.insertDiffColumns(d, &header, &rows)
        out.append(Output.table(header, rows))
        out.append("")
        out.append(Output.field("eval set: \(d.aRecord.metrics.evalSet?.label ?? "-") vs \(d.bRecord.metrics.evalSet?.label ?? "-")"
                   + (d.evalSetMismatch.map { "  MISMATCH: \($0)" } ?? "")))
        out += EvaluationViews.diffLines(d).map(Output.field)
        let sameParams = unchangedParams(d)
        if !d.params.isEmpty {
            out.append("")
            out.append(Output.table(["PARAM", d.a.name, d.b.name, ""], d.params.map { [$0.key, $0.a ?? "-", $0.b ?? "-", $0.change.rawValue] }))
            if sameParams > 0 { out.append("(\(sameParams) unchanged param\(sameParams == 1 ? "" : "s") not shown)") }
        } else if sameParams > 0 {
            out.append("")
            out.append("params: identical (\(sameParams))")
        }
        out.append("")
        let sameFiles = unchangedFiles(d)
        if d.artifacts.isEmpty {
            out.append("artifacts: identical (\(sameFiles) file\(sameFiles == 1 ? "" : "s"))")
        } else {
            out.append(Output.table(["FILE", "SIZE " + d.a.name, "SIZE " + d.b.name, ""], d.artifacts.map { [$0.key, $0.a ?? "-", $0.b ?? "-", $0.change.rawValue] }))
            if sameFiles > 0 { out.append("(\(sameFiles) unchanged file\(sameFiles == 1 ? "" : "s") not shown)") }
        }
        if let g = d.gates {
            out.append("")
            out.append(GateViews.header(g))
            out.append(g.report.table())
            out.append(g.report.passed ? "gates: PASS" : "gates: BLOCK")
        }
        return out.joined(separator: "\n")
    }
}
