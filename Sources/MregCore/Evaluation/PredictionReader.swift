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
        let format = try TableFormat.of(path: path, explicit: options.format)
        let builder = PredictionBuilder(source: "predictions file \(path)", options: options, overrides: try options.overrides())
        let id = try TableReader.read(path: path, source: builder.source, format: format, into: builder)
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

    private var ids: [String] = []
    private var lines: [Int32] = []
    private var labels: [Double] = []
    private var scores: [Double] = []
    private var predictions: [Double] = []
    private var lower: [Double] = []
    private var upper: [Double] = []
    private var weights: [Double] = []
    private var times: [Double] = []
    private var sliceCodes: [[UInt8]] = []
    private var sliceValues: [[String: UInt8]] = []

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
        sliceCodes = Array(repeating: [], count: sliceIndex.count)
        sliceValues = Array(repeating: [:], count: sliceIndex.count)
    }

    private func number(_ row: TableRow, _ role: String) throws -> Double {
        switch row.field(index[role]!).number() {
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
    private func label(_ row: TableRow, _ role: String) throws -> Double {
        let f = row.field(index[role]!)
        switch f {
        case .json(.bool(let b)): return b ? 1 : 0
        case .text(let b) where b.elementsEqual("true".utf8): return 1
        case .text(let b) where b.elementsEqual("false".utf8): return 0
        default: break
        }
        let v = try number(row, role)
        if task == .binary && v != 0 && v != 1 {
            throw fail(row.line, role, "\(shown(row, role)) is not 0 or 1 (true or false) in a binary task")
        }
        return v
    }

    func row(_ row: TableRow) throws {
        let idField = row.field(index["id"]!)
        if idField.isEmpty { throw fail(row.line, "id", "empty id; every row needs one") }
        ids.append(idField.text)
        lines.append(Int32(clamping: row.line))
        labels.append(try label(row, "label"))
        if index["score"] != nil {
            let s = try number(row, "score")
            guard s >= 0 && s <= 1 else { throw fail(row.line, "score", "\(shown(row, "score")) is outside [0, 1]; a score is the probability of class 1") }
            scores.append(s)
        }
        if index["prediction"] != nil {
            predictions.append(task == .regression ? try number(row, "prediction") : try label(row, "prediction"))
        }
        if index["lower"] != nil {
            let lo = try number(row, "lower"), hi = try number(row, "upper")
            guard lo <= hi else { throw fail(row.line, "lower", "lower \(JSON.format(lo)) is above upper \(JSON.format(hi))") }
            lower.append(lo); upper.append(hi)
        }
        if index["weight"] != nil {
            let w = try number(row, "weight")
            guard w >= 0 else { throw fail(row.line, "weight", "\(shown(row, "weight")) is negative; weights are 0 or more") }
            weights.append(w)
        }
        if index["time"] != nil {
            let f = row.field(index["time"]!)
            if f.isEmpty { throw fail(row.line, "time", "empty value; every row needs a time") }
            guard let t = TimeText.parse(f) else {
                throw fail(row.line, "time", "\(shown(row, "time")) is neither an RFC 3339 time (2026-10-01T12:00:00Z) nor Unix seconds")
            }
            times.append(t)
        }
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

    func finish(format: TableFormat, object: ObjectID) throws -> ReadPredictions {
        // The task when the columns left it open (id, label, prediction only): binary when every
        // label and prediction is 0 or 1, else regression.
        let task = self.task ?? (labels.allSatisfy { $0 == 0 || $0 == 1 } && predictions.allSatisfy { $0 == 0 || $0 == 1 } ? .binary : .regression)
        let order = ids.indices.sorted { ids[$0].utf8.lexicographicallyPrecedes(ids[$1].utf8) }
        var duplicate: (Int, Int)?
        for k in order.indices.dropFirst() where ids[order[k]] == ids[order[k - 1]] {
            let (a, b) = (min(order[k], order[k - 1]), max(order[k], order[k - 1]))
            if duplicate == nil || lines[b] < lines[duplicate!.1] { duplicate = (a, b) }
        }
        if let (a, b) = duplicate {
            throw MregError.invalid("\(source): line \(lines[b]), column \"\(names[index["id"]!])\": id \(Self.shown(ids[b])) appears again (first on line \(lines[a])); ids must be unique")
        }
        var slices: [PredictionTable.SliceColumn] = []
        for (k, i) in sliceIndex.enumerated() {
            var values = [String](repeating: "", count: sliceValues[k].count)
            for (v, c) in sliceValues[k] { values[Int(c)] = v }
            slices.append(.init(name: names[i], values: values, codes: sliceCodes[k]))
        }
        let table = PredictionTable(
            task: task, ids: ids, labels: task == .binary ? labels.map { UInt8($0) } : [], targets: task == .regression ? labels : [],
            scores: index["score"] == nil ? nil : scores, predictions: index["prediction"] == nil ? nil : predictions,
            lower: index["lower"] == nil ? nil : lower, upper: index["upper"] == nil ? nil : upper,
            weights: index["weight"] == nil ? nil : weights, times: index["time"] == nil ? nil : times, slices: slices)
        var used: [String: String] = [:]
        for (role, i) in index { used[role] = names[i] }
        return ReadPredictions(table: table, columns: used, format: format, object: object, evalSet: table.evalSetHash(order: order))
    }
}
