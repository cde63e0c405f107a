/// What `register --predictions` computed from a version's predictions on its evaluation set,
/// stored in the version record under `"evaluation"` (absent for versions registered with
/// reported metrics only). The computed values themselves live in `record.metrics.values`
/// beside any reported ones; `computed` says which names were computed.
public struct Evaluation: Equatable, Sendable {
    public enum Task: String, Sendable { case binary, regression }

    /// A closed interval of a metric: the bootstrap percentile interval, or a paired difference's.
    public struct Interval: Equatable, Sendable {
        public var low: Double
        public var high: Double
        public init(low: Double, high: Double) { self.low = low; self.high = high }
    }

    /// A time range in RFC 3339 UTC (`2026-10-01T00:00:00Z`), inclusive.
    public struct TimeRange: Equatable, Sendable {
        public var from: String
        public var to: String
        public init(from: String, to: String) { self.from = from; self.to = to }
    }

    /// How the intervals were made: method `percentile`, level 0.95, resamples, seed.
    public struct Bootstrap: Equatable, Sendable {
        public var method: String
        public var level: Double
        public var resamples: Int
        public var seed: UInt64
        public init(method: String = "percentile", level: Double = 0.95, resamples: Int, seed: UInt64) {
            self.method = method; self.level = level; self.resamples = resamples; self.seed = seed
        }
    }

    public var task: Task
    /// The predictions table as the user gave it, stored as an object.
    public var predictions: ObjectID
    /// `csv` or `jsonl`.
    public var format: String
    /// Role (`id`, `label`, `score`, `prediction`, `lower`, `upper`, `time`, `weight`) → column used.
    public var columns: [String: String]
    public var rows: Int
    /// Hex SHA-256 identifying the evaluation rows (derived from ids and labels; docs/format.md
    /// gives the exact bytes). Also written as `metrics.eval_set.sha256`.
    public var evalSet: String
    /// Binary: the decision threshold (default 0.5).
    public var threshold: Double?
    /// Binary: the abstention band; rows with LO < score < HI are not decided.
    public var abstain: Interval?
    /// Binary: the beta of the extra `f<beta>` metric, when asked.
    public var beta: Double?
    public var sliceBy: [String]
    /// The evaluation rows' time range (from the `time` column), when there is one.
    public var timeRange: TimeRange?
    /// The training data's time range, from `--train-window FROM..TO`.
    public var trainWindow: TimeRange?
    /// Nil when `--bootstrap 0`.
    public var bootstrap: Bootstrap?
    /// Metric name (slice metrics included, `recall{merchant="new"}`) → 95% interval.
    public var intervals: [String: Interval]
    /// Names of the computed metrics, sorted.
    public var computed: [String]
    /// Metric name → why it is absent (`roc_auc`: "one class in the labels").
    public var undefined: [String: String]
    /// Feature → importance, from `--importance FILE`.
    public var importance: [String: Double]?

    public init(task: Task, predictions: ObjectID, format: String, columns: [String: String], rows: Int, evalSet: String,
                threshold: Double? = nil, abstain: Interval? = nil, beta: Double? = nil, sliceBy: [String] = [],
                timeRange: TimeRange? = nil, trainWindow: TimeRange? = nil, bootstrap: Bootstrap? = nil,
                intervals: [String: Interval] = [:], computed: [String] = [], undefined: [String: String] = [:],
                importance: [String: Double]? = nil) {
        self.task = task; self.predictions = predictions; self.format = format; self.columns = columns
        self.rows = rows; self.evalSet = evalSet; self.threshold = threshold; self.abstain = abstain
        self.beta = beta; self.sliceBy = sliceBy; self.timeRange = timeRange; self.trainWindow = trainWindow
        self.bootstrap = bootstrap; self.intervals = intervals; self.computed = computed
        self.undefined = undefined; self.importance = importance
    }
}

// MARK: - JSON (docs/format.md, "The evaluation section")

