/// Reads a batch of production rows (docs/production.md) into a `BatchSummary`, checking every
/// row: a time on every row (not further in the future than `futureTolerance`), versions of this
/// model that exist, scores in [0, 1], classes 0/1. Errors name the file, line and column (exit 2).
///
/// With `labels` it reads a stored batch again to join late labels by id instead: only labelled
/// counts go into the summary, under the row's own version and hour.
final class ObservationReader: TableConsumer {
    /// Roles of a production table and their conventional column names.
    static let roles = ["id", "time", "version", "score", "prediction", "label", "human", "outcome"]
    /// How far in the future a row's time may lie (clocks disagree a little).
    static let futureTolerance = 300.0

    let source: String
    let model: ModelName
    let defaultVersion: Int
    let committedVersions: Int
    let thresholdOf: (Int) throws -> Double
    let overrides: [String: String]
    let now: Double
    /// Join mode: id → label; rows whose id is here get that label.
    var labels: [String: UInt8]?
    /// Join mode: ids given a label; ids found in the batch at all (some rows were labelled already).
    private(set) var matched: Set<String> = []
    private(set) var found: Set<String> = []
    private(set) var alreadyLabelled = 0

    private var names: [String] = []
    private var index: [String: Int] = [:]
    /// Buckets no longer being filled, and the one open bucket of each version (rows come in
    /// time order, so a version's hour changes rarely): counts are updated in place, without
    /// copying their histograms for every row.
    private var stored = BatchSummary()
    private var open: [(version: Int, hour: Int64, counts: ProductionCounts)] = []

    var summary: BatchSummary {
        var s = stored
        for o in open { s.buckets[o.version, default: [:]][o.hour] = o.counts }
        return s
    }

    /// The index in `open` of the bucket of (v, hour), opening it (and closing v's previous one).
    private func bucket(_ v: Int, _ hour: Int64) -> Int {
        for i in open.indices where open[i].version == v {
            if open[i].hour == hour { return i }
            stored.buckets[v, default: [:]][open[i].hour] = open[i].counts
            open[i].hour = hour
            open[i].counts = stored.buckets[v]?.removeValue(forKey: hour) ?? ProductionCounts()
            return i
        }
        open.append((v, hour, stored.buckets[v]?.removeValue(forKey: hour) ?? ProductionCounts()))
        return open.count - 1
    }
    private(set) var rows = 0
    private(set) var timeFrom = Double.infinity, timeTo = -Double.infinity
    private(set) var used: [String: String] = [:]

    init(source: String, model: ModelName, defaultVersion: Int, committedVersions: Int, overrides: [String: String] = [:],
         now: Double, thresholdOf: @escaping (Int) throws -> Double) {
        self.source = source; self.model = model; self.defaultVersion = defaultVersion
        self.committedVersions = committedVersions; self.overrides = overrides; self.now = now; self.thresholdOf = thresholdOf
    }

    /// `--col ROLE=NAME` items as role → column, refusing unknown roles.
    static func overrides(_ items: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        for item in items {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex, item.index(after: eq) != item.endIndex else {
                throw MregError.invalid("--col \(ModelName.show(item)): expected ROLE=NAME")
            }
            let role = String(item[..<eq])
            guard roles.contains(role) else { throw MregError.invalid("--col \(ModelName.show(item)): unknown role (roles: \(roles.joined(separator: ", ")))") }
            if out[role] != nil { throw MregError.invalid("--col \(role) is given twice") }
            out[role] = String(item[item.index(after: eq)...])
        }
        return out
    }

    private func fail(_ line: Int, _ role: String, _ reason: String) -> MregError {
        MregError.invalid("\(source): line \(line), column \"\(index[role].map { names[$0] } ?? role)\": \(reason)")
    }

