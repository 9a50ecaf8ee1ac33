/// Looks up what a reference (`inputs.x`, `steps.a.outputs.b`, `now`) names.
public protocol ReferenceScope {
    /// The value `path` names; throws an `ExpressionError` at `offset` when it names nothing.
    func value(of path: [String], offset: Int) throws -> Value
}

/// Types of references, known before a run (from declared inputs and procedures' outputs).
public protocol StaticReferenceScope {
    /// The type `path` will have; nil when it is only known at run time (a target's field).
    func type(of path: [String], offset: Int) throws -> ValueType?
}

public enum Evaluator {
    public static func evaluate(_ expression: Expression, in scope: ReferenceScope) throws -> Value {
        switch expression {
        case .literal(let value, _): return value
        case .reference(let path, let offset): return try scope.value(of: path, offset: offset)
        case .not(let inner, let offset):
            guard case .bool(let b) = try evaluate(inner, in: scope) else {
                throw ExpressionError(offset: offset, message: "'!' needs a bool")
            }
            return .bool(!b)
        case .binary(let op, let l, let r, let offset):
            let left = try evaluate(l, in: scope)
            // && and || stop early, so `a != '' && steps...` can guard the right side, and
            // `inputs.db || steps.restore.outputs.conninfo` reads the step only when the input is empty.
            if op == .and, left == .bool(false) { return left }
            if op == .or, left == .bool(true) { return left }
            if op == .or, case .string(let s) = left, !s.isEmpty { return left }
            return try Operators.apply(op, left, try evaluate(r, in: scope), offset: offset)
        }
    }

    /// The expression's type, checked without running it; nil when it depends on a run-time type.
    public static func type(of expression: Expression, in scope: StaticReferenceScope) throws -> ValueType? {
        switch expression {
        case .literal(let value, _): return value.type
        case .reference(let path, let offset): return try scope.type(of: path, offset: offset)
        case .not(let inner, let offset):
            let t = try type(of: inner, in: scope)
            if let t, t != .bool { throw ExpressionError(offset: offset, message: "'!' needs a bool, not \(t)") }
            return .bool
        case .binary(let op, let l, let r, let offset):
            let (lt, rt) = (try type(of: l, in: scope), try type(of: r, in: scope))
            guard let lt, let rt else {
                switch op {
                case .plus, .minus, .or: return nil
                default: return .bool
                }
            }
            guard let result = Operators.resultType(op, lt, rt) else {
                throw ExpressionError(offset: offset, message: Operators.typeError(op, lt, rt))
            }
            return result
        }
    }
}
