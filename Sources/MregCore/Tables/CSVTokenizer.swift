/// A byte-level CSV tokenizer (RFC 4180), fed in chunks of any size: fields separated by `,`,
/// records ended by LF or CRLF (the last one may be unterminated), fields in double quotes may
/// hold commas, quotes doubled (`""`) and line breaks. Blank lines are skipped. A quote inside an
/// unquoted field, text after a closing quote, a bare CR and an unterminated quote are errors.
///
/// Each record is handed to `emit` as a `CSVRecord` borrowing the tokenizer's buffers (valid
/// during the call only), with the line it starts on; memory is one record, whatever the file.
struct CSVTokenizer {
    struct Failure: Error { var line: Int; var reason: String }

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted, afterCR }
    private var state = State.fieldStart
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    /// The field ends of a record read in place (`plainRecord`); a record of more fields is read
    /// by the state machine.
    private var plainEnds = [Int](repeating: 0, count: 256)
    /// The physical line of the byte being read, and of the current record's first byte.
    private(set) var line = 1
    private var recordLine = 1
    private var quoteLine = 1
    private var sawQuote = false

    init() {
        bytes.reserveCapacity(4096)
        ends.reserveCapacity(64)
    }

    mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, _ emit: (CSVRecord) throws -> Void) throws {
        let p = chunk.baseAddress!
        let n = chunk.count
        var i = 0
        while i < n {
            // The common case first: a record that starts here and ends within the chunk, with
            // no quote and no carriage return, is handed over in place, without copying it.
            if state == .fieldStart && bytes.isEmpty && ends.isEmpty && !sawQuote,
               let found = plainEnds.withUnsafeMutableBufferPointer({ Self.plainRecord(p, from: i, to: n, ends: $0) }) {
                let (end, fields) = found
                if end > i || fields > 1 {
                    let record = UnsafeBufferPointer(start: p + i, count: end - i)
                    try plainEnds.withUnsafeBufferPointer { e in
                        try emit(CSVRecord(bytes: record, ends: UnsafeBufferPointer(rebasing: e[0..<fields]), line: line, separators: 1))
                    }
                }
                line += 1
                recordLine = line
                i = end + 1
                continue
            }
            switch state {
            case .fieldStart:
                if p[i] == 0x22 { state = .quoted; quoteLine = line; sawQuote = true; i += 1 } else { state = .unquoted }
            case .unquoted:
                var j = i
                while j < n {
                    let b = p[j]
                    if b == 0x2C || b == 0x0A || b == 0x0D || b == 0x22 { break }
                    j += 1
                }
                if j > i { bytes.append(contentsOf: UnsafeBufferPointer(start: p + i, count: j - i)) }
                i = j
                guard i < n else { break }
                switch p[i] {
                case 0x2C: ends.append(bytes.count); state = .fieldStart
                case 0x0A: try endRecord(emit); line += 1
                case 0x0D: state = .afterCR
                default: throw Failure(line: line, reason: "a quote inside an unquoted field (quote the whole field and double the quote)")
                }
                i += 1
            case .quoted:
                var j = i
                while j < n && p[j] != 0x22 {
                    if p[j] == 0x0A { line += 1 }
                    j += 1
                }
                if j > i { bytes.append(contentsOf: UnsafeBufferPointer(start: p + i, count: j - i)) }
                i = j
                if i < n { state = .quoteInQuoted; i += 1 }
            case .quoteInQuoted:
                switch p[i] {
                case 0x22: bytes.append(0x22); state = .quoted
                case 0x2C: ends.append(bytes.count); state = .fieldStart
                case 0x0A: try endRecord(emit); line += 1
                case 0x0D: state = .afterCR
                default: throw Failure(line: line, reason: "text after the closing quote of a field")
                }
                i += 1
            case .afterCR:
                guard p[i] == 0x0A else { throw Failure(line: line, reason: "a carriage return not followed by a line feed") }
                try endRecord(emit)
                line += 1
                i += 1
            }
        }
    }

    /// Where the record starting at `from` ends (its line feed) and its number of fields, when
    /// the line feed is before `to`, the record has no quote or carriage return and at most
    /// `ends.count` fields; each field's end (from `from`) is written to `ends`. Nil otherwise:
    /// the state machine below reads the record.
    private static func plainRecord(_ p: UnsafePointer<UInt8>, from: Int, to n: Int,
                                    ends: UnsafeMutableBufferPointer<Int>) -> (end: Int, fields: Int)? {
        var j = from
        var k = 0
        while j < n {
            // Eight bytes at a time while none is at or below `,` (0x2C; LF, CR and `"` are below
            // it): the word's bytes below 0x2D have their high bit set in `low`, and the lowest
            // such byte is exact (a borrow only reaches the bytes above the one that made it).
            while j + 8 <= n {
                let w = UInt64(littleEndian: UnsafeRawPointer(p + j).loadUnaligned(as: UInt64.self))
                let low = (w &- 0x2D2D_2D2D_2D2D_2D2D) & ~w & 0x8080_8080_8080_8080
                if low != 0 { j += low.trailingZeroBitCount >> 3; break }
                j += 8
            }
            guard j < n else { break }
            let b = p[j]
            if b > 0x2C { j += 1; continue }
            if b == 0x2C {
                guard k + 1 < ends.count else { return nil }
                ends[k] = j - from
                k += 1
            } else if b == 0x0A {
                ends[k] = j - from
                return (j, k + 1)
            } else if b == 0x22 || b == 0x0D {
                return nil
            }
            j += 1
        }
        return nil
    }

    /// Ends the input: an unterminated last record is emitted; an open quote is an error.
    mutating func finish(_ emit: (CSVRecord) throws -> Void) throws {
        switch state {
        case .quoted: throw Failure(line: quoteLine, reason: "a quoted field is never closed")
        case .afterCR: throw Failure(line: line, reason: "a carriage return not followed by a line feed")
        case .fieldStart where ends.isEmpty && bytes.isEmpty && !sawQuote: return
        default: try endRecord(emit)
        }
    }

    private mutating func endRecord(_ emit: (CSVRecord) throws -> Void) throws {
        defer {
            bytes.removeAll(keepingCapacity: true)
            ends.removeAll(keepingCapacity: true)
            state = .fieldStart
            sawQuote = false
            recordLine = line + 1
        }
        // A blank line (no bytes, no separator, no quotes) is skipped.
        if ends.isEmpty && bytes.isEmpty && !sawQuote { return }
        ends.append(bytes.count)
        try bytes.withUnsafeBufferPointer { b in
            try ends.withUnsafeBufferPointer { e in try emit(CSVRecord(bytes: b, ends: e, line: recordLine, separators: 0)) }
        }
    }
}

