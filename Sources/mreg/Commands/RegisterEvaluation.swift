import ArgumentParser
import MregCore

/// The options of `register --predictions` (docs/evaluation.md).
struct EvaluationOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Predictions on the evaluation set, CSV or JSON Lines: mreg computes the metrics.", valueName: "file"))
    var predictions: String?

    @Option(name: .long, help: ArgumentHelp("The predictions' format when the extension does not say (.csv, .jsonl).", valueName: "csv|jsonl"))
    var format: String?

    @Option(name: .long, help: ArgumentHelp("The column of a role (id, label, score, prediction, lower, upper, time, weight) (repeatable).", valueName: "role=name"))
    var col: [String] = []

    @Option(name: .long, help: ArgumentHelp("The task, when the columns do not say.", valueName: "binary|regression"))
    var task: String?

    @Option(name: .long, help: ArgumentHelp("Binary: class 1 when score >= T (default 0.5).", valueName: "t"))
    var threshold: Double?

    @Option(name: .long, help: ArgumentHelp("Binary: no decision for LO < score < HI; adds coverage.", valueName: "lo:hi"))
    var abstain: String?

    @Option(name: .long, help: ArgumentHelp("Binary: also compute f<beta> (2 gives f2, 0.5 gives f0.5).", valueName: "b"))
    var beta: Double?

    @Option(name: .long, help: ArgumentHelp("Also compute the metrics per value of this column, at most 100 values (repeatable).", valueName: "col"))
    var sliceBy: [String] = []

    @Option(name: .long, help: ArgumentHelp("Bootstrap resamples for the 95% intervals; 0 for none.", valueName: "n"))
    var bootstrap: Int = 1000

    @Option(name: .long, help: ArgumentHelp("The training data's time range (RFC 3339 times or dates).", valueName: "from..to"))
    var trainWindow: String?

    @Option(name: .long, help: ArgumentHelp("Feature importances: a JSON object or CSV feature,importance.", valueName: "file"))
    var importance: String?

    /// The request, or nil without --predictions (then the other options are refused).
    func request() throws -> PredictionsRequest? {
        guard let predictions else {
            let given = [format.map { _ in "--format" }, col.isEmpty ? nil : "--col", task.map { _ in "--task" },
                         threshold.map { _ in "--threshold" }, abstain.map { _ in "--abstain" }, beta.map { _ in "--beta" },
                         sliceBy.isEmpty ? nil : "--slice-by", trainWindow.map { _ in "--train-window" },
                         importance.map { _ in "--importance" }].compactMap { $0 }
            if let first = given.first { throw ValidationError("\(first) needs --predictions FILE") }
            return nil
        }
        var kind: Evaluation.Task?
        if let task {
            guard let t = Evaluation.Task(rawValue: task) else { throw ValidationError("--task \(task): expected binary or regression") }
            kind = t
        }
        return PredictionsRequest(path: predictions, options: PredictionOptions(format: format, columns: col, task: kind, sliceBy: sliceBy),
                                  threshold: threshold, abstain: abstain, beta: beta, resamples: bootstrap,
                                  trainWindow: trainWindow, importance: importance)
    }
}
