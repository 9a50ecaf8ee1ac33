import Foundation

/// What each operator does to values, and (for static checks) to types. One table for both,
/// so validation and evaluation cannot disagree.
enum Operators {
    /// The result type of `l op r`, or nil when the operator does not apply to those types.
    static func resultType(_ op: BinaryOperator, _ l: ValueType, _ r: ValueType) -> ValueType? {
        switch op {
        case .and: return l == .bool && r == .bool ? .bool : nil
        // `a || b` on strings is "a, or b when a is empty": a default for an optional input.
        case .or: return l == r && (l == .bool || l == .string) ? l : nil
        case .equal, .notEqual: return l == r ? .bool : nil
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            return l == r && [.int, .time, .duration, .string].contains(l) ? .bool : nil
        case .plus:
            switch (l, r) {
            case (.int, .int): return .int
            case (.time, .duration), (.duration, .time): return .time
            case (.duration, .duration): return .duration
            default: return nil
            }
        case .minus:
            switch (l, r) {
            case (.int, .int): return .int
            case (.time, .duration): return .time
            case (.time, .time), (.duration, .duration): return .duration
            default: return nil
            }
        }
    }

    static func typeError(_ op: BinaryOperator, _ l: ValueType, _ r: ValueType) -> String {
        switch op {
        case .and: return "'&&' needs two bools, not \(l) and \(r)"
        case .or: return "'||' needs two bools (or two strings: the first unless it is empty), not \(l) and \(r)"
        case .plus, .minus:
            return "cannot compute \(l) \(op.rawValue) \(r) (time ± duration, time - time, duration ± duration and int ± int are allowed)"
        default: return "cannot compare \(l) with \(r) using '\(op.rawValue)'"
        }
    }

    static func apply(_ op: BinaryOperator, _ l: Value, _ r: Value, offset: Int) throws -> Value {
        guard resultType(op, l.type, r.type) != nil else {
            throw ExpressionError(offset: offset, message: typeError(op, l.type, r.type))
        }
        switch (op, l, r) {
        case (.and, .bool(let a), .bool(let b)): return .bool(a && b)
        case (.or, .bool(let a), .bool(let b)): return .bool(a || b)
        case (.or, .string(let a), .string(let b)): return .string(a.isEmpty ? b : a)
        case (.equal, _, _): return .bool(l == r)
        case (.notEqual, _, _): return .bool(l != r)
        case (.less, _, _): return .bool(try order(l, r, offset) < 0)
        case (.lessOrEqual, _, _): return .bool(try order(l, r, offset) <= 0)
        case (.greater, _, _): return .bool(try order(l, r, offset) > 0)
        case (.greaterOrEqual, _, _): return .bool(try order(l, r, offset) >= 0)
        case (.plus, .int(let a), .int(let b)):
            let (sum, overflow) = a.addingReportingOverflow(b)
            if overflow { throw ExpressionError(offset: offset, message: "\(a) + \(b) overflows") }
            return .int(sum)
        case (.minus, .int(let a), .int(let b)):
            let (difference, overflow) = a.subtractingReportingOverflow(b)
            if overflow { throw ExpressionError(offset: offset, message: "\(a) - \(b) overflows") }
            return .int(difference)
        case (.plus, .time(let t), .duration(let d)), (.plus, .duration(let d), .time(let t)): return .time(t.addingTimeInterval(d))
        case (.minus, .time(let t), .duration(let d)): return .time(t.addingTimeInterval(-d))
        case (.minus, .time(let a), .time(let b)): return .duration(a.timeIntervalSince(b))
        case (.plus, .duration(let a), .duration(let b)): return .duration(a + b)
        case (.minus, .duration(let a), .duration(let b)): return .duration(a - b)
        default: throw ExpressionError(offset: offset, message: typeError(op, l.type, r.type))
        }
    }

    private static func order(_ l: Value, _ r: Value, _ offset: Int) throws -> Int {
        func cmp<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a == b ? 0 : 1) }
        switch (l, r) {
        case (.int(let a), .int(let b)): return cmp(a, b)
        case (.time(let a), .time(let b)): return cmp(a, b)
        case (.duration(let a), .duration(let b)): return cmp(a, b)
        case (.string(let a), .string(let b)): return cmp(a, b)
        default: throw ExpressionError(offset: offset, message: "cannot order \(l.type) and \(r.type)")
        }
    }
}
