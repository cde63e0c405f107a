/// `register --reference FILE`: the features a version was trained or validated on, profiled
/// so that production windows can be compared with them (docs/monitoring.md).
public struct ReferenceRequest: Sendable {
    public var path: String
    /// `--reference-format csv|jsonl`, when the extension does not say.
    public var format: String?

    public init(path: String, format: String? = nil) {
        self.path = path
        self.format = format
    }
}

extension Registry {
    /// Profiles the reference file of a `register`; runs before anything is written, so a bad
    /// file (no rows, ragged, not UTF-8) leaves the registry unchanged (exit 2).
    static func profileReference(_ request: ReferenceRequest) throws -> Profile {
        let format = try TableFormat.of(path: request.path, explicit: request.format)
        return try Profiler.profile(path: request.path, source: "reference file \(request.path)", format: format)
    }

    /// The reference profile of a version, or nil when it was registered without `--reference`.
    public func referenceProfile(of record: VersionRecord) throws -> Profile? {
        guard let id = record.referenceProfile else { return nil }
        let bytes = try store.get(id, limit: 64 << 20)
        guard let json = try? JSON.parse(bytes) else { throw MregError.corrupt("reference profile \(id) of \(record.name) is not valid JSON") }
        return try Profile(json: json, source: "reference profile \(id) of \(record.name)")
    }
}
