#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// The formats of the row tables of docs/evaluation.md.
public enum TableFormat: String, Sendable {
    case csv, jsonl

    /// `explicit` (`--format`) when given, else by extension: `.jsonl`/`.ndjson` are JSON Lines,
    /// `.csv` (and anything else) CSV.
    public static func of(path: String, explicit: String?) throws -> TableFormat {
        if let explicit {
            guard let f = TableFormat(rawValue: explicit) else { throw MregError.invalid("--format \(ModelName.show(explicit)): expected csv or jsonl") }
            return f
        }
        let lower = path.lowercased()
        return lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") ? .jsonl : .csv
    }
}

/// What reads a table's rows: told the column names once, then each row in file order.
protocol TableConsumer: AnyObject {
    /// The table's size in bytes, when known before reading (a hint to reserve memory).
    func expect(bytes: Int)
    func header(_ columns: [String]) throws
    func row(_ row: TableRow) throws
    /// Called when a file is read in parts (`read(path:…inParts:…)`), on the part's own thread
    /// once its rows are read: work on the part's rows that can be done before the parts are merged.
    func partRead() throws
}

extension TableConsumer {
    func expect(bytes: Int) {}
    func partRead() throws {}
}

/// One value of one row, borrowed for the duration of `TableConsumer.row`.
enum TableField {
    case text(UnsafeBufferPointer<UInt8>)
    case json(JSON)
    case missing
}

/// One row: its line in the file and its values by column index (the order of `header`).
struct TableRow {
    let line: Int
    /// The CSV record, for a consumer that reads its fields directly (nil for JSON Lines).
    let csv: CSVRecord?
    fileprivate let object: [String: JSON]?
    fileprivate let columns: [String]

    func field(_ column: Int) -> TableField {
        if let csv { return .text(csv[column]) }
        guard let v = object?[columns[column]] else { return .missing }
        return .json(v)
    }
}

/// Streams a table (CSV or JSON Lines) to a consumer in 1 MiB buffers, checking what every table
/// must satisfy: UTF-8 (a byte-order mark is skipped), a header row (CSV) or objects (JSON Lines),
/// the same number of fields in every CSV row, at least one row. Errors name `source`, the line
/// and the column; they are `MregError.invalid` (exit 2).
final class TableReader {
    let source: String
    let format: TableFormat
    private let consumer: TableConsumer
    private var csv = CSVTokenizer()
    private var lines = LineSplitter()
    private var columns: [String]?
    private var hasher = SHA256()
    /// False for the second part of a file read in parts: the first part's reader hashes the file.
    private let hashing: Bool
    private var started = false
    private(set) var rows = 0
    private(set) var bytes: UInt64 = 0

    init(source: String, format: TableFormat, consumer: TableConsumer, hashing: Bool = true) {
        self.source = source
        self.format = format
        self.consumer = consumer
        self.hashing = hashing
    }

    /// The line of the next byte (CSV): 1 + the line breaks read so far.
    var line: Int { csv.line }

