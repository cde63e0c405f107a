/// Profiling a large CSV file on two cores: each half of the file is profiled on its own
/// (`TableReader.scan(…inParts:…)`), then the second half's accumulators are merged into the
/// first's. The merged profile is the one a single read makes, except for:
///
/// - mean and standard deviation, merged by Chan, Golub and LeVeque's formula for two groups
///   (equal to a single pass's Welford to within rounding: about 1e-15 relative);
/// - for a column of more than `Profiler.sampleLimit` values, the sample its percentiles and
///   decile edges are read from: still a uniform sample without replacement of the column's
///   values, drawn from the two halves' samples (`mergedSample`), but another draw than a single
///   read's. Bin counts stay exact (counted on the edges in a second read, itself in two parts).
///
/// Where a merge cannot give what a single read gives (a half that did not count every one of
/// its distinct values, joined to a column whose counts depend on them), `merge` throws and the
/// file is profiled again in one read: such a file costs one and a half reads more.
extension ProfileBuilder {
    struct Unmergeable: Error {}

    /// Takes in `second`, the profile of the rows after this one's (same header).
    func merge(_ second: ProfileBuilder) throws {
        guard names == second.names, columnIndex == second.columnIndex else { throw Unmergeable() }
        rows += second.rows
        for k in accumulators.indices {
            if countingOnly != nil {
                accumulators[k].addCounts(second.accumulators[k])
            } else {
                try accumulators[k].merge(second.accumulators[k])
            }
        }
    }
}

extension ColumnAccumulator {
    /// Whether `values` holds every non-missing value read, with its count.
    var holdsEveryValue: Bool { numeric ? tracking && values.total == n : other == 0 && !overflowed }

    mutating func addCounts(_ b: ColumnAccumulator) {
        for i in counts.indices { counts[i] += b.counts[i] }
        below += b.below
        above += b.above
    }

    /// Takes in the accumulator of the same column over the rows after this one's. Throws
    /// `Unmergeable` where the result would differ from one accumulator that read every row.
    mutating func merge(_ b: ColumnAccumulator) throws {
        switch (numeric, b.numeric) {
        case (true, true):
            // Distinct values: counted on while both halves counted all of theirs and they fit.
            if tracking && b.tracking {
                tracking = values.absorb(b.values) == 0
            } else {
                tracking = false
            }
            mergeNumbers(b)
        case (false, _):
            // Categorical already: the later values are counted as text (a new value that finds
            // the table full is `other`), which needs every one of them with its count.
            guard b.holdsEveryValue else { throw ProfileBuilder.Unmergeable() }
            let left = values.absorb(b.values)
            if left > 0 { overflowed = true }
            other += left
            n += b.n
        case (true, false):
            // Turned categorical in the later rows: exact when every value of both halves was
            // counted and together they fit (then a single read never stopped counting them).
            guard holdsEveryValue, b.holdsEveryValue, values.absorb(b.values) == 0 else { throw ProfileBuilder.Unmergeable() }
            numeric = false
            reservoir = []
            n += b.n
        }
        missing += b.missing
        exactText = exactText && b.exactText
        addCounts(b)
    }

    /// Count, mean and sum of squared deviations of the two groups (Chan, Golub and LeVeque),
    /// range, and a sample of the union.
    private mutating func mergeNumbers(_ b: ColumnAccumulator) {
        lo = min(lo, b.lo)
        hi = max(hi, b.hi)
        guard b.n > 0 else { return }
        guard n > 0 else {
            (n, mean, m2, reservoir) = (b.n, b.mean, b.m2, b.reservoir)
            return
        }
        let total = n + b.n
        let d = b.mean - mean
        mean += d * Double(b.n) / Double(total)
        m2 += b.m2 + d * d * Double(n) * Double(b.n) / Double(total)
        reservoir = Self.mergedSample(reservoir, of: n, b.reservoir, of: b.n, limit: Profiler.sampleLimit, rng: &rng)
        n = total
    }

    /// A uniform sample without replacement of at most `limit` values of the union of two groups
    /// of `na` and `nb` values, from a uniform sample of each (`a`: min(na, limit) values, `b`:
    /// min(nb, limit)). Every value when the two together have at most `limit`. Otherwise `limit`
    /// draws from the union without replacement: each draw falls in the first group with
    /// probability (its values not yet drawn) / (all values not yet drawn), and takes a value of
    /// that group's sample not yet taken, at random (a uniform subset of a uniform sample is a
    /// uniform subset of the group).
    static func mergedSample(_ a: [Double], of na: Int, _ b: [Double], of nb: Int, limit: Int, rng: inout SplitMix64) -> [Double] {
        if na + nb <= limit { return a + b }
        var a = a, b = b
        var (leftA, leftB) = (na, nb)
        var (takenA, takenB) = (0, 0)
        var out: [Double] = []
        out.reserveCapacity(limit)
        func take(_ pool: inout [Double], _ taken: inout Int, _ rng: inout SplitMix64) -> Double {
            let j = taken + Int(rng.next() % UInt64(pool.count - taken))
            pool.swapAt(taken, j)
            taken += 1
            return pool[taken - 1]
        }
        for _ in 0..<limit {
            if Int(rng.next() % UInt64(leftA + leftB)) < leftA {
                out.append(take(&a, &takenA, &rng))
                leftA -= 1
            } else {
                out.append(take(&b, &takenB, &rng))
                leftB -= 1
            }
        }
        return out
    }
}
