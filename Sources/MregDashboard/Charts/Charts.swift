import Foundation
import MregCore

/// The four charts of the page. Each takes plain values and returns one `<svg>`; each has axis
/// titles, tick labels and a legend, and tells series apart by shape as well as colour.
enum Charts {
    static let width = 960.0

    /// One metric across versions: the value with its interval per version; champions as
    /// diamonds labelled with their stage, blocked candidates as crosses.
    static func versions(metric: String, points: [VersionPoint]) -> Markup {
        let width = 660.0  // two side by side on a wide panel, text at about its nominal size
        let h = 260.0, left = 78.0, right = width - 20, top = 24.0, bottom = h - 62
        let shown = points.filter { $0.metrics[metric] != nil }
        let vals = shown.flatMap { p -> [Double] in let m = p.metrics[metric]!; return [m.value] + [m.low, m.high].compactMap { $0 } }
        let y = Scale(vals, from: bottom, to: top)
        let step = (right - left) / Double(max(shown.count, 1))
        let every = max(1, Int((Double(shown.count) * 44 / (right - left)).rounded(.up)))
        var nodes = SVG.yAxis(y, left: left, right: right, title: metric)
        nodes.append(SVG.line(left, bottom, right, bottom, "axis"))
        for (i, p) in shown.enumerated() {
            let m = p.metrics[metric]!
            let x = left + step * (Double(i) + 0.5)
            if let lo = m.low, let hi = m.high { nodes.append(SVG.line(x, y(lo), x, y(hi), "iv")) }
            let what = "@\(p.version) \(metric) = \(Scale.label(m.value))"
                + (m.low.map { lo in " [\(Scale.label(lo)), \(Scale.label(m.high ?? lo))]" } ?? "")
            if !p.championOf.isEmpty {
                nodes.append(SVG.marker(.diamond, x, y(m.value), 7, "s-champ", title: what + ", champion of " + p.championOf.joined(separator: ", ")))
                let label = "★ " + p.championOf.joined(separator: ", ")
                let half = Double(label.count) * 4.6
                nodes.append(SVG.text(min(max(x, left + half), right - half), y(m.value) - 13, label, "lbl strong", anchor: "middle"))
            } else if !p.blockedFor.isEmpty {
                nodes.append(SVG.marker(.cross, x, y(m.value), 6, "s-block", title: what + ", blocked for " + p.blockedFor.joined(separator: ", ")))
            } else {
                nodes.append(SVG.marker(.circle, x, y(m.value), 4.5, "s-ver", title: what))
            }
            if i % every == 0 || !p.championOf.isEmpty {
                nodes.append(SVG.text(x, bottom + 20, "@\(p.version)", "tick", anchor: "middle"))
            }
        }
        nodes.append(SVG.text((left + right) / 2, bottom + 40, "version (oldest → newest)", "axt", anchor: "middle"))
        let hasIntervals = shown.contains { $0.metrics[metric]?.low != nil }
        nodes.append(SVG.legend([(.diamond, "s-champ", "champion"), (.cross, "s-block", "blocked"),
                                 (.circle, "s-ver", "other")] + (hasIntervals ? [(.square, "s-ivl", "bar: 95% interval")] : []),
                                x: left, y: h - 4))
        return SVG.chart(width: width, height: h, title: "\(metric) across versions",
                         desc: "\(shown.count) versions; champions marked with a diamond, blocked candidates with a cross", nodes)
    }

