import Foundation
import Testing
import MregCore
@testable import MregDashboard
import _MregTestSupport

/// The page in a real browser (headless Chromium): it renders to something that is not blank, the
/// DOM has every panel, and hostile strings in every user-supplied field neither execute nor add
/// elements nor break the SVG out of its box.
@Suite("DashboardBrowser", .enabled(if: Chromium.available))
struct DashboardBrowserTests {
    /// Through every field a user or a data file sets: script, quotes, an entity, a closing svg, an element.
    static let hostile = "<script>alert(1)</script>\"'&amp;</svg><img src=x onerror=alert(2)><iframe srcdoc=x></iframe>"

    /// The screenshot of `page` against one of a blank page of the same size: a PNG of the asked
    /// size, several times the bytes of the blank one (an empty render compresses to almost nothing).
    func expectNotBlank(_ page: String, _ t: TemporaryDirectory, height: Int = 3000) {
        let blank = t.write("blank.html", "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body></body></html>")
        let shot = Chromium.screenshot(page, to: t.join("page.png"), width: 1600, height: height, scratch: t)
        let empty = Chromium.screenshot(blank, to: t.join("blank.png"), width: 1600, height: height, scratch: t)
        #expect(pngSize(shot)?.width == 1600 && pngSize(shot)?.height == height, "not a 1600×\(height) PNG: \(shot.count) bytes")
        #expect(pngSize(empty) != nil)
        #expect(shot.count > 8 * max(empty.count, 1), "page \(shot.count) bytes, blank \(empty.count) bytes")
    }

    func expectPanels(_ dom: String) {
        for id in DashboardPage.panelIDs { #expect(dom.contains("id=\"\(id)\""), "panel \(id) missing from the DOM") }
        #expect(dom.contains("Content-Security-Policy"))
    }

    @Test("the example registry's fraud page renders in Chromium: not blank, every panel, the facts a newcomer needs")
    func examplePage() throws {
        let t = TemporaryDirectory("mreg-dashboard-browser")
        let reg = try exampleRegistry(in: t)
        let r = Mreg.run(["dashboard", "fraud", "--out", t.join("fraud.html")], cwd: t.path, env: ["MREG_TIME": "2026-11-01T00:00:00Z"], registry: reg)
        #expect(r.status == 0, "\(r)")
        expectNotBlank(t.join("fraud.html"), t)
        let dom = Chromium.dumpDOM(t.join("fraud.html"), scratch: t)
        expectPanels(dom)
        #expect(!dom.contains("<script"))
        #expect(dom.contains("fraud@1") && dom.contains("rolled back"), "which version serves production")
        #expect(dom.contains("INC-2291"), "why it changed")
        // Production: fraud@1 (champion) and fraud@4 (served alongside), recall and precision each, from `mreg perf`.
        #expect(!dom.contains("No production rows recorded yet"))
        for title in ["recall of fraud@1", "precision of fraud@1", "recall of fraud@4", "precision of fraud@4"] {
            #expect(dom.contains(title), "production chart \(title)")
        }
        #expect(dom.contains("2 of 30 windows below the evaluation interval"), "recall of fraud@1 on 2026-11-20 and 21, as perf flags them")
        #expect(dom.contains("9 of 30 windows (2026-11-22 to 2026-11-30) have no recall") && dom.contains("too few labelled rows (0 &lt; 30)"), "unlabelled days said in words")
        #expect(dom.contains("degraded") && dom.contains("in the newest labelled window (2026-11-21T00:00:00Z)"), "the health line")
        #expect(dom.components(separatedBy: "<svg").count - 1 >= 6, "4 production charts, versions and the timeline")
    }

    @Test("a page with every optional panel filled renders: production band, heat map, integrity and alerts")
    func allPanels() throws {
        let t = TemporaryDirectory("mreg-dashboard-browser")
        let page = t.write("full.html", DashboardPage.render(syntheticPage()))
        expectNotBlank(page, t)
        let dom = Chromium.dumpDOM(page, scratch: t)
        expectPanels(dom)
        // production + drift + one metric across versions + timeline
        #expect(dom.components(separatedBy: "<svg").count - 1 == 4, "\(dom.components(separatedBy: "<svg").count - 1) charts")
        #expect(dom.contains("class=\"band\""), "the evaluation interval band")
        #expect(dom.contains("3 of 30 windows below the evaluation interval"))
        #expect(dom.contains("class=\"h4\"") || dom.contains("class=\"h5\""), "cells in drift")
        #expect(dom.contains("2 alerts firing") && dom.contains("CRITICAL"))
        #expect(!dom.contains("No production rows recorded yet"))
    }

    @Test("hostile strings in every field of a page are text: no script, no injected element, SVG intact")
    func hostileSynthetic() throws {
        let t = TemporaryDirectory("mreg-dashboard-browser")
        let html = DashboardPage.render(syntheticPage(Self.hostile))
        #expect(!html.contains("<script") && !html.contains("<img") && !html.contains("<iframe"), "raw markup in the file")
        let page = t.write("hostile.html", html)
        let dom = Chromium.dumpDOM(page, scratch: t)
        expectPanels(dom)
        #expect(!dom.contains("<script") && !dom.contains("<img") && !dom.contains("<iframe"))
        #expect(dom.components(separatedBy: "<svg").count - 1 == 4, "an svg was closed early or one was added")
        #expect(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;\"'&amp;amp;&lt;/svg&gt;&lt;img src=x onerror=alert(2)&gt;&lt;iframe srcdoc=x&gt;&lt;/iframe&gt;"),
                "the text is shown as written")
        expectNotBlank(page, t)
    }

