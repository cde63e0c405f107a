import Foundation
import MregCore

/// Small building blocks of the inline SVG charts: a linear scale with round ticks, axes,
/// marker shapes. Colours come from CSS classes (Style.swift), so light and dark mode and the
/// colour-blind-safe palette are decided in one place; every series also has its own shape.
enum SVG {
    /// `<svg>` sized by its viewBox (it scales to the panel's width), with a `<title>` and a
    /// `<desc>` that screen readers and the DOM carry.
    static func chart(width: Double, height: Double, title: String, desc: String, _ children: [Markup]) -> Markup {
        M.el("svg", [("viewBox", "0 0 \(M.n(width)) \(M.n(height))"), ("role", "img"), ("class", "chart"),
                     ("xmlns", "http://www.w3.org/2000/svg")],
             [M.el("title", text: title), M.el("desc", text: desc)] + children)
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ cls: String) -> Markup {
        M.el("line", [("x1", M.n(x1)), ("y1", M.n(y1)), ("x2", M.n(x2)), ("y2", M.n(y2)), ("class", cls)])
    }

    static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ cls: String, title: String? = nil) -> Markup {
        M.el("rect", [("x", M.n(x)), ("y", M.n(y)), ("width", M.n(max(0, w))), ("height", M.n(max(0, h))), ("class", cls)],
             title.map { [M.el("title", text: $0)] } ?? [])
    }

    static func text(_ x: Double, _ y: Double, _ s: String, _ cls: String = "lbl", anchor: String = "start", rotate: Bool = false) -> Markup {
        var a = [("x", M.n(x)), ("y", M.n(y)), ("class", cls), ("text-anchor", anchor)]
        if rotate { a.append(("transform", "rotate(-90 \(M.n(x)) \(M.n(y)))")) }
        return M.el("text", a, text: s)
    }

    static func polyline(_ points: [(Double, Double)], _ cls: String) -> Markup {
        M.el("polyline", [("points", points.map { "\(M.n($0.0)),\(M.n($0.1))" }.joined(separator: " ")), ("class", cls)])
    }

    /// Marker shapes, so that no series is told apart by colour alone.
    enum Shape: String { case circle, diamond, cross, triangle, triangleDown, square }

    static func marker(_ shape: Shape, _ x: Double, _ y: Double, _ r: Double, _ cls: String, title: String? = nil) -> Markup {
        let d: String
        switch shape {
        case .circle: d = "M\(M.n(x - r)),\(M.n(y))a\(M.n(r)),\(M.n(r)) 0 1,0 \(M.n(2 * r)),0a\(M.n(r)),\(M.n(r)) 0 1,0 \(M.n(-2 * r)),0z"
        case .diamond: d = "M\(M.n(x)),\(M.n(y - r * 1.3))L\(M.n(x + r * 1.3)),\(M.n(y))L\(M.n(x)),\(M.n(y + r * 1.3))L\(M.n(x - r * 1.3)),\(M.n(y))z"
        case .square: d = "M\(M.n(x - r)),\(M.n(y - r))h\(M.n(2 * r))v\(M.n(2 * r))h\(M.n(-2 * r))z"
        case .triangle: d = "M\(M.n(x)),\(M.n(y - r * 1.2))L\(M.n(x + r * 1.2)),\(M.n(y + r))L\(M.n(x - r * 1.2)),\(M.n(y + r))z"
        case .triangleDown: d = "M\(M.n(x)),\(M.n(y + r * 1.2))L\(M.n(x + r * 1.2)),\(M.n(y - r))L\(M.n(x - r * 1.2)),\(M.n(y - r))z"
        case .cross:
            let k = r * 0.45
            d = "M\(M.n(x - r)),\(M.n(y - r + k))l\(M.n(k)),\(M.n(-k))l\(M.n(r - k)),\(M.n(r - k))l\(M.n(r - k)),\(M.n(k - r))l\(M.n(k)),\(M.n(k))"
                + "l\(M.n(k - r)),\(M.n(r - k))l\(M.n(r - k)),\(M.n(r - k))l\(M.n(-k)),\(M.n(k))l\(M.n(k - r)),\(M.n(k - r))"
                + "l\(M.n(k - r)),\(M.n(r - k))l\(M.n(-k)),\(M.n(-k))l\(M.n(r - k)),\(M.n(k - r))z"
        }
        return M.el("path", [("d", d), ("class", cls)], title.map { [M.el("title", text: $0)] } ?? [])
    }

    /// A legend row: shape, then its words.
    static func legend(_ items: [(Shape, String, String)], x: Double, y: Double) -> Markup {
        var nodes: [Markup] = []
        var cx = x
        for (shape, cls, words) in items {
            nodes.append(marker(shape, cx + 7, y - 5, 6, cls))
            nodes.append(text(cx + 18, y, words, "lbl"))
            cx += 30 + Double(words.count) * 8.2
        }
        return M.el("g", [("class", "legend")], nodes)
    }
}

/// A linear map from data to pixels, with round ticks.
struct Scale {
    var lo: Double
    var hi: Double
    var from: Double
    var to: Double

    init(_ values: [Double], from: Double, to: Double, pad: Double = 0.08) {
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if hi - lo < 1e-12 { lo -= 0.5 * max(abs(lo), 0.01); hi += 0.5 * max(abs(hi), 0.01) }
        let p = (hi - lo) * pad
        self.lo = lo - p; self.hi = hi + p; self.from = from; self.to = to
    }

    func callAsFunction(_ v: Double) -> Double { from + (v - lo) / (hi - lo) * (to - from) }

    /// About `count` ticks at 1, 2 or 5 × 10^k.
    func ticks(_ count: Int = 5) -> [Double] {
        let raw = (hi - lo) / Double(count)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var t = ceil(lo / step) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    static func label(_ v: Double) -> String {
        let a = abs(v)
        if a == 0 { return "0" }
        if a >= 1000 { return String(format: "%.0f", v) }
        if a >= 10 { return String(format: "%.1f", v) }
        if a >= 0.01 { return String(format: "%.3f", v).replacingOccurrences(of: #"\.?0+$"#, with: "", options: .regularExpression) }
        return String(format: "%.2g", v)
    }
}

extension SVG {
    /// A y axis with grid lines, tick labels and a rotated title.
    static func yAxis(_ y: Scale, left: Double, right: Double, title: String) -> [Markup] {
        var nodes: [Markup] = []
        for t in y.ticks() {
            nodes.append(line(left, y(t), right, y(t), "grid"))
            nodes.append(text(left - 8, y(t) + 5, Scale.label(t), "tick", anchor: "end"))
        }
        nodes.append(line(left, y.from, left, y.to, "axis"))
        nodes.append(text(18, (y.from + y.to) / 2, title, "axt", anchor: "middle", rotate: true))
        return nodes
    }

    /// Seconds since 1970 of an RFC 3339 time, nil when it does not parse.
    static func seconds(_ s: String) -> Double? { TimeText.parse(s) }

    /// `2026-10-20` of `2026-10-20T08:30:00Z`.
    static func day(_ s: String) -> String { String(s.prefix(10)) }
}
