/// Feature importances given with `--importance FILE`: a JSON object `{"amount": 0.41, …}` or a
/// CSV table with the columns `feature,importance`. Names are non-empty and unique, values
/// finite; at most 10,000 features.
enum Importance {
    static let limit = 10_000

    static func read(_ path: String) throws -> [String: Double] {
        let source = "importance file \(path)"
        let lower = path.lowercased()
        if lower.hasSuffix(".json") || (!lower.hasSuffix(".csv") && (try? firstByte(path)) == UInt8(ascii: "{")) {
            let json = try UserFile.read(path, what: "importance file")
            guard case .object(let o) = json else { throw MregError.invalid("\(source): expected an object of feature → importance, found \(json.typeName)") }
            guard !o.isEmpty else { throw MregError.invalid("\(source): no features") }
            guard o.count <= limit else { throw MregError.invalid("\(source): more than \(limit) features") }
            var out: [String: Double] = [:]
            for (k, v) in o {
                guard !k.isEmpty else { throw MregError.invalid("\(source): a feature with an empty name") }
                guard let n = v.number, n.isFinite else { throw MregError.invalid("\(source): feature \"\(k)\" is \(v.typeName), not a finite number") }
                out[k] = n
            }
            return out
        }
        let consumer = Consumer(source: source)
        try TableReader.scan(path: path, source: source, format: .csv, into: consumer)
        return consumer.values
    }

    private static func firstByte(_ path: String) throws -> UInt8? {
        try UserFile.bytes(path, what: "importance file").first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
    }

    private final class Consumer: TableConsumer {
        let source: String
        var feature = 0, importance = 0
        var values: [String: Double] = [:]
        init(source: String) { self.source = source }

        func header(_ columns: [String]) throws {
            guard let f = columns.firstIndex(of: "feature"), let i = columns.firstIndex(of: "importance") else {
                throw MregError.invalid("\(source): expected the columns feature,importance")
            }
            feature = f; importance = i
        }

        func row(_ row: TableRow) throws {
            let name = row.field(feature).text
            guard !name.isEmpty else { throw MregError.invalid("\(source): line \(row.line), column \"feature\": empty name") }
            guard case .success(let v) = row.field(importance).number() else {
                throw MregError.invalid("\(source): line \(row.line), column \"importance\": \(ModelName.show(row.field(importance).text)) is not a finite number")
            }
            guard values[name] == nil else { throw MregError.invalid("\(source): line \(row.line): feature \(ModelName.show(name)) appears twice") }
            guard values.count < Importance.limit else { throw MregError.invalid("\(source): more than \(Importance.limit) features") }
            values[name] = v
        }
    }
}