    func header(_ columns: [String]) throws {
        names = columns
        let position = Dictionary(columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let shown = columns.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ") + (columns.count > 20 ? ", …" : "")
        for role in Self.roles {
            let name = overrides[role] ?? role
            if let i = position[name] { index[role] = i; used[role] = name } else if overrides[role] != nil {
                throw MregError.invalid("--col \(role)=\(name): \(source) has no column \"\(name)\" (columns: \(shown))")
            }
        }
        if index["id"] == nil { throw MregError.invalid("\(source): no \"id\" column (columns: \(shown)); production rows need an id to join late labels") }
        if index["time"] == nil { throw MregError.invalid("\(source): no \"time\" column (columns: \(shown)); production rows need a time") }
        if index["score"] == nil && index["prediction"] == nil {
            throw MregError.invalid("\(source): no \"score\" or \"prediction\" column (columns: \(shown)); production rows need the model's output")
        }
        at = Self.roles.map { index[$0] }
    }

    /// The column of each role (in `roles` order), looked up once per file rather than per row.
    private var at: [Int?] = []
    private enum Role: Int { case id, time, version, score, prediction, label, human, outcome }

    private func number(_ row: TableRow, _ role: Role) throws -> Double? {
        guard let i = at[role.rawValue] else { return nil }
        switch row.field(i).number() {
        case .success(let v): return v
        case .failure(.empty): return nil
        case .failure: throw fail(row.line, Self.roles[role.rawValue], "\(PredictionBuilder.shown(row.field(i).text)) is not a number")
        }
    }

    /// A class 0/1 (true/false), or nil when the value is empty.
    private func cls(_ row: TableRow, _ role: Role) throws -> UInt8? {
        guard let i = at[role.rawValue] else { return nil }
        let f = row.field(i)
        switch f {
        case .json(.bool(let b)): return b ? 1 : 0
        case .text(let b) where b.elementsEqual("true".utf8): return 1
        case .text(let b) where b.elementsEqual("false".utf8): return 0
        default: break
        }
        guard let v = try number(row, role) else { return nil }
        guard v == 0 || v == 1 else { throw fail(row.line, Self.roles[role.rawValue], "\(PredictionBuilder.shown(f.text)) is not 0 or 1 (true or false)") }
        return UInt8(v)
    }

    private var thresholdCache: [Int: Double] = [:]
    private var lastThreshold = (version: 0, value: 0.0)

    private func version(_ row: TableRow) throws -> Int {
        guard let i = at[Role.version.rawValue] else { return defaultVersion }
        let f = row.field(i)
        if f.isEmpty { return defaultVersion }
        var text = f.text
        if let at = text.lastIndex(of: "@") {
            let name = String(text[..<at])
            guard name == model.value else {
                throw fail(row.line, "version", "\(PredictionBuilder.shown(text)) names a version of another model; this batch is for \(model)")
            }
            text = String(text[text.index(after: at)...])
        }
        guard let n = Int(text), n >= 1 else { throw fail(row.line, "version", "\(PredictionBuilder.shown(f.text)) is not a version (N or \(model)@N)") }
        guard n <= committedVersions else {
            throw fail(row.line, "version", "\(model)@\(n) does not exist (\(model) has \(committedVersions) version\(committedVersions == 1 ? "" : "s"))")
        }
        return n
    }

    func row(_ row: TableRow) throws {
        rows += 1
        let idField = row.field(at[Role.id.rawValue]!)
        if idField.isEmpty { throw fail(row.line, "id", "empty id; every row needs one") }
        let tf = row.field(at[Role.time.rawValue]!)
        if tf.isEmpty { throw fail(row.line, "time", "empty value; every production row needs a time") }
        guard let t = TimeText.parse(tf) else {
            throw fail(row.line, "time", "\(PredictionBuilder.shown(tf.text)) is neither an RFC 3339 time (2026-10-01T12:00:00Z) nor Unix seconds")
        }
        if t > now + Self.futureTolerance {
            throw fail(row.line, "time", "\(TimeText.format(t)) is in the future (now is \(TimeText.format(now)); \(Int(Self.futureTolerance)) s of clock skew are allowed)")
        }
        timeFrom = min(timeFrom, t); timeTo = max(timeTo, t)
        let v = try version(row)
        let threshold: Double
        if v == lastThreshold.version { threshold = lastThreshold.value } else if let c = thresholdCache[v] { threshold = c } else {
            threshold = try thresholdOf(v)
            thresholdCache[v] = threshold
            stored.thresholds[v] = threshold
        }
        lastThreshold = (v, threshold)
        let score = try number(row, .score)
        if let s = score, !(s >= 0 && s <= 1) {
            throw fail(row.line, "score", "\(PredictionBuilder.shown(row.field(at[Role.score.rawValue]!).text)) is outside [0, 1]; a score is the probability of class 1")
        }
        let predicted = try cls(row, .prediction)
        guard let decision = predicted ?? score.map({ $0 >= threshold ? 1 : 0 }) else {
            throw fail(row.line, at[Role.score.rawValue] != nil ? "score" : "prediction", "empty value; every row needs the model's output")
        }
        let label = try cls(row, .label)
        let human = try cls(row, .human)
        let outcome = try number(row, .outcome)
        let hour = BatchSummary.hour(t)
        if let join = labels {
            let id = idField.text
            guard let late = join[id] else { return }
            found.insert(id)
            if label != nil { alreadyLabelled += 1; return }
            matched.insert(id)
            open[bucket(v, hour)].counts.addLabel(late, decision: decision, score: score)
            return
        }
        let i = bucket(v, hour)
        open[i].counts.rows += 1
        if let score { open[i].counts.addScore(score) }
        if decision == 1 { open[i].counts.decidedPositive += 1 }
        if let label { open[i].counts.addLabel(label, decision: decision, score: score) }
        if let human { open[i].counts.addHuman(human, decision: decision) }
        if let outcome { open[i].counts.addOutcome(outcome) }
    }
}

/// Reads a late-labels file: `id`, `label` (0/1)[, `time`]. Ids must be unique.
final class LabelReader: TableConsumer {
    let source: String
    private var idIndex = -1, labelIndex = -1
    private(set) var labels: [String: UInt8] = [:]
    private var firstLine: [String: Int] = [:]

    init(source: String) { self.source = source }

    func header(_ columns: [String]) throws {
        let shown = columns.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ")
        guard let i = columns.firstIndex(of: "id") else { throw MregError.invalid("\(source): no \"id\" column (columns: \(shown))") }
        guard let l = columns.firstIndex(of: "label") else { throw MregError.invalid("\(source): no \"label\" column (columns: \(shown))") }
        idIndex = i; labelIndex = l
    }

    func row(_ row: TableRow) throws {
        let idf = row.field(idIndex)
        if idf.isEmpty { throw MregError.invalid("\(source): line \(row.line), column \"id\": empty id; every row needs one") }
        let id = idf.text
        let f = row.field(labelIndex)
        let label: UInt8
        switch f {
        case .json(.bool(let b)): label = b ? 1 : 0
        case .text(let b) where b.elementsEqual("true".utf8): label = 1
        case .text(let b) where b.elementsEqual("false".utf8): label = 0
        default:
            guard case .success(let v) = f.number(), v == 0 || v == 1 else {
                throw MregError.invalid("\(source): line \(row.line), column \"label\": \(PredictionBuilder.shown(f.text)) is not 0 or 1 (true or false)")
            }
            label = UInt8(v)
        }
        if let first = firstLine[id] {
            throw MregError.invalid("\(source): line \(row.line), column \"id\": id \(PredictionBuilder.shown(id)) appears again (first on line \(first)); ids must be unique")
        }
        firstLine[id] = row.line
        labels[id] = label
    }
}
