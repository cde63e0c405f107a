import MregCore

/// The eight panels, most urgent first. A section whose evidence is not recorded says so and
/// names the command that records it.
extension DashboardPage {
    static func alerts(_ p: ModelPage) -> Markup {
        guard let a = p.alerts else {
            return section("panel-alerts", "Alerts", [note("No alert policy and no `mreg monitor` run recorded for this model. Set one with `mreg alerts \(p.model) --set FILE` and run `mreg monitor \(p.model)` from cron.")])
        }
        let run = a.lastRun.map { "last `mreg monitor` run \($0)" } ?? "`mreg monitor` has not run yet"
        guard !a.firing.isEmpty else {
            return section("panel-alerts", "Alerts", [M.el("p", [], [M.el("span", [("class", "ok")], [M.text("✔ No alert firing.")]),
                                                                    M.text(" \(a.policy); \(run).")])])
        }
        let rows = a.firing.sorted { $0.severity < $1.severity }.map { f -> [Markup] in
            [M.el("td", [], [M.el("span", [("class", "sev " + (f.severity == .critical ? "bad" : f.severity == .warning ? "warn" : ""))],
                                  [M.text((f.severity == .critical ? "▲ " : f.severity == .warning ? "● " : "○ ") + f.severity.rawValue.uppercased())])]),
             td(f.since, num: true), M.el("td", [], [M.el("code", text: f.rule)]), td(f.reason)]
        }
        return section("panel-alerts", "Alerts firing (\(a.firing.count))", urgent: a.firing.contains { $0.severity == .critical }, [
            table(["severity", "since", "rule", "why"], rows), note("\(a.policy); \(run)."),
        ])
    }

    static func champions(_ p: ModelPage) -> Markup {
        guard !p.champions.isEmpty else {
            return section("panel-champions", "Champions", [note("No stage has a champion yet: `mreg promote \(p.model)@N --stage STAGE`.")])
        }
        return section("panel-champions", "Champions per stage", [M.el("div", [("class", "cards")], p.champions.map { c in
            var lines: [Markup] = [
                M.el("div", [("class", "small")], [M.text(c.stage)]),
                M.el("div", [("class", "big")], [M.text("\(p.model)@\(c.version)")]),
                M.el("div", [], [M.text("since \(c.since) (\(c.how.replacingOccurrences(of: "_", with: " ")))")]),
            ]
            if let r = c.reason { lines.append(M.el("div", [], [M.text("why: " + r)])) }
            if !c.message.isEmpty { lines.append(M.el("div", [("class", "small")], [M.text("“" + c.message + "”")])) }
            lines.append(c.signers.isEmpty
                ? M.el("div", [("class", "warn")], [M.text("✘ unsigned")])
                : M.el("div", [("class", "ok")], [M.text("✔ signed by " + c.signers.joined(separator: ", "))]))
            if c.badSignatures > 0 { lines.append(M.el("div", [("class", "bad")], [M.text("✘ \(c.badSignatures) invalid signature(s)")])) }
            return M.el("div", [("class", "card")], lines)
        })])
    }

    static func production(_ p: ModelPage) -> Markup {
        guard let prod = p.production, !prod.series.isEmpty else {
            return section("panel-production", "Production performance", [note("No production rows recorded yet — `mreg observe \(p.model)@production FILE` records them (labels that arrive later: `mreg observe \(p.model) --labels FILE`); `mreg perf \(p.model)` lists them.")])
        }
        var nodes: [Markup] = []
        for s in prod.series {
            let bad = s.degradedWindows.count
            nodes.append(M.el("p", [], [M.el("b", text: "\(s.metric) of \(s.version)"), M.text(" (\(s.source)), evaluation: \(value(s.evaluation)) — "),
                                        bad == 0 ? M.el("span", [("class", "ok")], [M.text("✔ no window below the evaluation interval")])
                                                 : M.el("span", [("class", "bad")], [M.text("▼ \(bad) of \(s.windows.count) windows below the evaluation interval")])]))
            let missing = s.windows.filter { $0.value == nil && $0.missing != nil }
            if !missing.isEmpty {
                var reasons: [String] = []
                for w in missing where !reasons.contains(w.missing!) { reasons.append(w.missing!) }
                let span = missing.count == 1 ? SVG.day(missing[0].start) : "\(SVG.day(missing[0].start)) to \(SVG.day(missing.last!.start))"
                nodes.append(note("\(missing.count) of \(s.windows.count) windows (\(span)) have no \(s.metric), ✕ on the axis: " +
                                  reasons.prefix(3).joined(separator: "; ") + (reasons.count > 3 ? "; …" : "")))
            }
            nodes.append(Charts.production(s))
        }
        return section("panel-production", "Production performance per window", urgent: prod.series.contains { !$0.degradedWindows.isEmpty }, nodes)
    }

    static func drift(_ p: ModelPage) -> Markup {
        guard let d = p.drift, !d.features.isEmpty, !d.windows.isEmpty else {
            return section("panel-drift", "Drift", [note("No drift measured yet: it needs a reference profile (`mreg register … --reference FILE`) and production rows (`mreg observe`).")])
        }
        return section("panel-drift", "Drift per feature and window (\(d.measure))", [Charts.heatMap(d)])
    }

