import MregCore

/// The index of `mreg dashboard --all`: one row per model with its status, linking its page.
public enum DashboardIndex {
    /// The file name of a model's page in the `--all` directory (model names are `[a-z0-9._-]`).
    public static func fileName(_ model: String) -> String { model + ".html" }

    public static func render(_ pages: [ModelPage], generated: String, refresh: Int? = nil) -> String {
        let rows = pages.map { p -> [Markup] in
            let s = p.status
            let prod = p.champions.first { $0.stage == "production" }
            return [M.el("td", [], [M.el("a", [("href", fileName(p.model))], [M.text(p.model)])]),
                    DashboardPage.td(prod.map { "@\($0.version) since \(SVG.day($0.since))" + ($0.signers.isEmpty ? ", unsigned" : ", signed") } ?? "none"),
                    M.el("td", [("class", s.level == "critical" ? "bad" : s.level == "warning" ? "warn" : s.level == "ok" ? "ok" : "")], [M.text(s.text)]),
                    DashboardPage.td(s.detail), DashboardPage.td(String(p.versionCount), num: true),
                    DashboardPage.td(p.timeline.first.map { "\(SVG.day($0.time)) \($0.event.replacingOccurrences(of: "_", with: " "))" + ($0.version.map { " @\($0)" } ?? "") } ?? "–")]
        }
        return DashboardPage.document(title: "mreg dashboard — \(pages.count) models", refresh: refresh, body: [
            M.el("header", [], [M.el("h1", text: "Models"), M.el("div", [("class", "meta")], [M.text("\(pages.count) models · generated \(generated)")])]),
            M.el("main", [], [M.el("section", [("id", "index")], [
                DashboardPage.table(["model", "production champion", "status", "detail", "versions", "last change"], rows)])]),
            DashboardPage.footer(generated),
        ])
    }
}