    func fail(line: Int, column: String? = nil, _ reason: String) -> MregError {
        MregError.invalid("\(source): line \(line)\(column.map { ", column \"\($0)\"" } ?? ""): \(reason)")
    }

    /// Opens a user's file for reading: no such file, permission denied and not a regular file are
    /// `MregError.invalid` naming `source`. The caller closes the descriptor.
    static func openUserFile(path: String, source: String) throws -> (fd: Int32, status: stat) {
        let fd: Int32
        do { fd = try Sys.open(path, O_RDONLY) } catch let f as Sys.Failure {
            switch f.errno {
            case ENOENT: throw MregError.invalid("\(source): no such file")
            case EACCES: throw MregError.invalid("\(source): cannot read: permission denied")
            default: throw f.mregError
            }
        }
        do {
            let st = try Sys.fstat(fd, path: path)
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw MregError.invalid("\(source): not a regular file") }
            return (fd, st)
        } catch {
            Sys.close(fd)
            throw error
        }
    }

    /// Reads a whole file; returns the id its bytes would have as an object.
    static func read(path: String, source: String, format: TableFormat, into consumer: TableConsumer) throws -> ObjectID {
        try read(path: path, source: source, format: format, into: consumer, hashing: true)
    }

    /// Reads a whole file without hashing it: for a reader that keeps no object of the file (a
    /// profile's reads).
    static func scan(path: String, source: String, format: TableFormat, into consumer: TableConsumer) throws {
        _ = try read(path: path, source: source, format: format, into: consumer, hashing: false)
    }

    /// The id is that of the bytes read when `hashing`, else of nothing.
    static func read(path: String, source: String, format: TableFormat, into consumer: TableConsumer,
                     hashing: Bool) throws -> ObjectID {
        let (fd, st) = try openUserFile(path: path, source: source)
        defer { Sys.close(fd) }
        let reader = TableReader(source: source, format: format, consumer: consumer, hashing: hashing)
        consumer.expect(bytes: Int(st.st_size))
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try Sys.readFull(fd, $0.baseAddress!, $0.count, path: path) }
            if n == 0 { break }
            try buffer.withUnsafeBufferPointer { try reader.feed(UnsafeBufferPointer(rebasing: $0[0..<n])) }
        }
        return try reader.finish()
    }

    func feed(_ chunk: UnsafeBufferPointer<UInt8>) throws {
        guard !chunk.isEmpty else { return }
        if hashing { hasher.update(bufferPointer: UnsafeRawBufferPointer(chunk)) }
        bytes += UInt64(chunk.count)
        var chunk = chunk
        if !started {
            started = true
            if chunk.count >= 3 && chunk[0] == 0xEF && chunk[1] == 0xBB && chunk[2] == 0xBF {
                chunk = UnsafeBufferPointer(rebasing: chunk[3...])
            }
        }
        switch format {
        case .csv:
            do { try csv.feed(chunk) { try self.csvRecord($0) } } catch let f as CSVTokenizer.Failure {
                throw fail(line: f.line, f.reason)
            }
        case .jsonl:
            try lines.feed(chunk) { try self.jsonLine($0, $1) }
        }
    }

    /// Ends the input; returns the object id of all the bytes fed.
    func finish() throws -> ObjectID {
        try endRows()
        return digest()
    }

    /// Hashes bytes that follow the rows read (`endRows`) without reading them as rows: the rest
    /// of a file whose other part another reader reads (`read(path:…inParts:…)`).
    func hashOnly(_ chunk: UnsafeBufferPointer<UInt8>) {
        hasher.update(bufferPointer: UnsafeRawBufferPointer(chunk))
        bytes += UInt64(chunk.count)
    }

    /// The object id of all the bytes fed and hashed.
    func digest() -> ObjectID { ObjectID(digest: hasher.finalize()) }

    /// Ends the rows: an unterminated last record is read, and a table with no header or no
    /// rows is refused.
    func endRows() throws {
        switch format {
        case .csv:
            do { try csv.finish { try self.csvRecord($0) } } catch let f as CSVTokenizer.Failure { throw fail(line: f.line, f.reason) }
        case .jsonl:
            try lines.finish { try self.jsonLine($0, $1) }
        }
        if columns == nil { throw MregError.invalid("\(source): the file is empty (expected \(format == .csv ? "a header row and rows" : "one JSON object a line"))") }
        if rows == 0 { throw MregError.invalid("\(source): \(format == .csv ? "a header only" : "no rows"), no rows to read") }
    }

    private func checkUTF8(_ record: CSVRecord) throws {
        guard !record.isASCII else { return }
        for i in 0..<record.count where !UTF8Check.isValid(record[i]) {
            throw fail(line: record.line, column: columns.map { i < $0.count ? $0[i] : "#\(i + 1)" } ?? "#\(i + 1)", "not UTF-8 text")
        }
    }

    private func csvRecord(_ record: CSVRecord) throws {
        try checkUTF8(record)
        guard let columns else {
            var names: [String] = []
            var seen: Set<String> = []
            for i in 0..<record.count {
                let name = String(decoding: record[i], as: UTF8.self)
                if name.isEmpty { throw fail(line: record.line, "the header's column \(i + 1) has no name") }
                if !seen.insert(name).inserted { throw fail(line: record.line, column: name, "the header names this column twice") }
                names.append(name)
            }
            self.columns = names
            try consumer.header(names)
            return
        }
        guard record.count == columns.count else {
            throw fail(line: record.line, "\(record.count) field\(record.count == 1 ? "" : "s") where the header has \(columns.count) (a ragged row)")
        }
        rows += 1
        try consumer.row(TableRow(line: record.line, csv: record, object: nil, columns: columns))
    }

    private func jsonLine(_ text: UnsafeBufferPointer<UInt8>, _ line: Int) throws {
        guard UTF8Check.isValid(text) else { throw fail(line: line, "not UTF-8 text") }
        let value: JSON
        do { value = try JSON.parse(Array(text)) } catch let e as JSON.ParseError { throw fail(line: line, "not valid JSON: \(e)") }
        guard case .object(let o) = value else { throw fail(line: line, "expected a JSON object, found \(value.typeName)") }
        if columns == nil {
            columns = o.keys.sorted()
            try consumer.header(columns!)
        }
        rows += 1
        try consumer.row(TableRow(line: line, csv: nil, object: o, columns: columns!))
    }
}

// MARK: - Values

extension TableField {
    /// Whether the value is absent: an empty CSV field, JSON null or an absent key.
    var isEmpty: Bool {
        switch self {
        case .text(let b): return b.isEmpty
        case .json(let j): return j.isNull
        case .missing: return true
        }
    }

    /// The value as text (JSON numbers and booleans spelled as in JSON).
    var text: String {
        switch self {
        case .text(let b): return String(decoding: b, as: UTF8.self)
        case .json(.string(let s)): return s
        case .json(.number(let n)): return JSON.format(n)
        case .json(.bool(let b)): return b ? "true" : "false"
        default: return ""
        }
    }

    /// The value as a finite number, or the reason it is not one.
    func number() -> Result<Double, NumberProblem> {
        switch self {
        case .text(let b): return NumberText.parse(b)
        case .json(.number(let n)): return .success(n)
        case .json(.string(let s)):
            var s = s
            return s.withUTF8 { NumberText.parse($0) }
        case .json(.bool): return .failure(.notANumber)
        case .json(.null), .missing: return .failure(.empty)
        case .json: return .failure(.notANumber)
        }
    }
}
