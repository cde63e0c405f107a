import ArgumentParser
import MregCore
import MregDashboard

struct Dashboard: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a model's dashboard: one self-contained HTML page (or one per model and an index with --all).",
        discussion: """
            The page shows, most urgent first: firing alerts; the champion of each stage (since \
            when, signed or not); production performance per window against the evaluation \
            interval; drift per feature and window; data integrity; key metrics across versions \
            with their intervals, champions and blocked candidates marked; the history as a \
            timeline with reasons; the newest candidate's gate report. Sections with nothing \
            recorded say so. Inline CSS and SVG only: no script, nothing fetched. See docs/dashboard.md.
            """)

    /// Where production and monitoring data come from: the seam of MregDashboard/Evidence.swift.
    static let evidence: DashboardEvidence = RegistryEvidence()

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The model (omit with --all).", valueName: "name"))
    var name: String?

    @Flag(name: .long, help: "Every model: one page each (NAME.html) and index.html in the --out directory.")
    var all = false

    @Option(name: .long, help: ArgumentHelp("The page to write (default NAME.html); with --all, the directory (created if missing).", valueName: "path"))
    var out: String?

    @Option(name: .long, help: ArgumentHelp("Reload the page every SECONDS (for a wall screen).", valueName: "seconds"))
    var refresh: Int?

    func run() throws {
        if let r = refresh, !(1...86_400).contains(r) { throw MregError(.invalidInput, "--refresh must be between 1 and 86400 seconds, not \(r)") }
        if all {
            guard name == nil else { throw MregError(.invalidInput, "give a model name or --all, not both") }
            guard let dir = out else { throw MregError(.invalidInput, "--all needs --out DIR (the directory for the pages and index.html)") }
            let registry = try global.open()
            try DashboardOutput.makeDirectory(dir)
            let now = Clock.nowISO()
            var pages: [ModelPage] = []
            for m in try registry.modelNames() {
                let page = try ModelPage.load(registry, m, evidence: Self.evidence, now: now)
                try PageFile.write(dir + "/" + DashboardIndex.fileName(m.value), DashboardPage.render(page, refresh: refresh))
                pages.append(page)
            }
            try PageFile.write(dir + "/index.html", DashboardIndex.render(pages, generated: now, refresh: refresh))
            if global.json {
                Output.json(.object(["index": .string(dir + "/index.html"),
                                     "pages": .array(pages.map { .string(dir + "/" + DashboardIndex.fileName($0.model)) })]))
            } else {
                print("wrote \(dir)/index.html and \(pages.count) model page\(pages.count == 1 ? "" : "s")")
            }
            return
        }
        guard let name else { throw MregError(.invalidInput, "give a model name, or --all --out DIR") }
        let model = try ModelName(name)
        if let out { try DashboardOutput.checkParent(out) }
        let registry = try global.open()
        let page = try ModelPage.load(registry, model, evidence: Self.evidence)
        let path = out ?? DashboardIndex.fileName(model.value)
        let html = DashboardPage.render(page, refresh: refresh)
        try PageFile.write(path, html)
        if global.json {
            Output.json(.object(["page": .string(path), "bytes": .number(Double(html.utf8.count)), "status": .string(page.status.text)]))
        } else {
            print("wrote \(path) (\(html.utf8.count) bytes): \(page.status.text)")
        }
    }
}
