/// Where production rows came from (`--source`).
public enum ObservationSource: String, Sendable, CaseIterable {
    case traffic, canary, ab, human, sample
    /// The source of a late-labels entry.
    case labels
}

/// One entry of a model's observation log (docs/format.md, "Observation log"): a batch of
/// production rows, or a file of late labels joined to earlier rows. Entries are objects chained
/// by `prev`; `models/NAME/OBSERVATIONS` names the newest.
public struct ObservationBatch: Equatable, Sendable {
    public static let type = "mreg.observation"

    /// The entry's object id (filled when read from the log).
    public var id: ObjectID?
    public var model: ModelName
    public var seq: Int
    public var prev: ObjectID?
    public var source: ObservationSource
    public var observedAt: String
    /// The base name of the file the rows came from (for messages only).
    public var file: String
    public var format: TableFormat
    /// Role → column name used.
    public var columns: [String: String]
    /// The rows as the user gave them (a batch) or the labels file.
    public var rowsObject: ObjectID
    /// The `BatchSummary` object: counts per version and hour.
    public var summaryObject: ObjectID
    /// Versions that served rows (a batch) or got labels (a labels entry).
    public var versions: [Int]
    /// The version `REF` resolved to: the version of rows that do not name one (a batch).
    public var servedBy: Int?
    public var rows: Int
    /// Times of the first and last row (a batch).
    public var timeFrom: Double?
    public var timeTo: Double?
    /// A labels entry: ids joined to rows, ids never observed, ids labelled before.
    public var labelsMatched: Int?
    public var labelsUnknown: Int?
    public var labelsDuplicate: Int?

    public var isLabels: Bool { source == .labels }

    public var json: JSON {
        var o: [String: JSON] = [
            "type": .string(Self.type), "model": .string(model.value), "seq": .number(Double(seq)),
            "prev": prev.map { .string($0.description) } ?? .null, "source": .string(source.rawValue),
            "observed_at": .string(observedAt), "file": .string(file), "format": .string(format.rawValue),
            "columns": .object(columns.mapValues { .string($0) }), "rows_object": .string(rowsObject.description),
            "summary": .string(summaryObject.description), "versions": .array(versions.map { .number(Double($0)) }),
            "rows": .number(Double(rows)),
        ]
        if let servedBy { o["served_by"] = .number(Double(servedBy)) }
        if let timeFrom, let timeTo { o["time"] = .object(["from": .string(TimeText.format(timeFrom)), "to": .string(TimeText.format(timeTo))]) }
        if let labelsMatched, let labelsUnknown, let labelsDuplicate {
            o["labels"] = .object(["matched": .number(Double(labelsMatched)), "unknown": .number(Double(labelsUnknown)),
                                   "duplicate": .number(Double(labelsDuplicate))])
        }
        return .object(o)
    }

    init(model: ModelName, seq: Int, prev: ObjectID?, source: ObservationSource, observedAt: String, file: String, format: TableFormat,
         columns: [String: String], rowsObject: ObjectID, summaryObject: ObjectID, versions: [Int], rows: Int) {
        self.model = model; self.seq = seq; self.prev = prev; self.source = source; self.observedAt = observedAt; self.file = file
        self.format = format; self.columns = columns; self.rowsObject = rowsObject; self.summaryObject = summaryObject
        self.versions = versions; self.rows = rows
    }

    init(json: JSON, id: ObjectID, source where: String) throws {
        func fail(_ what: String) -> MregError { MregError.corrupt("\(`where`): \(what)") }
        func oid(_ key: String) throws -> ObjectID {
            guard let s = json[key]?.string, let id = ObjectID(s) else { throw fail("\(key) is not an object id") }
            return id
        }
        guard json["type"]?.string == Self.type else { throw fail("not an observation log entry") }
        guard let m = json["model"]?.string, let model = try? ModelName(m) else { throw fail("bad model") }
        guard let seq = json["seq"]?.int, seq >= 1 else { throw fail("bad seq") }
        guard let s = json["source"]?.string, let src = ObservationSource(rawValue: s) else { throw fail("bad source") }
        guard let f = json["format"]?.string, let format = TableFormat(rawValue: f) else { throw fail("bad format") }
        guard case .array(let vs)? = json["versions"] else { throw fail("bad versions") }
        guard case .object(let cols)? = json["columns"] else { throw fail("bad columns") }
        self.init(model: model, seq: seq, prev: json["prev"]?.isNull == false ? try oid("prev") : nil, source: src,
                  observedAt: json["observed_at"]?.string ?? "", file: json["file"]?.string ?? "", format: format,
                  columns: cols.compactMapValues { $0.string }, rowsObject: try oid("rows_object"), summaryObject: try oid("summary"),
                  versions: vs.compactMap { $0.int }, rows: json["rows"]?.int ?? 0)
        self.id = id
        servedBy = json["served_by"]?.int
        if let t = json["time"] {
            timeFrom = t["from"]?.string.flatMap { TimeText.parse($0) }
            timeTo = t["to"]?.string.flatMap { TimeText.parse($0) }
        }
        if let l = json["labels"] {
            labelsMatched = l["matched"]?.int; labelsUnknown = l["unknown"]?.int; labelsDuplicate = l["duplicate"]?.int
        }
    }
}
