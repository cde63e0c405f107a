import MregCore

/// JSON shapes shared by several commands (documented in docs/cli.md).
enum Views {
    static func resolved(_ v: ResolvedVersion) -> JSON {
        .object(["model": .string(v.model.value), "version": .number(Double(v.version)), "name": .string(v.name),
                 "id": .string(v.recordID.description)])
    }

    /// Stages whose champion is `version`.
    static func stages(of version: Int, in state: ModelState) -> [String] {
        state.champions.filter { $0.value.version == version }.map(\.key).sorted()
    }

    static func champions(_ m: ModelName, _ state: ModelState) -> JSON {
        .object(state.champions.mapValues { .string("\(m)@\($0.version)") })
    }

    static func metric(_ v: Double) -> String {
        JSON.display(v)
    }
}

extension JSON {
    /// Canonical text of one value.
    var canonicalText: String { String(decoding: canonicalBytes, as: UTF8.self) }
}
