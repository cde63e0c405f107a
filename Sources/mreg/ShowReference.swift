import MregCore

/// How `show` presents a version's reference profile (`register --reference`, docs/monitoring.md):
/// rows, and per column its kind, values, missing values and a short summary.
enum ShowReference {
    static func summary(_ c: ColumnProfile) -> String {
        switch c {
        case .numeric(let n):
            return "min \(Views.metric(n.min)), max \(Views.metric(n.max)), mean \(Views.metric(n.mean)), std \(Views.metric(n.std))"
        case .categorical(let k):
            let top = k.top.prefix(3).map { "\($0.value) (\($0.count))" }.joined(separator: ", ")
            let distinct = k.complete ? "\(k.top.count) values" : "more than \(k.top.count) values"
            return distinct + (top.isEmpty ? "" : ": " + top + (k.top.count > 3 ? ", …" : ""))
        case .empty:
            return "every value missing"
        }
    }

    /// `{"object", "rows", "columns": {NAME: {"kind", "count", "missing", …}}}`: the numeric
    /// columns' min, max, mean and std, the categorical ones' number of top values, whether they
    /// are all the values, and the three most frequent.
    static func json(_ id: ObjectID, _ p: Profile) -> JSON {
        var columns: [String: JSON] = [:]
        for (name, c) in p.columns {
            var o: [String: JSON] = ["kind": .string(c.kind.rawValue), "count": .number(Double(c.count)), "missing": .number(Double(c.missing))]
            switch c {
            case .numeric(let n):
                o["min"] = .number(n.min); o["max"] = .number(n.max); o["mean"] = .number(n.mean); o["std"] = .number(n.std)
            case .categorical(let k):
                o["values"] = .number(Double(k.top.count)); o["complete"] = .bool(k.complete)
                o["top"] = .array(k.top.prefix(3).map { .object(["value": .string($0.value), "count": .number(Double($0.count))]) })
            case .empty:
                break
            }
            columns[name] = .object(o)
        }
        return .object(["object": .string(id.description), "rows": .number(Double(p.rows)), "columns": .object(columns)])
    }

    /// The text lines: a heading line, then a table of the columns.
    static func lines(_ id: ObjectID, _ p: Profile) -> [String] {
        let rows = p.columns.keys.sorted().map { name -> [String] in
            let c = p.columns[name]!
            return [name, c.kind.rawValue, String(c.count), String(c.missing), summary(c)]
        }
        return ["reference \(p.rows) row\(p.rows == 1 ? "" : "s"), \(p.columns.count) column\(p.columns.count == 1 ? "" : "s"), profile \(id.short)",
                Output.table(["COLUMN", "KIND", "VALUES", "MISSING", "SUMMARY"], rows.map { $0.map(Output.field) })]
    }
}
