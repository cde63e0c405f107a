import Foundation

/// A comparison in a gate rule, taken literally whatever the metric's direction.
public enum ComparisonOp: String, Sendable, Equatable, CaseIterable {
    case greater = ">"
    case greaterOrEqual = ">="
    case less = "<"
    case lessOrEqual = "<="
    case equal = "=="

    /// Whether `candidate OP threshold` holds. `>` and `<` are strict: a tie does not pass.
    func holds(_ candidate: Double, _ threshold: Double) -> Bool {
        switch self {
        case .greater: return candidate > threshold
        case .greaterOrEqual: return candidate >= threshold
        case .less: return candidate < threshold
        case .lessOrEqual: return candidate <= threshold
        case .equal: return candidate == threshold
        }
    }

    var isStrict: Bool { self == .greater || self == .less }
}

/// How a rule moves its reference value before comparing.
public enum Margin: Sendable, Equatable {
    case none
    /// `+ 0.005` or `- 0.01`: added to the reference (negative for `-`).
    case absolute(Double)
    /// `+ 2%`, `- 1%`, `* 1.10`, `* 0.95`: this fraction of the reference's magnitude is added
    /// (0.02, -0.01, 0.10, -0.05), so a negative reference does not flip the rule.
    case relative(Double)

    /// The threshold for a reference value, to 15 significant digits.
    ///
    /// Rounding removes binary noise (`0.8 * 1.1` is 0.8800000000000001 in binary), so a
    /// candidate written as 0.88 ties the threshold as a person reading the policy expects.
    func apply(to reference: Double) -> Double {
        let raw: Double
        switch self {
        case .none: return reference
        case .absolute(let d): raw = reference + d
        case .relative(let f): raw = reference + f * abs(reference)
        }
        return Self.decimal(raw)
    }

    /// The margin as people write it: "", " + 0.005", " - 1%", " + 10%".
    var display: String {
        switch self {
        case .none: return ""
        case .absolute(let d): return d < 0 ? " - \(JSON.display(-d))" : " + \(JSON.display(d))"
        case .relative(let f):
            let p = JSON.display(abs(f) * 100)
            return f < 0 ? " - \(p)%" : " + \(p)%"
        }
    }

    static func decimal(_ x: Double) -> Double {
        guard x.isFinite, x != 0 else { return x }
        return Double(String(format: "%.15g", x)) ?? x
    }
}

/// What a rule compares the candidate's metric with.
public enum Reference: Sendable, Equatable {
    /// A fixed floor or ceiling: `precision >= 0.90`.
    case constant(Double)
    /// The current champion of the stage, moved by a margin: `f1 > champion + 0.005`.
    case champion(Margin)
    /// A named baseline of the model, moved by a margin: `f1 > baseline.rules-v1`.
    case baseline(String, Margin)

    var isChampion: Bool { if case .champion = self { return true }; return false }
}

/// One gate: `METRIC OP RHS`, as written on one line of a policy (docs/gates.md).
public struct GateRule: Sendable, Equatable {
    /// The rule as written, trimmed.
    public var text: String
    /// Where the rule starts in the policy file (1-based).
    public var line: Int
    public var column: Int
    public var metric: String
    public var op: ComparisonOp
    public var reference: Reference
    /// `with 95% confidence` written on the rule: 0.95; nil when the rule has none (the stage's
    /// `confidence:` may still apply, see `StagePolicy.confidence(of:)`).
    public var confidence: Double?
    /// The slice the metric names (`recall{merchant="new"}`, `recall{merchant=*}`), or nil.
    public var slice: SliceSelector?

    public init(text: String, line: Int, column: Int, metric: String, op: ComparisonOp, reference: Reference,
                confidence: Double? = nil, slice: SliceSelector? = nil) {
        self.text = text
        self.line = line
        self.column = column
        self.metric = metric
        self.op = op
        self.reference = reference
        self.confidence = confidence
        self.slice = slice
    }
}
