import ArgumentParser
import MregCore

struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove objects that no history references, and old temporary files.",
        discussion: """
            Safe while other commands run: gc waits for commands that are writing objects and keeps \
            them out while it works, and it keeps unreferenced objects younger than --grace. \
            If any history cannot be read completely, gc removes nothing. On s3://… there is no \
            lock across machines: gc removes only unreferenced objects whose LastModified is older \
            than --grace (default two weeks there), aborts incomplete uploads as old, and removes \
            the local cache's leftovers of dead commands; see docs/remotes.md.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Keep unreferenced objects and temporary files younger than this many seconds (default: 900, 15 minutes; on s3://…, 1209600, two weeks).", valueName: "seconds"))
    var grace: Double?

    @Flag(name: .long, help: "Say what would be removed, remove nothing.")
    var dryRun = false

    func validate() throws {
        guard let grace else { return }
        guard grace >= 0, grace.isFinite else { throw ValidationError("--grace must be a number of seconds, 0 or more") }
    }

    func run() throws {
        let r: GCReport
        if let url = RemoteCLI.url(global) {
            r = try RemoteRegistries.gc(url, grace: grace ?? RemoteRegistries.defaultRemoteGrace, dryRun: dryRun)
        } else {
            r = try global.open().gc(grace: grace ?? 900, dryRun: dryRun)
        }
        if global.json {
            Output.json(.object([
                "removed_objects": .number(Double(r.removedObjects)), "removed_bytes": .number(Double(r.removedBytes)),
                "removed_temps": .number(Double(r.removedTemps)), "kept": .number(Double(r.kept)), "dry_run": .bool(r.dryRun),
            ]))
        } else {
            let verb = dryRun ? "would remove" : "removed"
            Output.line("\(verb) \(r.removedObjects) object\(r.removedObjects == 1 ? "" : "s") (\(Output.bytes(r.removedBytes))) and \(r.removedTemps) leftover file\(r.removedTemps == 1 ? "" : "s") of interrupted commands; kept \(r.kept)")
        }
    }
}
