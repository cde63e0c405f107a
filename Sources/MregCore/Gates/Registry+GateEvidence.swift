/// What a gate evaluation reads beyond the metric sets: the evaluations recorded with the
/// candidate and the champion, and their predictions when a rule is decided with confidence.
extension Registry {
    func addEvidence(to context: inout GateContext, candidate: VersionRecord, champion: VersionRecord?, stage: StagePolicy?) {
        context.candidateEvaluation = candidate.evaluation
        context.championEvaluation = champion?.evaluation
        addProductionEvidence(to: &context, candidate: candidate, champion: champion, stage: stage)
        guard let stage, let champion, stage.gates.contains(where: { stage.confidence(of: $0) != nil }) else { return }
        context.candidatePredictions = load(candidate)
        context.championPredictions = load(champion)
    }

    private func load(_ record: VersionRecord) -> LoadedPredictions {
        do { return .table(try predictions(of: record)) } catch let e as MregError {
            return .unavailable(e.message)
        } catch {
            return .unavailable("\(record.name): \(error)")
        }
    }
}
