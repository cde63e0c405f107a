/// Times in row tables: RFC 3339 (`2026-10-01T12:00:00Z`, `2026-10-01T14:00:00.5+02:00`; `T` or
/// a space between date and time, `Z` or an offset required) or Unix seconds (a number, JSON
/// number or text). Read as Unix seconds; shown back as RFC 3339 UTC.
public enum TimeText {
    static func parse(_ field: TableField) -> Double? {
        switch field {
        case .json(.number(let n)): return n.isFinite ? n : nil
        case .json(.string(let s)): return parse(s)
        case .text(let b): return parse(bytes: b)
        default: return nil
        }
    }

    /// Unix seconds of an RFC 3339 time or a decimal number of seconds, or nil.
    public static func parse(_ s: String) -> Double? {
        var s = s
        return s.withUTF8 { parse(bytes: $0) }
    }

    /// `parse` of UTF-8 bytes (a CSV field as read, without making a `String`).
    static func parse(bytes b: UnsafeBufferPointer<UInt8>) -> Double? {
        if b.count < 20 || b[4] != 0x2D {
            if case .success(let v) = NumberText.parse(b) { return v }
            return nil
        }
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for k in from..<from + count {
                guard b[k] >= 0x30 && b[k] <= 0x39 else { return nil }
                v = v * 10 + Int(b[k] - 0x30)
            }
            return v
        }
        guard let year = digits(0, 4), b[4] == 0x2D, let month = digits(5, 2), b[7] == 0x2D, let day = digits(8, 2),
              b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20, let hour = digits(11, 2), b[13] == 0x3A, let minute = digits(14, 2),
              b[16] == 0x3A, let second = digits(17, 2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month, year), hour < 24, minute < 60, second <= 60 else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 0x2E {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { fraction += Double(b[i] - 0x30) * scale; scale /= 10; i += 1 }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 0x5A || b[i] == 0x7A {
            i += 1
        } else if b[i] == 0x2B || b[i] == 0x2D {
            guard let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == 0x3A, let om = digits(i + 4, 2), oh < 24, om < 60 else { return nil }
            offset = (oh * 60 + om) * 60 * (b[i] == 0x2D ? -1 : 1)
            i += 6
        } else { return nil }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year, month, day)
        return Double(days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset) + fraction
    }

    /// RFC 3339 UTC text of Unix seconds (whole seconds unless there is a fraction).
    public static func format(_ t: Double) -> String {
        let whole = Int((t).rounded(.down))
        var days = whole / 86_400, rem = whole % 86_400
        if rem < 0 { rem += 86_400; days -= 1 }
        let (y, m, d) = civilFromDays(days)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var text = "\(y)-\(two(m))-\(two(d))T\(two(rem / 3600)):\(two(rem / 60 % 60)):\(two(rem % 60))"
        let frac = t - Double(whole)
        if frac > 0 {
            var digits = String(Int((frac * 1_000_000).rounded()))
            while digits.count < 6 { digits = "0" + digits }
            while digits.hasSuffix("0") { digits.removeLast() }
            if !digits.isEmpty { text += "." + digits }
        }
        return text + "Z"
    }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }
}
