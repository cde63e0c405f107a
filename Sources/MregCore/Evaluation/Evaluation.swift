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
