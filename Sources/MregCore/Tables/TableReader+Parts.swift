#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Reading a large CSV table on two cores.
///
/// The file is cut once, after the first line break past `partsSplit` of its size, into a first
/// part (the header and the rows before the cut) and a second part (the rows after it). Each part
/// has its own consumer, and the two are read at once: the first on the calling thread, which
/// also hashes the whole file (SHA-256 cannot be split), the second on a thread of its own,
/// behind a copy of the header line. The second consumer is then merged into the first, which
/// must leave it exactly as one consumer that had read every row in order.
///
/// A read that keeps no object of the file (`hashing: false`, a profile's reads) hashes nothing and
/// cuts the file in the middle.
///
/// The cut is only taken as a row boundary when the first part ends cleanly (its reader is not
/// inside a quoted field there). Whenever the parts cannot be used (a quoted field across the
/// cut, any error in either part or in the merge), the file is read again the ordinary way, in
/// one part: errors are then exactly those of a one-part read, naming the same line and column,
/// and a bad file costs a second read.
extension TableReader {
    /// Files smaller than this are read in one part (a thread is not worth it).
    static let partsThreshold = 8 << 20
    /// Where the cut is looked for, as a fraction of the file: a little before the middle, as
    /// the first part's thread also hashes the second part.
    static let partsSplit = 0.47

    /// Reads a whole file into a consumer, as `read(path:source:format:into:)` does, in two
    /// parts at once when it is a large CSV file (see above).
    ///
    /// - Parameters:
    ///   - partsFrom: the smallest file read in parts (tests read small files in parts).
    ///   - hashing: false for a read that keeps no object of the file: nothing is hashed (the
    ///     returned id is that of no bytes) and the cut is in the middle.
    ///   - make: a new consumer (called once per part, and once more when the parts are given up).
    ///   - merge: appends the rows of `second` to `first`; `lineOffset` is to be added to the lines
    ///     `second` recorded (its rows' lines are counted as if the file were its header and its rows).
    /// - Returns: the id the file's bytes have as an object, and the consumer that read every row.
    static func read<C: TableConsumer>(path: String, source: String, format: TableFormat, partsFrom: Int = partsThreshold,
                                        hashing: Bool = true, inParts make: () throws -> C,
                                        merge: (_ first: C, _ second: C, _ lineOffset: Int) throws -> Void) throws -> (ObjectID, C) {
        if format == .csv,
           let parts = try? Parts.plan(path: path, source: source, minimum: partsFrom, split: hashing ? partsSplit : 0.5) {
            defer { Sys.close(parts.fd) }
            if let read = try? parts.read(source: source, hashing: hashing, make: make, merge: merge) { return read }
        }
        let consumer = try make()
        return (try read(path: path, source: source, format: format, into: consumer, hashing: hashing), consumer)
    }

    /// `scan(path:source:format:into:)` in two parts at once when the file is a large CSV file: for
    /// consumers that record no lines (a profile's), so `merge` is not given a line offset.
    static func scan<C: TableConsumer>(path: String, source: String, format: TableFormat, partsFrom: Int = partsThreshold,
                                        inParts make: () throws -> C, merge: (_ first: C, _ second: C) throws -> Void) throws -> C {
        try read(path: path, source: source, format: format, partsFrom: partsFrom, hashing: false, inParts: make,
                 merge: { first, second, _ in try merge(first, second) }).1
    }

    /// Where a file is cut: its size, the header line's bytes and the first byte of the second part.
    private struct Parts {
        let fd: Int32
        let path: String
        let size: Int
        let header: [UInt8]
        let cut: Int

        /// Nil when the file is read in one part: small, no line break in its first MiB (the
        /// header) or around the cut, or a quote in the header line.
        static func plan(path: String, source: String, minimum: Int, split: Double) throws -> Parts? {
            let (fd, st) = try TableReader.openUserFile(path: path, source: source)
            do {
                guard let parts = try plan(fd: fd, path: path, size: Int(st.st_size), minimum: minimum, split: split) else {
                    Sys.close(fd)
                    return nil
                }
                return parts
            } catch {
                Sys.close(fd)
                throw error
            }
        }

