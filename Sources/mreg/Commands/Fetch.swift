import ArgumentParser
import MregCore

struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a version's artifacts into a directory, verified and atomically.",
        discussion: """
            The tree is built beside --out and renamed into place once every file's hash is verified, \
            so DIR appears complete or not at all. DIR must not exist or be empty, unless --force; a DIR that already holds exactly this version (same files, sizes, modes, and bytes, all re-hashed) is left as it is: "already up to date", exit 0.

            Every step is taken through directory handles opened one component at a time without following a symbolic link, so a link swapped into the path during the fetch makes it fail, never write elsewhere. DIR must not be inside a registry or contain this one, however it is reached (.., a bind mount).
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The version to fetch: NAME@N, NAME@STAGE (its champion), NAME@STAGE~K (K champion changes back), NAME (the latest) or sha256:PREFIX.", valueName: "ref"))
    var ref: String

    @Option(name: .long, help: ArgumentHelp("The directory to create (required).", valueName: "dir"))
    var out: String

    @Flag(name: .long, help: "Replace the contents of a non-empty --out (atomically).")
    var force = false

    @OptionGroup var verification: VerifyOptions

    func run() throws {
        let versionRef = try VersionRef(ref)
        let registry = try global.open()
        let verifier = try verification.make(versionRef)
        var verified: Verification?
        var check: ((ResolvedVersion, VersionRecord) throws -> Void)?
        if let (v, s) = verifier { check = { verified = try v.verify(registry, $0, $1, stage: s) } }
        let r = try registry.fetch(versionRef, out: out, force: force, progress: TerminalProgress.make(json: global.json), check: check)
        if let v = verifier?.0, let verified { try v.commit(verified) }
        if global.json {
            var o = Views.resolved(r.version).object!
            o["out"] = .string(r.out)
            o["files"] = .number(Double(r.files))
            o["bytes"] = .number(Double(r.bytes))
            if let verified { o["verified"] = VerifyOptions.json(verified) }
            o["up_to_date"] = .bool(r.upToDate)
            Output.json(.object(o))
        } else {
            if r.upToDate {
                Output.line(Output.field(r.out) + " already holds \(r.version.name) (\(r.files) file\(r.files == 1 ? "" : "s"), \(Output.bytes(r.bytes)), verified): already up to date")
            } else {
                Output.line("fetched \(r.version.name) (\(r.files) file\(r.files == 1 ? "" : "s"), \(Output.bytes(r.bytes))) into \(Output.field(r.out))")
            }
            if let verified { Output.line(Output.field(VerifyOptions.line(verified))) }
        }
    }
}
