/// A parsed `${{ … }}` expression. `offset` is where it starts in the text it was parsed from.
public indirect enum Expression: Equatable, Sendable {
    case literal(Value, offset: Int)
    /// A dotted reference: `inputs.region`, `steps.restore.outputs.endpoint_host`, `now`.
    case reference([String], offset: Int)
    case not(Expression, offset: Int)
    case binary(BinaryOperator, Expression, Expression, offset: Int)

    public var offset: Int {
        switch self {
        case .literal(_, let o), .reference(_, let o), .not(_, let o), .binary(_, _, _, let o): return o
        }
    }

    /// Every reference in the expression, in reading order, with its offset.
    public var references: [(path: [String], offset: Int)] {
        switch self {
        case .literal: return []
        case .reference(let path, let offset): return [(path, offset)]
        case .not(let e, _): return e.references
        case .binary(_, let l, let r, _): return l.references + r.references
        }
    }
}

public enum BinaryOperator: String, Sendable {
    case or = "||", and = "&&"
    case equal = "==", notEqual = "!="
    case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case plus = "+", minus = "-"
}
