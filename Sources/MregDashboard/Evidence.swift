import MregCore

// The seam where production (`mreg observe`, `mreg perf`) and monitoring (`mreg alerts`,
// `mreg monitor`) feed the dashboard.
//
// To wire them in, implement `DashboardEvidence` (one function per panel, each returning nil when
// nothing is recorded for the model) and make it the value of `Dashboard.evidence`, the one
// `static let` in Sources/mreg/Commands/Dashboard.swift (`RegistryEvidence()`, RegistryEvidence.swift). Everything else — layout, charts, escaping, the notes
// shown when a section is nil — is already done and tested with synthetic panels.

/// Supplies the four sections the registry's own records do not hold.
public protocol DashboardEvidence: Sendable {
    /// Production metrics per window, next to the serving version's evaluation interval.
    func production(_ registry: Registry, _ model: ModelName) throws -> ProductionPanel?
    /// Drift per feature and window.
    func drift(_ registry: Registry, _ model: ModelName) throws -> DriftPanel?
    /// Data integrity checks of the latest windows.
    func integrity(_ registry: Registry, _ model: ModelName) throws -> IntegrityPanel?
    /// The alert policy in force and the alerts firing now.
    func alerts(_ registry: Registry, _ model: ModelName) throws -> AlertsPanel?
}

/// Evidence of nothing recorded (the synthetic and benchmark pages; `ModelPage.load`'s default).
public struct NoEvidenceYet: DashboardEvidence {
    public init() {}
    public func production(_ registry: Registry, _ model: ModelName) throws -> ProductionPanel? { nil }
    public func drift(_ registry: Registry, _ model: ModelName) throws -> DriftPanel? { nil }
    public func integrity(_ registry: Registry, _ model: ModelName) throws -> IntegrityPanel? { nil }
    public func alerts(_ registry: Registry, _ model: ModelName) throws -> AlertsPanel? { nil }
}

/// Production performance: one series per (version, metric) served, windows oldest first.
public struct ProductionPanel: Sendable {
    public var series: [ProductionSeries]
    public init(series: [ProductionSeries]) { self.series = series }
}

public struct ProductionSeries: Sendable {
    /// `recall`, `accuracy`, `acceptance_rate`…
    public var metric: String
    /// The version that served these rows (`fraud@2`).
    public var version: String
    /// `traffic`, `canary`, `ab`, `human`, `sample`.
    public var source: String
    public var lowerIsBetter: Bool
    /// What the version showed at evaluation (value and its interval), when it was computed.
    public var evaluation: MetricValue?
    public var windows: [ProductionWindow]

    public init(metric: String, version: String, source: String = "traffic", lowerIsBetter: Bool = false,
                evaluation: MetricValue?, windows: [ProductionWindow]) {
        self.metric = metric; self.version = version; self.source = source; self.lowerIsBetter = lowerIsBetter
        self.evaluation = evaluation; self.windows = windows
    }

    /// Windows whose whole interval lies on the bad side of the evaluation interval (`perf`'s rule;
    /// a window that carries `perf`'s own verdict in `degraded` uses it).
    public var degradedWindows: [ProductionWindow] {
        guard let e = evaluation else { return [] }
        return windows.filter { w in
            guard let v = w.value else { return false }
            if let d = w.degraded { return d }
            if lowerIsBetter { return (v.low ?? v.value) > (e.high ?? e.value) }
            return (v.high ?? v.value) < (e.low ?? e.value)
        }
    }
}

public struct ProductionWindow: Sendable {
    /// RFC 3339 UTC, start inclusive, end exclusive.
    public var start: String
    public var end: String
    public var rows: Int
    /// Nil when the window had too few labelled rows to compute the metric.
    public var value: MetricValue?
    /// `perf`'s verdict for this window, when it comes from `Registry.performance`.
    public var degraded: Bool?
    /// Why there is no value, in words (`too few labelled rows: 12 < 30`).
    public var missing: String?
    public init(start: String, end: String, rows: Int, value: MetricValue?, degraded: Bool? = nil, missing: String? = nil) {
        self.start = start; self.end = end; self.rows = rows; self.value = value; self.degraded = degraded; self.missing = missing
    }
}

/// Drift per feature (rows) and window (columns): `values[f][w]`, nil where not measured.
public struct DriftPanel: Sendable {
    /// `psi`, `js`, `ks`, `wasserstein`.
    public var measure: String
    /// Values at or above this are marked as drift (the alert policy's threshold, 0.25 for psi).
    public var threshold: Double
    public var features: [String]
    /// Window labels (start dates), oldest first.
    public var windows: [String]
    public var values: [[Double?]]
    public init(measure: String, threshold: Double, features: [String], windows: [String], values: [[Double?]]) {
        self.measure = measure; self.threshold = threshold; self.features = features; self.windows = windows; self.values = values
    }
}

/// Data integrity of recent windows: one row per check.
public struct IntegrityPanel: Sendable {
    public struct Check: Sendable {
        /// `missing_rate(amount)`, `new_categories(merchant)`, `out_of_range(age)`, `schema`.
        public var check: String
        public var window: String
        public var value: Double?
        public var limit: Double?
        public var ok: Bool
        /// What happened, in words (`column "device" missing`).
        public var detail: String
        public init(check: String, window: String, value: Double?, limit: Double?, ok: Bool, detail: String = "") {
            self.check = check; self.window = window; self.value = value; self.limit = limit; self.ok = ok; self.detail = detail
        }
    }
    public var checks: [Check]
    public init(checks: [Check]) { self.checks = checks }
}

/// The alert policy in force and the alerts firing now.
public struct AlertsPanel: Sendable {
    public enum Severity: String, Sendable, Comparable {
        case critical, warning, info
        var rank: Int { self == .critical ? 0 : self == .warning ? 1 : 2 }
        public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    }
    public struct Alert: Sendable {
        /// The rule as written (`psi(*) > 0.25`).
        public var rule: String
        public var severity: Severity
        /// Firing since (RFC 3339 UTC).
        public var since: String
        /// Why, with the values (`psi(amount) = 0.41 for 3 windows`).
        public var reason: String
        public init(rule: String, severity: Severity, since: String, reason: String) {
            self.rule = rule; self.severity = severity; self.since = since; self.reason = reason
        }
    }
    /// "policy set on 2026-10-01" or "default policy".
    public var policy: String
    /// When `mreg monitor` last ran, if ever.
    public var lastRun: String?
    public var firing: [Alert]
    public init(policy: String, lastRun: String?, firing: [Alert]) { self.policy = policy; self.lastRun = lastRun; self.firing = firing }
}
