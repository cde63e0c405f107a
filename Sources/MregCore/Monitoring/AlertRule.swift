/// One alert rule (docs/monitoring.md, "Policy language"): a one-line condition and its fatigue
/// controls.
public struct AlertRule: Equatable, Sendable {
    /// The `when:` text, trimmed: the rule's identity in the alert state.
    public var text: String
    public var condition: AlertCondition
    /// `for: N windows`: consecutive breaching windows before it fires (at least 1).
    public var forWindows: Int
    /// `resolve_after: N windows`: consecutive clean windows before a firing alert resolves.
    public var resolveAfter: Int
    /// `min_rows: N`: a window with fewer rows (labelled rows for a performance rule) is
    /// "insufficient data", neither a breach nor a clean window.
    public var minRows: Int
    public var severity: Severity
    /// Where `when:` is in the policy file (for errors found after parsing).
    public var line: Int
    public var column: Int

    public enum Severity: String, Sendable, CaseIterable, Comparable {
        case info, warning, critical
        public static func < (a: Severity, b: Severity) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// Integrity and schema rules hold back the drift and performance rules of the same model
    /// while they breach (inhibition).
    public var inhibits: Bool { condition.measure.isIntegrity }
}

/// `MEASURE OP THRESHOLD`.
public struct AlertCondition: Equatable, Sendable {
    public var measure: Measure
    public var op: Op
    public var threshold: Threshold

    public enum Op: String, Sendable, CaseIterable {
        case greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<="
        public func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .greater: return a > b
            case .greaterOrEqual: return a >= b
            case .less: return a < b
            case .lessOrEqual: return a <= b
            }
        }
    }

    /// What the value is compared with.
    public enum Threshold: Equatable, Sendable {
        case number(Double)
        /// `reference + 0.05`: the same measure on the reference profile, plus a margin
        /// (missing_rate and the aggregates).
        case reference(plus: Double)
        /// `evaluation.recall.low`: the serving version's evaluation value or interval end.
        case evaluation(metric: String, bound: Bound)
    }

    public enum Bound: String, Sendable { case low, high, value }
}

/// What a rule measures.
public enum Measure: Equatable, Sendable {
    /// A per-column measure: `psi(amount)`, `missing_rate(*)` (column nil: every applicable column).
    case column(ColumnMeasure, column: String?)
    /// `schema_changes`: columns added, missing or of another kind than in the reference.
    case schemaChanges
    /// `rows`: the rows of the window (`rows < 1`: no data).
    case rows
    /// A production metric of the window (`recall`, `auc`, `mae`).
    case metric(String)

    public var isIntegrity: Bool {
        switch self {
        case .schemaChanges, .rows: return true
        case .column(let m, _): return m.isIntegrity
        case .metric: return false
        }
    }

    public var isPerformance: Bool { if case .metric = self { return true } else { return false } }
}

public enum ColumnMeasure: String, Sendable, CaseIterable {
    case psi, js, ks, wasserstein
    case missingRate = "missing_rate", newCategories = "new_categories", outOfRange = "out_of_range"
    case mean, p50, p90, p99

    public var isIntegrity: Bool { self == .missingRate || self == .newCategories || self == .outOfRange }

    /// The column kinds the measure applies to.
    public var kinds: Set<ColumnKind> {
        switch self {
        case .js, .missingRate: return [.numeric, .categorical]
        case .newCategories: return [.categorical]
        default: return [.numeric]
        }
    }

    /// Whether `reference + MARGIN` makes sense: the measure has a value on the reference itself.
    public var hasReferenceValue: Bool {
        switch self {
        case .missingRate, .mean, .p50, .p90, .p99: return true
        default: return false
        }
    }

    static let names = allCases.map(\.rawValue).joined(separator: ", ")
}
