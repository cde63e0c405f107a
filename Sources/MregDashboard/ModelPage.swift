import MregCore

/// Everything one model's dashboard shows, gathered before any markup is written
/// (`ModelPage.load` reads the registry; `DashboardPage.render` writes the HTML).
///
/// The sections the registry records today (champions, versions with their intervals, history,
/// gate reports, signatures) are always filled. The four sections that production and monitoring
/// record — `production`, `drift`, `integrity`, `alerts` — are optional inputs: nil renders a
/// plain note saying what is not recorded yet and which command records it. They are filled by a
/// `DashboardEvidence` (Evidence.swift), the one seam where production and monitoring plug in.
public struct ModelPage: Sendable {
    public var model: String
    /// When the page was made (RFC 3339 UTC).
    public var generated: String
    public var champions: [StageChampion]
    /// Metric names plotted across versions, most important first.
    public var keyMetrics: [String]
    /// Versions plotted across versions, oldest first (the newest `versionLimit`, plus champions).
    public var versions: [VersionPoint]
    /// How many versions the model has in all.
    public var versionCount: Int
    /// History events other than registrations, newest first.
    public var timeline: [TimelineEvent]
    public var newestGate: GateSummary?
    public var production: ProductionPanel?
    public var drift: DriftPanel?
    public var integrity: IntegrityPanel?
    public var alerts: AlertsPanel?

    public init(model: String, generated: String, champions: [StageChampion] = [], keyMetrics: [String] = [],
                versions: [VersionPoint] = [], versionCount: Int = 0, timeline: [TimelineEvent] = [],
                newestGate: GateSummary? = nil, production: ProductionPanel? = nil, drift: DriftPanel? = nil,
                integrity: IntegrityPanel? = nil, alerts: AlertsPanel? = nil) {
        self.model = model
        self.generated = generated
        self.champions = champions
        self.keyMetrics = keyMetrics
        self.versions = versions
        self.versionCount = versionCount
        self.timeline = timeline
        self.newestGate = newestGate
        self.production = production
        self.drift = drift
        self.integrity = integrity
        self.alerts = alerts
    }
}

/// The champion of one stage.
public struct StageChampion: Sendable {
    public var stage: String
    public var version: Int
    /// When it became champion, and how (promoted, overridden, rolled_back) and why.
    public var since: String
    public var how: String
    public var reason: String?
    public var message: String
    /// Signers of signatures that are valid over their statement (trust is the deploy host's call).
    public var signers: [String]
    public var badSignatures: Int

    public init(stage: String, version: Int, since: String, how: String, reason: String? = nil, message: String = "",
                signers: [String] = [], badSignatures: Int = 0) {
        self.stage = stage; self.version = version; self.since = since; self.how = how; self.reason = reason
        self.message = message; self.signers = signers; self.badSignatures = badSignatures
    }
}

/// A metric value with its interval (nil when the value was reported, or `--bootstrap 0`).
public struct MetricValue: Sendable, Equatable {
    public var value: Double
    public var low: Double?
    public var high: Double?
    public init(_ value: Double, low: Double? = nil, high: Double? = nil) { self.value = value; self.low = low; self.high = high }
}

/// One version in the metrics-across-versions panel.
public struct VersionPoint: Sendable {
    public var version: Int
    public var created: String
    public var message: String
    public var metrics: [String: MetricValue]
    /// Stages it is champion of now.
    public var championOf: [String]
    /// Stages a promotion of it was blocked for.
    public var blockedFor: [String]

    public init(version: Int, created: String, message: String, metrics: [String: MetricValue],
                championOf: [String] = [], blockedFor: [String] = []) {
        self.version = version; self.created = created; self.message = message; self.metrics = metrics
        self.championOf = championOf; self.blockedFor = blockedFor
    }
}

/// One history event: promoted, blocked, overridden, rolled_back, policy, baseline, signed.
public struct TimelineEvent: Sendable {
    public var seq: Int
    public var time: String
    public var event: String
    public var stage: String?
    public var version: Int?
    public var user: String
    public var reason: String?

    public init(seq: Int, time: String, event: String, stage: String? = nil, version: Int? = nil, user: String = "", reason: String? = nil) {
        self.seq = seq; self.time = time; self.event = event; self.stage = stage; self.version = version
        self.user = user; self.reason = reason
    }
}

/// The newest version's gate report: the one stored by its latest promotion attempt, or what the
/// gates would say now (`mreg check`) when it was never tried.
public struct GateSummary: Sendable {
    public var version: Int
    /// "blocked for production on 2026-10-16T10:00:00Z", "would pass staging now", …
    public var context: String
    /// Nil when the gates could not be evaluated (`context` says why).
    public var report: GateReport?
    public init(version: Int, context: String, report: GateReport?) { self.version = version; self.context = context; self.report = report }
}
