// Benchmark data generator: registers many versions of one model in one process, through the same
// code path as `mreg register` (every write fsynced, every ref moved under the lock), so that the
// metadata benchmarks can be run at 10,000 and 100,000 versions without paying one process start
// per version. Used by scripts/benchmark.py; not installed, not part of the command-line contract.
//
//   mreg-populate REGISTRY MODEL COUNT
//
// Also the reading benchmark of scripts/bench_eval.py: reads and checks a predictions table as
// `register --predictions` does (tokenize, parse numbers, check every row, sort the ids, hash
// the evaluation set), without storing anything, and prints rows, CPU seconds, MB/s and the
// evaluation set's id; with --metrics, also the point metrics of `register --bootstrap 0` (default
// options) and their CPU seconds:
//
//   mreg-populate --read-predictions FILE [--metrics]
import Foundation
import MregCore

let args = CommandLine.arguments
if (args.count == 3 || args.count == 4 && args[3] == "--metrics") && args[1] == "--read-predictions" {
    do {
        let started = clock(), startedWall = Date()
        let read = try PredictionReader.read(path: args[2], options: PredictionOptions())
        let seconds = Double(clock() - started) / Double(CLOCKS_PER_SEC), wall = Date().timeIntervalSince(startedWall)
        let bytes = (try FileManager.default.attributesOfItem(atPath: args[2])[.size] as? NSNumber)?.doubleValue ?? 0
        var metrics = ""
        if args.count == 4 {
            let start = clock()
            let computed = ComputedMetrics.compute(read.table, options: MetricOptions(), resamples: 0, seed: 0)
            let cpu = Double(clock() - start) / Double(CLOCKS_PER_SEC)
            let values = computed.values.keys.sorted().map { "\"\($0)\": \(computed.values[$0]!)" }.joined(separator: ", ")
            metrics = ", \"metrics_cpu_seconds\": \(cpu), \"metrics\": {\(values)}"
        }
        print("{\"rows\": \(read.table.count), \"bytes\": \(Int(bytes)), \"cpu_seconds\": \(seconds), \"mb_per_s\": \(bytes / seconds / 1e6), \"wall_seconds\": \(wall), \"wall_mb_per_s\": \(bytes / wall / 1e6), \"eval_set\": \"\(read.evalSet)\"\(metrics)}")
        exit(0)
    } catch let e as MregError {
        FileHandle.standardError.write(Data("mreg-populate: \(e.message)\n".utf8))
        exit(e.exitCode)
    } catch {
        FileHandle.standardError.write(Data("mreg-populate: \(error)\n".utf8))
        exit(1)
    }
}
guard args.count == 4, let count = Int(args[3]), count > 0 else {
    FileHandle.standardError.write(Data("usage: mreg-populate REGISTRY MODEL COUNT\n".utf8))
    exit(2)
}
do {
    let registry = try Registry.open(explicit: args[1])
    let model = try ModelName(args[2])
    let work = NSTemporaryDirectory() + "mreg-populate-\(getpid())"
    try FileManager.default.createDirectory(atPath: work + "/art", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }
    try Data("w".utf8).write(to: URL(fileURLWithPath: work + "/art/w.bin"))
    let metrics = work + "/metrics.json"
    let start = Date()
    for i in 0..<count {
        let f1 = 0.5 + Double(i) / Double(10 * count)
        try Data("{\"f1\": \(f1), \"auc\": 0.7}".utf8).write(to: URL(fileURLWithPath: metrics))
        _ = try registry.register(RegisterRequest(model: model, paths: [work + "/art"], metricsFile: metrics))
        if (i + 1) % 10_000 == 0 {
            FileHandle.standardError.write(Data("\(i + 1) versions, \(Int(Date().timeIntervalSince(start))) s\n".utf8))
        }
    }
} catch let e as MregError {
    FileHandle.standardError.write(Data("mreg-populate: \(e.message)\n".utf8))
    exit(e.exitCode)
} catch {
    FileHandle.standardError.write(Data("mreg-populate: \(error)\n".utf8))
    exit(1)
}