    /// Production metric per window against the band of the evaluation interval; windows whose
    /// interval lies entirely on the bad side of it are marked with a downward triangle.
    static func production(_ s: ProductionSeries) -> Markup {
        let h = 270.0, left = 78.0, right = width - 20, top = 24.0, bottom = h - 62
        var vals = s.windows.compactMap(\.value).flatMap { [$0.value] + [$0.low, $0.high].compactMap { $0 } }
        if let e = s.evaluation { vals += [e.value] + [e.low, e.high].compactMap { $0 } }
        let y = Scale(vals, from: bottom, to: top)
        let n = max(s.windows.count, 1)
        let step = (right - left) / Double(n)
        var nodes: [Markup] = []
        if let e = s.evaluation {
            let lo = y(e.low ?? e.value), hi = y(e.high ?? e.value)
            nodes.append(SVG.rect(left, min(lo, hi), right - left, max(abs(lo - hi), 2), "band",
                                  title: "evaluation: \(Scale.label(e.value))" + (e.low.map { " [\(Scale.label($0)), \(Scale.label(e.high ?? $0))]" } ?? "")))
            nodes.append(SVG.line(left, y(e.value), right, y(e.value), "evline"))
        }
        nodes += SVG.yAxis(y, left: left, right: right, title: s.metric)
        nodes.append(SVG.line(left, bottom, right, bottom, "axis"))
        let degraded = Set(s.degradedWindows.map(\.start))
        var points: [(Double, Double)] = []
        var marks: [Markup] = []
        let every = max(1, Int((Double(n) * 110 / (right - left)).rounded(.up)))
        for (i, w) in s.windows.enumerated() {
            let x = left + step * (Double(i) + 0.5)
            if i % every == 0 { marks.append(SVG.text(x, bottom + 20, SVG.day(w.start), "tick", anchor: "middle")) }
            guard let v = w.value else {
                // No number for this window (too few labelled rows): a hollow mark on the axis, not a value.
                points.append((x, .nan))
                if let why = w.missing, n <= 120 {
                    marks.append(SVG.marker(.cross, x, bottom - 6, 4, "s-none", title: "\(SVG.day(w.start))–\(SVG.day(w.end)): \(why), \(w.rows) rows"))
                }
                continue
            }
            points.append((x, y(v.value)))
            if let lo = v.low, let hi = v.high, n <= 120 { marks.append(SVG.line(x, y(lo), x, y(hi), "iv")) }
            let what = "\(SVG.day(w.start))–\(SVG.day(w.end)): \(s.metric) = \(Scale.label(v.value)), \(w.rows) rows"
            if degraded.contains(w.start) {
                marks.append(SVG.marker(.triangleDown, x, y(v.value), 7, "s-block", title: what + ", below the evaluation interval"))
            } else if n <= 120 {
                marks.append(SVG.marker(.circle, x, y(v.value), 4, "s-prod", title: what))
            }
        }
        // Break the line where a window has no value.
        var run: [(Double, Double)] = []
        for p in points + [(0, .nan)] {
            if p.1.isNaN { if run.count > 1 { nodes.append(SVG.polyline(run, "pline")) }; run = [] } else { run.append(p) }
        }
        nodes += marks
        nodes.append(SVG.text((left + right) / 2, bottom + 40, "window start (UTC)", "axt", anchor: "middle"))
        nodes.append(SVG.legend([(.circle, "s-prod", "production, per window"), (.square, "s-band", "evaluation interval"),
                                 (.triangleDown, "s-block", "below evaluation interval")]
                                + (s.windows.contains { $0.value == nil && $0.missing != nil } ? [(.cross, "s-none", "too few labelled rows")] : []),
                                x: left, y: h - 4))
        return SVG.chart(width: width, height: h, title: "\(s.metric) of \(s.version) in production (\(s.source))",
                         desc: "\(s.windows.count) windows, \(degraded.count) below the evaluation interval", nodes)
    }

    /// Drift per feature (rows) and window (columns); six shades, the two darkest at or above
    /// the threshold, and per feature the count of windows in drift written out.
    static func heatMap(_ d: DriftPanel) -> Markup {
        let left = 190.0, right = width - 150, top = 14.0
        let rowH = d.features.count > 30 ? 14.0 : 22.0
        let bottom = top + rowH * Double(d.features.count)
        let h = bottom + 78
        let cols = max(d.windows.count, 1)
        let cw = (right - left) / Double(cols)
        func bin(_ v: Double) -> Int {
            let t = max(d.threshold, 1e-12)
            if v >= 2 * t { return 5 }
            if v >= t { return 4 }
            return min(3, Int(v / t * 4))
        }
        var nodes: [Markup] = []
        for (r, f) in d.features.enumerated() {
            let yy = top + rowH * Double(r)
            nodes.append(SVG.text(left - 8, yy + rowH * 0.72, String(f.prefix(24)), "tick", anchor: "end"))
            let row = r < d.values.count ? d.values[r] : []
            var c = 0
            var inDrift = 0
            while c < cols {  // one rect per run of equal shades
                let v = c < row.count ? row[c] : nil
                var e = c + 1
                while e < cols, let a = (e < row.count ? row[e] : nil), let b = v, bin(a) == bin(b) { e += 1 }
                if v == nil { e = c + 1 }
                if let v { inDrift += (c..<e).filter { ($0 < row.count ? row[$0] ?? 0 : 0) >= d.threshold }.count
                    nodes.append(SVG.rect(left + cw * Double(c), yy + 1, cw * Double(e - c), rowH - 2, "h\(bin(v))",
                                          title: cols * d.features.count <= 2000 ? "\(f), \(d.windows[c]): \(d.measure) = \(Scale.label(v))" : nil))
                } else {
                    nodes.append(SVG.rect(left + cw * Double(c), yy + 1, cw, rowH - 2, "hnone"))
                }
                c = e
            }
            nodes.append(SVG.text(right + 8, yy + rowH * 0.72, inDrift == 0 ? "—" : "\(inDrift) in drift", inDrift == 0 ? "tick" : "tick strong"))
        }
        let every = max(1, Int((Double(cols) * 110 / (right - left)).rounded(.up)))
        for (i, w) in d.windows.enumerated() where i % every == 0 {
            nodes.append(SVG.text(left + cw * (Double(i) + 0.5), bottom + 18, SVG.day(w), "tick", anchor: "middle"))
        }
        nodes.append(SVG.text((left + right) / 2, bottom + 38, "window start (UTC)", "axt", anchor: "middle"))
        let t = d.threshold
        let steps = ["< \(Scale.label(t / 4))", "< \(Scale.label(t / 2))", "< \(Scale.label(3 * t / 4))", "< \(Scale.label(t))",
                     "≥ \(Scale.label(t)) drift", "≥ \(Scale.label(2 * t)) drift"]
        var lx = left
        nodes.append(SVG.text(left - 8, h - 8, d.measure + ":", "lbl", anchor: "end"))
        for (i, s) in steps.enumerated() {
            nodes.append(SVG.rect(lx, h - 22, 18, 18, "h\(i)"))
            nodes.append(SVG.text(lx + 24, h - 8, s, "lbl"))
            lx += 34 + Double(s.count) * 8
        }
        return SVG.chart(width: width, height: h, title: "\(d.measure) drift per feature and window",
                         desc: "\(d.features.count) features × \(d.windows.count) windows; threshold \(Scale.label(t))", nodes)
    }

