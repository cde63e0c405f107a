#if canImport(Glibc)
import Glibc
#endif

enum NumberProblem: Error { case empty, notANumber, notFinite }

/// Decimal numbers as CSV writers spell them: `[+-]digits[.digits][e[+-]digits]`, correctly
/// rounded, bit for bit what `strtod` gives. NaN, infinities (`nan`, `inf`, or a value past the
/// largest double), hexadecimal, spaces and empty text are refused.
///
/// Three paths, the first that can decide: Clinger's fast path (a decimal mantissa of at most 2^53
/// and a power of ten of at most 22: one IEEE multiplication or division, exact); Eisel–Lemire for
/// any mantissa of at most 19 significant digits (a 64 × 128-bit product with the power of ten of
/// `DecimalPowers`; it gives up, rather than guess, on a product too close to a halfway point, on
/// subnormals and on overflow); `strtod` for the rest (more than 19 digits, or Eisel–Lemire gave up).
enum NumberText {
    /// 10^0 … 10^22, each exact in a double (a literal: initialised statically, no lazy check per use).
    private static let powers: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                           1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Result<Double, NumberProblem> {
        let n = b.count
        if n == 0 { return .failure(.empty) }
        if n <= shortLimit, let v = shortDecimal(b) { return .success(v) }
        var i = 0
        var negative = false
        if b[0] == 0x2D || b[0] == 0x2B { negative = b[0] == 0x2D; i = 1 }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var sawDigit = false
        while i < n, b[i] &- 0x30 < 10 {
            sawDigit = true
            if mantissa != 0 || b[i] != 0x30 { significant += 1 }
            if significant <= 19 { mantissa = mantissa &* 10 &+ UInt64(b[i] &- 0x30) } else { exponent += 1 }
            i += 1
        }
        if i < n, b[i] == 0x2E {
            i += 1
            while i < n, b[i] &- 0x30 < 10 {
                // Eight significant digits at once when they are there (scores such as
                // 0.38336416742989243 are most of a predictions file's bytes).
                if mantissa != 0, significant + 8 <= 19, i + 8 <= n {
                    let w = UInt64(littleEndian: UnsafeRawPointer(b.baseAddress! + i).loadUnaligned(as: UInt64.self))
                    if ((w &+ 0x4646_4646_4646_4646) | (w &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080 == 0 {  // all digits
                        mantissa = mantissa &* 100_000_000 &+ eightDigits(w)
                        significant += 8
                        exponent -= 8
                        i += 8
                        continue
                    }
                }
                sawDigit = true
                if mantissa != 0 || b[i] != 0x30 { significant += 1 }
                if significant <= 19 { mantissa = mantissa &* 10 &+ UInt64(b[i] &- 0x30); exponent -= 1 }
                i += 1
            }
        }
        guard sawDigit else {
            let lower = String(decoding: b, as: UTF8.self).lowercased()
            return .failure(["nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"].contains(lower) ? .notFinite : .notANumber)
        }
        if i < n, b[i] == 0x65 || b[i] == 0x45 {
            i += 1
            var eneg = false
            if i < n, b[i] == 0x2D || b[i] == 0x2B { eneg = b[i] == 0x2D; i += 1 }
            var e = 0
            var edigits = 0
            while i < n, b[i] &- 0x30 < 10 { if e < 100_000 { e = e * 10 + Int(b[i] &- 0x30) }; edigits += 1; i += 1 }
            guard edigits > 0 else { return .failure(.notANumber) }
            exponent += eneg ? -e : e
        }
        guard i == n else { return .failure(.notANumber) }
        if significant <= 19 {
            if mantissa <= 1 << 53, abs(exponent) <= 22 {
                var v = Double(mantissa)
                v = exponent < 0 ? v / powers[-exponent] : v * powers[exponent]
                return .success(negative ? -v : v)
            }
            if let v = eiselLemire(mantissa, exponent, negative: negative) { return .success(v) }
        }
        return strtodCopy(b)
    }

    /// The longest text `shortDecimal` reads: at most 12 digits, so the mantissa is below 2^53.
    private static let shortLimit = 12

    /// `[+-]digits[.digits]` of at most `shortLimit` bytes (a feature such as `-1234.567`): the
    /// digits taken as they come, then Clinger's fast path, which always applies here (a mantissa
    /// below 10^12 < 2^53, a power of ten of at most 12). The same value `parse` computes the long
    /// way; nil (the long way decides) for anything else: an exponent, no digit, another character.
    @inline(__always)
    private static func shortDecimal(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = b.count
        var i = 0
        var negative = false
        if b[0] == 0x2D || b[0] == 0x2B { negative = b[0] == 0x2D; i = 1 }
        let start = i
        var mantissa: UInt64 = 0
        while i < n, b[i] &- 0x30 < 10 {
            mantissa = mantissa &* 10 &+ UInt64(b[i] &- 0x30)
            i += 1
        }
        var digits = i - start
        var exponent = 0
        if i < n {
            guard b[i] == 0x2E else { return nil }
            i += 1
            let fraction = i
            while i < n, b[i] &- 0x30 < 10 {
                mantissa = mantissa &* 10 &+ UInt64(b[i] &- 0x30)
                i += 1
            }
            guard i == n else { return nil }
            exponent = i - fraction
            digits += exponent
        }
        guard digits > 0 else { return nil }
        let v = exponent == 0 ? Double(mantissa) : Double(mantissa) / powers[exponent]
        return negative ? -v : v
    }

    /// The value of eight ASCII digits loaded little-endian (the first digit in the low byte).
    @inline(__always)
    private static func eightDigits(_ word: UInt64) -> UInt64 {
        var v = word &- 0x3030_3030_3030_3030
        v = v &* 10 &+ (v >> 8)  // pairs of digits in every other byte
        v = ((v & 0x0000_00FF_0000_00FF) &* 0x000F_4240_0000_0064 &+ ((v >> 16) & 0x0000_00FF_0000_00FF) &* 0x0000_2710_0000_0001) >> 32
        return v & 0xFFFF_FFFF
    }

    /// `strtod` on a NUL-terminated copy (the C locale: `.` is the decimal point).
    private static func strtodCopy(_ b: UnsafeBufferPointer<UInt8>) -> Result<Double, NumberProblem> {
        let v = withUnsafeTemporaryAllocation(of: CChar.self, capacity: b.count + 1) { copy -> Double in
            for k in 0..<b.count { copy[k] = CChar(bitPattern: b[k]) }
            copy[b.count] = 0
            return strtod(copy.baseAddress!, nil)
        }
        return v.isFinite ? .success(v) : .failure(.notFinite)
    }

    /// The double nearest to `mantissa` · 10^`exponent` (ties to even), by the Eisel–Lemire
    /// algorithm (D. Lemire, "Number parsing at a gigabyte per second", 2021; as in Go's strconv
    /// and Wuffs), or nil when the 128-bit product cannot decide the rounding, the result is
    /// subnormal or infinite, or the power is outside the table: then `strtod` decides.
    /// `mantissa` must be the exact decimal significand (at most 19 digits).
    static func eiselLemire(_ mantissa: UInt64, _ exponent: Int, negative: Bool) -> Double? {
        if mantissa == 0 { return negative ? -0.0 : 0.0 }
        guard exponent >= DecimalPowers.first, exponent <= DecimalPowers.last else { return nil }
        // Normalise the mantissa to a leading 1 bit.
        let clz = mantissa.leadingZeroBitCount
        let man = mantissa << UInt64(clz)
        var exp2 = UInt64(bitPattern: Int64((217706 &* exponent) >> 16 &+ 64 &+ 1023)) &- UInt64(clz)
        let k = 2 * (exponent - DecimalPowers.first)
        let (powHigh, powLow) = DecimalPowers.table.withUnsafeBufferPointer { ($0[k], $0[k + 1]) }
        // The product with the high 64 bits of the power; widened with the low 64 bits only when
        // the lower bits of the high word are all ones (the truncation could carry into them).
        var (xHi, xLo) = man.multipliedFullWidth(by: powHigh)
        if xHi & 0x1FF == 0x1FF && xLo &+ man < man {
            let (yHi, yLo) = man.multipliedFullWidth(by: powLow)
            var mergedHi = xHi
            let mergedLo = xLo &+ yHi
            if mergedLo < xLo { mergedHi &+= 1 }
            if mergedHi & 0x1FF == 0x1FF && mergedLo &+ 1 == 0 && yLo &+ man < man { return nil }
            xHi = mergedHi
            xLo = mergedLo
        }
        // Down to 54 bits, then round half to even to 53, refusing an exact halfway product.
        let msb = xHi >> 63
        var bits = xHi >> (msb + 9)
        exp2 &-= 1 ^ msb
        if xLo == 0 && xHi & 0x1FF == 0 && bits & 3 == 1 { return nil }
        bits += bits & 1
        bits >>= 1
        if bits >> 53 > 0 {
            bits >>= 1
            exp2 &+= 1
        }
        // A biased exponent of 0 (subnormal) or 0x7FF (infinity) and past: strtod decides.
        if exp2 &- 1 >= 0x7FF - 1 { return nil }
        var pattern = exp2 << 52 | bits & 0x000F_FFFF_FFFF_FFFF
        if negative { pattern |= 1 << 63 }
        return Double(bitPattern: pattern)
    }
}
