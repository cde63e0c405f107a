import ArgumentParser
import MregCore

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one version in full: metrics, params, artifacts, lineage, stages.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The version to show.", valueName: "ref"))
    var ref: String

    func run() throws {
        let versionRef = try VersionRef(ref)
        let registry = try global.open()
        let v = try registry.resolve(versionRef)
        let r = try registry.record(of: v)
        let (_, head) = try registry.headEntry(v.model)
        let stages = Views.stages(of: v.version, in: head.state)
        if global.json {
            var o = r.json.object!
            o["id"] = .string(v.recordID.description)
            o["name"] = .string(r.name)
            o["champion_of"] = .array(stages.map { .string($0) })
            o.merge(EvaluationViews.showJSON(r)) { a, _ in a }
            Output.json(.object(o))
            return
        }
        var lines: [String] = []
        lines.append("version   \(r.name)")
        lines.append("id        \(v.recordID)")
        lines.append("created   \(r.created) by \(r.author)")
        if !stages.isEmpty { lines.append("champion  \(stages.joined(separator: ", "))") }
        if !r.message.isEmpty { lines.append("message   \(r.message)") }
        if !r.labels.isEmpty { lines.append("labels    " + r.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) }
        lines.append("eval set  \(r.metrics.evalSet?.label ?? "-")")
        if !r.lineage.data.isEmpty { lines.append("data      \(r.lineage.data.joined(separator: ", "))") }
        if let rev = r.lineage.codeRevision { lines.append("code      \(rev)") }
        if let e = r.evaluation {
            lines += EvaluationViews.summary(e, r)
            lines.append("")
            lines.append(EvaluationViews.metricTable(r))
        } else {
            lines.append("")
            lines.append(Output.table(["METRIC", "VALUE", "BETTER"], r.metrics.values.keys.sorted().map {
                [$0, Views.metric(r.metrics.values[$0]!), r.metrics.lowerIsBetter.contains($0) ? "lower" : "higher"]
            }))
        }
        if let params = r.params.object, !params.isEmpty {
            lines.append("")
            lines.append(Output.table(["PARAM", "VALUE"], params.keys.sorted().map { [$0, params[$0]!.canonicalText] }))
        }
        lines.append("")
        lines.append(Output.table(["FILE", "SIZE", "MODE", "OBJECT"], r.artifacts.map {
            [$0.path, String($0.size), $0.executable ? "755" : "644", $0.object.short]
        }))
        lines.append("\(r.artifacts.count) file\(r.artifacts.count == 1 ? "" : "s"), \(Output.bytes(r.totalSize))")
        Output.line(lines.joined(separator: "\n"))
    }
}
