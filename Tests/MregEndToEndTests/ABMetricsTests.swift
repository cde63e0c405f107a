import Foundation
import Testing
import _MregTestSupport

/// `mreg ab --metric f1|balanced_accuracy|roc_auc` on the built binary (docs/production.md, "ab":
/// metrics that are not proportions). The numbers themselves are checked against scikit-learn and
/// scipy in Tests/MregCoreTests/ABEstimatesTests.swift; here: the command, its verdicts and exit codes.
@Suite("AB metrics")
struct ABMetricsTests {
    /// fraud@1 and fraud@2 served the same day: 300 positives each (A catches 180, B 250), 700
    /// negatives (A flags 70 of them, B 35), or a 25th of that (`small`). Scores 0.9 for decided
    /// positive, 0.1 otherwise.
    static func lab(small: Bool = false) -> Lab {
        let lab = Lab()
        lab.register(#"{"recall": 0.8}"#)
        lab.register(#"{"recall": 0.8}"#)
        func rows(_ v: Int, caught: Int, flagged: Int) -> String {
            let scale = small ? 25 : 1
            var s = "id,time,score,label,version\n"
            for i in 0..<(1000 / scale) {
                let positive = i < 300 / scale
                let decided = positive ? i < caught / scale : i - 300 / scale < flagged / scale
                s += "v\(v)-\(i),2026-01-01T\(String(format: "%02d", i % 24)):00:00Z,\(decided ? 0.9 : 0.1),\(positive ? 1 : 0),\(v)\n"
            }
            return s
        }
        lab.t.write("a.csv", rows(1, caught: 180, flagged: 70))
        lab.t.write("b.csv", rows(2, caught: 250, flagged: 35))
        #expect(lab.run(["observe", "fraud@1", "a.csv", "--source", "ab"]).status == 0)
        #expect(lab.run(["observe", "fraud@1", "b.csv", "--source", "ab"]).status == 0)
        return lab
    }

    static func number(_ x: Any?) -> Double { (x as? NSNumber)?.doubleValue ?? .nan }
    static func normalSF(_ z: Double) -> Double { 0.5 * erfc(z / 2.0.squareRoot()) }

    @Test("f1: the delta-method comparison, B better (exit 0), values and p-value as the formula of docs/production.md gives them")
    func f1() throws {
        let lab = Self.lab()
        let r = lab.run(["ab", "fraud@1", "fraud@2", "--metric", "f1", "--json"])
        #expect(r.status == 0, "\(r)")
        #expect(r.json["verdict"] as? String == "B better" && r.json["method"] as? String == "delta method (normal, unpooled)", "\(r)")
        // A: TP 180, FP 70, FN 120; B: TP 250, FP 35, FN 50.
        func f1(_ tp: Double, _ fp: Double, _ fn: Double) -> (Double, Double) {
            let d = 2 * tp + fp + fn
            return (2 * tp / d, 4 * tp * (fp + fn) * (tp + fp + fn) / (d * d * d * d))
        }
        let (fa, va) = f1(180, 70, 120), (fb, vb) = f1(250, 35, 50)
        let a = r.json["a"] as? [String: Any] ?? [:], b = r.json["b"] as? [String: Any] ?? [:]
        #expect(abs(Self.number(a["value"]) - fa) < 1e-12 && abs(Self.number(b["value"]) - fb) < 1e-12, "\(r)")
        #expect(Self.number(a["n"]) == 1000 && a["successes"] is NSNull)
        #expect(abs(Self.number(r.json["difference"]) - (fb - fa)) < 1e-12)
        let z = (fb - fa) / (va + vb).squareRoot()
        #expect(abs(Self.number(r.json["z"]) - z) < 1e-9, "\(r)")
        #expect(abs(Self.number(r.json["p_value"]) - 2 * Self.normalSF(z)) < 1e-12 * max(1, 2 * Self.normalSF(z)), "\(r)")
        #expect(r.json["approximate"] as? Bool == false)
        let text = lab.run(["ab", "fraud@1", "fraud@2", "--metric", "f1"])
        #expect(text.status == 0 && text.stdout.contains("f1 on production rows") && text.stdout.contains("on 1000 labelled rows")
                && text.stdout.contains("verdict: B better"), "\(text)")
    }

    @Test("roc_auc (DeLong on the binned scores, approximate) and balanced_accuracy; not established on a 25th of the rows (exit 3, rows still needed)")
    func rocAUCAndSmall() throws {
        let lab = Self.lab()
        let r = lab.run(["ab", "fraud@1", "fraud@2", "--metric", "roc_auc", "--json"])
        #expect(r.status == 0 && r.json["verdict"] as? String == "B better", "\(r)")
        #expect(r.json["approximate"] as? Bool == true && r.json["method"] as? String == "DeLong (normal, unpooled)")
        // Scores in two bins: AUC = P(score+ > score-) + ½·P(tie).
        let ties: Double = 180 * 70 + 120 * 630
        let above: Double = 180 * 630
        let pairs: Double = 300 * 700
        let aucA = (above + ties / 2) / pairs
        #expect(abs(Self.number((r.json["a"] as? [String: Any])?["value"]) - aucA) < 1e-12, "\(r)")
        let text = lab.run(["ab", "fraud@1", "fraud@2", "--metric", "roc_auc"])
        #expect(text.stdout.contains("(approx.) on 1000 labelled rows with a score"), "\(text)")
        let ba = lab.run(["ab", "fraud@1", "fraud@2", "--metric", "balanced_accuracy", "--json"])
        let baB: Double = (250.0 / 300 + 665.0 / 700) / 2
        let baA: Double = (180.0 / 300 + 630.0 / 700) / 2
        let expected = baB - baA
        #expect(ba.status == 0 && abs(Self.number(ba.json["difference"]) - expected) < 1e-12, "\(ba)")

        let small = Self.lab(small: true)
        let weak = small.run(["ab", "fraud@1", "fraud@2", "--metric", "f1", "--json"])
        #expect(weak.status == 3 && weak.json["verdict"] as? String == "not established", "\(weak)")
        let needed = Self.number(weak.json["rows_needed_per_version"]), still = Self.number(weak.json["rows_still_needed"])
        #expect(needed > 40 && still == needed - 40, "\(weak)")
        let weakText = small.run(["ab", "fraud@1", "fraud@2", "--metric", "f1"])
        #expect(weakText.status == 3 && weakText.stdout.contains("labelled rows per version at 80% power"), "\(weakText)")
    }

    @Test("an unknown metric is exit 2 listing the supported ones, nothing changed")
    func unknown() throws {
        let lab = Self.lab()
        let before = lab.snapshot()
        let r = lab.run(["ab", "fraud@1", "fraud@2", "--metric", "pr_auc"])
        #expect(r.status == 2 && r.stderr.hasPrefix("mreg: error: --metric \"pr_auc\": ab compares "), "\(r)")
        #expect(r.stderr.contains("f1, balanced_accuracy, roc_auc") && r.stderr.split(separator: "\n").count == 1, "\(r)")
        #expect(lab.snapshot() == before)
    }
}