extension Evaluation {
    /// The canonical JSON stored in the version record under `"evaluation"`.
    public var json: JSON {
        func range(_ r: TimeRange) -> JSON { .object(["from": .string(r.from), "to": .string(r.to)]) }
        var o: [String: JSON] = [
            "task": .string(task.rawValue),
            "predictions": .string(predictions.description),
            "format": .string(format),
            "columns": .object(columns.mapValues { .string($0) }),
            "rows": .number(Double(rows)),
            "eval_set": .string(evalSet),
            "slice_by": .array(sliceBy.map { .string($0) }),
            "intervals": .object(intervals.mapValues { .array([.number($0.low), .number($0.high)]) }),
            "computed": .array(computed.map { .string($0) }),
            "undefined": .object(undefined.mapValues { .string($0) }),
        ]
        if let threshold { o["threshold"] = .number(threshold) }
        if let abstain { o["abstain"] = .array([.number(abstain.low), .number(abstain.high)]) }
        if let beta { o["beta"] = .number(beta) }
        if let timeRange { o["time_range"] = range(timeRange) }
        if let trainWindow { o["train_window"] = range(trainWindow) }
        if let bootstrap {
            o["bootstrap"] = .object(["method": .string(bootstrap.method), "level": .number(bootstrap.level),
                                      "resamples": .number(Double(bootstrap.resamples)), "seed": .number(Double(bootstrap.seed))])
        }
        if let importance { o["importance"] = .object(importance.mapValues { .number($0) }) }
        return .object(o)
    }

    /// Reads the section written by `json`, checking every field; `source` names the record in
    /// errors (exit 1: a record that does not read is corruption).
    public init(json: JSON, source: String) throws {
        func fail(_ what: String) -> MregError { MregError.corrupt("\(source): evaluation: \(what)") }
        guard case .object(let o) = json else { throw fail("not an object") }
        func number(_ j: JSON?) -> Double? { j?.number.flatMap { $0.isFinite ? $0 : nil } }
        func pair(_ j: JSON?, _ key: String) throws -> Interval? {
            guard let j else { return nil }
            guard let a = j.array, a.count == 2, let lo = number(a[0]), let hi = number(a[1]) else { throw fail("\(key) is not a pair of numbers") }
            return Interval(low: lo, high: hi)
        }
        func range(_ key: String) throws -> TimeRange? {
            guard let j = o[key] else { return nil }
            guard let from = j["from"]?.string, let to = j["to"]?.string else { throw fail("\(key) needs from and to") }
            return TimeRange(from: from, to: to)
        }
        func strings(_ key: String) throws -> [String] {
            guard let a = o[key]?.array else { throw fail("\(key) missing") }
            return try a.map { guard let s = $0.string else { throw fail("\(key) holds \($0.typeName)") }; return s }
        }
        func stringMap(_ key: String) throws -> [String: String] {
            guard let m = o[key]?.object else { throw fail("\(key) missing") }
            return try m.mapValues { guard let s = $0.string else { throw fail("\(key) holds \($0.typeName)") }; return s }
        }
        guard let t = o["task"]?.string, let task = Task(rawValue: t) else { throw fail("bad task") }
        guard let p = o["predictions"]?.string, let predictions = ObjectID(p) else { throw fail("bad predictions object id") }
        guard let format = o["format"]?.string else { throw fail("format missing") }
        guard let rows = o["rows"]?.int, rows >= 0 else { throw fail("bad rows") }
        guard let evalSet = o["eval_set"]?.string, ObjectID.isFullHex(evalSet) else { throw fail("bad eval_set") }
        var intervals: [String: Interval] = [:]
        for (k, v) in o["intervals"]?.object ?? [:] { intervals[k] = try pair(v, "interval of \(k)") }
        var bootstrap: Bootstrap?
        if let b = o["bootstrap"] {
            guard let method = b["method"]?.string, let level = number(b["level"]), let resamples = b["resamples"]?.int, resamples >= 0,
                  let seed = b["seed"]?.int, seed >= 0 else { throw fail("bad bootstrap") }
            bootstrap = Bootstrap(method: method, level: level, resamples: resamples, seed: UInt64(seed))
        }
        var importance: [String: Double]?
        if let i = o["importance"] {
            guard let m = i.object else { throw fail("importance is not an object") }
            importance = try m.mapValues { guard let n = number($0) else { throw fail("importance holds \($0.typeName)") }; return n }
        }
        var threshold: Double?
        if let j = o["threshold"] { guard let n = number(j) else { throw fail("bad threshold") }; threshold = n }
        var beta: Double?
        if let j = o["beta"] { guard let n = number(j) else { throw fail("bad beta") }; beta = n }
        self.init(task: task, predictions: predictions, format: format, columns: try stringMap("columns"), rows: rows,
                  evalSet: evalSet, threshold: threshold, abstain: try pair(o["abstain"], "abstain"), beta: beta,
                  sliceBy: try strings("slice_by"), timeRange: try range("time_range"), trainWindow: try range("train_window"),
                  bootstrap: bootstrap, intervals: intervals, computed: try strings("computed"),
                  undefined: try stringMap("undefined"), importance: importance)
    }
}
