/// Reads metric manifests as documented in docs/format.md.
///
/// Three shapes are accepted: flat (`{"f1": 0.87}`), nested objects flattened with dots
/// (`{"test": {"f1": 0.87}}` is `test.f1`), and the full form with `metrics`, `lower_is_better` and
/// `eval_set`. Non-numbers, NaN and infinities are refused, naming the key.
public enum MetricManifest {
    /// Reads a manifest file (JSON, or YAML by extension or content).
    public static func load(path: String) throws -> MetricSet {
        try parse(UserFile.bytes(path, what: "metrics file"), path: path)
    }

    /// Reads a manifest a user gave: the format, and the limits on user input (stored manifests
    /// are read back by `MetricSet(json:)` without the limits, which a first release did not have).
    public static func parse(_ bytes: [UInt8], path: String) throws -> MetricSet {
        let json = try UserFile.parse(bytes, path: path, what: "metrics file")
        let source = "metrics file \(path)"
        let set = try interpret(json, source: source, limit: InputLimits.metrics)
        if let name = set.evalSet?.name {
            try TextRules.checkOneLine(name, what: "\(source): eval_set.name", limit: TextRules.identifierLimit)
        }
        return set
    }

    static let fullFormKeys: Set<String> = ["metrics", "lower_is_better", "eval_set"]

    /// - Parameter limit: the most metrics accepted; counting stops as soon as it is passed.
    static func interpret(_ json: JSON, source: String, limit: Int = .max) throws -> MetricSet {
        guard case .object(let top) = json else {
            throw MregError.invalid("\(source): expected an object of metrics, found \(json.typeName)")
        }
        var lower: Set<String> = []
        var evalSet: EvalSet?
        let metricsObject: [String: JSON]
        if case .object(let m)? = top["metrics"] {
            for key in top.keys where !fullFormKeys.contains(key) {
                throw MregError.invalid("\(source): unknown key \"\(key)\" beside \"metrics\" (expected lower_is_better, eval_set)")
            }
            metricsObject = m
            if let l = top["lower_is_better"] {
                guard case .array(let items) = l else {
                    throw MregError.invalid("\(source): lower_is_better must be a list of metric names")
                }
                for item in items {
                    guard case .string(let s) = item, !s.isEmpty else {
                        throw MregError.invalid("\(source): lower_is_better must be a list of metric names, found \(item.typeName)")
                    }
                    lower.insert(s)
                }
            }
            if let e = top["eval_set"] { evalSet = try parseEvalSet(e, source: source) }
        } else {
            metricsObject = top
        }
        var values: [String: Double] = [:]
        try flatten(metricsObject, prefix: "", into: &values, source: source, limit: limit)
        if values.isEmpty { throw MregError.invalid("\(source): no metrics") }
        for name in lower where values[name] == nil {
            throw MregError.invalid("\(source): lower_is_better names \"\(name)\", which is not a metric here")
        }
        return MetricSet(values: values, lowerIsBetter: lower, evalSet: evalSet)
    }

    private static func flatten(_ object: [String: JSON], prefix: String, into values: inout [String: Double], source: String,
                                limit: Int) throws {
        for (key, value) in object {
            if values.count >= limit, case .number = value {
                throw MregError.invalid("\(source): more than \(limit) metrics; the limit is \(limit) per manifest")
            }
            let name = prefix.isEmpty ? key : prefix + "." + key
            try validateMetricName(name, source: source)
            switch value {
            case .number(let n):
                guard n.isFinite else { throw MregError.invalid("\(source): metric \"\(name)\" is \(n.isNaN ? "NaN" : "infinite"); metrics must be finite numbers") }
                if values[name] != nil { throw MregError.invalid("\(source): metric \"\(name)\" is given twice") }
                values[name] = n
            case .object(let inner):
                if inner.isEmpty { throw MregError.invalid("\(source): metric \"\(name)\" is an empty object") }
                try flatten(inner, prefix: name, into: &values, source: source, limit: limit)
            case .null:
                throw MregError.invalid("\(source): metric \"\(name)\" is missing (null); metrics must be finite numbers")
            case .string(let text):
                // YAML 1.1 read some of these as numbers (`1_000`, `1:20`, `0b101`); YAML 1.2 does not.
                throw MregError.invalid("\(source): metric \"\(name)\" is a string, not a number: \(ModelName.show(String(text.prefix(40)))) "
                                        + "(numbers are decimal, like 0.87 or 1e-3, or YAML 1.2 0x/0o integers)")
            default:
                throw MregError.invalid("\(source): metric \"\(name)\" is \(value.typeName), not a number")
            }
        }
    }

    /// Metric names: printable, no spaces, at most 128 bytes.
    static func validateMetricName(_ name: String, source: String) throws {
        guard !name.isEmpty, name.utf8.count <= 128,
              name.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else {
            throw MregError.invalid("\(source): metric name \"\(name.prefix(40))\" must be 1-128 printable ASCII characters without spaces")
        }
    }

    static func parseEvalSet(_ json: JSON, source: String) throws -> EvalSet {
        guard case .object(let o) = json else {
            throw MregError.invalid("\(source): eval_set must be an object with name and/or sha256")
        }
        for key in o.keys where key != "name" && key != "sha256" {
            throw MregError.invalid("\(source): eval_set has unknown key \"\(key)\" (expected name, sha256)")
        }
        var name: String?
        var hash: String?
        if let n = o["name"] {
            guard case .string(let s) = n, !s.isEmpty else { throw MregError.invalid("\(source): eval_set.name must be a non-empty string") }
            name = s
        }
        if let h = o["sha256"] {
            guard case .string(var s) = h else { throw MregError.invalid("\(source): eval_set.sha256 must be a string of 64 hex digits") }
            if s.hasPrefix("sha256:") { s = String(s.dropFirst(7)) }
            s = s.lowercased()
            guard ObjectID.isFullHex(s) else { throw MregError.invalid("\(source): eval_set.sha256 must be 64 hex digits") }
            hash = s
        }
        if name == nil && hash == nil { throw MregError.invalid("\(source): eval_set needs a name or a sha256") }
        return EvalSet(name: name, sha256: hash)
    }
}
