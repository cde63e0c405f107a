#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MregCore

/// NumberText.parse against the C library's strtod, bit for bit: its fast paths (Clinger's, then
/// Eisel–Lemire for up to 19 significant digits) must give exactly the double strtod gives, on
/// every spelling a CSV writer uses and on the cases where rounding is hardest.
@Suite("Number parsing")
struct NumberParsingTests {
    /// The text formatted by the C library (`%.17g`, `%.6f`, …), as bytes.
    static func format(_ spec: String, _ v: Double) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: 1200)
        let n = withVaList([v]) { vsnprintf(&buffer, buffer.count, spec, $0) }
        return buffer[0..<min(Int(n), buffer.count - 1)].map { UInt8(bitPattern: $0) }
    }

    /// Whether parse agrees with strtod on `text`: the same bits when strtod gives a finite
    /// double, `.notFinite` when it overflows.
    static func agrees(_ text: [UInt8]) -> Bool {
        let expected = strtod(text.map { CChar(bitPattern: $0) } + [0], nil)
        let got = text.withUnsafeBufferPointer { NumberText.parse($0) }
        switch got {
        case .success(let v): return expected.isFinite && v.bitPattern == expected.bitPattern
        case .failure(.notFinite): return !expected.isFinite
        case .failure: return false
        }
    }

    static func check(_ text: [UInt8], _ failures: inout [String]) {
        if !agrees(text), failures.count < 20 { failures.append(String(decoding: text, as: UTF8.self)) }
    }

    /// A random finite double over the whole range (random bits), or uniform in [0, 1).
    static func randomDouble(_ rng: inout SplitMix64) -> Double {
        if rng.next() & 1 == 0 { return Double(rng.next() >> 11) * 0x1p-53 }
        while true {
            let v = Double(bitPattern: rng.next())
            if v.isFinite { return v }
        }
    }

    @Test("a million random doubles as %.17g, shortest, fixed and with exponents: strtod's bits")
    func randomDoubles() {
        var rng = SplitMix64(seed: 13)
        var failures: [String] = []
        for k in 0..<1_000_000 {
            let v = Self.randomDouble(&rng)
            Self.check(Self.format("%.17g", v), &failures)
            Self.check(Array("\(v)".utf8), &failures)  // shortest round-trip spelling
            if k % 4 == 0 {
                Self.check(Self.format("%.\(rng.next() % 20)e", v), &failures)
                if abs(v) < 1e30 { Self.check(Self.format("%.\(rng.next() % 25)f", v), &failures) }
                Self.check(Self.format("%.\(1 + rng.next() % 16)g", v), &failures)
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("random decimal mantissas of 1–19 digits times every power of ten the table holds, and past it")
    func randomDecimals() {
        var rng = SplitMix64(seed: 29)
        var failures: [String] = []
        for _ in 0..<1_000_000 {
            let digits = 1 + Int(rng.next() % 19)
            var text = rng.next() % 8 == 0 ? "-" : ""
            for d in 0..<digits { text.append(String(d == 0 ? 1 + rng.next() % 9 : rng.next() % 10)) }
            let exponent = Int(rng.next() % 760) - 380
            Self.check(Array((text + "e\(exponent)").utf8), &failures)
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("short decimals (up to 12 bytes, read by the short path): every form against strtod, and what is refused")
    func shortDecimals() {
        var rng = SplitMix64(seed: 71)
        var failures: [String] = []
        for _ in 0..<1_000_000 {
            // 1–12 digits, leading zeros allowed, a point anywhere (or none), a sign or not.
            let sign = ["", "-", "+"][Int(rng.next() % 3)]
            let digits = 1 + Int(rng.next() % UInt64(12 - sign.count))
            var body = (0..<digits).map { _ in String(rng.next() % 10) }.joined()
            let point = Int(rng.next() % UInt64(digits + 2))
            if point <= digits && body.count + sign.count < 12 {
                body.insert(".", at: body.index(body.startIndex, offsetBy: point))
            }
            Self.check(Array((sign + body).utf8), &failures)
        }
        for text in ["0", "-0", "+0", "0.", ".0", "-.5", "+.5", "1.", "00012.5000", "999999999999", "-99999999999",
                     "0.000000001", "123456.78901", "4503599627370497", "9007199254740993.0"] {
            Self.check(Array(text.utf8), &failures)
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(Array("-0".utf8).withUnsafeBufferPointer { NumberText.parse($0) }.map(\.sign) == .success(.minus))
        for bad in [".", "-", "+", "-.", "+.", "1.2.3", "1-2", "--1", "1..", "..1", "1,5", "1 ", " 1", "0x1", "1e", "1.5e"] {
            var refused = false
            if case .failure(.notANumber) = Array(bad.utf8).withUnsafeBufferPointer({ NumberText.parse($0) }) { refused = true }
            #expect(refused, "\(bad)")
        }
    }

    @Test("a character that is not a digit anywhere in a long fraction is refused")
    func strayCharacters() {
        var rng = SplitMix64(seed: 53)
        var accepted: [String] = []
        for _ in 0..<100_000 {
            var text = Self.format("%.17g", Double(rng.next() >> 11) * 0x1p-53)
            guard text.count > 3, !text.contains(UInt8(ascii: "e")) else { continue }
            text[2 + Int(rng.next() % UInt64(text.count - 2))] = Array("x.-+ /:".utf8)[Int(rng.next() % 7)]
            guard case .failure(.notANumber) = text.withUnsafeBufferPointer({ NumberText.parse($0) }) else {
                if accepted.count < 20 { accepted.append(String(decoding: text, as: UTF8.self)) }
                continue
            }
        }
        #expect(accepted.isEmpty, "\(accepted)")
    }

    @Test("halfway cases: integers and decimals exactly between two doubles round to even, as strtod")
    func halfway() {
        var rng = SplitMix64(seed: 41)
        var failures: [String] = []
        // Integers of 54–63 bits that are odd multiples of half an ulp: exactly halfway.
        for bits in 54...63 {
            for _ in 0..<2_000 {
                let unit = UInt64(1) << UInt64(bits - 54)
                let n = (UInt64(1) << UInt64(bits - 1) | (rng.next() & ((UInt64(1) << UInt64(bits - 1)) - 1))) & ~(2 * unit - 1) | unit
                Self.check(Array(String(n).utf8), &failures)
                Self.check(Array(String(n - 1).utf8), &failures)
                Self.check(Array(String(n + 1).utf8), &failures)
                Self.check(Array((String(n) + "e-5").utf8), &failures)
            }
        }
        // The exact decimal of the midpoint between a double and the next (long: strtod's path),
        // and its first 17–19 digits (Eisel–Lemire's path, just below or above the midpoint).
        for _ in 0..<5_000 {
            let v = abs(Self.randomDouble(&rng))
            guard v.isNormal, v.nextUp.isFinite else { continue }
            let mid = Self.format("%.800g", v + (v.nextUp - v) / 2)  // rounded, but close to halfway
            Self.check(mid, &failures)
            for digits in 17...19 { Self.check(Self.format("%.\(digits - 1)e", v / 2 + v.nextUp / 2), &failures) }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("edge cases: zeros, subnormals, the largest double, overflow, long mantissas, leading zeros")
    func edges() {
        var failures: [String] = []
        let texts = [
            "0", "-0", "+0", "0.0", "-0.0", "0e0", "0e999999", "-0e-999999", "00000", "000.000e5",
            "9007199254740992", "9007199254740993", "9007199254740994", "9007199254740995", "18014398509481987",
            "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
            "1e-320", "4.9406564584124654e-324", "5e-324", "2e-324", "3e-324", "2.4703282292062328e-324",
            "2.2250738585072011e-308", "2.2250738585072014e-308", "2.225073858507201e-308",
            "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1.8e308", "1e309", "-1e309",
            "1e-400", "1e22", "1e23", "1e-22", "1e-23", "8.98846567431158e307", "4503599627370496.5", "4503599627370497.5",
            "0.1", "0.2", "0.3", "0.7134934515780436", "0.38336416742989243", "0.99999999999999999", "0.999999999999999999",
            "1.00000000000000011102230246251565404236316680908203125", "1.0000000000000001110223024625156540423631668090820312",
            "1.00000000000000011102230246251565404236316680908203126", "123456789012345678901234567890",
            "0.000000000000000000000000000000000000001234567890123456789", "000000000000000000000000000001.5",
            "1.00000000000000000000000000000000000000000000000000000000001", "12345678901234567890", "1234567890123456789e-19",
            "7.3177701707893310e+15", "9.999999999999999e22", "1e0000000000000000000000001", "1e-0000000000000000000001",
            // Fractions read eight digits at a time: at, around and past 19 significant digits.
            "0.12345678", "0.123456789", "1.2345678901234567", "1.23456789012345678", "1.234567890123456789",
            "1.2345678901234567890", "12345678901.23456789", "0.00000000123456789012345678", "0.99999999999999999999",
            "-0.30000000000000004", "0.1234567812345678e-5",
        ]
        for t in texts { Self.check(Array(t.utf8), &failures) }
        #expect(failures.isEmpty, "\(failures)")
        // Text in the middle of the digits is refused, whichever way the digits are read.
        for text in ["0.1234567x9", "0.12345678x", "0.1234567812345678.", "1.23456789 "] {
            let bytes = Array(text.utf8)
            guard case .failure(.notANumber) = bytes.withUnsafeBufferPointer({ NumberText.parse($0) }) else { Issue.record("\(text) accepted"); continue }
        }
        // The sign of zero is kept.
        #expect("-0".utf8CString.withUnsafeBufferPointer { p in
            (try? NumberText.parse(UnsafeBufferPointer(start: UnsafeRawPointer(p.baseAddress!).assumingMemoryBound(to: UInt8.self), count: 2)).get())?.sign
        } == .minus)
    }

    @Test("Eisel–Lemire alone: exact where it decides, nil only for halfway, subnormal and out-of-range cases")
    func eiselLemireDirect() {
        #expect(NumberText.eiselLemire(9_007_199_254_740_993, 0, negative: false) == nil)  // exactly halfway
        #expect(NumberText.eiselLemire(1, 400, negative: false) == nil)  // past the table
        #expect(NumberText.eiselLemire(1, -320, negative: false) == nil)  // subnormal
        #expect(NumberText.eiselLemire(17_976_931_348_623_159, 292, negative: false) == nil)  // infinite
        #expect(NumberText.eiselLemire(17_976_931_348_623_157, 292, negative: false) == .greatestFiniteMagnitude)
        #expect(NumberText.eiselLemire(38_336_416_742_989_243, -17, negative: true) == -0.38336416742989243)
        #expect(NumberText.eiselLemire(0, 5, negative: true)?.bitPattern == (-0.0).bitPattern)
    }
}
