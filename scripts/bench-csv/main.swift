// Reads a predictions CSV (id,label,score) with two parsers and prints MB/s for each:
// mreg's byte-level tokenizer (Sources/MregCore/Tables/CSVTokenizer.swift, NumberText.swift,
// copied here by scripts/bench_eval.py) and yaslab/CSV.swift's CSVReader. Both turn every row into
// an id string, a label and a score double, as `register --predictions` does. Times are CPU seconds.
import CSV
import Foundation

/// CPU seconds of this process (the machine is shared: wall time depends on the other load).
func cpu() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func seconds(_ body: () throws -> Double) rethrows -> (Double, Double) {
    let start = cpu()
    let check = try body()
    return (cpu() - start, check)
}

let path = CommandLine.arguments[1]
let size = Double((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0)

func mreg() throws -> Double {
    var t = CSVTokenizer()
    var ids: [String] = [], labels: [UInt8] = [], scores: [Double] = []
    var header = true
    let emit: (CSVRecord) throws -> Void = { r in
        if header { header = false; return }
        ids.append(String(decoding: r[0], as: UTF8.self))
        labels.append(UInt8(try NumberText.parse(r[1]).get()))
        scores.append(try NumberText.parse(r[2]).get())
    }
    let fd = open(path, O_RDONLY)
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n <= 0 { break }
        try buffer.withUnsafeBufferPointer { try t.feed(UnsafeBufferPointer(rebasing: $0[0..<n]), emit) }
    }
    try t.finish(emit)
    return scores.reduce(0, +) + Double(ids.count + labels.count)
}

func csvSwift() throws -> Double {
    let csv = try CSVReader(stream: InputStream(fileAtPath: path)!, hasHeaderRow: true)
    var ids: [String] = [], labels: [UInt8] = [], scores: [Double] = []
    while let row = csv.next() {
        ids.append(row[0])
        labels.append(UInt8(Double(row[1])!))
        scores.append(Double(row[2])!)
    }
    return scores.reduce(0, +) + Double(ids.count + labels.count)
}

let (a, ca) = try seconds(mreg)
let (b, cb) = try seconds(csvSwift)
precondition(abs(ca - cb) < 1e-6 * abs(ca), "the parsers disagree: \(ca) vs \(cb)")
print(String(format: "{\"bytes\": %.0f, \"mreg_s\": %.3f, \"mreg_mb_s\": %.1f, \"csvswift_s\": %.3f, \"csvswift_mb_s\": %.1f}",
             size, a, size / a / 1e6, b, size / b / 1e6))
