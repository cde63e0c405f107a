/// Two versions side by side: the first (`a`, usually a candidate) against the second (`b`,
/// by default the production champion). Deltas are `a - b`; better/worse says how `a` compares.
public struct VersionDiff: Sendable {
    public enum Change: String, Sendable { case better, worse, same, added, removed, changed }

    public struct Metric: Sendable {
        public var name: String
        public var a: Double?
        public var b: Double?
        public var lowerIsBetter: Bool
        public var change: Change
        /// `a - b`; nil when one is missing or the difference is beyond a double (1.5e308 - -1.5e308).
        public var delta: Double? {
            guard let a, let b, (a - b).isFinite else { return nil }
            return a - b
        }
        /// Delta relative to the magnitude of `b`; nil when `b` is 0 or missing, or it overflows.
        public var relative: Double? {
            guard let d = delta, let b, b != 0, (d / abs(b)).isFinite else { return nil }
            return d / abs(b)
        }
    }

    public struct Entry: Sendable {
        public var key: String
        public var a: String?
        public var b: String?
        public var change: Change
    }

    public var a: ResolvedVersion
    public var b: ResolvedVersion
    public var aRecord: VersionRecord
    public var bRecord: VersionRecord
    public var metrics: [Metric]
    public var params: [Entry]
    /// Files added, removed or changed (sizes in `a`/`b`, as text).
    public var artifacts: [Entry]
    public var evalSetMismatch: String?
    /// The gate verdict for promoting `a` into the stage `b` is champion of, when `b` was named as one.
    public var gates: GateEvaluation?

    /// True when any metric both report got worse.
    public var regressed: Bool { metrics.contains { $0.change == .worse } }
}

extension Registry {
    /// Compares two versions. `b` nil means the production champion of `a`'s model.
    public func diff(_ aRef: VersionRef, _ bRef: VersionRef?) throws -> VersionDiff {
        let a = try resolve(aRef)
        let bRefOrChampion = bRef ?? .champion(a.model, .production, back: 0)
        let b: ResolvedVersion
        do { b = try resolve(bRefOrChampion) } catch let e as MregError where bRef == nil {
            throw MregError.invalid("no second version to compare with: \(e.message); name one")
        }
        let ar = try record(of: a), br = try record(of: b)
        // Directions as the gates see them: either manifest, and the policy and baseline
        // manifests of either model (GateEvaluator.Run takes the same union).
        var lower = ar.metrics.lowerIsBetter.union(br.metrics.lowerIsBetter)
        for m in a.model == b.model ? [a.model] : [a.model, b.model] {
            let state = try headEntry(m).entry.state
            if let p = try policy(m, state: state) { lower.formUnion(p.policy.lowerIsBetter) }
            for baseline in try baselines(m, state: state).values { lower.formUnion(baseline.lowerIsBetter) }
        }
        var metrics: [VersionDiff.Metric] = []
        for name in Set(ar.metrics.values.keys).union(br.metrics.values.keys).sorted() {
            let x = ar.metrics.values[name], y = br.metrics.values[name]
            let lib = lower.contains(name)
            let change: VersionDiff.Change
            switch (x, y) {
            case let (x?, y?): change = x == y ? .same : ((x < y) == lib ? .better : .worse)
            case (_?, nil): change = .added
            default: change = .removed
            }
            metrics.append(.init(name: name, a: x, b: y, lowerIsBetter: lib, change: change))
        }
        let pa = Self.flatten(ar.params), pb = Self.flatten(br.params)
        var params: [VersionDiff.Entry] = []
        for k in Set(pa.keys).union(pb.keys).sorted() where pa[k] != pb[k] {
            params.append(.init(key: k, a: pa[k], b: pb[k], change: pa[k] == nil ? .removed : pb[k] == nil ? .added : .changed))
        }
        let fa = Dictionary(uniqueKeysWithValues: ar.artifacts.map { ($0.path, $0) })
        let fb = Dictionary(uniqueKeysWithValues: br.artifacts.map { ($0.path, $0) })
        var files: [VersionDiff.Entry] = []
        for p in Set(fa.keys).union(fb.keys).sorted() {
            let x = fa[p], y = fb[p]
            if let x, let y, x.object == y.object, x.executable == y.executable { continue }
            let change: VersionDiff.Change = x == nil ? .removed : y == nil ? .added : .changed
            files.append(.init(key: p, a: x.map { String($0.size) }, b: y.map { String($0.size) }, change: change))
        }
        var gates: GateEvaluation?
        if case .champion(let m, let s, 0) = bRefOrChampion, m == a.model {
            gates = try evaluate(aRef, stage: s)
        }
        return VersionDiff(a: a, b: b, aRecord: ar, bRecord: br, metrics: metrics, params: params, artifacts: files,
                           evalSetMismatch: ar.metrics.evalSet?.mismatch(with: br.metrics.evalSet), gates: gates)
    }

    /// Nested parameters flattened with dots, values as canonical JSON text.
    public static func flatten(_ json: JSON, prefix: String = "") -> [String: String] {
        guard case .object(let o) = json else { return prefix.isEmpty ? [:] : [prefix: String(decoding: json.canonicalBytes, as: UTF8.self)] }
        var out: [String: String] = [:]
        for (k, v) in o {
            let key = prefix.isEmpty ? k : prefix + "." + k
            if case .object(let inner) = v, !inner.isEmpty {
                out.merge(flatten(v, prefix: key)) { x, _ in x }
            } else {
                out[key] = String(decoding: v.canonicalBytes, as: UTF8.self)
            }
        }
        return out
    }
}
