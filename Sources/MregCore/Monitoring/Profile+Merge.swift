/// Merging the profiles of several batches into the profile of their window, so a window's
/// measures need no raw rows (the observation log keeps one profile per batch).
extension Profile {
    /// The profile of the union of the batches' rows.
    ///
    /// Exact: rows, count, missing, min, max, bin counts, `below`/`above`, and mean and std
    /// (Chan et al.'s pairwise update, up to rounding); categorical counts of values every batch
    /// listed. The percentiles are those of the mixture of the batches' piecewise-linear quantile
    /// functions, weighted by count (exact for one batch, an approximation otherwise, good to
    /// well under a percentile step on smooth data). Numeric columns are binned together only when
    /// the batches share their edges (profiled against the same reference); otherwise the first
    /// batch's edges and counts are kept. A column numeric in one batch and categorical in another
    /// becomes categorical with the numeric batch's rows counted as `other`.
    public static func merged(_ batches: [Profile]) -> Profile? {
        guard let first = batches.first else { return nil }
        if batches.count == 1 { return first }
        var names: [String] = []
        for b in batches { for k in b.columns.keys.sorted() where !names.contains(k) { names.append(k) } }
        var columns: [String: ColumnProfile] = [:]
        for name in names {
            // A batch without the column counts its rows as missing.
            let parts = batches.map { $0.columns[name] ?? .empty(missing: $0.rows) }
            columns[name] = mergeColumn(parts)
        }
        return Profile(rows: batches.reduce(0) { $0 + $1.rows }, columns: columns)
    }

    static func mergeColumn(_ parts: [ColumnProfile]) -> ColumnProfile {
        let missing = parts.reduce(0) { $0 + $1.missing }
        let numeric = parts.compactMap { if case .numeric(let n) = $0 { return n } else { return nil } }
        let categorical = parts.compactMap { if case .categorical(let c) = $0 { return c } else { return nil } }
        if !categorical.isEmpty {
            var counts: [String: Int] = [:]
            for c in categorical { for (v, n) in c.top { counts[v, default: 0] += n } }
            let count = categorical.reduce(0) { $0 + $1.count } + numeric.reduce(0) { $0 + $1.count }
            let ranked = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            let top = ranked.prefix(CategoricalProfile.topLimit).map { (value: $0.key, count: $0.value) }
            let listed = top.reduce(0) { $0 + $1.count }
            return .categorical(CategoricalProfile(count: count, missing: missing, top: top, other: count - listed,
                                                   complete: numeric.isEmpty && count == listed && categorical.allSatisfy(\.complete)))
        }
        guard var acc = numeric.first else { return .empty(missing: missing) }
        for n in numeric.dropFirst() {
            let total = Double(acc.count + n.count)
            let delta = n.mean - acc.mean
            let m2 = acc.std * acc.std * Double(acc.count) + n.std * n.std * Double(n.count)
                + delta * delta * Double(acc.count) * Double(n.count) / total
            acc.mean += delta * Double(n.count) / total
            acc.std = (m2 / total).squareRoot()
            if n.edges == acc.edges {
                acc.counts = zip(acc.counts, n.counts).map { $0 + $1 }
                acc.below += n.below
                acc.above += n.above
            }
            acc.count += n.count
            acc.min = Swift.min(acc.min, n.min)
            acc.max = Swift.max(acc.max, n.max)
            acc.sample += n.sample
        }
        acc.percentiles = mixturePercentiles(numeric)
        acc.missing = missing
        return .numeric(acc)
    }

    /// The 101 percentiles of the count-weighted mixture of piecewise-linear quantile functions:
    /// each batch's CDF is linear between its percentiles, the mixture's CDF is their weighted
    /// sum, and it is inverted at 0, 0.01, …, 1 by bisection.
    static func mixturePercentiles(_ parts: [NumericProfile]) -> [Double] {
        let total = Double(parts.reduce(0) { $0 + $1.count })
        func cdf(_ x: Double) -> Double {
            var f = 0.0
            for p in parts {
                let q = p.percentiles
                let share: Double
                if x < q[0] { share = 0 } else if x >= q[100] { share = 1 } else {
                    // The last k with q[k] <= x, then linear to q[k + 1].
                    var k = ColumnAccumulator.bin(x, q) - 1
                    k = Swift.max(0, Swift.min(99, k))
                    let span = q[k + 1] - q[k]
                    share = (Double(k) + (span > 0 ? (x - q[k]) / span : 1)) / 100
                }
                f += share * Double(p.count) / total
            }
            return f
        }
        let lo = parts.map(\.min).min()!, hi = parts.map(\.max).max()!
        var out: [Double] = [lo]
        for k in 1..<100 {
            let target = Double(k) / 100
            var a = lo, b = hi
            for _ in 0..<100 where b - a > 1e-12 * Swift.max(1, abs(a) + abs(b)) {
                let m = (a + b) / 2
                if cdf(m) < target { a = m } else { b = m }
            }
            out.append(b)
        }
        out.append(hi)
        return out
    }
}
