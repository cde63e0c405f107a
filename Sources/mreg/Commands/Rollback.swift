import ArgumentParser
import MregCore

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put the previous (or a named earlier) champion of a stage back, on the record.",
        discussion: """
            Without --to, restores the champion the current one replaced when it was promoted, so \
            rolling back twice goes two promotions back (right after a rollback, NAME@STAGE~1 is the \
            version rolled back from, since ~K counts every champion change). --to REF restores a \
            version that was champion of the stage before. Gates are not evaluated; the reason is recorded.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "name"))
    var name: String

    @Option(name: .long, help: ArgumentHelp("The stage to roll back.", valueName: "stage"))
    var stage: String = "production"

    @Option(name: .long, help: ArgumentHelp("An earlier champion of the stage to restore.", valueName: "ref"))
    var to: String?

    @Option(name: .long, help: "Why (required, recorded in the history).")
    var reason: String

    @OptionGroup var signing: SignOptions

    func run() throws {
        let model = try ModelName(name)
        let stageName = try StageName(stage)
        let toRef = try to.map { try VersionRef($0) }
        let r = try global.open().rollback(model, stage: stageName, to: toRef, reason: reason, signer: signing.signer())
        if global.json {
            Output.json(.object([
                "model": .string(model.value), "stage": .string(stageName.value),
                "from": .string("\(model)@\(r.from.version)"), "to": .string("\(model)@\(r.to.version)"),
                "entry": .object(["id": .string(r.entryID.description), "seq": .number(Double(r.entry.seq))]),
            ]))
        } else {
            Output.line("ROLLED BACK: \(model)@\(r.to.version) is champion of \(stageName) again (was \(model)@\(r.from.version))")
            signing.report(global, r.entry)
        }
    }
}
