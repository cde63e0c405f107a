/// The evidence of one production window, as the alert engine reads it. The observation log
/// (Production/) builds these from its per-batch summaries; tests build them by hand.
public struct WindowEvidence: Equatable, Sendable {
    /// RFC 3339 UTC; windows are evaluated in order and each end is evaluated once.
    public var start: String
    public var end: String
    public var rows: Int
    /// Rows whose label has arrived (performance rules count these for `min_rows:`).
    public var labelledRows: Int
    /// Production metrics of the window (recall, auc, …).
    public var metrics: [String: Double]
    /// The window's features profiled against the serving version's reference profile
    /// (`Profiler.profile(…, reference:)`); nil when the window has no rows or no features.
    public var profile: Profile?

    public init(start: String, end: String, rows: Int, labelledRows: Int = 0, metrics: [String: Double] = [:], profile: Profile? = nil) {
        self.start = start; self.end = end; self.rows = rows; self.labelledRows = labelledRows
        self.metrics = metrics; self.profile = profile
    }
}

/// What the serving version showed at evaluation: its metric values and interval ends.
public struct EvaluationBounds: Equatable, Sendable {
    public var values: [String: Double]
    public var intervals: [String: (low: Double, high: Double)]

    public init(values: [String: Double] = [:], intervals: [String: (low: Double, high: Double)] = [:]) {
        self.values = values
        self.intervals = intervals
    }

    public static func == (a: EvaluationBounds, b: EvaluationBounds) -> Bool {
        a.values == b.values && a.intervals.mapValues { [$0.low, $0.high] } == b.intervals.mapValues { [$0.low, $0.high] }
    }

    /// A version record's metrics and, when mreg computed them, their intervals.
    public init(record: VersionRecord) {
        var values: [String: Double] = [:]
        for (k, v) in record.metrics.json["metrics"]?.object ?? [:] { if let n = v.number { values[k] = n } }
        self.init(values: values, intervals: (record.evaluation?.intervals ?? [:]).mapValues { ($0.low, $0.high) })
    }
}

/// One alert: a rule, and for column rules one column.
public struct AlertKey: Hashable, Comparable, Sendable {
    /// The rule's `when:` text.
    public var rule: String
    /// The column of a column rule (`psi(*)` has one key per column), else "".
    public var column: String

    public init(rule: String, column: String = "") { self.rule = rule; self.column = column }
    public static func < (a: AlertKey, b: AlertKey) -> Bool { (a.rule, a.column) < (b.rule, b.column) }
    /// `psi(*) > 0.25 [amount]`.
    public var description: String { column.isEmpty ? rule : "\(rule) [\(column)]" }
}

/// The states of an alert (docs/monitoring.md, "States").
public enum AlertStatus: String, Sendable, CaseIterable {
    /// Evaluated, not in breach.
    case ok
    /// In breach for fewer than `for:` windows (or held back by an integrity alert).
    case pending
    /// Fired and not resolved yet.
    case firing
    /// The window had fewer rows than `min_rows:`: neither a breach nor a clean window.
    case insufficientData = "insufficient_data"
    /// Nothing to measure: no rows, the column absent or empty, the metric not reported.
    case noData = "no_data"
}

/// One alert's state after a run.
public struct AlertRecord: Equatable, Sendable {
    public var status: AlertStatus
    /// The end of the window where the current status began.
    public var since: String
    public var severity: AlertRule.Severity
    /// Consecutive breaching windows, and consecutive clean windows while firing.
    public var breaches: Int
    public var clean: Int
    /// The end of the window whose transition was last reported (fired or resolved).
    public var lastNotified: String?
    /// The measure's value in the last window that had one.
    public var value: Double?
    /// Performance rules: the starts of windows that had rows but not enough labelled rows when
    /// they were evaluated; a later run decides them once their late labels have arrived
    /// (`AlertEngine.lateLabelHorizon`, docs/monitoring.md "Late labels").
    public var awaitingLabels: [String] = []

