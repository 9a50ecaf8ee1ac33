import DRCore

/// A piece of an expression, with where it starts (a character offset into the expression's text).
struct Token: Equatable {
    enum Kind: Equatable {
        case identifier(String)
        case int(Int)
        case duration(Double)
        case string(String)
        case op(String)
        case end
    }
    var kind: Kind
    var offset: Int
}

/// Splits an expression into tokens. Identifiers may hold `-` (step ids such as `restore-db`),
/// so subtraction needs spaces around the minus: `now - 5m`.
struct Lexer {
    private let chars: [Character]
    private var i = 0

    init(_ text: String) { chars = Array(text) }

    static func tokens(_ text: String) throws -> [Token] {
        var lexer = Lexer(text)
        var out: [Token] = []
        while true {
            let token = try lexer.next()
            out.append(token)
            if token.kind == .end { return out }
        }
    }

    private static let operators = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "(", ")", ".", "[", "]"]
    private static let durationUnits: Set<Character> = ["s", "m", "h", "d", "w"]

    mutating func next() throws -> Token {
        while i < chars.count, chars[i].isWhitespace { i += 1 }
        let start = i
        guard i < chars.count else { return Token(kind: .end, offset: i) }
        let c = chars[i]
        if c.isLetter || c == "_" {
            while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_"
                    || (chars[i] == "-" && i + 1 < chars.count && (chars[i + 1].isLetter || chars[i + 1].isNumber)) {
                i += 1
            }
            return Token(kind: .identifier(String(chars[start..<i])), offset: start)
        }
        if c.isASCII && c.isNumber { return try number(from: start) }
        if c == "'" || c == "\"" { return try string(quote: c, from: start) }
        for op in Self.operators where matches(op) {
            i += op.count
            return Token(kind: .op(op), offset: start)
        }
        throw ExpressionError(offset: start, message: "unexpected character '\(c)'")
    }

    private func matches(_ op: String) -> Bool {
        let opChars = Array(op)
        guard i + opChars.count <= chars.count else { return false }
        return Array(chars[i..<i + opChars.count]) == opChars
    }

    /// `42` is an int; `90s`, `5m`, `1h30m`, `7d` are durations.
    private mutating func number(from start: Int) throws -> Token {
        while i < chars.count, chars[i].isASCII, chars[i].isLetter || chars[i].isNumber || chars[i] == "." { i += 1 }
        let text = String(chars[start..<i])
        if let value = Int(text) { return Token(kind: .int(value), offset: start) }
        if let last = text.last, Self.durationUnits.contains(last), let seconds = DurationTextParser.parse(text) {
            return Token(kind: .duration(seconds), offset: start)
        }
        throw ExpressionError(offset: start, message: "'\(text)' is neither a number nor a duration (write durations as 90s, 5m, 2h, 7d or 1h30m)")
    }

    /// 'text' or "text"; a doubled quote inside stands for itself.
    private mutating func string(quote: Character, from start: Int) throws -> Token {
        i += 1
        var value = ""
        while i < chars.count {
            if chars[i] == quote {
                if i + 1 < chars.count, chars[i + 1] == quote { value.append(quote); i += 2; continue }
                i += 1
                return Token(kind: .string(value), offset: start)
            }
            value.append(chars[i])
            i += 1
        }
        throw ExpressionError(offset: start, message: "string is not closed: add the closing \(quote)")
    }
}

/// Durations inside expressions: whole numbers with units only (no fractions, so `1.5h` is refused).
enum DurationTextParser {
    static func parse(_ text: String) -> Double? {
        guard !text.contains("."), let seconds = DurationText.parse(text) else { return nil }
        return seconds
    }
}
