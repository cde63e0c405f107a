/// How to read a predictions table: `--format`, `--col ROLE=NAME`, `--task`, `--slice-by`.
public struct PredictionOptions: Sendable {
    public var format: String?
    /// `ROLE=NAME` as the user gave them.
    public var columns: [String]
    public var task: Evaluation.Task?
    public var sliceBy: [String]

    public init(format: String? = nil, columns: [String] = [], task: Evaluation.Task? = nil, sliceBy: [String] = []) {
        self.format = format; self.columns = columns; self.task = task; self.sliceBy = sliceBy
    }

    /// The roles of docs/evaluation.md, each found by its conventional column name unless
    /// `--col ROLE=NAME` says otherwise.
    public static let roles = ["id", "label", "score", "prediction", "lower", "upper", "time", "weight"]

    /// The `--col` overrides as role → column, refusing unknown roles and roles given twice.
    func overrides() throws -> [String: String] {
        var out: [String: String] = [:]
        for item in columns {
            guard let eq = item.firstIndex(of: "=") else { throw MregError.invalid("--col \(ModelName.show(item)): expected ROLE=NAME") }
            let role = String(item[..<eq]), name = String(item[item.index(after: eq)...])
            guard Self.roles.contains(role) else {
                throw MregError.invalid("--col \(ModelName.show(item)): unknown role \(ModelName.show(role)) (roles: \(Self.roles.joined(separator: ", ")))")
            }
            guard !name.isEmpty else { throw MregError.invalid("--col \(ModelName.show(item)): give a column name after =") }
            if out[role] != nil { throw MregError.invalid("--col \(role) is given twice") }
            out[role] = name
        }
        return out
    }
}

/// A predictions table read and checked, with what is needed to record it.
public struct ReadPredictions: Sendable {
    public var table: PredictionTable
    /// Role → column name used.
    public var columns: [String: String]
    public var format: TableFormat
    /// The id the file's bytes have as an object.
    public var object: ObjectID
    public var evalSet: String
}

public enum PredictionReader {
    /// The most distinct values a `--slice-by` column may have.
    public static let sliceLimit = 100

    /// Reads and checks a predictions file (docs/evaluation.md); every bad row is refused with the
    /// file, line, column and reason (MregError.invalid).
    public static func read(path: String, options: PredictionOptions) throws -> ReadPredictions {
        try read(path: path, options: options, partsFrom: TableReader.partsThreshold)
    }

    /// `read(path:options:)`, reading files of `partsFrom` bytes or more in two parts at once.
    static func read(path: String, options: PredictionOptions, partsFrom: Int) throws -> ReadPredictions {
        let format = try TableFormat.of(path: path, explicit: options.format)
        let overrides = try options.overrides()
        let source = "predictions file \(path)"
        // A large CSV file is read in two parts at once (TableReader+Parts.swift).
        let (id, builder) = try TableReader.read(path: path, source: source, format: format, partsFrom: partsFrom,
                                                 inParts: { PredictionBuilder(source: source, options: options, overrides: overrides) },
                                                 merge: { try $0.append($1, lineOffset: $2) })
        return try builder.finish(format: format, object: id)
    }

