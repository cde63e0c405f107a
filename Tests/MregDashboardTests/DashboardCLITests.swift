import Foundation
import Testing
import _MregTestSupport

/// `mreg dashboard` end to end: the built binary on temporary registries; exit codes, the files
/// written and what they hold. (What the page looks like in a browser: DashboardBrowserTests.)
@Suite("DashboardCLI")
struct DashboardCLITests {
    func page(_ t: TemporaryDirectory, _ relative: String) -> String { String(decoding: t.read(relative) ?? Data(), as: UTF8.self) }

    @Test("NAME writes NAME.html: self-contained (CSP, no script, nothing fetched), the example's facts, exit 0")
    func onePage() throws {
        let t = TemporaryDirectory("mreg-dashboard-cli")
        let reg = try exampleRegistry(in: t)
        let before = TreeSnapshot(reg)
        let r = Mreg.run(["dashboard", "fraud"], cwd: t.path, registry: reg)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.hasPrefix("wrote fraud.html (") && r.stdout.hasSuffix(": degraded\n"), "recall of fraud@1 is below evaluation on 2026-11-21: \(r)")
        let html = page(t, "fraud.html")
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains(#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"/>"#))
        #expect(!html.contains("<script") && !html.contains("http-equiv=\"refresh\""))
        #expect(!html.contains("src=") && !html.contains("<link") && !html.contains("url("), "nothing fetched")
        #expect(html.contains("fraud@1") && html.contains("INC-2291") && html.contains("fraud@4"))
        #expect(TreeSnapshot(reg) == before, "the registry is only read")
    }

    @Test("--out FILE, --refresh, --json")
    func outRefreshJSON() throws {
        let t = TemporaryDirectory("mreg-dashboard-cli")
        let reg = try exampleRegistry(in: t)
        let r = Mreg.run(["dashboard", "churn", "--out", t.join("wall/churn-page.html"), "--refresh", "60", "--json"], cwd: t.path, registry: reg)
        #expect(r.status == 2, "the directory of --out FILE must exist: \(r)")
        #expect(r.stderr.hasPrefix("mreg: error: ") && r.stderr.contains("wall does not exist"), "\(r)")
        _ = t.mkdir("wall")
        let ok = Mreg.run(["dashboard", "churn", "--out", t.join("wall/churn-page.html"), "--refresh", "60", "--json"], cwd: t.path, registry: reg)
        #expect(ok.status == 0, "\(ok)")
        #expect(ok.json["page"] as? String == t.join("wall/churn-page.html"))
        #expect((ok.json["bytes"] as? Int ?? 0) == page(t, "wall/churn-page.html").utf8.count)
        let html = page(t, "wall/churn-page.html")
        #expect(html.contains(#"<meta http-equiv="refresh" content="60"/>"#))
        // churn's versions were registered from predictions: intervals are drawn, churn@2 was blocked.
        #expect(html.contains("class=\"iv\"") && html.contains("blocked for production"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.join("wall")) == ["churn-page.html"], "no temporary file left")
    }

    @Test("--all --out DIR: a page per model and an index linking them with each model's status")
    func all() throws {
        let t = TemporaryDirectory("mreg-dashboard-cli")
        let reg = try exampleRegistry(in: t)
        let r = Mreg.run(["dashboard", "--all", "--out", t.join("site/models")], cwd: t.path, registry: reg)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout == "wrote \(t.join("site/models"))/index.html and 2 model pages\n", "\(r)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: t.join("site/models"))) == ["index.html", "fraud.html", "churn.html"])
        let index = page(t, "site/models/index.html")
        #expect(index.contains(#"<a href="fraud.html">fraud</a>"#) && index.contains(#"<a href="churn.html">churn</a>"#))
        #expect(index.contains("@1 since 2026-10-20, unsigned"), "fraud's production champion")
        #expect(index.contains("not monitored"))
        #expect(page(t, "site/models/fraud.html").contains("id=\"panel-gates\""))
        // Again into the same directory: pages replaced, still three files.
        #expect(Mreg.run(["dashboard", "--all", "--out", t.join("site/models")], cwd: t.path, registry: reg).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.join("site/models")).count == 3)
    }

    @Test("bad invocations exit 2 with one line and write nothing", arguments: [
        (["dashboard"], "give a model name"),
        (["dashboard", "nosuch"], "nosuch"),
        (["dashboard", "Fraud"], "upper-case"),
        (["dashboard", "fraud", "--refresh", "0"], "--refresh must be between 1 and 86400"),
        (["dashboard", "fraud", "--refresh", "soon"], "--refresh"),
        (["dashboard", "--all"], "--all needs --out DIR"),
        (["dashboard", "fraud", "--all", "--out", "x"], "not both"),
        (["dashboard", "--all", "--out", "afile"], "not a directory"),
        (["dashboard", "fraud", "--out", "."], "is a directory"),
    ])
    func badInput(args: [String], says: String) throws {
        let t = TemporaryDirectory("mreg-dashboard-cli")
        let reg = try exampleRegistry(in: t)
        t.write("afile", "x")
        let before = TreeSnapshot(t.path)
        let r = Mreg.run(args, cwd: t.path, registry: reg)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.hasPrefix("mreg: error: ") && r.stderr.contains(says) && r.stderr.split(separator: "\n").count == 1, "\(r)")
        #expect(TreeSnapshot(t.path) == before, "nothing written")
    }

    @Test("a model with a policy and no version yet, and one never promoted, get a page that says so")
    func emptyModels() throws {
        let t = TemporaryDirectory("mreg-dashboard-cli")
        #expect(Mreg.run(["init"], cwd: t.path).status == 0)
        t.write("gates.yaml", "stages:\n  production:\n    gates:\n      - f1 >= 0.7\n")
        t.write("m.json", #"{"f1": 0.8}"#)
        t.write("model/w.bin", randomBytes(10))
        #expect(Mreg.run(["gates", "empty", "--set", "gates.yaml"], cwd: t.path).status == 0)
        #expect(Mreg.run(["register", "fresh", "model", "--metrics", "m.json"], cwd: t.path).status == 0)
        let e = Mreg.run(["dashboard", "empty"], cwd: t.path)
        #expect(e.status == 0, "\(e)")
        let empty = page(t, "empty.html")
        #expect(empty.contains("No version registered yet.") && empty.contains("No stage has a champion yet"))
        let f = Mreg.run(["dashboard", "fresh"], cwd: t.path)
        #expect(f.status == 0, "\(f)")
        let fresh = page(t, "fresh.html")
        #expect(fresh.contains("what `mreg check` says for production now") && fresh.contains("default policy"), "the gates fresh@1 would meet")
        #expect(fresh.contains("f1 across versions"))
    }
}
