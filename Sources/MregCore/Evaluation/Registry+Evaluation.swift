/// What `register --predictions` asks for (docs/cli.md, docs/evaluation.md).
public struct PredictionsRequest: Sendable {
    public var path: String
    public var options: PredictionOptions
    public var threshold: Double?
    /// `LO:HI` as given.
    public var abstain: String?
    public var beta: Double?
    /// Bootstrap resamples; 0 turns intervals off.
    public var resamples: Int
    /// `FROM..TO` as given.
    public var trainWindow: String?
    public var importance: String?

    public init(path: String, options: PredictionOptions = PredictionOptions(), threshold: Double? = nil, abstain: String? = nil,
                beta: Double? = nil, resamples: Int = 1000, trainWindow: String? = nil, importance: String? = nil) {
        self.path = path; self.options = options; self.threshold = threshold; self.abstain = abstain; self.beta = beta
        self.resamples = resamples; self.trainWindow = trainWindow; self.importance = importance
    }
}

/// The metrics a version is registered with: reported, computed, or both, and the bytes kept as
/// its metrics file.
struct RegisteredMetrics {
    var metrics: MetricSet
    var metricsBytes: [UInt8]
    var evaluation: Evaluation?
    /// The predictions file to store as the object `evaluation.predictions`.
    var predictionsPath: String?
}

extension Registry {
    /// The most resamples `--bootstrap` takes.
    public static let maxResamples = 100_000

    /// Reads the metrics file and the predictions of a register request, computes, and checks
    /// that nothing is both reported and computed. Writes nothing.
    func registeredMetrics(_ request: RegisterRequest) throws -> RegisteredMetrics {
        var reported: MetricSet?
        var reportedBytes: [UInt8]?
        if let file = request.metricsFile {
            let bytes = try readUserFile(file, what: "metrics file")
            reported = try MetricManifest.parse(bytes, path: file)
            reportedBytes = bytes
        }
        guard let p = request.predictions else {
            guard let reported, let reportedBytes else { throw MregError.invalid("give --metrics FILE or --predictions FILE") }
            return RegisteredMetrics(metrics: reported, metricsBytes: reportedBytes)
        }
        let (evaluation, computed) = try Self.evaluate(p)
        var metrics = reported ?? MetricSet(values: [:])
        for name in computed.values.keys.sorted() where metrics.values[name] != nil {
            throw MregError.invalid("metric \"\(name)\" is both in the metrics file \(request.metricsFile!) and computed from the predictions; remove it from the metrics file")
        }
        metrics.values.merge(computed.values) { a, _ in a }
        for name in computed.values.keys where ComputedMetrics.lowerIsBetter.contains(ComputedMetrics.baseName(name)) {
            metrics.lowerIsBetter.insert(name)
        }
        if let given = metrics.evalSet?.sha256, given != evaluation.evalSet {
            throw MregError.invalid("metrics file \(request.metricsFile!): eval_set.sha256 \(given.prefix(12)) is not the predictions' evaluation set \(evaluation.evalSet.prefix(12)) (derived from their ids and labels); leave it out")
        }
        metrics.evalSet = EvalSet(name: metrics.evalSet?.name, sha256: evaluation.evalSet)
        let bytes = reportedBytes ?? metrics.json.canonicalBytes
        return RegisteredMetrics(metrics: metrics, metricsBytes: bytes, evaluation: evaluation, predictionsPath: p.path)
    }