        private static func plan(fd: Int32, path: String, size: Int, minimum: Int, split: Double) throws -> Parts? {
            guard size >= minimum, size > 0 else { return nil }
            let window = 1 << 20
            var head = [UInt8](repeating: 0, count: window)
            let got = try head.withUnsafeMutableBytes { try Sys.preadFull(fd, $0.baseAddress!, window, at: 0, path: path) }
            guard let headerEnd = head[0..<got].firstIndex(of: 0x0A), !head[0..<headerEnd].contains(0x22) else { return nil }
            let from = max(Int(Double(size) * split), headerEnd + 1)
            var around = [UInt8](repeating: 0, count: window)
            let n = try around.withUnsafeMutableBytes { try Sys.preadFull(fd, $0.baseAddress!, window, at: from, path: path) }
            guard let lf = around[0..<n].firstIndex(of: 0x0A), from + lf + 1 < size else { return nil }
            return Parts(fd: fd, path: path, size: size, header: Array(head[0...headerEnd]), cut: from + lf + 1)
        }

        /// Feeds bytes `from..<to` of the file to `body`, 1 MiB at a time.
        func stream(_ from: Int, _ to: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var at = from
            while at < to {
                let want = min(buffer.count, to - at)
                let n = try buffer.withUnsafeMutableBytes { try Sys.preadFull(fd, $0.baseAddress!, want, at: at, path: path) }
                guard n == want else { throw MregError.invalid("\(path) changed while it was read") }
                try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<n])) }
                at += n
            }
        }

        func read<C: TableConsumer>(source: String, hashing: Bool, make: () throws -> C, merge: (C, C, Int) throws -> Void) throws -> (ObjectID, C) {
            let first = try make(), second = try make()
            first.expect(bytes: hashing ? size : cut)
            second.expect(bytes: size - cut)
            let firstReader = TableReader(source: source, format: .csv, consumer: first, hashing: hashing)
            let secondReader = TableReader(source: source, format: .csv, consumer: second, hashing: false)
            let work = SecondPart(reader: secondReader, consumer: second, parts: self)
            let task = BackgroundTask(stackSize: 8 << 20) { try work.run() }
            var firstError: Error?
            do {
                try stream(0, cut) { try firstReader.feed($0) }
                try firstReader.endRows()
            } catch {
                firstError = error
            }
            // The rest of the file is hashed while the second part is read (or, after an error,
            // the second part is waited for: it borrows this descriptor).
            if firstError == nil {
                do {
                    if hashing { try stream(cut, size) { firstReader.hashOnly($0) } }
                    try first.partRead()
                } catch {
                    firstError = error
                }
            }
            let secondError = task.wait()
            if let firstError { throw firstError }
            if let secondError { throw secondError }
            // The second reader counted its lines from its header copy (line 1): its first row,
            // on its line 2, is on the first reader's `line` in the file.
            try merge(first, second, firstReader.line - 2)
            return (firstReader.digest(), first)
        }
    }

    /// The second part's read, on its own thread: the header line, then the rows after the cut.
    /// (Its reader and consumer are used by that thread alone until it has ended.)
    private final class SecondPart: @unchecked Sendable {
        let reader: TableReader
        let consumer: TableConsumer
        let parts: Parts

        init(reader: TableReader, consumer: TableConsumer, parts: Parts) {
            self.reader = reader
            self.consumer = consumer
            self.parts = parts
        }

        func run() throws {
            try parts.header.withUnsafeBufferPointer { try reader.feed($0) }
            try parts.stream(parts.cut, parts.size) { try reader.feed($0) }
            try reader.endRows()
            try consumer.partRead()
        }
    }
}
