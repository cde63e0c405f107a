/// The percentile bootstrap of docs/evaluation.md: each replicate draws, within each stratum
/// (label 0 and label 1; one stratum for a regression), as many rows as the stratum has,
/// uniformly with replacement. A replicate is a vector of integer counts per row (multinomial),
/// passed as weights to the same metric code as the point values (`PreparedTable.evaluate`), so
/// rows are sorted once, never per replicate. The interval is the (1 − level)/2 and
/// (1 + level)/2 quantiles of the replicates' values (numpy's default linear interpolation).
enum Bootstrap {
    /// The seed of a predictions object: its first 13 hex digits (52 bits, exact in JSON).
    static func seed(of object: ObjectID) -> UInt64 {
        UInt64(object.hex.prefix(13), radix: 16)!
    }

    /// Per-metric intervals of `prepared` (nil where the metric was undefined in every replicate).
    static func intervals(_ prepared: PreparedTable, resamples: Int, seed: UInt64, level: Double = 0.95) -> [Evaluation.Interval?] {
        var values = [[Double]](repeating: [], count: prepared.names.count)
        for k in values.indices { values[k].reserveCapacity(resamples) }
        var rng = Xoshiro(seed: seed)
        // Drawn in the prepared order (rows sorted by score), so the passes read the weights
        // sequentially; the table's own weights multiply them. Each stratum's draws are counted
        // in a byte per member, side by side (a million rows' counts fit in a core's cache,
        // where the random increments land), then written to the members' positions in one
        // pass. A count past 255 — possible in principle, never seen — redraws that replicate
        // from the same generator state as doubles, so the replicate is the same either way.
        let n = prepared.order.count
        var local = prepared.positionStrata.map { [UInt8](repeating: 0, count: $0.count) }
        var counts = [Double](repeating: 0, count: n)
        var weights = [Double](repeating: 0, count: n)
        let own = prepared.ownWeights
        for _ in 0..<resamples {
            let before = rng
            if !drawBytes(strata: prepared.positionStrata, local: &local, own: own, into: &weights, rng: &rng) {
                rng = before
                draw(strata: prepared.positionStrata, into: &counts, rng: &rng)
                gather(counts, order: Array(0..<n), own: own, into: &weights)
            }
            let out = weights.withUnsafeBufferPointer { prepared.evaluate(weights: $0) }
            for (k, v) in out.enumerated() { if let v { values[k].append(v) } }
        }
        let lo = (1 - level) / 2, hi = (1 + level) / 2
        return values.map { v in
            guard !v.isEmpty else { return nil }
            let s = v.sorted()
            return Evaluation.Interval(low: quantile(s, lo), high: quantile(s, hi))
        }
    }

    /// One replicate's counts per table row: for each stratum, |stratum| draws with replacement.
    static func draw(strata: [[Int]], into counts: inout [Double], rng: inout Xoshiro) {
        counts.withUnsafeMutableBufferPointer { c in
            for i in c.indices { c[i] = 0 }
            for stratum in strata where !stratum.isEmpty {
                stratum.withUnsafeBufferPointer { s in
                    let n = UInt64(s.count)
                    for _ in 0..<s.count { c[s[Int(rng.below(n))]] += 1 }
                }
            }
        }
    }

    /// `draw`, as weights (times the table's own weights) at the strata's positions, every
    /// position written: each stratum's draws are counted in `local` (a byte per member; the
    /// same random numbers pick the same members as `draw`), then copied to the positions.
    /// False when a count would pass 255 (the weights are then unusable).
    static func drawBytes(strata: [[Int]], local: inout [[UInt8]], own: [Double]?, into weights: inout [Double], rng: inout Xoshiro) -> Bool {
        var overflow = false
        weights.withUnsafeMutableBufferPointer { w in
            for (k, stratum) in strata.enumerated() where !stratum.isEmpty {
                local[k].withUnsafeMutableBufferPointer { c in
                    c.update(repeating: 0)
                    let n = UInt64(c.count)
                    for _ in 0..<c.count {
                        let r = Int(rng.below(n))
                        let (v, o) = c[r].addingReportingOverflow(1)
                        c[r] = v
                        overflow = overflow || o
                    }
                    stratum.withUnsafeBufferPointer { s in
                        if let own {
                            own.withUnsafeBufferPointer { u in for r in 0..<s.count { w[s[r]] = Double(c[r]) * u[s[r]] } }
                        } else {
                            for r in 0..<s.count { w[s[r]] = Double(c[r]) }
                        }
                    }
                }
            }
        }
        return !overflow
    }

    /// Counts (by table row) times the table's own weights, in the prepared position order.
    static func gather(_ counts: [Double], order: [Int], own: [Double]?, into weights: inout [Double]) {
        counts.withUnsafeBufferPointer { c in
            order.withUnsafeBufferPointer { o in
                weights.withUnsafeMutableBufferPointer { w in
                    if let own {
                        own.withUnsafeBufferPointer { u in for k in 0..<o.count { w[k] = c[o[k]] * u[k] } }
                    } else {
                        for k in 0..<o.count { w[k] = c[o[k]] }
                    }
                }
            }
        }
    }

    /// The q quantile of sorted values, linear between neighbours (numpy's default, "type 7").
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let h = Double(sorted.count - 1) * q
        let i = Int(h.rounded(.down))
        guard i + 1 < sorted.count else { return sorted[sorted.count - 1] }
        return sorted[i] + (h - Double(i)) * (sorted[i + 1] - sorted[i])
    }
}

/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64: fast, and the same sequence on
/// every platform, so a recorded seed reproduces an interval.
struct Xoshiro {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var g = SplitMix64(seed: seed)
        s = (g.next(), g.next(), g.next(), g.next())
    }

    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform in 0..<n without bias (Lemire's multiply-and-reject).
    mutating func below(_ n: UInt64) -> UInt64 {
        var m = next().multipliedFullWidth(by: n)
        if m.low < n {
            let t = (0 &- n) % n
            while m.low < t { m = next().multipliedFullWidth(by: n) }
        }
        return m.high
    }
}
