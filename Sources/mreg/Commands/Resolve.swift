import ArgumentParser
import MregCore

struct Resolve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the version a name resolves to and its record id (for scripts).",
        discussion: """
            Prints `NAME@N sha256:<id>`. In NAME@STAGE~K, every promotion, override and rollback of \
            the stage is one step back; a sha256:PREFIX needs at least 8 hex digits.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The version to resolve: NAME@N, NAME@STAGE (its champion), NAME@STAGE~K (K champion changes back), NAME (the latest) or sha256:PREFIX.", valueName: "ref"))
    var ref: String

    @OptionGroup var verification: VerifyOptions

    func run() throws {
        let versionRef = try VersionRef(ref)
        let verifier = try verification.make(versionRef)
        let registry = try global.open()
        let v = try registry.resolve(versionRef)
        let verified = try verifier.map { try $0.0.verify(registry, v, registry.record(of: v), stage: $0.1) }
        if global.json {
            var o = Views.resolved(v).object!
            if let verified { o["verified"] = VerifyOptions.json(verified) }
            Output.json(.object(o))
        } else {
            Output.line("\(v.name) \(v.recordID)")
            if let verified { Output.line(VerifyOptions.line(verified)) }
        }
    }
}
