import Foundation

/// A predictions table's row ids, held as byte ranges of one buffer (UTF-8, as in the file) rather
/// than as one `String` per row: reading 3 million rows costs two arrays, not 3 million strings.
/// The strings are made once, when something asks for them (`strings`).
final class IdList: @unchecked Sendable {
    /// The ids' bytes, one after the other.
    let bytes: [UInt8]
    /// Where each id ends in `bytes`; id i starts where id i − 1 ends (0 for the first).
    let ends: [UInt32]
    private let lock = NSLock()
    private var cached: [String]?

    init(bytes: [UInt8], ends: [UInt32]) {
        self.bytes = bytes
        self.ends = ends
    }

    convenience init(_ strings: [String]) {
        var bytes: [UInt8] = []
        var ends: [UInt32] = []
        ends.reserveCapacity(strings.count)
        for s in strings {
            bytes.append(contentsOf: s.utf8)
            ends.append(UInt32(bytes.count))
        }
        self.init(bytes: bytes, ends: ends)
        cached = strings
    }

    var count: Int { ends.count }

    /// The ids as strings (made on first use, then kept).
    var strings: [String] {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let made = bytes.withUnsafeBufferPointer { b in
            ends.indices.map { i in String(decoding: UnsafeBufferPointer(rebasing: b[range(i)]), as: UTF8.self) }
        }
        cached = made
        return made
    }

    func range(_ i: Int) -> Range<Int> { (i == 0 ? 0 : Int(ends[i - 1]))..<Int(ends[i]) }

    func string(_ i: Int) -> String { String(decoding: bytes[range(i)], as: UTF8.self) }

    /// The ids at `indices`, in that order.
    func subset(_ indices: [Int]) -> IdList {
        lock.lock()
        let strings = cached
        lock.unlock()
        if let strings { return IdList(indices.map { strings[$0] }) }
        var out: [UInt8] = []
        var outEnds: [UInt32] = []
        outEnds.reserveCapacity(indices.count)
        for i in indices {
            out.append(contentsOf: bytes[range(i)])
            outEnds.append(UInt32(out.count))
        }
        return IdList(bytes: out, ends: outEnds)
    }

    /// Whether ids i and j are equal as strings: the same bytes, or (for ids that are not ASCII)
    /// canonically equivalent, as Swift's `==` on strings decides.
    func equal(_ i: Int, _ j: Int) -> Bool {
        let (a, b) = (range(i), range(j))
        if a.isEmpty || b.isEmpty { return a.count == b.count }
        return bytes.withUnsafeBufferPointer { p in
            if a.count == b.count && memcmp(p.baseAddress! + a.lowerBound, p.baseAddress! + b.lowerBound, a.count) == 0 { return true }
            var high: UInt8 = 0
            for k in a { high |= p[k] }
            for k in b { high |= p[k] }
            guard high >= 0x80 else { return false }
            return String(decoding: UnsafeBufferPointer(rebasing: p[a]), as: UTF8.self) == String(decoding: UnsafeBufferPointer(rebasing: p[b]), as: UTF8.self)
        }
    }

    /// The positions k ≥ 1 of `order` where the id of row order[k] equals that of row
    /// order[k − 1] (`equal`). ASCII ids are equal only when their bytes are, compared here a word
    /// at a time; ids that are not ASCII go through `equal`.
    func equalNeighbours(_ order: [UInt32]) -> [Int] {
        var out: [Int] = []
        guard order.count > 1 else { return out }
        var high: UInt8 = 0
        for b in bytes { high |= b }
        if high >= 0x80 { return (1..<order.count).filter { equal(Int(order[$0]), Int(order[$0 - 1])) } }
        bytes.withUnsafeBufferPointer { b in
            ends.withUnsafeBufferPointer { e in
                guard let base = b.baseAddress else { out = Array(1..<order.count); return }  // every id empty
                func start(_ i: Int) -> Int { i == 0 ? 0 : Int(e[i - 1]) }
                for k in 1..<order.count {
                    let (i, j) = (Int(order[k]), Int(order[k - 1]))
                    let (si, sj) = (start(i), start(j))
                    let length = Int(e[i]) - si
                    guard length == Int(e[j]) - sj else { continue }
                    var m = 0
                    while m + 8 <= length,
                          UnsafeRawPointer(base + si + m).loadUnaligned(as: UInt64.self) == UnsafeRawPointer(base + sj + m).loadUnaligned(as: UInt64.self) {
                        m += 8
                    }
                    if m + 8 <= length { continue }
                    while m < length && base[si + m] == base[sj + m] { m += 1 }
                    if m == length { out.append(k) }
                }
            }
        }
        return out
    }

