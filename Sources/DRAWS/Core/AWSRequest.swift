import Foundation

/// One operation call as a typed operation hands it to the client core: the operation name and
/// its encoded input, in the shape of the service's protocol.
public struct AWSRequest: Sendable {
    public enum Input: Sendable {
        /// AWS Query parameters, in order; the client adds `Action` and `Version`.
        case query([(String, String)])
        /// REST-XML: method, path below the endpoint, query parameters and an optional XML body.
        case rest(method: String, path: String, query: [(String, String)] = [], body: Data? = nil)
        /// JSON protocol: the request document.
        case json(Data)
    }

    public var operation: String
    public var input: Input
    /// Unsigned calls are rare (STS AssumeRoleWithWebIdentity authenticates with its token).
    public var signed: Bool

    public init(operation: String, input: Input, signed: Bool = true) {
        self.operation = operation
        self.input = input
        self.signed = signed
    }

    /// Query parameters from a dictionary-like list, dropping nil values.
    public static func query(_ operation: String, _ params: [(String, String?)], extra: [String: String] = [:]) -> AWSRequest {
        var pairs = params.compactMap { key, value in value.map { (key, $0) } }
        pairs += extra.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return AWSRequest(operation: operation, input: .query(pairs))
    }

    /// A JSON request from an `Encodable` value.
    public static func json<T: Encodable>(_ operation: String, _ value: T) throws -> AWSRequest {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return AWSRequest(operation: operation, input: .json(try encoder.encode(value)))
    }
}

/// A decoded successful response.
public struct AWSResponse: Sendable {
    public enum Payload: Sendable {
        case xml(XElement?)
        case json(Data)
    }
    public var http: HTTPResponse
    public var payload: Payload
    public var requestId: String?

    /// The XML result: for AWS Query the `<OperationResult>` element, for REST-XML the root.
    public func xml() throws -> XElement {
        guard case .xml(let element?) = payload else {
            throw AWSDecodingError("expected an XML response body")
        }
        return element
    }

    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard case .json(let data) = payload else { throw AWSDecodingError("expected a JSON response body") }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .secondsSince1970
            return try decoder.decode(T.self, from: data.isEmpty ? Data("{}".utf8) : data)
        } catch {
            throw AWSDecodingError("could not decode \(T.self): \(error)")
        }
    }
}

/// A response the client could not make sense of. Never holds the body (it may hold a secret).
public struct AWSDecodingError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "Unexpected AWS response: \(message)" }
}
