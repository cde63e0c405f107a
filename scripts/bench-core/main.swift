// A benchmark driver compiled together with the MregCore sources into one optimised module
// (scripts/build-bench-core.sh): the core calls behind `mreg init`, `register --reference`,
// `promote`, `observe`, `monitor --json`, without the command line's other dependencies (the S3
// client's build takes longer than a release build of the core alone). Used by
// scripts/bench_monitoring.py when the release `mreg` is not built; outputs are the core's JSON.
#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    let bytes = Array("bench-core: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

let args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else { fail("usage: bench-core init|register|promote|observe|profile|monitor|features …") }
do {
    switch (command, args.count) {
    case ("init", 2):
        try Registry.create(at: args[1])
    case ("register", 5), ("register", 6):
        // register REG MODEL DIR METRICS [REFERENCE]
        var request = RegisterRequest(model: try ModelName(args[2]), paths: [args[3]], metricsFile: args[4])
        if args.count == 6 { request.reference = ReferenceRequest(path: args[5]) }
        let r = try Registry.open(explicit: args[1]).register(request)
        print(r.record.name)
    case ("promote", 4):
        _ = try Registry.open(explicit: args[1]).promote(try VersionRef(args[2]), stage: try StageName(args[3]))
    case ("observe", 4):
        let r = try Registry.open(explicit: args[1]).observe(try VersionRef(args[2]), path: args[3], source: .traffic)
        print("\(r.entry.rows) rows, object \(r.entry.rowsObject), summary \(r.entry.summaryObject)\(r.duplicate ? " (duplicate)" : "")")
    case ("profile", 2):
        print(try Registry.profileReference(ReferenceRequest(path: args[1])).json.canonicalBytes.count, "bytes of profile")
    case ("monitor", 3):
        let report = try Registry.open(explicit: args[1]).monitor(MonitorRequest(model: try ModelName(args[2])))
        print(String(decoding: report.json.canonicalBytes, as: UTF8.self))
    case ("features", 3):
        // The summary JSON of each batch observed for MODEL, one a line (to compare builds).
        let registry = try Registry.open(explicit: args[1])
        for b in try registry.observations(of: try ModelName(args[2])) {
            print(String(decoding: try registry.summary(of: b).json.canonicalBytes, as: UTF8.self))
        }
    case ("drift", 3):
        // drift REFERENCE WINDOW: mreg's measures per column of WINDOW against REFERENCE (both CSV).
        let r = try Profiler.profile(path: args[1], source: args[1], format: .csv)
        let w = try Profiler.profile(path: args[2], source: args[2], format: .csv, reference: r)
        var out: [String: JSON] = [:]
        for (name, rc) in r.columns {
            guard let wc = w.columns[name] else { continue }
            var m: [String: JSON] = [:]
            if case .numeric(let a) = rc, case .numeric(let b) = wc {
                m["psi"] = DriftMeasures.psi(a, b).map { .number($0) }
                m["ks"] = DriftMeasures.ks(a, b).map { .number($0) }
                m["wasserstein"] = DriftMeasures.wasserstein(a, b).map { .number($0) }
            }
            m["js"] = DriftMeasures.js(rc, wc).map { .number($0) }
            out[name] = .object(m)
        }
        print(String(decoding: JSON.object(out).canonicalBytes, as: UTF8.self))
    default:
        fail("unknown command or arguments: \(args.joined(separator: " "))")
    }
} catch let e as MregError {
    fail(e.message)
} catch {
    fail("\(error)")
}