    /// Promotions, blocks, overrides, rollbacks and signatures on a time axis, one lane per stage.
    static func timeline(_ events: [TimelineEvent]) -> Markup {
        let dated = events.compactMap { e in SVG.seconds(e.time).map { (e, $0) } }
        var lanes: [String] = []
        for (e, _) in dated.reversed() { let l = e.stage ?? "model"; if !lanes.contains(l) { lanes.append(l) } }
        lanes.sort { ModelPage.stageOrder($0) < ModelPage.stageOrder($1) }
        let left = 120.0, right = width - 30, top = 20.0, laneH = 42.0
        let bottom = top + laneH * Double(max(lanes.count, 1))
        let h = bottom + 72
        let x = Scale(dated.map(\.1), from: left, to: right, pad: 0.04)
        var nodes: [Markup] = []
        for (i, l) in lanes.enumerated() {
            let yy = top + laneH * (Double(i) + 0.5)
            nodes.append(SVG.line(left, yy, right, yy, "grid"))
            nodes.append(SVG.text(left - 10, yy + 5, l, "lbl", anchor: "end"))
        }
        nodes.append(SVG.line(left, bottom, right, bottom, "axis"))
        for k in 0...4 {
            let t = x.lo + (x.hi - x.lo) * Double(k) / 4
            nodes.append(SVG.text(x(t), bottom + 20, String(TimeText.format(t).prefix(10)), "tick", anchor: "middle"))
        }
        nodes.append(SVG.text((left + right) / 2, bottom + 40, "time (UTC)", "axt", anchor: "middle"))
        for (e, t) in dated {
            let yy = top + laneH * (Double(lanes.firstIndex(of: e.stage ?? "model") ?? 0) + 0.5)
            let (shape, cls) = style(e.event)
            let what = "\(e.time) \(e.event)" + (e.version.map { " @\($0)" } ?? "") + (e.reason.map { ": \($0)" } ?? "")
            nodes.append(SVG.marker(shape, x(t), yy, 7, cls, title: what))
            if let v = e.version, dated.count <= 40 { nodes.append(SVG.text(x(t), yy - 11, "@\(v)", "tick", anchor: "middle")) }
        }
        nodes.append(SVG.legend([(.circle, "s-prom", "promoted"), (.cross, "s-block", "blocked"), (.triangle, "s-over", "overridden"),
                                 (.square, "s-roll", "rolled back"), (.diamond, "s-sign", "signed"), (.triangleDown, "s-ver", "policy/baseline")],
                                x: left, y: h - 4))
        return SVG.chart(width: width, height: h, title: "history timeline", desc: "\(dated.count) events", nodes)
    }

    static func style(_ event: String) -> (SVG.Shape, String) {
        switch event {
        case "promoted": return (.circle, "s-prom")
        case "blocked": return (.cross, "s-block")
        case "overridden": return (.triangle, "s-over")
        case "rolled_back": return (.square, "s-roll")
        case "signed": return (.diamond, "s-sign")
        default: return (.triangleDown, "s-ver")
        }
    }
}
