/// The feature profile of one observed batch, kept in the batch summary's `"features"` key
/// (docs/format.md, "Observation log"), so that `monitor` merges a window's batches instead of
/// re-reading raw rows.
///
/// ```json
/// "features": {"version": 4, "reference": "sha256:…" | null, "profile": {"type": "mreg.profile", …}}
/// ```
///
/// `version` is the version the batch was observed for (REF), `reference` the id of that
/// version's reference profile, whose bins the numeric columns were counted in (null: the version
/// has none, and the columns are binned on their own deciles).
public struct BatchFeatures: Equatable, Sendable {
    public var version: Int
    public var reference: ObjectID?
    public var profile: Profile

    public init(version: Int, reference: ObjectID?, profile: Profile) {
        self.version = version
        self.reference = reference
        self.profile = profile
    }

    public var json: JSON {
        .object(["version": .number(Double(version)), "reference": reference.map { .string($0.description) } ?? .null,
                 "profile": profile.json])
    }

    /// Reads the `features` value of a summary; nil for a summary written before batches were
    /// profiled (it has no `features`).
    public init?(json: JSON?, source: String) throws {
        guard let json, !json.isNull else { return nil }
        guard let v = json["version"]?.int, let p = json["profile"] else { throw MregError.corrupt("\(source): features: bad version or profile") }
        var reference: ObjectID?
        if let r = json["reference"], !r.isNull {
            guard let s = r.string, let id = ObjectID(s) else { throw MregError.corrupt("\(source): features: bad reference id") }
            reference = id
        }
        self.init(version: v, reference: reference, profile: try Profile(json: p, source: "\(source): features"))
    }
}

/// Reads a production batch once for both `observe`'s checks and counts (`ObservationReader`)
/// and the profile of its feature columns: every column that is not a role (id, time, version,
/// score, prediction, label, human, outcome, under their `--col` names). Numeric columns the
/// reference has as numeric are counted in its bins as they are read.
final class BatchFeatureProfiler: TableConsumer {
    let counter: ObservationReader
    let reference: Profile?
    let source: String
    private var builder: ProfileBuilder?
    private var roles: Set<String> = []

    init(counter: ObservationReader, reference: Profile?, source: String) {
        self.counter = counter
        self.reference = reference
        self.source = source
    }

    func header(_ columns: [String]) throws {
        try counter.header(columns)
        roles = Set(counter.used.values)
        let b = ProfileBuilder(source: source, reference: reference, exclude: roles)
        do {
            try b.header(columns)
            builder = b
        } catch let e as MregError {
            // More feature columns than a profile holds: the batch is observed, unprofiled.
            Diagnostics.warn("\(e.message); the batch is observed without a feature profile")
        }
    }

    func row(_ row: TableRow) throws {
        try counter.row(row)
        try builder?.row(row)
    }

    /// The profile, after the read: a numeric column the reference does not bin and that had more
    /// values than the sample holds is counted on its own deciles by a second read of `path` (as
    /// `Profiler.profile` does); nil when the batch was not profiled.
    func profile(path: String, format: TableFormat) throws -> Profile? {
        guard let builder else { return nil }
        try builder.countByRereading(path: path, format: format)
        return builder.profile()
    }
}
