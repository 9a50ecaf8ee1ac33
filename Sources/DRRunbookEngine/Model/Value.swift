import DRCore
import Foundation

/// The types a runbook value can have.
public enum ValueType: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case string, int, bool, time, duration
    public var description: String { rawValue }
}

/// A typed runbook value: an input, a parameter, a step output or an expression's result.
public enum Value: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case bool(Bool)
    /// A point in time.
    case time(Date)
    /// A length of time, in seconds.
    case duration(Double)

    public var type: ValueType {
        switch self {
        case .string: return .string
        case .int: return .int
        case .bool: return .bool
        case .time: return .time
        case .duration: return .duration
        }
    }

    /// The value as text: how it reads inside a larger string, in a plan and in a report.
    public var description: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .time(let d): return RFC3339.format(d, fractional: d.timeIntervalSince1970.rounded() != d.timeIntervalSince1970)
        case .duration(let s): return DurationText.compact(s)
        }
    }

    /// Reads `text` as a value of `type` (`5m` as a duration, RFC 3339 as a time), or nil.
    public static func parse(_ text: String, as type: ValueType) -> Value? {
        switch type {
        case .string: return .string(text)
        case .int: return Int(text.trimmingCharacters(in: .whitespaces)).map(Value.int)
        case .bool:
            switch text.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true", "yes": return .bool(true)
            case "false", "no": return .bool(false)
            default: return nil
            }
        case .time: return RFC3339.parse(text).map(Value.time)
        case .duration: return DurationText.parse(text).map(Value.duration)
        }
    }

    /// This value as `type`: itself when it already has that type, else its text read as `type`.
    public func converted(to type: ValueType) -> Value? {
        if self.type == type { return self }
        if type == .string { return .string(description) }
        if case .string(let s) = self { return Value.parse(s, as: type) }
        return nil
    }
}

extension Value: Codable {
    // Tagged, so that a resumed run gets back exactly the types it journaled: {"time":"2026-…Z"}.
    private enum Key: String, CodingKey { case string, int, bool, time, duration }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        guard let key = c.allKeys.first, c.allKeys.count == 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a value has exactly one type key"))
        }
        switch key {
        case .string: self = .string(try c.decode(String.self, forKey: key))
        case .int: self = .int(try c.decode(Int.self, forKey: key))
        case .bool: self = .bool(try c.decode(Bool.self, forKey: key))
        case .duration: self = .duration(try c.decode(Double.self, forKey: key))
        case .time:
            let text = try c.decode(String.self, forKey: key)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not an RFC 3339 time: \(text)")
            }
            self = .time(date)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .string(let s): try c.encode(s, forKey: .string)
        case .int(let i): try c.encode(i, forKey: .int)
        case .bool(let b): try c.encode(b, forKey: .bool)
        case .time: try c.encode(description, forKey: .time)
        case .duration(let s): try c.encode(s, forKey: .duration)
        }
    }
}

extension DurationText {
    /// A duration the way a runbook writes it, exact to the second: `5m`, `1h30m`, `7d`, `0s`.
    public static func compact(_ seconds: Double) -> String {
        if seconds < 0 { return "-" + compact(-seconds) }
        if seconds != seconds.rounded() { return String(format: "%gs", seconds) }
        var rest = Int(seconds)
        if rest == 0 { return "0s" }
        var out = ""
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }
}
