#if canImport(Glibc)
import Glibc
#endif

/// What `observe` did.
public struct ObserveResult: Sendable {
    /// The entry appended, or the earlier entry of the same bytes (then `duplicate` is true and
    /// nothing was written).
    public var entry: ObservationBatch
    public var duplicate: Bool
}

extension Registry {
    /// `models/NAME/OBSERVATIONS`: the id of the newest observation log entry (docs/format.md).
    func observationsRefPath(_ m: ModelName) -> String { modelDir(m) + "/OBSERVATIONS" }

    /// The model's observation log, oldest entry first (batches and late labels, in the order they
    /// were appended).
    public func observationLog(_ m: ModelName) throws -> [ObservationBatch] {
        var out: [ObservationBatch] = []
        var next = try readRef(observationsRefPath(m))
        while let id = next {
            let e = try observationEntry(id)
            guard e.model == m else { throw MregError.corrupt("observation log of \(m): entry \(id) belongs to \(e.model)") }
            out.append(e)
            next = e.prev
        }
        return out.reversed()
    }

    /// The batches of production rows observed for a model, in time order (first row's time, then
    /// the order observed): what Monitoring and `perf` read. Late-labels entries are left out.
    public func observations(of m: ModelName) throws -> [ObservationBatch] {
        try observationLog(m).filter { !$0.isLabels }.sorted { ($0.timeFrom ?? 0, $0.seq) < ($1.timeFrom ?? 0, $1.seq) }
    }

    /// The summary of a batch or labels entry (counts per version and hour, `features` if any).
    public func summary(of b: ObservationBatch) throws -> BatchSummary {
        let bytes = try store.get(b.summaryObject, limit: 256 << 20)
        guard let json = try? JSON.parse(bytes) else { throw MregError.corrupt("observation summary \(b.summaryObject) is not valid JSON") }
        return try BatchSummary(json: json, source: "observation summary \(b.summaryObject)")
    }

    func observationEntry(_ id: ObjectID) throws -> ObservationBatch {
        let bytes = try store.get(id, limit: 16 << 20)
        guard let json = try? JSON.parse(bytes) else { throw MregError.corrupt("observation entry \(id) is not valid JSON") }
        return try ObservationBatch(json: json, id: id, source: "observation entry \(id)")
    }

    /// Marks every object the model's observation log reaches (gc and fsck).
    func markObservations(_ m: ModelName, _ mark: (ObjectID) throws -> Void) throws {
        for e in try observationLog(m) {
            try mark(e.id!)
            try mark(e.rowsObject)
            try mark(e.summaryObject)
        }
    }

    /// Now, in Unix seconds (`MREG_TIME` when set, as every recorded time).
    static func nowSeconds() -> Double { TimeText.parse(Clock.nowISO()) ?? Clock.now() }

    /// The decision threshold of a version: its evaluation's, else 0.5.
    func threshold(_ m: ModelName, _ n: Int, state: ModelState) throws -> Double {
        try record(recordID(m, n, state: state)).evaluation?.threshold ?? 0.5
    }

