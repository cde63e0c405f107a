/// What `show` and `diff` say about a version's computed evaluation: which metrics were computed
/// and which reported, their intervals and slices, and the feature-importance ranks.
public enum MetricSource: String, Sendable {
    /// Computed by mreg from the registered predictions (`register --predictions`).
    case computed
    /// Typed in by the user (`--metrics`).
    case reported
}

extension VersionRecord {
    /// Whether `metric` was computed from predictions or reported; nil when the version has no such metric.
    public func source(of metric: String) -> MetricSource? {
        guard metrics.values[metric] != nil else { return nil }
        return evaluation?.computed.contains(metric) == true ? .computed : .reported
    }

    /// The 95% bootstrap interval of `metric`, when it was computed with one.
    public func interval(of metric: String) -> Evaluation.Interval? { evaluation?.intervals[metric] }

    /// Features by importance, most important first (ties by name), with their 1-based rank.
    public var importanceRanking: [(rank: Int, feature: String, importance: Double)] {
        guard let importance = evaluation?.importance else { return [] }
        return importance.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .enumerated().map { (rank: $0.offset + 1, feature: $0.element.key, importance: $0.element.value) }
    }
}

extension VersionDiff {
    /// How one feature's importance rank moved from `b` to `a`.
    public struct ImportanceChange: Sendable, Equatable {
        public var feature: String
        public var aRank: Int?
        public var bRank: Int?
        public var a: Double?
        public var b: Double?
        /// `up` (a better rank in `a`), `down`, `same`, `added` (only in `a`), `removed` (only in `b`).
        public var change: String {
            switch (aRank, bRank) {
            case let (x?, y?): return x < y ? "up" : x > y ? "down" : "same"
            case (_?, nil): return "added"
            default: return "removed"
            }
        }
    }

    /// Every feature either version ranks, ordered by its rank in `a` then in `b`; empty when
    /// neither version was registered with `--importance`.
    public var importanceChanges: [ImportanceChange] {
        let ra = Dictionary(uniqueKeysWithValues: aRecord.importanceRanking.map { ($0.feature, $0) })
        let rb = Dictionary(uniqueKeysWithValues: bRecord.importanceRanking.map { ($0.feature, $0) })
        return Set(ra.keys).union(rb.keys).map {
            ImportanceChange(feature: $0, aRank: ra[$0]?.rank, bRank: rb[$0]?.rank, a: ra[$0]?.importance, b: rb[$0]?.importance)
        }.sorted { ($0.aRank ?? .max, $0.bRank ?? .max, $0.feature) < ($1.aRank ?? .max, $1.bRank ?? .max, $1.feature) }
    }
}