    static func integrity(_ p: ModelPage) -> Markup {
        guard let i = p.integrity, !i.checks.isEmpty else {
            return section("panel-integrity", "Data integrity", [note("No integrity checks yet: they run on each observed batch (`mreg observe`): missing values, new categories, out-of-range values, schema changes.")])
        }
        let failing = i.checks.filter { !$0.ok }.count
        let rows = i.checks.sorted { !$0.ok && $1.ok }.map { c -> [Markup] in
            [M.el("td", [], [M.el("code", text: c.check)]), td(c.window, num: true), td(c.value.map(Scale.label) ?? "–", num: true),
             td(c.limit.map(Scale.label) ?? "–", num: true),
             M.el("td", [("class", c.ok ? "ok" : "bad")], [M.text(c.ok ? "✔ ok" : "✘ breach")]), td(c.detail)]
        }
        return section("panel-integrity", "Data integrity (\(failing) of \(i.checks.count) checks in breach)", urgent: failing > 0,
                       [table(["check", "window", "value", "limit", "status", "detail"], rows)])
    }

    static func versions(_ p: ModelPage) -> Markup {
        guard !p.versions.isEmpty, !p.keyMetrics.isEmpty else {
            return section("panel-versions", "Metrics across versions", [note("No metrics recorded.")])
        }
        var nodes: [Markup] = []
        if p.versions.count < p.versionCount {
            nodes.append(note("The newest \(p.versions.count) of \(p.versionCount) versions (champions always shown); `mreg list \(p.model)` lists them all."))
        }
        if !p.versions.contains(where: { $0.metrics.values.contains { $0.low != nil } }) {
            nodes.append(note("No intervals: these metrics were reported, not computed. `mreg register … --predictions FILE` computes them with 95% bootstrap intervals."))
        }
        nodes.append(M.el("div", [("class", "charts")], p.keyMetrics.map { Charts.versions(metric: $0, points: p.versions) }))
        return section("panel-versions", "Metrics across versions", nodes)
    }

    static func history(_ p: ModelPage) -> Markup {
        guard !p.timeline.isEmpty else {
            return section("panel-history", "History", [note("Nothing but registrations so far.")])
        }
        let rows = p.timeline.prefix(30).map { e -> [Markup] in
            let (_, cls) = Charts.style(e.event)
            return [td(e.time, num: true), M.el("td", [("class", cls == "s-block" ? "bad" : "")], [M.text(e.event.replacingOccurrences(of: "_", with: " "))]),
                    td(e.stage ?? "–"), td(e.version.map { "@\($0)" } ?? "–"), td(e.user, num: true), td(e.reason ?? "")]
        }
        return section("panel-history", "History", [Charts.timeline(p.timeline), table(["time", "event", "stage", "version", "by", "why"], Array(rows))])
    }

    static func gates(_ p: ModelPage) -> Markup {
        guard let g = p.newestGate else {
            return section("panel-gates", "Newest candidate's gates", [note(p.versionCount == 0 ? "No version registered yet."
                                                                          : "The newest version is already champion of every stage; no candidate waits.")])
        }
        guard let r = g.report else {
            return section("panel-gates", "Newest candidate's gates", [note("\(p.model)@\(g.version): \(g.context)")])
        }
        let rows = r.results.map { x -> [Markup] in
            let v: (String, String) = x.verdict == .pass ? ("✔ pass", "ok") : x.verdict == .fail ? ("✘ fail", "bad") : ("– n/a", "")
            let cand = x.candidate.map { MetricValue($0, low: x.evidence.candidateInterval?.low, high: x.evidence.candidateInterval?.high) }
            let ref = x.reference.map { MetricValue($0, low: x.evidence.referenceInterval?.low, high: x.evidence.referenceInterval?.high) }
            return [M.el("td", [], [M.el("code", text: x.rule)]), td(value(cand), num: true), td(value(ref), num: true),
                    M.el("td", [("class", v.1)], [M.text(v.0)]), td(x.reason)]
        }
        var nodes: [Markup] = [M.el("p", [], [M.el("b", text: "\(p.model)@\(g.version)"), M.text(": \(g.context) — "),
                                             r.passed ? M.el("span", [("class", "ok")], [M.text("✔ passes")]) : M.el("span", [("class", "bad")], [M.text("✘ blocked")]),
                                             M.text(" (\(r.policyKind == "default" ? "default policy" : "the model's gate policy"))")])]
        nodes += r.notes.map(note)
        nodes.append(table(["rule", "candidate [95% interval]", "reference", "verdict", "why"], rows))
        return section("panel-gates", "Newest candidate's gates (stage \(r.stage))", nodes)
    }
}

extension ModelPage {
    /// The health line of the header and the index: alerts first, then production, then data.
    public var status: (level: String, text: String, detail: String) {
        if let a = alerts, !a.firing.isEmpty {
            let critical = a.firing.contains { $0.severity == .critical }
            return (critical ? "critical" : "warning", "\(a.firing.count) alert\(a.firing.count == 1 ? "" : "s") firing",
                    a.firing.sorted { $0.severity < $1.severity }.first!.reason)
        }
        // Degraded now: the newest window with a value lies below the evaluation interval.
        for s in production?.series ?? [] {
            guard let newest = s.windows.last(where: { $0.value != nil }), s.degradedWindows.contains(where: { $0.start == newest.start }) else { continue }
            return ("critical", "degraded", "\(s.metric) of \(s.version) below its evaluation interval in the newest labelled window (\(newest.start)); \(s.degradedWindows.count) of \(s.windows.count) windows below")
        }
        if let i = integrity, i.checks.contains(where: { !$0.ok }) {
            return ("warning", "data integrity", "\(i.checks.filter { !$0.ok }.count) integrity checks in breach")
        }
        if let s = production?.series.first(where: { !$0.degradedWindows.isEmpty }) {
            return ("warning", "was degraded", "\(s.metric) of \(s.version) below its evaluation interval in \(s.degradedWindows.count) earlier windows, not in the newest labelled one")
        }
        if production == nil && alerts == nil { return ("none", "not monitored", "no production rows or alerts recorded yet") }
        return ("ok", "healthy", "no alert firing, no window below evaluation")
    }
}