    /// Appends a batch of production rows served by `ref` (rows with a `version` column name their
    /// own) to the model's observation log. The same bytes observed again are not added twice.
    ///
    /// The batch's feature columns are profiled in the same read (`BatchFeatures`, kept as the
    /// summary's `features` key); `features`, when given, replaces that profile with what it returns.
    public func observe(_ ref: VersionRef, path: String, source: ObservationSource, format: String? = nil, columns: [String] = [],
                        features: ((_ path: String, _ format: TableFormat) throws -> JSON?)? = nil) throws -> ObserveResult {
        guard source != .labels else { throw MregError.invalid("--source labels: give labels with --labels FILE") }
        let v = try resolve(ref)
        let m = v.model
        let state = try headEntry(m).entry.state
        let fmt = try TableFormat.of(path: path, explicit: format)
        let src = "observations file \(path)"
        let reader = ObservationReader(source: src, model: m, defaultVersion: v.version, committedVersions: state.versions,
                                       overrides: try ObservationReader.overrides(columns), now: Self.nowSeconds()) { [self] n in
            try threshold(m, n, state: state)
        }
        // Feature columns are profiled in the same read (Monitoring/BatchFeatures.swift).
        let servedRecord = try record(of: v)
        let profiler = BatchFeatureProfiler(counter: reader, reference: try referenceProfile(of: servedRecord), source: src)
        // Objects first, outside the model's lock (a large batch takes a while), under gc's. The
        // file is read once: each buffer is checked and profiled here while a second thread
        // hashes, compresses and writes it as the rows object; a bad row stores nothing.
        let gcGuard = try RegistryLock.shared(root)
        defer { withExtendedLifetime(gcGuard) {} }
        let table = TableReader(source: src, format: fmt, consumer: profiler)
        let stored = try store.putFile(at: path, source: src, consume: { try table.feed($0) }, end: { _ = try table.finish() })
        let rowsID = stored.id
        var summary = reader.summary
        if let features {
            summary.features = try features(path, fmt)
        } else {
            summary.features = try profiler.profile(path: path, format: fmt).map {
                BatchFeatures(version: v.version, reference: servedRecord.referenceProfile, profile: $0).json
            }
        }
        let summaryBytes = summary.json.canonicalBytes
        let file = String(path.split(separator: "/").last ?? Substring(path))
        if let same = try observationLog(m).first(where: { $0.rowsObject == rowsID }) { return ObserveResult(entry: same, duplicate: true) }
        let summaryID = try store.put(summaryBytes)
        return try appendObservation(m, duplicateOf: rowsID) { prev, seq in
            var b = ObservationBatch(model: m, seq: seq, prev: prev, source: source, observedAt: Clock.nowISO(), file: file, format: fmt,
                                     columns: reader.used, rowsObject: rowsID, summaryObject: summaryID,
                                     versions: reader.summary.buckets.keys.sorted(), rows: reader.rows)
            b.timeFrom = reader.timeFrom; b.timeTo = reader.timeTo; b.servedBy = v.version
            return b
        }
    }

    /// Joins late labels (`id`, `label`[, `time`]) to the rows observed earlier, by id. Labels
    /// for ids never observed are counted (`labelsUnknown`), and for ids labelled before
    /// (`labelsDuplicate`); neither is an error.
    public func observeLabels(_ m: ModelName, path: String, format: String? = nil) throws -> ObserveResult {
        let state = try headEntry(m).entry.state
        let fmt = try TableFormat.of(path: path, explicit: format)
        let src = "labels file \(path)"
        let labels = LabelReader(source: src)
        let labelsID = try TableReader.read(path: path, source: src, format: fmt, into: labels)
        let file = String(path.split(separator: "/").last ?? Substring(path))
        // The join reads the log as it is; the commit checks that the log has not moved since,
        // and joins again if it has (another labels file may have labelled the same ids).
        for _ in 0..<20 {
            let logHead = try readRef(observationsRefPath(m))
            let log = try observationLog(m)
            if let same = log.first(where: { $0.rowsObject == labelsID }) { return ObserveResult(entry: same, duplicate: true) }
            var remaining = labels.labels
            var duplicate = 0
            for e in log where e.isLabels {
                let earlier = LabelReader(source: "labels object \(e.rowsObject)")
                try readStored(e.rowsObject, format: e.format, source: earlier.source, into: earlier)
                for id in earlier.labels.keys where remaining.removeValue(forKey: id) != nil { duplicate += 1 }
            }
            var joined = BatchSummary()
            var found = Set<String>(), matched = Set<String>()
            for e in log where !e.isLabels && !remaining.isEmpty {
                let s = try summary(of: e)
                let reader = ObservationReader(source: "observations of \(m) (object \(e.rowsObject.short))", model: m, defaultVersion: e.servedBy ?? e.versions.first ?? 1,
                                               committedVersions: state.versions, overrides: e.columns.filter { $0.key != $0.value }, now: .infinity) { [self] n in
                    try s.thresholds[n] ?? threshold(m, n, state: state)
                }
                reader.labels = remaining
                try readStored(e.rowsObject, format: e.format, source: reader.source, into: reader)
                found.formUnion(reader.found); matched.formUnion(reader.matched)
                for (v, hours) in reader.summary.buckets {
                    joined.thresholds[v] = reader.summary.thresholds[v]
                    for (h, c) in hours { joined.buckets[v, default: [:]][h, default: ProductionCounts()].add(c) }
                }
            }
            let unknown = remaining.keys.filter { !found.contains($0) }.count
            let summaryBytes = joined.json.canonicalBytes
            do {
                return try appendObservation(m, duplicateOf: labelsID, expectedHead: .some(logHead)) { prev, seq in
                    let stored = try store.putFile(at: path)
                    guard stored.id == labelsID else { throw MregError.invalid("\(src) changed while it was read; nothing was observed") }
                    var b = ObservationBatch(model: m, seq: seq, prev: prev, source: .labels, observedAt: Clock.nowISO(), file: file, format: fmt,
                                             columns: ["id": "id", "label": "label"], rowsObject: labelsID, summaryObject: try store.put(summaryBytes),
                                             versions: joined.buckets.keys.sorted(), rows: labels.labels.count)
                    b.labelsMatched = matched.count; b.labelsUnknown = unknown; b.labelsDuplicate = duplicate
                    return b
                }
            } catch is LogMoved {
                continue
            }
        }
        throw MregError.conflict("the observation log of \(m) kept changing while labels were joined; nothing was observed, retry")
    }