/// One record of a CSV file, borrowed from the tokenizer.
struct CSVRecord {
    let bytes: UnsafeBufferPointer<UInt8>
    let ends: UnsafeBufferPointer<Int>
    /// The line the record starts on (1-based, counting line breaks inside quoted fields).
    let line: Int
    /// 1 when `bytes` is the record as in the file, a separator after each field but the last
    /// (read in place); 0 when it is the fields' contents alone, unquoted and joined.
    let separators: Int

    var count: Int { ends.count }

    subscript(i: Int) -> UnsafeBufferPointer<UInt8> {
        let start = i == 0 ? 0 : ends[i - 1] + separators
        return UnsafeBufferPointer(rebasing: bytes[start..<ends[i]])
    }

    /// Whether every byte of the record is ASCII (then it is valid UTF-8 without a closer look).
    var isASCII: Bool {
        var acc: UInt8 = 0
        for b in bytes { acc |= b }
        return acc < 0x80
    }
}

/// Splits JSON Lines input, fed in chunks, into lines (LF or CRLF; blank lines skipped).
struct LineSplitter {
    private var pending: [UInt8] = []
    private(set) var line = 0

    mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, _ emit: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        var start = 0
        for i in 0..<chunk.count where chunk[i] == 0x0A {
            line += 1
            if pending.isEmpty {
                try emitLine(UnsafeBufferPointer(rebasing: chunk[start..<i]), emit)
            } else {
                pending.append(contentsOf: chunk[start..<i])
                try pending.withUnsafeBufferPointer { try emitLine($0, emit) }
                pending.removeAll(keepingCapacity: true)
            }
            start = i + 1
        }
        pending.append(contentsOf: chunk[start...])
    }

    mutating func finish(_ emit: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        guard !pending.isEmpty else { return }
        line += 1
        try pending.withUnsafeBufferPointer { try emitLine($0, emit) }
        pending.removeAll()
    }

    private func emitLine(_ b: UnsafeBufferPointer<UInt8>, _ emit: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        var text = b
        if let last = text.last, last == 0x0D { text = UnsafeBufferPointer(rebasing: text.dropLast()) }
        if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        try emit(text, line)
    }
}

enum UTF8Check {
    /// Whether the bytes are well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
    static func isValid(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let len: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: len = 2
            case 0xE0: len = 3; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: len = 3
            case 0xED: len = 3; hi = 0x9F
            case 0xF0: len = 4; lo = 0x90
            case 0xF1...0xF3: len = 4
            case 0xF4: len = 4; hi = 0x8F
            default: return false
            }
            guard i + len <= n, b[i + 1] >= lo, b[i + 1] <= hi else { return false }
            for k in 2..<max(2, len) where !(0x80...0xBF).contains(b[i + k]) { return false }
            i += len
        }
        return true
    }
}