    var json: JSON {
        var o: [String: JSON] = ["status": .string(status.rawValue), "since": .string(since), "severity": .string(severity.rawValue),
                                 "breaches": .number(Double(breaches)), "clean": .number(Double(clean))]
        if let lastNotified { o["last_notified"] = .string(lastNotified) }
        if let value, value.isFinite { o["value"] = .number(value) }
        if !awaitingLabels.isEmpty { o["awaiting_labels"] = .array(awaitingLabels.map { .string($0) }) }
        return .object(o)
    }

    init(status: AlertStatus, since: String, severity: AlertRule.Severity, breaches: Int = 0, clean: Int = 0,
         lastNotified: String? = nil, value: Double? = nil) {
        self.status = status; self.since = since; self.severity = severity; self.breaches = breaches; self.clean = clean
        self.lastNotified = lastNotified; self.value = value
    }

    init?(json: JSON) {
        guard let s = json["status"]?.string, let status = AlertStatus(rawValue: s), let since = json["since"]?.string,
              let sev = json["severity"]?.string, let severity = AlertRule.Severity(rawValue: sev),
              let breaches = json["breaches"]?.int, let clean = json["clean"]?.int else { return nil }
        self.init(status: status, since: since, severity: severity, breaches: breaches, clean: clean,
                  lastNotified: json["last_notified"]?.string, value: json["value"]?.number)
        awaitingLabels = json["awaiting_labels"]?.array?.compactMap { $0.string } ?? []
    }
}

/// The alert state of a model: every alert's record and the last window evaluated.
public struct AlertState: Equatable, Sendable {
    public var alerts: [AlertKey: AlertRecord]
    /// The end of the newest window evaluated; windows ending at or before it are skipped, so a
    /// second run over the same windows changes nothing and reports nothing.
    public var lastWindowEnd: String?

    public init(alerts: [AlertKey: AlertRecord] = [:], lastWindowEnd: String? = nil) {
        self.alerts = alerts
        self.lastWindowEnd = lastWindowEnd
    }

    public var firing: [AlertKey] { alerts.filter { $0.value.status == .firing }.keys.sorted() }

    /// `{"last_window_end": …, "alerts": [{"rule", "column", "status", …}]}`, sorted: canonical
    /// bytes depend only on the state (for storing it as an object in the history).
    public var json: JSON {
        .object([
            "type": .string("mreg.alert-state"), "format": .number(1),
            "last_window_end": lastWindowEnd.map { .string($0) } ?? .null,
            "alerts": .array(alerts.keys.sorted().map { key in
                var o = alerts[key]!.json.object!
                o["rule"] = .string(key.rule)
                o["column"] = .string(key.column)
                return .object(o)
            }),
        ])
    }

    public init(json: JSON, source: String) throws {
        guard json["type"]?.string == "mreg.alert-state", json["format"]?.int == 1 else { throw MregError.corrupt("\(source): not an alert state") }
        lastWindowEnd = json["last_window_end"]?.string
        alerts = [:]
        for item in json["alerts"]?.array ?? [] {
            guard let rule = item["rule"]?.string, let column = item["column"]?.string, let record = AlertRecord(json: item) else {
                throw MregError.corrupt("\(source): bad alert")
            }
            alerts[AlertKey(rule: rule, column: column)] = record
        }
    }
}

/// A change worth telling someone: an alert newly fired, or resolved.
public struct AlertTransition: Equatable, Sendable {
    public enum Kind: String, Sendable { case fired, resolved }
    public var kind: Kind
    public var key: AlertKey
    public var severity: AlertRule.Severity
    public var windowStart: String
    public var windowEnd: String
    /// The measure's value in that window (nil when the window had none, for a resolve).
    public var value: Double?
    /// The threshold it was compared with, resolved to a number.
    public var threshold: Double?
    /// When the breach began (the first breaching window's end).
    public var since: String

    public var json: JSON {
        var o: [String: JSON] = ["kind": .string(kind.rawValue), "rule": .string(key.rule), "column": .string(key.column),
                                 "severity": .string(severity.rawValue), "window_start": .string(windowStart),
                                 "window_end": .string(windowEnd), "since": .string(since)]
        if let value, value.isFinite { o["value"] = .number(value) }
        if let threshold, threshold.isFinite { o["threshold"] = .number(threshold) }
        return .object(o)
    }
}