    private struct LogMoved: Error {}

    /// Streams a stored table to a consumer.
    func readStored(_ id: ObjectID, format: TableFormat, source: String, into consumer: TableConsumer) throws {
        let reader = TableReader(source: source, format: format, consumer: consumer)
        do {
            try store.stream(id) { try reader.feed($0.bindMemory(to: UInt8.self)) }
            _ = try reader.finish()
        } catch let err as MregError where err.kind == .invalidInput {
            throw MregError.corrupt("\(err.message) (the stored rows no longer read)")
        }
    }

    /// Appends an entry to a model's observation log under the model's lock (the lock of its
    /// history): objects first, then `OBSERVATIONS` is replaced (temp file → fsync → rename →
    /// fsync directory) by the new entry, which names the entry it was built on. An entry whose
    /// `rows_object` is already in the log is not appended again.
    ///
    /// `expectedHead`: the log head the caller's work was based on; if the log moved, `LogMoved`.
    private func appendObservation(_ m: ModelName, duplicateOf rows: ObjectID, expectedHead: ObjectID?? = nil,
                                   _ build: (_ prev: ObjectID?, _ seq: Int) throws -> ObservationBatch) throws -> ObserveResult {
        let gcGuard = try RegistryLock.shared(root)
        defer { withExtendedLifetime(gcGuard) {} }
        let lock = try LockFile.acquire(headPath(m) + ".lock")
        defer { lock.release() }
        let prev = try readRef(observationsRefPath(m))
        if let expectedHead, expectedHead != prev { throw LogMoved() }
        var seq = 0
        if prev != nil {
            let log = try observationLog(m)
            if let same = log.first(where: { $0.rowsObject == rows }) { return ObserveResult(entry: same, duplicate: true) }
            seq = log.last?.seq ?? 0
        }
        var entry = try build(prev, seq + 1)
        let id = try store.put(entry.json.canonicalBytes)
        let dir = modelDir(m)
        try Self.writeFileAtomically(observationsRefPath(m), Array("\(id)\n".utf8), tmpDir: tmpDir) { error in
            let reason = (error as? Sys.Failure)?.reason ?? "\(error)"
            Diagnostics.warn("\(m): the observation is recorded and visible, but syncing \(dir) failed (\(reason)); it may not survive a power loss: check the disk")
        }
        entry.id = id
        return ObserveResult(entry: entry, duplicate: false)
    }
}
