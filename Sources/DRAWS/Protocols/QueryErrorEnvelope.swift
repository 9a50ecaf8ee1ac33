import Foundation

/// The parts of an error every protocol's envelope yields.
public struct ErrorEnvelope: Sendable, Equatable {
    public var code: String
    public var message: String
    public var requestId: String?
}

/// AWS Query errors: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`
/// (EC2-style `<Response><Errors><Error>` is accepted too).
enum QueryErrorEnvelope {
    static func decode(_ response: HTTPResponse) -> ErrorEnvelope? {
        guard let root = try? XElement.parse(response.body), let error = root.descendant("Error"),
              let code = error.string("Code") else { return nil }
        return ErrorEnvelope(code: code, message: error.string("Message") ?? "",
                             requestId: root.descendant("RequestId")?.text ?? root.descendant("RequestID")?.text)
    }
}