    @Test("a registry whose messages, metric names, slice values, reasons and user are hostile gives a page of plain text")
    func hostileRegistry() throws {
        let t = TemporaryDirectory("mreg-dashboard-browser")
        let h = Self.hostile
        let env = ["MREG_USER": "mallory<script>alert(5)</script>"]
        func mreg(_ args: [String]) -> CommandResult { Mreg.run(args, cwd: t.path, env: env, registry: t.join("reg")) }
        #expect(Mreg.run(["init", t.join("reg")], cwd: t.path).status == 0)
        t.write("model/w.bin", randomBytes(100))
        let slice = "</svg><script>alert(4)</script>'&amp;"
        var csv = "id,label,score,plan\n"
        for i in 0..<200 { csv += "r\(i),\(i % 2),\(i % 2 == 0 ? 0.3 : 0.7),\(i % 4 < 2 ? "plain" : "\"" + slice + "\"\"\"")\n" }
        t.write("pred.csv", csv)
        let badName = "</svg><script>alert(3)</script>\"'&"
        let metrics = try JSONSerialization.data(withJSONObject: ["f1": 0.1, badName: 0.5])
        t.write("m2.json", metrics)
        t.write("policy.yaml", "stages:\n  production:\n    gates:\n      - f1 >= 0.5\n      - recall{plan=*} >= 0.0\n")
        #expect(mreg(["gates", "fraud", "--set", t.join("policy.yaml")]).status == 0)
        let r1 = mreg(["register", "fraud", t.join("model"), "--predictions", t.join("pred.csv"), "--slice-by", "plan", "--bootstrap", "50", "-m", h])
        #expect(r1.status == 0, "\(r1)")
        #expect(mreg(["promote", "fraud@1"]).status == 0)
        #expect(mreg(["register", "fraud", t.join("model"), "--metrics", t.join("m2.json"), "-m", h]).status == 0)
        #expect(mreg(["promote", "fraud@2"]).status == 3)
        #expect(mreg(["promote", "fraud@2", "--override", "override " + h]).status == 0)
        #expect(mreg(["rollback", "fraud", "--reason", "rollback " + h]).status == 0)
        #expect(mreg(["register", "fraud", t.join("model"), "--predictions", t.join("pred.csv"), "--slice-by", "plan", "--bootstrap", "50", "-m", h]).status == 0)

        // A second model whose metric names are hostile (they become chart titles and axis labels).
        #expect(mreg(["register", "churn", t.join("model"), "--metrics", t.join("m2.json"), "-m", h]).status == 0)

        let out = mreg(["dashboard", "--all", "--out", t.join("site")])
        #expect(out.status == 0, "\(out)")
        let html = String(decoding: t.read("site/fraud.html") ?? Data(), as: UTF8.self)
        #expect(!html.contains("<script") && !html.contains("<img") && !html.contains("<iframe"), "raw markup in the file")
        let dom = Chromium.dumpDOM(t.join("site/fraud.html"), scratch: t)
        expectPanels(dom)
        #expect(!dom.contains("<script") && !dom.contains("<img") && !dom.contains("<iframe"))
        #expect(dom.contains("override &lt;script&gt;alert(1)&lt;/script&gt;"), "the override reason, escaped")
        #expect(dom.contains("rollback &lt;script&gt;alert(1)&lt;/script&gt;"), "the rollback reason, escaped")
        #expect(dom.contains("&lt;/svg&gt;&lt;script&gt;alert(4)&lt;/script&gt;'&amp;amp;"), "the slice value, escaped")
        #expect(dom.contains("mallory&lt;script&gt;"), "the user, escaped")
        let churnHTML = String(decoding: t.read("site/churn.html") ?? Data(), as: UTF8.self)
        let churn = Chromium.dumpDOM(t.join("site/churn.html"), scratch: t)
        expectPanels(churn)
        #expect(!churnHTML.contains("<script") && !churn.contains("<script") && !churn.contains("<img") && !churn.contains("<iframe"))
        #expect(churn.contains("<title>&lt;/svg&gt;&lt;script&gt;alert(3)&lt;/script&gt;\"'&amp; across versions</title>"), "the metric name, escaped")
        let churnSVGs = churnHTML.components(separatedBy: "<svg").count - 1
        #expect(churnSVGs >= 1 && churn.components(separatedBy: "</svg>").count - 1 == churnSVGs, "an svg closed early")
        let index = Chromium.dumpDOM(t.join("site/index.html"), scratch: t)
        #expect(index.contains("href=\"fraud.html\"") && index.contains("href=\"churn.html\"") && !index.contains("<script"))
        let svgs = html.components(separatedBy: "<svg").count - 1
        #expect(dom.components(separatedBy: "<svg").count - 1 == svgs && dom.components(separatedBy: "</svg>").count - 1 == svgs)
    }
}
