import ArgumentParser
import MregCore

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one version in full: metrics, params, reference profile, artifacts, lineage, stages.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The version to show: NAME@N, NAME@STAGE (its champion), NAME@STAGE~K (K champion changes back), NAME (the latest) or sha256:PREFIX.", valueName: "ref"))
    var ref: String

    func run() throws {
        let versionRef = try VersionRef(ref)
        let registry = try global.open()
        let v = try registry.resolve(versionRef)
        let r = try registry.record(of: v)
        let (_, head) = try registry.headEntry(v.model)
        let stages = Views.stages(of: v.version, in: head.state)
        let signed = try stages.map { s in (s, try registry.championSignatures(v.model, StageName(s))?.signatures ?? []) }
        let reference = try registry.referenceProfile(of: r).map { (r.referenceProfile!, $0) }
        if global.json {
            var o = r.json.object!
            o["id"] = .string(v.recordID.description)
            o["name"] = .string(r.name)
            o["champion_of"] = .array(stages.map { .string($0) })
            o["signatures"] = .object(Dictionary(uniqueKeysWithValues: signed.map { ($0.0, JSON.array($0.1.map(SignatureViews.json))) }))
            o.merge(EvaluationViews.showJSON(r)) { a, _ in a }
            o["reference"] = reference.map { ShowReference.json($0.0, $0.1) } ?? .null
            Output.json(.object(o))
            return
        }
        var lines: [String] = []
        lines.append("version   \(r.name)")
        lines.append("id        \(v.recordID)")
        lines.append(Output.field("created   \(r.created) by \(r.author)"))
        if !stages.isEmpty { lines.append("champion  \(stages.joined(separator: ", "))") }
        for (s, sigs) in signed { for sig in sigs { lines.append("signed    \(s): " + Output.field(SignatureViews.line(sig))) } }
        if !r.message.isEmpty { lines.append("message   " + Output.field(r.message)) }
        if !r.labels.isEmpty { lines.append("labels    " + r.labels.sorted { $0.key < $1.key }.map { Output.field("\($0.key)=\($0.value)") }.joined(separator: " ")) }
        lines.append("eval set  " + Output.field(r.metrics.evalSet?.label ?? "-"))
        if !r.lineage.data.isEmpty { lines.append("data      " + r.lineage.data.map(Output.field).joined(separator: ", ")) }
        if let rev = r.lineage.codeRevision { lines.append("code      " + Output.field(rev)) }
        if let e = r.evaluation {
            lines += EvaluationViews.summary(e, r).map(Output.field)
            lines.append("")
            lines.append(EvaluationViews.metricTable(r))
        } else {
            lines.append("")
            lines.append(Output.table(["METRIC", "VALUE", "BETTER"], r.metrics.values.keys.sorted().map {
                [$0, Views.metric(r.metrics.values[$0]!), r.metrics.lowerIsBetter.contains($0) ? "lower" : "higher"]
            }))
        }
        // Nested keys flattened with dots, as `diff` shows them.
        let params = Registry.flatten(r.params)
        if !params.isEmpty {
            lines.append("")
            lines.append(Output.table(["PARAM", "VALUE"], params.keys.sorted().map { [$0, params[$0]!] }))
        }
        if let reference {
            lines.append("")
            lines += ShowReference.lines(reference.0, reference.1)
        }
        lines.append("")
        lines.append(Output.table(["FILE", "SIZE", "MODE", "OBJECT"], r.artifacts.map {
            [$0.path, String($0.size), $0.executable ? "755" : "644", $0.object.short]
        }))
        lines.append("\(r.artifacts.count) file\(r.artifacts.count == 1 ? "" : "s"), \(Output.bytes(r.totalSize))")
        Output.line(lines.joined(separator: "\n"))
    }
}
