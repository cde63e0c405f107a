import Crypto

/// A version's predictions on its evaluation set, held as compact arrays (never the raw text):
/// one entry per row, in file order.
public struct PredictionTable: Sendable {
    public var task: Evaluation.Task
    /// Row identities, unique (made as strings on first use: the table holds them as bytes).
    public var ids: [String] {
        get { idList.strings }
        set { idList = IdList(newValue) }
    }
    /// The ids as bytes.
    var idList: IdList
    /// Binary: the true class, 0 or 1. Empty for regression.
    public var labels: [UInt8]
    /// Regression: the true value. Empty for binary.
    public var targets: [Double]
    /// Binary: the probability of class 1, in [0, 1]; nil when the model gave decided classes only.
    public var scores: [Double]?
    /// Binary: the decided class (0 or 1) when there is no score; regression: the predicted value.
    public var predictions: [Double]?
    /// Regression: a prediction interval.
    public var lower: [Double]?
    public var upper: [Double]?
    /// Row weights (finite, ≥ 0), when the table has a weight column.
    public var weights: [Double]?
    /// Unix seconds, when the table has a time column.
    public var times: [Double]?
    /// The `--slice-by` columns, each at most 100 distinct values.
    public var slices: [SliceColumn]

    /// A categorical column: `values[codes[i]]` is row i's value.
    public struct SliceColumn: Equatable, Sendable {
        public var name: String
        public var values: [String]
        public var codes: [UInt8]
        public init(name: String, values: [String], codes: [UInt8]) { self.name = name; self.values = values; self.codes = codes }
    }

    public init(task: Evaluation.Task, ids: [String], labels: [UInt8] = [], targets: [Double] = [], scores: [Double]? = nil,
                predictions: [Double]? = nil, lower: [Double]? = nil, upper: [Double]? = nil, weights: [Double]? = nil,
                times: [Double]? = nil, slices: [SliceColumn] = []) {
        self.init(task: task, idList: IdList(ids), labels: labels, targets: targets, scores: scores, predictions: predictions,
                  lower: lower, upper: upper, weights: weights, times: times, slices: slices)
    }

    init(task: Evaluation.Task, idList: IdList, labels: [UInt8] = [], targets: [Double] = [], scores: [Double]? = nil,
         predictions: [Double]? = nil, lower: [Double]? = nil, upper: [Double]? = nil, weights: [Double]? = nil,
         times: [Double]? = nil, slices: [SliceColumn] = []) {
        self.task = task; self.idList = idList; self.labels = labels; self.targets = targets; self.scores = scores
        self.predictions = predictions; self.lower = lower; self.upper = upper; self.weights = weights
        self.times = times; self.slices = slices
    }

    public var count: Int { idList.count }

    /// The rows at `indices`, in that order (slices keep their value lists).
    public func subset(_ indices: [Int]) -> PredictionTable {
        func pick<T>(_ a: [T]) -> [T] { indices.map { a[$0] } }
        return PredictionTable(task: task, idList: idList.subset(indices), labels: labels.isEmpty ? [] : pick(labels),
                               targets: targets.isEmpty ? [] : pick(targets), scores: scores.map(pick),
                               predictions: predictions.map(pick), lower: lower.map(pick), upper: upper.map(pick),
                               weights: weights.map(pick), times: times.map(pick),
                               slices: slices.map { SliceColumn(name: $0.name, values: $0.values, codes: pick($0.codes)) })
    }

    /// The evaluation set's identity: hex SHA-256 of the rows' ids and labels, independent of row
    /// order. The bytes hashed (docs/format.md): `mreg.evalset 1 TASK\n`, then for each row in
    /// increasing byte order of its id: the id's UTF-8 byte count in decimal, `:`, the id's bytes,
    /// a tab, the label (binary `0` or `1`; regression the shortest decimal that reads back as the
    /// same double, as in records), `\n`.
    public var evalSetHash: String { evalSetHash(order: idList.byteOrder()) }

    /// The hash with the rows' order by id already known.
    func evalSetHash(order: [UInt32]) -> String {
        var h = SHA256()
        h.update(data: Array("mreg.evalset 1 \(task.rawValue)\n".utf8))
        // Lines written into a 64 KiB piece: one hash update per piece, not per row. An id too
        // long for a piece is hashed from where it is.
        let piece = 1 << 16
        var buffer = [UInt8](repeating: 0, count: piece + 64)
        idList.bytes.withUnsafeBufferPointer { ids in
            idList.ends.withUnsafeBufferPointer { ends in
                buffer.withUnsafeMutableBufferPointer { out in
                    var fill = 0
                    func flush() {
                        h.update(bufferPointer: UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: out[0..<fill])))
                        fill = 0
                    }
                    for r in order {
                        let i = Int(r)
                        let start = i == 0 ? 0 : Int(ends[i - 1]), end = Int(ends[i])
                        let length = end - start
                        let label: String? = task == .binary ? nil : JSON.format(targets[i])
                        let labelLength = label?.utf8.count ?? 1
                        if fill + 24 + length + labelLength > piece { flush() }
                        // The id's byte count in decimal, then `:`.
                        var digits = 1, m = length
                        while m >= 10 { m /= 10; digits += 1 }
                        m = length
                        for d in stride(from: fill + digits - 1, through: fill, by: -1) { out[d] = UInt8(ascii: "0") + UInt8(m % 10); m /= 10 }
                        fill += digits
                        out[fill] = UInt8(ascii: ":"); fill += 1
                        if 24 + length + labelLength > piece {
                            flush()
                            h.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: ids[start..<end])))
                        } else {
                            (out.baseAddress! + fill).update(from: ids.baseAddress! + start, count: length)
                            fill += length
                        }
                        out[fill] = 9; fill += 1
                        if let label {
                            if fill + labelLength + 1 > piece { flush() }
                            for b in label.utf8 { out[fill] = b; fill += 1 }
                        } else {
                            out[fill] = UInt8(ascii: "0") + labels[i]; fill += 1
                        }
                        out[fill] = 10; fill += 1
                    }
                    flush()
                }
            }
        }
        return Hex.encode(h.finalize())
    }
}
