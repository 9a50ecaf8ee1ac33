import Foundation

/// REST-XML (Route 53) errors: `<ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>`,
/// and Route 53's `<InvalidChangeBatch><Messages><Message/>...</Messages></InvalidChangeBatch>`.
enum RestXMLErrorEnvelope {
    static func decode(_ response: HTTPResponse) -> ErrorEnvelope? {
        guard let root = try? XElement.parse(response.body) else { return nil }
        let requestId = root.descendant("RequestId")?.text ?? response.headers["x-amzn-requestid"]
        if root.name == "InvalidChangeBatch" {
            let messages = root.list("Messages", "Message").map(\.text)
            return ErrorEnvelope(code: "InvalidChangeBatch",
                                 message: messages.isEmpty ? root.string("Message") ?? "" : messages.joined(separator: "; "),
                                 requestId: requestId)
        }
        guard let error = root.descendant("Error"), let code = error.string("Code") else { return nil }
        return ErrorEnvelope(code: code, message: error.string("Message") ?? "", requestId: requestId)
    }
}
