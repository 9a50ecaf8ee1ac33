/// A runbook string that may hold `${{ … }}` expressions: `db-${{ inputs.env }}-restore`.
///
/// A template that is exactly one expression keeps the expression's type (a time stays a time);
/// any other template is text, with each expression's value written into it.
public struct Template: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        case text(String)
        /// An expression and where its text starts in `source`.
        case expression(Expression, start: Int)
    }

    public var source: String
    public var parts: [Part]
    /// Where the value starts in the file, and whether offsets into it map to columns on that line.
    public var location: SourceLocation
    public var columnsAreExact: Bool

    /// Splits `source` into text and expressions. Errors carry offsets into `source`.
    public init(_ source: String, location: SourceLocation, columnsAreExact: Bool = true) throws {
        self.source = source
        self.location = location
        self.columnsAreExact = columnsAreExact
        self.parts = try Self.split(source)
    }

    /// An `if:` condition: either `${{ expr }}` or a bare expression.
    public static func condition(_ source: String, location: SourceLocation, columnsAreExact: Bool = true) throws -> Template {
        if source.contains("${{") {
            let template = try Template(source, location: location, columnsAreExact: columnsAreExact)
            guard template.singleExpression != nil else {
                throw ExpressionError(offset: 0, message: "a condition is one expression: write `if: ${{ a == b }}` or `if: a == b`, with no text around it")
            }
            return template
        }
        let expression = try ExpressionParser.parse(source)
        return Template(source: source, parts: [.expression(expression, start: 0)], location: location, columnsAreExact: columnsAreExact)
    }

    /// A template holding plain text.
    public static func text(_ source: String, location: SourceLocation) -> Template {
        Template(source: source, parts: source.isEmpty ? [] : [.text(source)], location: location, columnsAreExact: true)
    }

    private init(source: String, parts: [Part], location: SourceLocation, columnsAreExact: Bool) {
        self.source = source
        self.parts = parts
        self.location = location
        self.columnsAreExact = columnsAreExact
    }

    private static func split(_ source: String) throws -> [Part] {
        let chars = Array(source)
        var parts: [Part] = []
        var text = ""
        var i = 0
        while i < chars.count {
            if chars[i] == "$", i + 2 < chars.count, chars[i + 1] == "{", chars[i + 2] == "{" {
                guard let close = closing(chars, from: i + 3) else {
                    throw ExpressionError(offset: i, message: "'${{' is not closed: end the expression with '}}'")
                }
                if !text.isEmpty { parts.append(.text(text)); text = "" }
                let inner = String(chars[(i + 3)..<close])
                do {
                    parts.append(.expression(try ExpressionParser.parse(inner), start: i + 3))
                } catch var error as ExpressionError {
                    error.offset += i + 3
                    throw error
                }
                i = close + 2
            } else {
                text.append(chars[i])
                i += 1
            }
        }
        if !text.isEmpty { parts.append(.text(text)) }
        return parts
    }

    /// The index of the `}}` that ends an expression, skipping quoted strings.
    private static func closing(_ chars: [Character], from start: Int) -> Int? {
        var quote: Character?
        var i = start
        while i + 1 < chars.count {
            let c = chars[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
            } else if c == "}" && chars[i + 1] == "}" {
                return i
            }
            i += 1
        }
        return nil
    }

    /// The expression, when the template is exactly one (surrounding spaces allowed).
    public var singleExpression: Expression? {
        let meaningful = parts.filter { if case .text(let t) = $0 { return !t.allSatisfy(\.isWhitespace) }; return true }
        if meaningful.count == 1, case .expression(let e, _) = meaningful[0] { return e }
        return nil
    }

    public var isLiteral: Bool { !parts.contains { if case .expression = $0 { return true }; return false } }

    /// Every expression with the offset of its text in `source`.
    public var expressions: [(expression: Expression, start: Int)] {
        parts.compactMap { if case .expression(let e, let s) = $0 { return (e, s) }; return nil }
    }

    public func evaluate(in scope: ReferenceScope) throws -> Value {
        if let single = singleExpression, let start = expressions.first?.start {
            return try shifted(start) { try Evaluator.evaluate(single, in: scope) }
        }
        var out = ""
        for part in parts {
            switch part {
            case .text(let t): out += t
            case .expression(let e, let start): out += try shifted(start) { try Evaluator.evaluate(e, in: scope) }.description
            }
        }
        return .string(out)
    }

    /// The template's type before a run; nil when only the run will tell.
    public func staticType(in scope: StaticReferenceScope) throws -> ValueType? {
        if let single = singleExpression, let start = expressions.first?.start {
            return try shifted(start) { try Evaluator.type(of: single, in: scope) }
        }
        for (e, start) in expressions { _ = try shifted(start) { try Evaluator.type(of: e, in: scope) } }
        return .string
    }

    private func shifted<T>(_ start: Int, _ body: () throws -> T) throws -> T {
        do { return try body() } catch var error as ExpressionError {
            error.offset += start
            throw error
        }
    }

    /// A diagnostic for an expression error, at its column when the value sits on one line.
    public func diagnostic(_ error: ExpressionError) -> Diagnostic {
        if columnsAreExact { return Diagnostic(location.advanced(by: error.offset), error.message) }
        return Diagnostic(location, "\(error.message) (at character \(error.offset + 1) of the value)")
    }
}
