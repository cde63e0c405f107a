import Foundation
import Testing
import _MregTestSupport

/// Issue 13's "done when", through the built binary: two (and more) scikit-learn churn models
/// registered by their predictions on the same rows (Fixtures/example/churn, made by
/// scripts/make-churn-predictions.py with fixed seeds); mreg's f1 and roc_auc equal
/// scikit-learn's; intervals are shown; `f1 > champion with 95% confidence` blocks the
/// candidate whose gain is within the noise, promotes the one whose gain is real, and refuses
/// one scored on other rows or registered with reported numbers only.
@Suite("Significance gate")
struct SignificanceGateTests {
    static func churn(_ file: String) -> String { FixturePaths.path("example/churn/" + file) }

    static let expected: [String: [String: Double]] = {
        let data = (try? Data(contentsOf: URL(fileURLWithPath: churn("expected-sklearn.json")))) ?? Data()
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        return (json?["files"] as? [String: [String: Double]]) ?? [:]
    }()

    func register(_ lab: Lab, _ version: String, _ predictions: String) -> CommandResult {
        lab.run(["register", "churn", Self.churn("\(version)/model"), "--predictions", Self.churn("\(version)/\(predictions)"),
                 "--slice-by", "plan", "--train-window", "2026-07-01..2026-09-30", "--json"])
    }

    func rule(_ r: CommandResult, _ lab: Lab) -> [String: Any] {
        lab.rules(r).first { $0["rule"] as? String == "f1 > champion with 95% confidence" } ?? [:]
    }

    @Test("computed metrics equal scikit-learn's, with intervals; the significance rule blocks noise, promotes a real gain, refuses other rows")
    func doneWhen() throws {
        let lab = Lab()
        for (v, file) in [("v1", "predictions.csv"), ("v2", "predictions.csv"), ("v3", "predictions.csv"), ("v3", "predictions-other-rows.csv")] {
            let r = register(lab, v, file)
            #expect(r.status == 0, "\(r)")
        }
        // mreg's numbers are scikit-learn's, each with an interval around it.
        for (n, file) in [(1, "v1/predictions.csv"), (2, "v2/predictions.csv"), (3, "v3/predictions.csv"), (4, "v3/predictions-other-rows.csv")] {
            let show = lab.run(["show", "churn@\(n)", "--json"])
            let metrics = (show.json["metrics"] as? [String: Any])?["metrics"] as? [String: Double] ?? [:]
            let intervals = (show.json["evaluation"] as? [String: Any])?["intervals"] as? [String: [Double]] ?? [:]
            for m in ["f1", "roc_auc"] {
                let sk = try #require(Self.expected[file]?[m], "\(file) \(m) in expected-sklearn.json")
                let value = try #require(metrics[m], "churn@\(n) \(m)")
                #expect(abs(value - sk) <= 1e-9, "churn@\(n) \(m): mreg \(value), scikit-learn \(sk)")
                let ci = try #require(intervals[m])
                #expect(ci.count == 2 && ci[0] < value && value < ci[1], "\(m) interval \(ci) around \(value)")
            }
        }
        let text = lab.run(["show", "churn@1"])
        #expect(text.stdout.contains("computed"), "\(text)")
        #expect(text.stdout.contains("95% CI"), "\(text)")

        #expect(lab.policy("stages:\n  production:\n    gates:\n      - f1 > champion with 95% confidence\n", model: "churn").status == 0)
        #expect(lab.run(["promote", "churn@1"]).status == 0)

        // churn@2: f1 is higher, but the paired interval of the gain reaches below zero.
        let noise = lab.run(["promote", "churn@2", "--json"])
        #expect(noise.status == 3, "\(noise)")
        let n = rule(noise, lab)
        #expect(n["verdict"] as? String == "fail")
        #expect((n["difference"] as? Double ?? 0) > 0, "a gain, but not a significant one: \(n)")
        let nci = n["difference_interval"] as? [Double] ?? []
        #expect(nci.count == 2 && nci[0] < 0, "\(n)")
        #expect((n["reason"] as? String ?? "").contains("the gain is within the noise"), "\(n)")
        #expect(n["confidence"] as? Double == 0.95)
        #expect((n["paired"] as? [String: Any])?["rows"] as? Int == 3000)
        #expect(lab.champion(model: "churn") == "churn@1")

        // churn@4: the better model, but scored on other rows: refused with the reason.
        let other = lab.run(["promote", "churn@4", "--json"])
        #expect(other.status == 3, "\(other)")
        let o = rule(other, lab)
        #expect(o["verdict"] as? String == "fail")
        #expect((o["reason"] as? String ?? "").contains("evaluation sets differ"), "\(o)")
        #expect(lab.champion(model: "churn") == "churn@1")

        // churn@5: reported numbers only, even excellent ones, cannot show significance.
        lab.t.write("reported.json", #"{"f1": 0.99, "roc_auc": 0.99}"#)
        #expect(lab.run(["register", "churn", Self.churn("v3/model"), "--metrics", "reported.json"]).status == 0)
        let reported = lab.run(["check", "churn@5", "--json"])
        #expect(reported.status == 3)
        #expect((rule(reported, lab)["reason"] as? String ?? "").contains("needs both versions' predictions on the same rows"), "\(reported)")

        let table = lab.run(["check", "churn@2"])
        #expect(table.stdout.contains("DIFFERENCE [CI]"), "\(table)")
        #expect(table.stdout.contains("the gain is within the noise"))

        // churn@3: a real gain: the lower bound of the paired interval is above zero.
        let real = lab.run(["promote", "churn@3", "--json"])
        #expect(real.status == 0, "\(real)")
        let g = rule(real, lab)
        #expect(g["verdict"] as? String == "pass")
        let gci = g["difference_interval"] as? [Double] ?? []
        #expect(gci.count == 2 && gci[0] > 0, "\(g)")
        #expect(lab.champion(model: "churn") == "churn@3")

        // The history keeps the difference and its interval.
        let log = lab.run(["log", "churn", "--json"])
        let entries = log.json["entries"] as? [[String: Any]] ?? []
        let promoted = entries.first { ($0["details"] as? [String: Any])?["version"] as? Int == 3 }
        let stored = (((promoted?["details"] as? [String: Any])?["report"] as? [String: Any])?["rules"] as? [[String: Any]])?.first
        #expect(stored?["difference_interval"] as? [Double] == gci)
    }
}
