import Crypto

/// A version's predictions on its evaluation set, held as compact arrays (never the raw text):
/// one entry per row, in file order.
public struct PredictionTable: Sendable {
    public var task: Evaluation.Task
    /// Row identities, unique.
    public var ids: [String]
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
        self.task = task; self.ids = ids; self.labels = labels; self.targets = targets; self.scores = scores
        self.predictions = predictions; self.lower = lower; self.upper = upper; self.weights = weights
        self.times = times; self.slices = slices
    }

    public var count: Int { ids.count }

    /// The rows at `indices`, in that order (slices keep their value lists).
    public func subset(_ indices: [Int]) -> PredictionTable {
        func pick<T>(_ a: [T]) -> [T] { indices.map { a[$0] } }
        return PredictionTable(task: task, ids: pick(ids), labels: labels.isEmpty ? [] : pick(labels),
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
    public var evalSetHash: String { evalSetHash(order: Self.byteOrder(ids)) }

    /// Row indices in increasing byte order of `ids`. Sorted as (first eight bytes, row) pairs,
    /// comparing whole ids only where the first eight bytes are equal.
    static func byteOrder(_ ids: [String]) -> [Int] {
        var keyed = ids.indices.map { i -> (key: UInt64, row: Int) in
            var key: UInt64 = 0, taken = 0
            for b in ids[i].utf8.prefix(8) { key = key << 8 | UInt64(b); taken += 1 }
            return (key << (8 * UInt64(8 - taken)) , i)
        }
        keyed.sort { a, b in a.key != b.key ? a.key < b.key : ids[a.row].utf8.lexicographicallyPrecedes(ids[b.row].utf8) }
        return keyed.map(\.row)
    }

    /// The hash with the rows' order by id already known.
    func evalSetHash(order: [Int]) -> String {
        var h = SHA256()
        h.update(data: Array("mreg.evalset 1 \(task.rawValue)\n".utf8))
        // Lines gathered into 64 KiB pieces: one hash update per piece, not per row.
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16 + 256)
        var digits = [UInt8](repeating: 0, count: 20)
        for i in order {
            let id = ids[i].utf8
            var n = id.count, d = digits.count
            repeat { d -= 1; digits[d] = UInt8(ascii: "0") + UInt8(n % 10); n /= 10 } while n > 0
            buffer.append(contentsOf: digits[d...])
            buffer.append(UInt8(ascii: ":"))
            buffer.append(contentsOf: id)
            buffer.append(9)
            if task == .binary { buffer.append(UInt8(ascii: "0") + labels[i]) } else { buffer.append(contentsOf: JSON.format(targets[i]).utf8) }
            buffer.append(10)
            if buffer.count >= 1 << 16 { h.update(data: buffer); buffer.removeAll(keepingCapacity: true) }
        }
        h.update(data: buffer)
        return Hex.encode(h.finalize())
    }
}
