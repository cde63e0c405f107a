#if canImport(Glibc)
import Glibc
#endif

enum NumberProblem: Error { case empty, notANumber, notFinite }

/// Decimal numbers as CSV writers spell them: `[+-]digits[.digits][e[+-]digits]`, correctly
/// rounded. The common case (a decimal mantissa of at most 2^53 and a power of ten of at most 22)
/// is one IEEE multiplication or division, exact by Clinger's fast path; anything else goes to
/// `strtod`. NaN, infinities (`nan`, `inf`, or a value past the largest double), hexadecimal,
/// spaces and empty text are refused.
enum NumberText {
    private static let powers: [Double] = (0...22).map { e in (0..<e).reduce(1.0) { r, _ in r * 10 } }

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Result<Double, NumberProblem> {
        let n = b.count
        if n == 0 { return .failure(.empty) }
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
        if significant <= 19, mantissa <= 1 << 53, abs(exponent) <= 22 {
            var v = Double(mantissa)
            v = exponent < 0 ? v / powers[-exponent] : v * powers[exponent]
            return .success(negative ? -v : v)
        }
        // Slow path: strtod on a NUL-terminated copy (the C locale: `.` is the decimal point).
        var copy = [CChar](repeating: 0, count: n + 1)
        for k in 0..<n { copy[k] = CChar(bitPattern: b[k]) }
        let v = strtod(copy, nil)
        return v.isFinite ? .success(v) : .failure(.notFinite)
    }
}
