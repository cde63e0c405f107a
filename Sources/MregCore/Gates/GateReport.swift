import Foundation

/// The verdict of one rule.
public enum Verdict: String, Sendable, Equatable {
    case pass
    case fail
    /// The rule does not apply (a champion-relative rule on a first promotion); it blocks nothing.
    case notApplicable = "not_applicable"
}

/// One row of a gate report.
public struct RuleResult: Sendable, Equatable {
    /// The rule as written (`f1 > champion + 0.005`), or the generated text of a default-policy
    /// or `after:` row (`latency <= champion`, `after staging`).
    public var rule: String
    /// The metric compared; empty for rows that compare no single metric.
    public var metric: String
    public var candidate: Double?
    /// The champion, baseline or constant value the rule compares against.
    public var reference: Double?
    /// The reference after the margin is applied: what the candidate is compared with.
    public var threshold: Double?
    public var verdict: Verdict
    /// Why it passed, failed or was skipped; never empty.
    public var reason: String
    /// The evidence behind the numbers, when mreg computed them (GateReport+Evidence.swift).
    public var evidence: RuleEvidence

    public init(rule: String, metric: String, candidate: Double?, reference: Double?, threshold: Double?,
                verdict: Verdict, reason: String, evidence: RuleEvidence = RuleEvidence()) {
        self.rule = rule
        self.metric = metric
        self.candidate = candidate
        self.reference = reference
        self.threshold = threshold
        self.verdict = verdict
        self.reason = reason
        self.evidence = evidence
    }
}

/// The result of evaluating the gates of a stage: every rule with its values and verdict.
///
/// Stored in `promoted`, `blocked` and `overridden` history entries as `json`, so its shape is
/// stable and documented in docs/gates.md ("The report").
public struct GateReport: Sendable, Equatable {
    public var stage: String
    /// True when no row failed.
    public var passed: Bool
    /// "policy" (the model's gate policy decided) or "default" (the default policy did).
    public var policyKind: String
    public var notes: [String]
    public var results: [RuleResult]

    public init(stage: String, passed: Bool, policyKind: String, notes: [String], results: [RuleResult]) {
        self.stage = stage
        self.passed = passed
        self.policyKind = policyKind
        self.notes = notes
        self.results = results
    }

    /// `{"stage", "passed", "policy", "notes", "rules": [{"rule", "metric", "candidate",
    /// "reference", "threshold", "verdict", "reason", and the evidence fields of
    /// `RuleEvidence.jsonFields`}]}`, absent numbers as null.
    public var json: JSON {
        func num(_ v: Double?) -> JSON { v.map { .number($0) } ?? .null }
        return .object([
            "stage": .string(stage),
            "passed": .bool(passed),
            "policy": .string(policyKind),
            "notes": .array(notes.map { .string($0) }),
            "rules": .array(results.map {
                .object([
                    "rule": .string($0.rule), "metric": .string($0.metric), "candidate": num($0.candidate),
                    "reference": num($0.reference), "threshold": num($0.threshold),
                    "verdict": .string($0.verdict.rawValue), "reason": .string($0.reason),
                ].merging($0.evidence.jsonFields) { a, _ in a })
            }),
        ])
    }

    /// Reads back what `json` wrote.
    ///
    /// - Throws: `MregError(.operational)` naming the field when the report is malformed (it is
    ///   read from a stored history entry, so a bad one means corruption, not bad input).
    public init(json: JSON) throws {
        func malformed(_ what: String) -> MregError { MregError.corrupt("gate report: \(what)") }
        func number(_ o: JSON, _ key: String, row: Int) throws -> Double? {
            switch o[key] {
            case .number(let n)?: return n
            case .null?, nil: return nil
            default: throw malformed("rules[\(row)].\(key) is not a number or null")
            }
        }
        guard case .object = json else { throw malformed("not an object") }
        guard let stage = json["stage"]?.string else { throw malformed("stage missing or not a string") }
        guard let passed = json["passed"]?.bool else { throw malformed("passed missing or not true/false") }
        guard let policy = json["policy"]?.string, policy == "policy" || policy == "default" else {
            throw malformed("policy must be \"policy\" or \"default\"")
        }
        let noteTexts = json["notes"]?.array?.compactMap(\.string)
        guard let noteTexts, noteTexts.count == json["notes"]?.array?.count else { throw malformed("notes must be a list of strings") }
        guard let rules = json["rules"]?.array else { throw malformed("rules missing or not a list") }
        var results: [RuleResult] = []
        for (n, r) in rules.enumerated() {
            guard case .object = r else { throw malformed("rules[\(n)] is not an object") }
            guard let rule = r["rule"]?.string, let metric = r["metric"]?.string, let reason = r["reason"]?.string else {
                throw malformed("rules[\(n)] lacks rule, metric or reason")
            }
            guard let v = r["verdict"]?.string, let verdict = Verdict(rawValue: v) else {
                throw malformed("rules[\(n)].verdict must be pass, fail or not_applicable")
            }
            results.append(RuleResult(rule: rule, metric: metric, candidate: try number(r, "candidate", row: n),
                                      reference: try number(r, "reference", row: n), threshold: try number(r, "threshold", row: n),
                                      verdict: verdict, reason: reason, evidence: try RuleEvidence(json: r, row: n)))
        }
        self.init(stage: stage, passed: passed, policyKind: policy, notes: noteTexts, results: results)
    }

    /// An aligned table, one row per rule, then the notes and a verdict line.
    public func table() -> String {
        func mark(_ v: Verdict) -> String {
            switch v {
            case .pass: return "pass"
            case .fail: return "FAIL"
            case .notApplicable: return "n/a"
            }
        }
        var lines: [String] = []
        if results.isEmpty {
            lines.append("(no rules)")
        } else {
            var header = ["RULE", "CANDIDATE", "REFERENCE", "THRESHOLD", "VERDICT", "WHY"]
            var rows = results.map { r in [r.rule] + JSON.display(row: [r.candidate, r.reference, r.threshold]) + [mark(r.verdict), r.reason] }
            RuleEvidence.insertColumns(into: &header, &rows, results.map(\.evidence), at: 4)
            var widths = header.map(\.count)
            for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
            for r in [header] + rows {
                let cells = r.enumerated().map { i, c in
                    i == r.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                }
                lines.append(cells.joined(separator: "  "))
            }
        }
        for n in notes { lines.append("note: \(n)") }
        lines.append(verdictLine)
        return lines.joined(separator: "\n")
    }

    /// "verdict: pass (3 passed, 1 not applicable)" or "verdict: FAIL (1 of 4 failed: f1 > champion)".
    var verdictLine: String {
        let failed = results.filter { $0.verdict == .fail }
        let passedCount = results.filter { $0.verdict == .pass }.count
        let skipped = results.count - failed.count - passedCount
        var counts = ["\(passedCount) passed"]
        if skipped > 0 { counts.append("\(skipped) not applicable") }
        if failed.isEmpty { return "verdict: pass (\(counts.joined(separator: ", ")))" }
        return "verdict: FAIL (\(failed.count) of \(results.count) failed: \(failed.map(\.rule).joined(separator: "; ")))"
    }
}
