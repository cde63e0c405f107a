import Foundation
import Testing
import Plot
@testable import MregDashboard

/// The pieces of the page without a browser: escaping, scales, the degradation rule, the heat
/// map's size at the scale of the benchmark.
@Suite("DashboardCharts")
struct DashboardChartsTests {
    func render(_ m: Markup) -> String { HTML(.body(m)).render() }

    @Test("text keeps what the user wrote, entities included; attributes escape quotes")
    func escaping() {
        let s = #"a<b>&amp;&#60;"'</svg>"#
        let out = render(M.el("p", text: s))
        #expect(out.contains(#"<p>a&lt;b&gt;&amp;amp;&amp;#60;"'&lt;/svg&gt;</p>"#), "\(out)")
        let a = render(M.el("p", [("title", s)]))
        #expect(a.contains(#"title="a&lt;b&gt;&amp;amp;&amp;#60;&quot;&#39;&lt;/svg&gt;""#), "\(a)")
    }

    @Test("ticks are round numbers inside the padded range")
    func ticks() {
        let y = Scale([0.6912, 0.7488], from: 200, to: 20)
        let t = y.ticks()
        #expect(t.count >= 3 && t.count <= 8, "\(t)")
        #expect(t.allSatisfy { $0 >= y.lo - 1e-12 && $0 <= y.hi + 1e-12 })
        #expect(t.map(Scale.label).allSatisfy { $0.count <= 5 }, "\(t.map(Scale.label))")
        #expect(Scale([5, 5], from: 0, to: 1).hi > 5, "a flat series still gets a range")
        #expect(abs(y(y.lo) - 200) < 1e-9 && abs(y(y.hi) - 20) < 1e-9)
    }

    @Test("a window is degraded when its whole interval lies on the bad side of the evaluation interval")
    func degraded() {
        func w(_ v: Double, _ lo: Double, _ hi: Double) -> ProductionWindow {
            ProductionWindow(start: "2026-10-0\(Int(v * 10) % 9 + 1)T00:00:00Z", end: "", rows: 100, value: MetricValue(v, low: lo, high: hi))
        }
        let up = ProductionSeries(metric: "recall", version: "m@1", evaluation: MetricValue(0.72, low: 0.69, high: 0.75),
                                  windows: [w(0.65, 0.62, 0.68), w(0.66, 0.63, 0.70), w(0.8, 0.75, 0.85)])
        #expect(up.degradedWindows.map { $0.value!.value } == [0.65], "overlapping intervals are not degradation")
        let down = ProductionSeries(metric: "log_loss", version: "m@1", lowerIsBetter: true, evaluation: MetricValue(0.3, low: 0.28, high: 0.32),
                                    windows: [w(0.4, 0.35, 0.45), w(0.31, 0.29, 0.33)])
        #expect(down.degradedWindows.map { $0.value!.value } == [0.4])
        #expect(ProductionSeries(metric: "r", version: "m@1", evaluation: nil, windows: [w(0.1, 0, 0.2)]).degradedWindows.isEmpty)
    }

    @Test("the heat map of 50 features × 365 windows stays small (runs of one shade are one rect) and counts windows in drift")
    func heatMapSize() {
        let windows = (0..<365).map { "2026-01-01+\($0)" }
        var values: [[Double?]] = []
        for f in 0..<50 {
            var row: [Double?] = []
            for w in 0..<365 { row.append(f == 0 && w >= 300 ? 0.4 : 0.01 * Double((w / 30 + f) % 5)) }
            values.append(row)
        }
        let svg = render(Charts.heatMap(DriftPanel(measure: "psi", threshold: 0.25, features: (0..<50).map { "f\($0)" }, windows: windows, values: values)))
        #expect(svg.utf8.count < 400_000, "\(svg.utf8.count) bytes")
        #expect(svg.contains(">65 in drift<"), "feature 0 drifts in its last 65 windows")
        #expect(svg.contains("class=\"h5\""), "0.4 ≥ 2 × 0.25 is the darkest shade")
    }

    @Test("every panel's id is on the page, with or without the optional sections")
    func panels() {
        var bare = syntheticPage()
        bare.production = nil; bare.drift = nil; bare.integrity = nil; bare.alerts = nil
        for p in [syntheticPage(), bare] {
            let html = DashboardPage.render(p)
            for id in DashboardPage.panelIDs { #expect(html.contains("id=\"\(id)\"")) }
        }
        let html = DashboardPage.render(bare)
        #expect(html.contains("No production rows recorded yet") && html.contains("No alert policy") && html.contains("No drift measured yet"))
        #expect(DashboardPage.render(syntheticPage()).contains("class=\"urgent\""), "a critical alert marks its panel")
    }
}

@Test("SVG numbers: at most two decimals, no exponent, whole numbers bare")
func svgNumbers() {
    #expect([0, 1.5, -0.5, 12.345, 2.999, 100, -3.04, 0.004, .nan].map(M.n) == ["0", "1.50", "-0.50", "12.35", "3", "100", "-3.04", "0", "0"])
}
