import ArgumentParser
import MregCore

struct Fsck: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify the whole registry.",
        discussion: """
            Re-hashes every object, parses every history entry and version record, checks every \
            hash chain, ref and index. Exits 1 and lists each problem if anything is wrong. \
            On s3://…, every object is downloaded from the bucket and re-hashed (eight at a time; \
            the local cache is not trusted), see docs/remotes.md.
            """)

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let report = try RemoteCLI.url(global).map(RemoteRegistries.fsck) ?? global.open().fsck()
        if global.json {
            Output.json(.object([
                "ok": .bool(report.ok), "objects": .number(Double(report.objects)), "bytes": .number(Double(report.bytes)),
                "models": .number(Double(report.models)), "versions": .number(Double(report.versions)),
                "entries": .number(Double(report.entries)),
                "problems": .array(report.problems.map { .string($0) }), "notes": .array(report.notes.map { .string($0) }),
            ]))
        } else {
            for p in report.problems { Output.line("error: " + Output.field(p)) }
            for n in report.notes { Output.line("note: " + Output.field(n)) }
            let summary = "\(report.objects) objects (\(Output.bytes(report.bytes))), \(report.models) models, \(report.versions) versions, \(report.entries) history entries"
            Output.line(report.ok ? "ok: \(summary)" : "\(report.problems.count) problem\(report.problems.count == 1 ? "" : "s") in \(summary)")
        }
        if !report.ok { throw ExitCode(1) }
    }
}
