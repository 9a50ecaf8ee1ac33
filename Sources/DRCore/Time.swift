import Foundation

/// RFC 3339 UTC timestamps, the only form `dr` prints or journals.
public enum RFC3339 {
    /// `2026-11-20T12:00:00Z`, or with fractional seconds when they are not zero.
    public static func format(_ date: Date, fractional: Bool = false) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        f.formatOptions = fractional ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return f.string(from: date)
    }

    /// Parses RFC 3339 with an explicit offset (`Z` or `±hh:mm`), with or without fractional seconds.
    /// Returns nil for anything else, including a time without a zone: a point in time must be unambiguous.
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        // Accept a space or lower-case t/z as RFC 3339 allows.
        var s = trimmed.replacingOccurrences(of: " ", with: "T")
        if s.count > 10 {
            let i = s.index(s.startIndex, offsetBy: 10)
            if s[i] == "t" { s.replaceSubrange(i...i, with: "T") }
        }
        if s.hasSuffix("z") { s = String(s.dropLast()) + "Z" }
        // Foundation's parser moves impossible dates to another day (11-31 → 12-01): check the
        // fields first, so an invalid date is refused rather than restored to the wrong day.
        guard fieldsAreValid(s) else { return nil }
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            let f = ISO8601DateFormatter()
            f.formatOptions = options
            if let d = f.date(from: s) { return d }
        }
        return nil
    }

    /// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` with a real calendar date and in-range fields.
    static func fieldsAreValid(_ s: String) -> Bool {
        let pattern = #"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$"#
        guard let match = s.range(of: pattern, options: .regularExpression), match == s.startIndex..<s.endIndex else { return false }
        let digits = s.split(whereSeparator: { !$0.isNumber }).map { Int($0) ?? -1 }
        let (year, month, day, hour, minute, second) = (digits[0], digits[1], digits[2], digits[3], digits[4], digits[5])
        guard (1...12).contains(month), (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...days).contains(day) else { return false }
        if !s.hasSuffix("Z") {
            let offset = s.suffix(5).split(separator: ":").compactMap { Int($0) }
            guard offset.count == 2, (0...23).contains(offset[0]), (0...59).contains(offset[1]) else { return false }
        }
        return true
    }
}

/// Durations as people read them: `4m12s`, `1h03m`, `850ms`.
public enum DurationText {
    public static func format(_ seconds: Double) -> String {
        if seconds < 0 { return "-" + format(-seconds) }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60)
        if h > 0 { return String(format: "%dh%02dm", h, m) }
        return String(format: "%dm%02ds", m, s)
    }

    /// Parses `90s`, `5m`, `6h`, `7d`, `1h30m`. Returns seconds, or nil when malformed.
    public static func parse(_ text: String) -> Double? {
        var total = 0.0
        var number = ""
        var sawUnit = false
        for ch in text.trimmingCharacters(in: .whitespaces) {
            if ch.isNumber || ch == "." { number.append(ch); continue }
            guard let value = Double(number) else { return nil }
            switch ch {
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            case "d": total += value * 86400
            case "w": total += value * 604800
            default: return nil
            }
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        return total
    }
}
