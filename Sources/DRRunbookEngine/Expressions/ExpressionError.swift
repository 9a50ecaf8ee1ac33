/// A problem in an expression, at a character offset into its text.
public struct ExpressionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "column \(offset + 1) of the expression: \(message)" }
}