    /// Row indices in increasing byte order of the ids (an id before the ids it is a prefix of),
    /// rows with equal ids in row order: a stable sort by the ids' bytes.
    ///
    /// A least-significant-digit radix sort of (first eight bytes, row) pairs by 16-bit digits,
    /// skipping the digits every id shares (a common prefix); then each run of equal first eight
    /// bytes, when there is one, is sorted by the whole ids (stable).
    func byteOrder() -> [UInt32] {
        let n = count
        if bytes.isEmpty { return (0..<n).map { UInt32($0) } }  // no ids, or only empty ones
        var pairs = [Keyed](repeating: Keyed(key: 0, row: 0), count: n)
        var counts = [UInt32](repeating: 0, count: 4 << 16)
        bytes.withUnsafeBufferPointer { b in
            ends.withUnsafeBufferPointer { e in
                pairs.withUnsafeMutableBufferPointer { out in
                    counts.withUnsafeMutableBufferPointer { c in
                        var start = 0
                        for i in 0..<n {
                            let end = Int(e[i])
                            var key: UInt64 = 0
                            let take = min(8, end - start)
                            for k in 0..<take { key = key << 8 | UInt64(b[start + k]) }
                            key <<= UInt64(8 * (8 - take))
                            out[i] = Keyed(key: key, row: UInt32(i))
                            c[Int(key & 0xFFFF)] += 1
                            c[1 << 16 + Int(key >> 16 & 0xFFFF)] += 1
                            c[2 << 16 + Int(key >> 32 & 0xFFFF)] += 1
                            c[3 << 16 + Int(key >> 48)] += 1
                            start = end
                        }
                    }
                }
            }
        }
        var other = [Keyed](repeating: Keyed(key: 0, row: 0), count: n)
        for digit in 0..<4 {
            let shift = UInt64(16 * digit)
            let base = digit << 16
            // A digit all the ids share orders nothing.
            if counts[base + Int(pairs[0].key >> shift & 0xFFFF)] == UInt32(n) { continue }
            counts.withUnsafeMutableBufferPointer { c in
                var sum: UInt32 = 0
                for v in 0..<(1 << 16) { let k = c[base + v]; c[base + v] = sum; sum += k }
                pairs.withUnsafeBufferPointer { from in
                    other.withUnsafeMutableBufferPointer { to in
                        for i in 0..<n {
                            let slot = base + Int(from[i].key >> shift & 0xFFFF)
                            to[Int(c[slot])] = from[i]
                            c[slot] += 1
                        }
                    }
                }
            }
            swap(&pairs, &other)
        }
        other = []
        // Runs of equal first eight bytes: by the whole ids, in the order the radix sort kept.
        var i = 0
        while i < n {
            var j = i + 1
            while j < n && pairs[j].key == pairs[i].key { j += 1 }
            if j - i > 1 {
                bytes.withUnsafeBufferPointer { b in
                    pairs[i..<j].sort { x, y in
                        let (rx, ry) = (range(Int(x.row)), range(Int(y.row)))
                        return Self.precedes(b.baseAddress.map { $0 + rx.lowerBound }, rx.count, b.baseAddress.map { $0 + ry.lowerBound }, ry.count)
                    }
                }
            }
            i = j
        }
        return pairs.map(\.row)
    }

    /// The byte order of two lists' ids together, from each list's own (`byteOrder`): rows of
    /// `b` are numbered after those of `a` (as if `b` were appended to `a`), and an id of `a`
    /// comes before an equal id of `b`. The same order `byteOrder` gives the two lists joined.
    static func merged(_ a: IdList, _ orderA: [UInt32], _ b: IdList, _ orderB: [UInt32]) -> [UInt32] {
        var out = [UInt32]()
        out.reserveCapacity(orderA.count + orderB.count)
        let shift = UInt32(a.count)
        a.bytes.withUnsafeBufferPointer { ab in
            b.bytes.withUnsafeBufferPointer { bb in
                a.ends.withUnsafeBufferPointer { ae in
                    b.ends.withUnsafeBufferPointer { be in
                        // Whether id j of b sorts strictly before id i of a.
                        func before(_ j: Int, _ i: Int) -> Bool {
                            let (sa, sb) = (i == 0 ? 0 : Int(ae[i - 1]), j == 0 ? 0 : Int(be[j - 1]))
                            return precedes(bb.baseAddress.map { $0 + sb }, Int(be[j]) - sb, ab.baseAddress.map { $0 + sa }, Int(ae[i]) - sa)
                        }
                        var (i, j) = (0, 0)
                        while i < orderA.count && j < orderB.count {
                            if before(Int(orderB[j]), Int(orderA[i])) {
                                out.append(orderB[j] + shift); j += 1
                            } else {
                                out.append(orderA[i]); i += 1
                            }
                        }
                        out.append(contentsOf: orderA[i...])
                        for r in orderB[j...] { out.append(r + shift) }
                    }
                }
            }
        }
        return out
    }

    /// Whether the `xn` bytes at `x` sort strictly before the `yn` bytes at `y`: byte by byte
    /// (unsigned), a prefix before what it begins.
    @inline(__always)
    static func precedes(_ x: UnsafePointer<UInt8>?, _ xn: Int, _ y: UnsafePointer<UInt8>?, _ yn: Int) -> Bool {
        let common = min(xn, yn)
        if common > 0, let x, let y {
            let c = memcmp(x, y, common)
            if c != 0 { return c < 0 }
        }
        return xn < yn
    }

    private struct Keyed { var key: UInt64; var row: UInt32 }
}
