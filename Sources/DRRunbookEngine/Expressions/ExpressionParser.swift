import DRCore

/// Recursive descent over the grammar, loosest binding first:
///
///     or      := and ('||' and)*
///     and     := not ('&&' not)*
///     not     := '!' not | compare
///     compare := sum (('=='|'!='|'<'|'<='|'>'|'>=') sum)?
///     sum     := primary (('+'|'-') primary)*
///     primary := INT | DURATION | STRING | true | false | reference | '(' or ')'
///     reference := IDENT ('.' IDENT | '[' STRING ']')*
public struct ExpressionParser {
    private var tokens: [Token]
    private var position = 0

    public static func parse(_ text: String) throws -> Expression {
        var parser = ExpressionParser(tokens: try Lexer.tokens(text))
        guard parser.peek.kind != .end else { throw ExpressionError(offset: 0, message: "the expression is empty") }
        let expression = try parser.or()
        guard parser.peek.kind == .end else {
            throw ExpressionError(offset: parser.peek.offset, message: "unexpected \(parser.peek.kind.text) after a complete expression")
        }
        return expression
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    private var peek: Token { tokens[position] }

    private mutating func take(_ op: String) -> Token? {
        guard peek.kind == .op(op) else { return nil }
        defer { position += 1 }
        return peek
    }

    private mutating func binaryChain(_ ops: [BinaryOperator], _ operand: (inout ExpressionParser) throws -> Expression) throws -> Expression {
        var left = try operand(&self)
        while let op = ops.first(where: { peek.kind == .op($0.rawValue) }) {
            let token = tokens[position]
            position += 1
            left = .binary(op, left, try operand(&self), offset: token.offset)
        }
        return left
    }

    private mutating func or() throws -> Expression { try binaryChain([.or]) { try $0.and() } }
    private mutating func and() throws -> Expression { try binaryChain([.and]) { try $0.not() } }

    private mutating func not() throws -> Expression {
        if let bang = take("!") { return .not(try not(), offset: bang.offset) }
        return try compare()
    }

    private mutating func compare() throws -> Expression {
        let left = try sum()
        let ops: [BinaryOperator] = [.equal, .notEqual, .lessOrEqual, .greaterOrEqual, .less, .greater]
        guard let op = ops.first(where: { peek.kind == .op($0.rawValue) }) else { return left }
        let token = tokens[position]
        position += 1
        return .binary(op, left, try sum(), offset: token.offset)
    }

    private mutating func sum() throws -> Expression { try binaryChain([.plus, .minus]) { try $0.primary() } }

    private mutating func primary() throws -> Expression {
        let token = peek
        position += 1
        switch token.kind {
        case .int(let i): return .literal(.int(i), offset: token.offset)
        case .duration(let d): return .literal(.duration(d), offset: token.offset)
        case .string(let s): return .literal(.string(s), offset: token.offset)
        case .identifier("true"): return .literal(.bool(true), offset: token.offset)
        case .identifier("false"): return .literal(.bool(false), offset: token.offset)
        case .identifier(let name): return try reference(startingWith: name, at: token.offset)
        case .op("("):
            let inner = try or()
            guard take(")") != nil else { throw ExpressionError(offset: peek.offset, message: "expected ')' to close the '(' at column \(token.offset + 1)") }
            return inner
        default:
            throw ExpressionError(offset: token.offset, message: "expected a value or a reference, found \(token.kind.text)")
        }
    }

    private mutating func reference(startingWith name: String, at offset: Int) throws -> Expression {
        var path = [name]
        while true {
            if take(".") != nil {
                guard case .identifier(let part) = peek.kind else {
                    throw ExpressionError(offset: peek.offset, message: "expected a name after '.', found \(peek.kind.text)")
                }
                position += 1
                path.append(part)
            } else if take("[") != nil {
                guard case .string(let part) = peek.kind else {
                    throw ExpressionError(offset: peek.offset, message: "expected a quoted name inside [ ], found \(peek.kind.text)")
                }
                position += 1
                guard take("]") != nil else { throw ExpressionError(offset: peek.offset, message: "expected ']'") }
                path.append(part)
            } else {
                return .reference(path, offset: offset)
            }
        }
    }
}

extension Token.Kind {
    var text: String {
        switch self {
        case .identifier(let s): return "'\(s)'"
        case .int(let i): return "\(i)"
        case .duration(let d): return DurationText.compact(d)
        case .string(let s): return "'\(s)'"
        case .op(let o): return "'\(o)'"
        case .end: return "the end of the expression"
        }
    }
}
