import Foundation

/// What stands behind a rule's numbers when mreg computed them from predictions: the bootstrap
/// intervals of the candidate's and the reference's values, and for a rule decided with
/// confidence, the paired difference and its interval (docs/gates.md, "The report").
///
/// Every field is optional: rows about reported metrics, and reports stored by an older mreg,
/// have none, and read back unchanged.
public struct RuleEvidence: Sendable, Equatable {
    /// The candidate's 95% bootstrap interval of the metric (from its registered predictions).
    public var candidateInterval: Evaluation.Interval?
    /// The champion's 95% bootstrap interval of the metric, for champion-relative rules.
    public var referenceInterval: Evaluation.Interval?
    /// The one-sided confidence the rule was decided at (0.95), when decided with confidence.
    public var confidence: Double?
    /// Candidate − champion on the paired rows.
    public var difference: Double?
    /// The (1 − confidence) and confidence quantiles of the resampled differences: `low` decides
    /// `>`/`>=` rules, `high` decides `<`/`<=` rules.
    public var differenceInterval: Evaluation.Interval?
    /// The paired bootstrap that made the difference's interval.
    public var resamples: Int?
    public var seed: UInt64?
    public var rows: Int?

    public init(candidateInterval: Evaluation.Interval? = nil, referenceInterval: Evaluation.Interval? = nil,
                confidence: Double? = nil, difference: Double? = nil, differenceInterval: Evaluation.Interval? = nil,
                resamples: Int? = nil, seed: UInt64? = nil, rows: Int? = nil) {
        self.candidateInterval = candidateInterval
        self.referenceInterval = referenceInterval
        self.confidence = confidence
        self.difference = difference
        self.differenceInterval = differenceInterval
        self.resamples = resamples
        self.seed = seed
        self.rows = rows
    }

    public var isEmpty: Bool { self == RuleEvidence() }

    /// The fields added to each report row: `candidate_interval`, `reference_interval` (`[low,
    /// high]`, as intervals are in version records), `confidence`, `difference`,
    /// `difference_interval`, and `paired` (`{"resamples", "seed", "rows"}`); null when absent.
    var jsonFields: [String: JSON] {
        func interval(_ i: Evaluation.Interval?) -> JSON {
            i.map { .array([.number($0.low), .number($0.high)]) } ?? .null
        }
        var paired: JSON = .null
        if let resamples, let seed, let rows {
            paired = .object(["resamples": .number(Double(resamples)), "seed": .number(Double(seed)), "rows": .number(Double(rows))])
        }
        return [
            "candidate_interval": interval(candidateInterval), "reference_interval": interval(referenceInterval),
            "confidence": confidence.map { .number($0) } ?? .null, "difference": difference.map { .number($0) } ?? .null,
            "difference_interval": interval(differenceInterval), "paired": paired,
        ]
    }

    /// Reads the fields of one stored row; a row without them (an older report) has no evidence.
    init(json row: JSON, row n: Int) throws {
        func malformed(_ what: String) -> MregError { MregError.corrupt("gate report: rules[\(n)].\(what)") }
        func interval(_ key: String) throws -> Evaluation.Interval? {
            switch row[key] {
            case nil, .null?: return nil
            case let v?:
                guard case .array(let pair) = v, pair.count == 2, case .number(let low) = pair[0], case .number(let high) = pair[1] else {
                    throw malformed("\(key) must be [low, high] or null")
                }
                return Evaluation.Interval(low: low, high: high)
            }
        }
        func number(_ key: String) throws -> Double? {
            switch row[key] {
            case nil, .null?: return nil
            case .number(let v)?: return v
            default: throw malformed("\(key) is not a number or null")
            }
        }
        self.init(candidateInterval: try interval("candidate_interval"), referenceInterval: try interval("reference_interval"),
                  confidence: try number("confidence"), difference: try number("difference"),
                  differenceInterval: try interval("difference_interval"))
        switch row["paired"] {
        case nil, .null?: break
        case let p?:
            guard let r = p["resamples"]?.int, let s = p["seed"]?.int, s >= 0, let rows = p["rows"]?.int else {
                throw malformed("paired must be {\"resamples\", \"seed\", \"rows\"} or null")
            }
            resamples = r; seed = UInt64(s); self.rows = rows
        }
    }

    // MARK: - The human table

    /// Short numbers for interval columns: 4 significant digits (the reason keeps every digit
    /// that decides the verdict).
    static func short(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        return JSON.display(Double(String(format: "%.4g", v)) ?? v)
    }

    static func interval(_ i: Evaluation.Interval?) -> String {
        i.map { "[\(short($0.low)), \(short($0.high))]" } ?? "-"
    }

    /// "+0.012 [0.004, 0.02]": the difference and its interval.
    static func difference(_ e: RuleEvidence) -> String {
        guard let d = e.difference else { return "-" }
        return (d > 0 ? "+" : "") + short(d) + (e.differenceInterval.map { " " + interval($0) } ?? "")
    }

    /// Adds `CANDIDATE CI`, `REFERENCE CI` and `DIFFERENCE` columns before column `at`, only
    /// when some row has evidence, so reports about reported metrics print as they always did.
    static func insertColumns(into header: inout [String], _ rows: inout [[String]], _ evidence: [RuleEvidence], at: Int) {
        guard evidence.contains(where: { !$0.isEmpty }) else { return }
        let paired = evidence.contains { $0.difference != nil }
        header.insert(contentsOf: ["CANDIDATE CI", "REFERENCE CI"] + (paired ? ["DIFFERENCE [CI]"] : []), at: at)
        for (n, e) in evidence.enumerated() {
            rows[n].insert(contentsOf: [interval(e.candidateInterval), interval(e.referenceInterval)]
                           + (paired ? [difference(e)] : []), at: at)
        }
    }
}
