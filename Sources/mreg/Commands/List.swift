import ArgumentParser
import MregCore

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List models, or the versions of one model, with their champions.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("A model: list its versions.", valueName: "name"))
    var name: String?

    @Option(name: [.customShort("n"), .customLong("max-count")], parsing: .unconditional,
            help: ArgumentHelp("With NAME: only the newest N versions (the time of list NAME grows with the versions it shows).", valueName: "n"))
    var maxCount: Int?

    func run() throws {
        if let n = maxCount, n < 1 { throw MregError(.invalidInput, "--max-count must be 1 or more") }
        if maxCount != nil && name == nil { throw MregError(.invalidInput, "--max-count applies to the versions of one model: give NAME") }
        let model = try name.map { try ModelName($0) }
        let registry = try global.open()
        if let model {
            try listVersions(registry, model)
        } else {
            try listModels(registry)
        }
    }

    private func listModels(_ registry: Registry) throws {
        var rows: [[String]] = []
        var items: [JSON] = []
        for m in try registry.modelNames() {
            let (_, head) = try registry.headEntry(m)
            let s = head.state
            items.append(.object([
                "model": .string(m.value), "versions": .number(Double(s.versions)),
                "latest": s.versions > 0 ? .string("\(m)@\(s.versions)") : .null,
                "champions": Views.champions(m, s),
                "policy": s.policy.map { .string($0.description) } ?? .null,
                "baselines": .array(s.baselines.keys.sorted().map { .string($0) }),
            ]))
            let champs = s.champions.sorted { $0.key < $1.key }.map { "\($0.key)=@\($0.value.version)" }.joined(separator: " ")
            rows.append([m.value, String(s.versions), s.versions > 0 ? "\(m)@\(s.versions)" : Self.noVersions(s), champs.isEmpty ? "-" : champs])
        }
        if global.json {
            Output.json(.object(["models": .array(items)]))
        } else if rows.isEmpty {
            Output.line("no models yet; register one with `mreg register NAME PATH --metrics FILE`")
        } else {
            Output.line(Output.table(["MODEL", "VERSIONS", "LATEST", "CHAMPIONS"], rows))
        }
    }

    /// A model made by `gates --set` or `baseline` before its first register.
    static func noVersions(_ s: ModelState) -> String {
        var has: [String] = []
        if s.policy != nil { has.append("a gate policy") }
        if !s.baselines.isEmpty { has.append("baseline" + (s.baselines.count == 1 ? " " : "s ") + s.baselines.keys.sorted().joined(separator: ", ")) }
        return "no versions yet" + (has.isEmpty ? "" : " (has " + has.joined(separator: " and ") + ")")
    }

    private func listVersions(_ registry: Registry, _ m: ModelName) throws {
        let (_, head) = try registry.headEntry(m)
        let s = head.state
        if s.versions == 0 && !global.json {
            Output.line("\(m): \(Self.noVersions(s)); register one with `mreg register \(m) PATH... --metrics FILE`")
            return
        }
        var rows: [[String]] = []
        var items: [JSON] = []
        for (v, r) in try registry.versions(m, state: s, limit: maxCount ?? .max) {
            let n = v.version
            let stages = Views.stages(of: n, in: s)
            items.append(.object([
                "version": .number(Double(n)), "name": .string(r.name), "id": .string(v.recordID.description),
                "created": .string(r.created), "author": .string(r.author), "message": .string(r.message),
                "stages": .array(stages.map { .string($0) }),
                "metrics": .object(r.metrics.values.mapValues { .number($0) }),
                "files": .number(Double(r.artifacts.count)), "bytes": .number(Double(r.totalSize)),
            ]))
            let metricText = r.metrics.values.keys.sorted().prefix(4).map { "\($0)=\(Views.metric(r.metrics.values[$0]!))" }.joined(separator: " ")
            rows.append([r.name, v.recordID.short, r.created, stages.joined(separator: ","), metricText,
                         String(r.message.split(separator: "\n").first ?? "")])
        }
        if global.json {
            Output.json(.object(["model": .string(m.value), "champions": Views.champions(m, s), "versions": .array(items)]))
        } else {
            Output.line(Output.table(["VERSION", "ID", "CREATED", "CHAMPION OF", "METRICS", "MESSAGE"], rows))
        }
    }
}
