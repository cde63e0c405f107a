/// The identity of the data a model was evaluated on.
public struct EvalSet: Equatable, Sendable {
    public var name: String?
    /// Hex SHA-256 of the evaluation data, lower case.
    public var sha256: String?

    public init(name: String?, sha256: String?) {
        self.name = name
        self.sha256 = sha256
    }

    /// Text for tables: the name, the short hash, or both.
    public var label: String {
        switch (name, sha256) {
        case let (n?, h?): return "\(n) (\(h.prefix(12)))"
        case let (n?, nil): return n
        case let (nil, h?): return String(h.prefix(12))
        default: return "-"
        }
    }

    /// Why two evaluation sets cannot be compared, or nil when they can (or either names none).
    ///
    /// When both give a hash the hashes decide; otherwise when both give a name the names do.
    public func mismatch(with other: EvalSet?) -> String? {
        guard let other else { return nil }
        if let a = sha256, let b = other.sha256 {
            return a == b ? nil : "evaluation sets differ: \(label) vs \(other.label)"
        }
        if let a = name, let b = other.name, a != b {
            return "evaluation sets differ: \(label) vs \(other.label)"
        }
        return nil
    }

    var json: JSON {
        var o: [String: JSON] = [:]
        if let name { o["name"] = .string(name) }
        if let sha256 { o["sha256"] = .string(sha256) }
        return .object(o)
    }
}

/// Named numeric metrics, the ones that are better when lower, and the evaluation set.
public struct MetricSet: Equatable, Sendable {
    /// Flattened names (`test.f1`) to finite values.
    public var values: [String: Double]
    /// Metrics for which a smaller value is better; every other metric is better when larger.
    public var lowerIsBetter: Set<String>
    public var evalSet: EvalSet?

    public init(values: [String: Double], lowerIsBetter: Set<String> = [], evalSet: EvalSet? = nil) {
        self.values = values
        self.lowerIsBetter = lowerIsBetter
        self.evalSet = evalSet
    }

    public subscript(name: String) -> Double? { values[name] }

    /// The canonical JSON stored in version records and baselines (always the full form).
    public var json: JSON {
        var o: [String: JSON] = ["metrics": .object(values.mapValues { .number($0) })]
        o["lower_is_better"] = .array(lowerIsBetter.sorted().map { .string($0) })
        if let evalSet { o["eval_set"] = evalSet.json }
        return .object(o)
    }

    /// Reads the canonical form written by `json`.
    public init(json: JSON, source: String) throws {
        guard case .object? = json["metrics"] else { throw MregError.corrupt("\(source): metrics missing") }
        self = try MetricManifest.interpret(json, source: source)
    }
}
