import Foundation

// Everything that talks to the world sits behind a small protocol, so tests drive time,
// faults and credentials without sleeping or networking.

/// Sends one HTTP request. The libcurl transport is the real one; tests use fakes.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse
}

/// Why a request got no HTTP response at all. Retry policies decide what is worth another try.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case timedOut, connectionFailed, connectionDropped, tlsFailed, responseTooLarge, invalidRequest, other
    }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
}