    /// Reads and checks a predictions file and everything `register` was told about it, and
    /// computes its metrics. The evaluation's `computed` lists the computed names.
    public static func evaluate(_ p: PredictionsRequest) throws -> (Evaluation, ComputedMetrics) {
        var options = MetricOptions()
        if let t = p.threshold {
            guard t.isFinite, t >= 0, t <= 1 else { throw MregError.invalid("--threshold \(JSON.format(t)): give a number in [0, 1]") }
            options.threshold = t
        }
        if let a = p.abstain { options.abstain = try parseAbstain(a) }
        if let b = p.beta {
            guard b.isFinite, b > 0 else { throw MregError.invalid("--beta \(JSON.format(b)): give a positive number (2 for f2, 0.5 for f0.5)") }
            options.beta = b
        }
        guard p.resamples >= 0, p.resamples <= maxResamples else {
            throw MregError.invalid("--bootstrap \(p.resamples): give 0 (no intervals) to \(maxResamples) resamples")
        }
        let trainWindow = try p.trainWindow.map(parseTrainWindow)
        let importance = try p.importance.map(Importance.read)
        let read = try PredictionReader.read(path: p.path, options: p.options)
        let table = read.table
        if table.task == .regression {
            if p.threshold != nil { throw MregError.invalid("--threshold applies to a binary task; \(p.path) is a regression") }
            if p.abstain != nil { throw MregError.invalid("--abstain applies to a binary task; \(p.path) is a regression") }
            if p.beta != nil { throw MregError.invalid("--beta applies to a binary task; \(p.path) is a regression") }
        } else if table.scores == nil && p.abstain != nil {
            throw MregError.invalid("--abstain needs a score column; \(p.path) has decided classes only")
        }
        // Slice values become part of metric names: printable ASCII without spaces (checked
        // before the long part, with the longest base name).
        for column in table.slices {
            for value in column.values {
                let name = "balanced_accuracy" + ComputedMetrics.sliceLabel(column.name, value)
                guard (try? MetricManifest.validateMetricName(name, source: "")) != nil else {
                    throw MregError.invalid("predictions file \(p.path): --slice-by \(column.name): the value \(ModelName.show(value)) cannot be part of a metric name: slice values must be printable ASCII without spaces, and names such as balanced_accuracy{…} at most 128 bytes")
                }
            }
        }
        let seed = Bootstrap.seed(of: read.object)
        let computed = ComputedMetrics.compute(table, options: options, resamples: p.resamples, seed: seed)
        var timeRange: Evaluation.TimeRange?
        if let times = table.times, let lo = times.min(), let hi = times.max() {
            timeRange = .init(from: TimeText.format(lo), to: TimeText.format(hi))
        }
        let evaluation = Evaluation(
            task: table.task, predictions: read.object, format: read.format.rawValue, columns: read.columns, rows: table.count,
            evalSet: read.evalSet, threshold: table.task == .binary ? options.threshold : nil, abstain: options.abstain,
            beta: options.beta, sliceBy: table.slices.map(\.name), timeRange: timeRange, trainWindow: trainWindow,
            bootstrap: p.resamples > 0 ? .init(resamples: p.resamples, seed: seed) : nil, intervals: computed.intervals,
            computed: computed.values.keys.sorted(), undefined: computed.undefined, importance: importance)
        return (evaluation, computed)
    }

    /// `LO:HI` with 0 ≤ LO ≤ HI ≤ 1.
    static func parseAbstain(_ text: String) throws -> Evaluation.Interval {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let lo = Double(parts[0]), let hi = Double(parts[1]), lo.isFinite, hi.isFinite else {
            throw MregError.invalid("--abstain \(ModelName.show(text)): expected LO:HI, two numbers in [0, 1] (0.35:0.65)")
        }
        guard lo <= hi else { throw MregError.invalid("--abstain \(text): LO is above HI") }
        guard lo >= 0, hi <= 1 else { throw MregError.invalid("--abstain \(text): the band must lie in [0, 1]") }
        return .init(low: lo, high: hi)
    }

    /// `FROM..TO`, each an RFC 3339 time, a date (`2026-01-31`, midnight UTC) or Unix seconds.
    static func parseTrainWindow(_ text: String) throws -> Evaluation.TimeRange {
        let parts = text.components(separatedBy: "..")
        func time(_ s: String) -> Double? {
            if s.utf8.count == 10, let t = TimeText.parse(s + "T00:00:00Z") { return t }
            return TimeText.parse(s)
        }
        guard parts.count == 2 else { throw MregError.invalid("--train-window \(ModelName.show(text)): expected FROM..TO (2026-01-01..2026-06-30)") }
        guard let from = time(parts[0]) else { throw MregError.invalid("--train-window \(ModelName.show(text)): FROM \(ModelName.show(parts[0])) is not an RFC 3339 time, a date or Unix seconds") }
        guard let to = time(parts[1]) else { throw MregError.invalid("--train-window \(ModelName.show(text)): TO \(ModelName.show(parts[1])) is not an RFC 3339 time, a date or Unix seconds") }
        guard from <= to else { throw MregError.invalid("--train-window \(text): FROM is after TO") }
        return .init(from: TimeText.format(from), to: TimeText.format(to))
    }

    /// Stores the predictions file as an object; it must still be the bytes that were read.
    func storePredictions(_ path: String, expected: ObjectID) throws {
        let stored = try store.putFile(at: path)
        guard stored.id == expected else {
            throw MregError.invalid("predictions file \(path) changed while it was read; nothing was registered")
        }
    }

    /// The predictions table a version was registered with; throws MregError.invalid with a
    /// reason when the version has none ("fraud@2 was registered with reported metrics only").
    public func predictions(of record: VersionRecord) throws -> PredictionTable {
        guard let e = record.evaluation else {
            throw MregError.invalid("\(record.name) was registered with reported metrics only")
        }
        guard let format = TableFormat(rawValue: e.format) else { throw MregError.corrupt("\(record.name): unknown predictions format \(e.format)") }
        let source = "predictions of \(record.name) (object \(e.predictions.short))"
        do {
            let read = try PredictionReader.read(chunks: { feed in
                try store.stream(e.predictions) { try feed($0.bindMemory(to: UInt8.self)) }
            }, source: source, format: format, columns: e.columns, task: e.task, sliceBy: e.sliceBy)
            return read.table
        } catch let err as MregError where err.kind == .invalidInput {
            throw MregError.corrupt("\(err.message) (the stored predictions no longer read)")
        }
    }
}
