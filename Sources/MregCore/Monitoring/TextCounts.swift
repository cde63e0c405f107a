#if canImport(Glibc)
import Glibc
#endif

/// Counts of distinct values of a column, keyed by their bytes as the file holds them: what the
/// profiler counts per value while a column is (or may still turn) categorical, without making a
/// `String` per value. At most `limit` distinct values are kept (open addressing, linear probing,
/// the keys' bytes in one arena), so its memory is bounded whatever the row count.
///
/// `strings` turns the keys into `String`s once, at the end: values that differ in bytes but are
/// the same text to Swift (canonically equivalent Unicode, such as a precomposed and a decomposed
/// accent) are merged there, so a profile lists the same values as when they were counted by
/// `String`. Only the `limit` boundary sees them as two values.
struct TextCounts {
    let limit: Int
    /// Distinct values kept.
    private(set) var count = 0
    /// Occurrences counted (the sum of the counts).
    private(set) var total = 0
    /// Slot → entry index + 1 (0: empty); a power of two, at least twice `limit`.
    private var slots: [Int32]
    private var hashes: [UInt64] = []
    private var starts: [Int] = []
    private var lengths: [Int] = []
    private var counts: [Int] = []
    private var arena: [UInt8] = []

    init(limit: Int) {
        self.limit = limit
        var size = 16
        while size < 2 * limit { size *= 2 }
        slots = [Int32](repeating: 0, count: size)
    }

    /// Counts one occurrence of `text` (or `times`): true when it was counted, false when it is a
    /// new value and `limit` values are kept already (then nothing changes).
    @inline(__always)
    mutating func add(_ text: UnsafeBufferPointer<UInt8>, times: Int = 1) -> Bool {
        let h = Self.hash(text)
        let mask = slots.count - 1
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[s])
            if e == 0 { break }
            if hashes[e - 1] == h && lengths[e - 1] == text.count && equal(e - 1, text) {
                counts[e - 1] += times
                total += times
                return true
            }
            s = (s + 1) & mask
        }
        guard count < limit else { return false }
        hashes.append(h)
        starts.append(arena.count)
        lengths.append(text.count)
        counts.append(times)
        arena.append(contentsOf: text)
        count += 1
        total += times
        slots[s] = Int32(count)
        return true
    }

    /// Counts every value of `later` (values read after this table's, with their counts) in the
    /// order `later` first saw them, as if they had been added one by one: a new value that finds
    /// `limit` values kept is not counted. Returns the occurrences not counted.
    mutating func absorb(_ later: TextCounts) -> Int {
        var left = 0
        later.forEach { text, c in if !add(text, times: c) { left += c } }
        return left
    }

    private func equal(_ e: Int, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard text.count > 0 else { return true }
        return arena.withUnsafeBufferPointer { a in memcmp(a.baseAddress! + starts[e], text.baseAddress!, text.count) == 0 }
    }

    /// Calls `body` with each value's bytes and count, in the order first seen.
    func forEach(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) rethrows {
        try arena.withUnsafeBufferPointer { a in
            for e in 0..<count { try body(UnsafeBufferPointer(rebasing: a[starts[e]..<starts[e] + lengths[e]]), counts[e]) }
        }
    }

    /// The values as text with their counts (values equal as `String`s merged).
    var strings: [String: Int] {
        var out: [String: Int] = [:]
        out.reserveCapacity(count)
        forEach { out[String(decoding: $0, as: UTF8.self), default: 0] += $1 }
        return out
    }

    /// A 64-bit hash of the bytes (eight at a time, multiply–xorshift mixing); not cryptographic.
    @inline(__always)
    static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(b.count)
        let n = b.count
        guard n > 0, let p = UnsafeRawPointer(b.baseAddress) else { return h }
        var i = 0
        while i + 8 <= n {
            h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        if i < n {
            var w: UInt64 = 0
            while i < n { w = w << 8 | UInt64(b[i]); i += 1 }
            h = (h ^ w) &* 0x94D0_49BB_1331_11EB
        }
        return h ^ (h >> 29)
    }
}