    /// Reads a table already stored (`Registry.predictions(of:)`), with the columns recorded.
    static func read(chunks: ((UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Void, source: String, format: TableFormat,
                     columns: [String: String], task: Evaluation.Task, sliceBy: [String]) throws -> ReadPredictions {
        let builder = PredictionBuilder(source: source, options: PredictionOptions(task: task, sliceBy: sliceBy), overrides: columns)
        let reader = TableReader(source: source, format: format, consumer: builder)
        try chunks { try reader.feed($0) }
        let id = try reader.finish()
        return try builder.finish(format: format, object: id)
    }
}

/// Builds a `PredictionTable` row by row, checking each value.
final class PredictionBuilder: TableConsumer {
    let source: String
    let options: PredictionOptions
    let overrides: [String: String]
    private var names: [String] = []
    private var index: [String: Int] = [:]  // role → column index
    private var sliceIndex: [Int] = []
    private var task: Evaluation.Task?
    /// `index` by role, looked up once at the header rather than for every row.
    private struct Roles {
        var id = 0, label = 0
        var score: Int?, prediction: Int?, lower: Int?, upper: Int?, weight: Int?, time: Int?
    }
    private var roles = Roles()

    /// The values read so far, one array per role. Kept in one struct and extended by one
    /// mutating call per row, so that a row costs one access to the builder's storage rather
    /// than one per column (each access to a class's stored property is checked at run time).
    private struct Columns {
        /// The ids' bytes one after the other, and where each ends (`IdList`).
        var idBytes: [UInt8] = []
        var idEnds: [UInt32] = []
        var lines: [Int32] = []
        var labels: [Double] = []
        var scores: [Double] = []
        var predictions: [Double] = []
        var lower: [Double] = []
        var upper: [Double] = []
        var weights: [Double] = []
        var times: [Double] = []
        /// The table's size in bytes when known (`TableConsumer.expect`), and the count and bytes
        /// of the common rows read so far (`appendPlain`): room for the expected rows is reserved
        /// once 1,000 rows have been read, from their mean length, so that the arrays are not
        /// copied as they grow.
        var expectedBytes: Int?
        var plainRows = 0, plainBytes = 0

        mutating func append(_ r: Roles, id: UnsafeBufferPointer<UInt8>, line: Int, label: Double, score: Double, prediction: Double,
                             lower lo: Double, upper hi: Double, weight: Double, time: Double) throws {
            if idEnds.count == 1000 { reserve(r) }
            idBytes.append(contentsOf: id)
            guard let end = UInt32(exactly: idBytes.count) else { throw MregError.invalid("the ids take more than 4 GiB; split the table") }
            idEnds.append(end); lines.append(Int32(clamping: line)); labels.append(label)
            if r.score != nil { scores.append(score) }
            if r.prediction != nil { predictions.append(prediction) }
            if r.lower != nil { lower.append(lo); upper.append(hi) }
            if r.weight != nil { weights.append(weight) }
            if r.time != nil { times.append(time) }
        }

        /// The roles' columns and the task, as the header decided them.
        var roles = Roles()
        var task: Evaluation.Task?

        /// Appends a CSV row when its values are all in their common form (`plainValues`); false,
        /// and nothing appended, otherwise.
        mutating func appendPlain(_ record: CSVRecord, line: Int) throws -> Bool {
            guard let v = plainValues(record) else { return false }
            plainRows += 1
            plainBytes += record.bytes.count + 1
            try append(roles, id: record[roles.id], line: line, label: v.y, score: v.score, prediction: v.prediction,
                       lower: v.lo, upper: v.hi, weight: v.weight, time: 0)
            return true
        }

        /// A CSV row's values when every one is in its common form (an id, a label `0` or `1`, numbers
        /// that parse and pass their checks); nil otherwise, and `row` then reads the row the general
        /// way, which refuses it with the reason. The same values either way, fewer steps.
        @inline(__always)
        func plainValues(_ record: CSVRecord) -> (y: Double, score: Double, prediction: Double, lo: Double, hi: Double, weight: Double)? {
            @inline(__always) func number(_ c: Int) -> Double? {
                if case .success(let v) = NumberText.parse(record[c]) { return v }
                return nil
            }
            @inline(__always) func bit(_ c: Int) -> Double? {
                let b = record[c]
                return b.count == 1 && b[0] &- 0x30 < 2 ? Double(b[0] &- 0x30) : nil
            }
            let r = roles
            guard r.time == nil, !record[r.id].isEmpty else { return nil }
            var out = (y: 0.0, score: 0.0, prediction: 0.0, lo: 0.0, hi: 0.0, weight: 0.0)
            guard let y = bit(r.label) ?? (task == .regression ? number(r.label) : nil) else { return nil }
            out.y = y
            if let c = r.score {
                guard let v = number(c), v >= 0 && v <= 1 else { return nil }
                out.score = v
            }
            if let c = r.prediction {
                guard let v = task == .regression ? number(c) : bit(c) else { return nil }
                out.prediction = v
            }
            if let c = r.lower, let d = r.upper {
                guard let lo = number(c), let hi = number(d), lo <= hi else { return nil }
                (out.lo, out.hi) = (lo, hi)
            }
            if let c = r.weight {
                guard let v = number(c), v >= 0 else { return nil }
                out.weight = v
            }
            return out
        }

        /// Appends the values another part of the same file read (`PredictionBuilder.append`).
        mutating func append(_ o: Columns, lineOffset: Int) throws {
            let base = idBytes.count
            guard UInt32(exactly: base + o.idBytes.count) != nil else { throw MregError.invalid("the ids take more than 4 GiB; split the table") }
            idBytes.append(contentsOf: o.idBytes)
            idEnds.reserveCapacity(idEnds.count + o.idEnds.count)
            for end in o.idEnds { idEnds.append(end + UInt32(base)) }
            lines.reserveCapacity(lines.count + o.lines.count)
            for line in o.lines { lines.append(Int32(clamping: Int(line) + lineOffset)) }
            labels.append(contentsOf: o.labels); scores.append(contentsOf: o.scores); predictions.append(contentsOf: o.predictions)
            lower.append(contentsOf: o.lower); upper.append(contentsOf: o.upper)
            weights.append(contentsOf: o.weights); times.append(contentsOf: o.times)
        }

        private mutating func reserve(_ r: Roles) {
            guard let size = expectedBytes, plainRows >= 100 else { return }
            // A row takes at least two bytes (a value and a line feed): never more rows than that.
            let rows = min(Int(Double(size) / Double(plainBytes) * Double(plainRows) * 1.05), size / 2) + 1024
            idBytes.reserveCapacity(min(Int(Double(idBytes.count) / Double(idEnds.count) * Double(rows)), size)); idEnds.reserveCapacity(rows); lines.reserveCapacity(rows); labels.reserveCapacity(rows)
            if r.score != nil { scores.reserveCapacity(rows) }
            if r.prediction != nil { predictions.reserveCapacity(rows) }
            if r.lower != nil { lower.reserveCapacity(rows); upper.reserveCapacity(rows) }
            if r.weight != nil { weights.reserveCapacity(rows) }
            if r.time != nil { times.reserveCapacity(rows) }
        }
    }
    /// Held through a pointer: a row is appended with no run-time exclusivity check (an access
    /// to a class's stored `var` that spans a call is tracked at run time, per row).
    private let columns: UnsafeMutablePointer<Columns> = {
        let p = UnsafeMutablePointer<Columns>.allocate(capacity: 1)
        p.initialize(to: Columns())
        return p
    }()
    /// The rows in the byte order of their ids (`IdList.byteOrder`), when it was made for each
    /// part of a file read in parts (`partRead`) and the parts' orders merged (`append`).
    private var order: [UInt32]?
    private var sliceCodes: [[UInt8]] = []
    private var sliceValues: [[String: UInt8]] = []

    deinit {
        columns.deinitialize(count: 1)
        columns.deallocate()
    }

    init(source: String, options: PredictionOptions, overrides: [String: String]) {
        self.source = source
        self.options = options
        self.overrides = overrides
        self.task = options.task
    }

    private func fail(_ line: Int, _ role: String, _ reason: String) -> MregError {
        let column = index[role].map { names[$0] } ?? role
        return MregError.invalid("\(source): line \(line), column \"\(column)\": \(reason)")
    }

    func expect(bytes: Int) { columns.pointee.expectedBytes = bytes }

    func header(_ columns: [String]) throws {
        names = columns
        let position = Dictionary(columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let shown = columns.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ") + (columns.count > 20 ? ", …" : "")
        for role in PredictionOptions.roles {
            if let name = overrides[role] {
                guard let i = position[name] else {
                    throw MregError.invalid("--col \(role)=\(name): \(source) has no column \"\(name)\" (columns: \(shown))")
                }
                index[role] = i
            } else if let i = position[role] {
                index[role] = i
            }
        }
        for role in ["id", "label"] where index[role] == nil {
            throw MregError.invalid("\(source): no \"\(role)\" column (columns: \(shown)); name it with --col \(role)=NAME")
        }
        if index["score"] == nil && index["prediction"] == nil {
            throw MregError.invalid("\(source): no \"score\" or \"prediction\" column (columns: \(shown)); name one with --col score=NAME or --col prediction=NAME")
        }
        if (index["lower"] == nil) != (index["upper"] == nil) {
            throw MregError.invalid("\(source): a prediction interval needs both \"lower\" and \"upper\" columns")
        }
        if task == nil {
            if index["score"] != nil { task = .binary } else if index["lower"] != nil { task = .regression }
        }
        if task == .regression && index["prediction"] == nil {
            throw MregError.invalid("\(source): a regression needs a \"prediction\" column (columns: \(shown))")
        }
        if task == .binary && index["lower"] != nil {
            throw MregError.invalid("\(source): \"lower\"/\"upper\" are regression columns, but the task is binary")
        }
        var seen: Set<String> = []
        for col in options.sliceBy {
            guard let i = position[col] else { throw MregError.invalid("--slice-by \(col): \(source) has no column \"\(col)\" (columns: \(shown))") }
            guard seen.insert(col).inserted else { throw MregError.invalid("--slice-by \(col) is given twice") }
            sliceIndex.append(i)
        }
        roles = Roles(id: index["id"]!, label: index["label"]!, score: index["score"], prediction: index["prediction"],
                      lower: index["lower"], upper: index["upper"], weight: index["weight"], time: index["time"])
        self.columns.pointee.roles = roles
        self.columns.pointee.task = task
        sliceCodes = Array(repeating: [], count: sliceIndex.count)
        sliceValues = Array(repeating: [:], count: sliceIndex.count)
    }

    private func number(_ row: TableRow, _ column: Int, _ role: String) throws -> Double {
        switch row.field(column).number() {
        case .success(let v): return v
        case .failure(.empty): throw fail(row.line, role, "empty value; every row needs a \(role)")
        case .failure(.notFinite): throw fail(row.line, role, "\(shown(row, role)) is not a finite number")
        case .failure(.notANumber): throw fail(row.line, role, "\(shown(row, role)) is not a number")
        }
    }

    private func shown(_ row: TableRow, _ role: String) -> String {
        Self.shown(row.field(index[role]!).text)
    }

    /// A value for an error message: as it is when it is short printable ASCII, else quoted and escaped.
    static func shown(_ t: String) -> String {
        if !t.isEmpty, t.utf8.count <= 40, t.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 34 }) { return t }
        return ModelName.show(t.count > 40 ? String(t.prefix(40)) + "…" : t)
    }

    /// A class: 0, 1, true or false; for a task not yet known, any number.
    private func label(_ row: TableRow, _ column: Int, _ role: String) throws -> Double {
        let f = row.field(column)
        switch f {
        case .json(.bool(let b)): return b ? 1 : 0
        case .text(let b) where b.count == 4 && b.elementsEqual("true".utf8): return 1
        case .text(let b) where b.count == 5 && b.elementsEqual("false".utf8): return 0
        default: break
        }
        let v = try number(row, column, role)
        if task == .binary && v != 0 && v != 1 {
            throw fail(row.line, role, "\(shown(row, role)) is not 0 or 1 (true or false) in a binary task")
        }
        return v
    }

    func row(_ row: TableRow) throws {
        // One access to the builder's storage for a common CSV row (`Columns.appendPlain`).
        let plain = try row.csv.map { try columns.pointee.appendPlain($0, line: row.line) } ?? false
        if !plain { try generalRow(row, roles) }
        if !sliceIndex.isEmpty { try slices(row) }
    }

    private func generalRow(_ row: TableRow, _ r: Roles) throws {
        let idField = row.field(r.id)
        if idField.isEmpty { throw fail(row.line, "id", "empty id; every row needs one") }
        let y = try label(row, r.label, "label")
        var score = 0.0, prediction = 0.0, lo = 0.0, hi = 0.0, weight = 0.0, time = 0.0
        if let c = r.score {
            score = try number(row, c, "score")
            guard score >= 0 && score <= 1 else { throw fail(row.line, "score", "\(shown(row, "score")) is outside [0, 1]; a score is the probability of class 1") }
        }
        if let c = r.prediction {
            prediction = task == .regression ? try number(row, c, "prediction") : try label(row, c, "prediction")
        }
        if let c = r.lower, let d = r.upper {
            lo = try number(row, c, "lower"); hi = try number(row, d, "upper")
            guard lo <= hi else { throw fail(row.line, "lower", "lower \(JSON.format(lo)) is above upper \(JSON.format(hi))") }
        }
        if let c = r.weight {
            weight = try number(row, c, "weight")
            guard weight >= 0 else { throw fail(row.line, "weight", "\(shown(row, "weight")) is negative; weights are 0 or more") }
        }
        if let c = r.time {
            let f = row.field(c)
            if f.isEmpty { throw fail(row.line, "time", "empty value; every row needs a time") }
            guard let t = TimeText.parse(f) else {
                throw fail(row.line, "time", "\(shown(row, "time")) is neither an RFC 3339 time (2026-10-01T12:00:00Z) nor Unix seconds")
            }
            time = t
        }
        var id = idField.text
        try id.withUTF8 {
            try columns.pointee.append(r, id: $0, line: row.line, label: y, score: score, prediction: prediction,
                               lower: lo, upper: hi, weight: weight, time: time)
        }
    }

    private func slices(_ row: TableRow) throws {
        for (k, i) in sliceIndex.enumerated() {
            let value = row.field(i).text
            if let code = sliceValues[k][value] {
                sliceCodes[k].append(code)
            } else {
                guard sliceValues[k].count < PredictionReader.sliceLimit else {
                    throw MregError.invalid("\(source): line \(row.line), column \"\(names[i])\": more than \(PredictionReader.sliceLimit) distinct values; --slice-by takes columns of at most \(PredictionReader.sliceLimit) values")
                }
                let code = UInt8(sliceValues[k].count)
                sliceValues[k][value] = code
                sliceCodes[k].append(code)
            }
        }
    }

    /// Appends the rows that `other` read from the rest of the same file (its header the same):
    /// afterwards this builder is as if it had read them itself, after its own rows. Slice values
    /// new to this builder get their codes in the order `other` first saw them, as one read would.
    /// `lineOffset` is added to `other`'s lines.
    func append(_ other: PredictionBuilder, lineOffset: Int) throws {
        guard names == other.names, task == other.task, sliceIndex == other.sliceIndex else {
            throw MregError.invalid("\(source): the two parts of the file were read with different columns")
        }
        if let mine = order, let theirs = other.order {
            let (a, b) = (columns.pointee, other.columns.pointee)
            order = IdList.merged(IdList(bytes: a.idBytes, ends: a.idEnds), mine, IdList(bytes: b.idBytes, ends: b.idEnds), theirs)
        } else {
            order = nil
        }
        try columns.pointee.append(other.columns.pointee, lineOffset: lineOffset)
        for k in sliceIndex.indices {
            var theirs = [String](repeating: "", count: other.sliceValues[k].count)
            for (v, c) in other.sliceValues[k] { theirs[Int(c)] = v }
            var code = [UInt8](repeating: 0, count: theirs.count)
            for (c, v) in theirs.enumerated() {
                if let mine = sliceValues[k][v] {
                    code[c] = mine
                } else {
                    guard sliceValues[k].count < PredictionReader.sliceLimit else {
                        throw MregError.invalid("\(source): column \"\(names[sliceIndex[k]])\": more than \(PredictionReader.sliceLimit) distinct values")
                    }
                    code[c] = UInt8(sliceValues[k].count)
                    sliceValues[k][v] = code[c]
                }
            }
            sliceCodes[k].reserveCapacity(sliceCodes[k].count + other.sliceCodes[k].count)
            for c in other.sliceCodes[k] { sliceCodes[k].append(code[Int(c)]) }
        }
    }

    /// Sorts this part's ids, on the part's thread (see `order`).
    func partRead() {
        let c = columns.pointee
        order = IdList(bytes: c.idBytes, ends: c.idEnds).byteOrder()
    }

    func finish(format: TableFormat, object: ObjectID) throws -> ReadPredictions {
        let c = columns.pointee
        let ids = IdList(bytes: c.idBytes, ends: c.idEnds)
        let (lines, labels, predictions) = (c.lines, c.labels, c.predictions)
        // The task when the columns left it open (id, label, prediction only): binary when every
        // label and prediction is 0 or 1, else regression.
        let task = self.task ?? (labels.allSatisfy { $0 == 0 || $0 == 1 } && predictions.allSatisfy { $0 == 0 || $0 == 1 } ? .binary : .regression)
        let order = self.order ?? ids.byteOrder()
        var duplicate: (Int, Int)?
        for k in ids.equalNeighbours(order) {
            let (a, b) = (Int(min(order[k], order[k - 1])), Int(max(order[k], order[k - 1])))
            if duplicate == nil || lines[b] < lines[duplicate!.1] { duplicate = (a, b) }
        }
        if let (a, b) = duplicate {
            throw MregError.invalid("\(source): line \(lines[b]), column \"\(names[index["id"]!])\": id \(Self.shown(ids.string(b))) appears again (first on line \(lines[a])); ids must be unique")
        }
        var slices: [PredictionTable.SliceColumn] = []
        for (k, i) in sliceIndex.enumerated() {
            var values = [String](repeating: "", count: sliceValues[k].count)
            for (v, c) in sliceValues[k] { values[Int(c)] = v }
            slices.append(.init(name: names[i], values: values, codes: sliceCodes[k]))
        }
        let table = PredictionTable(
            task: task, idList: ids, labels: task == .binary ? labels.map { UInt8($0) } : [], targets: task == .regression ? labels : [],
            scores: index["score"] == nil ? nil : c.scores, predictions: index["prediction"] == nil ? nil : predictions,
            lower: index["lower"] == nil ? nil : c.lower, upper: index["upper"] == nil ? nil : c.upper,
            weights: index["weight"] == nil ? nil : c.weights, times: index["time"] == nil ? nil : c.times, slices: slices)
        var used: [String: String] = [:]
        for (role, i) in index { used[role] = names[i] }
        return ReadPredictions(table: table, columns: used, format: format, object: object, evalSet: table.evalSetHash(order: order))
    }
}
