import DRCore
import Foundation

// The seams of the AWS layer. Everything that talks to the world sits behind one of these
// small protocols, so tests drive time, faults and credentials without sleeping or networking.

/// AWS credentials. `description` never shows the secret key or the session token.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    public var expiration: Date?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String {
        "AWSCredentials(accessKeyId: \(accessKeyId), secretAccessKey: \(Redact.mask)\(sessionToken == nil ? "" : ", sessionToken: \(Redact.mask)"))"
    }
    public var debugDescription: String { description }
}

/// A source of credentials (environment, profile, container, instance metadata, a chain of them).
public protocol AWSCredentialProvider: Sendable {
    /// A short name for diagnostics, e.g. `environment`, `shared-credentials-file (profile prod)`.
    var name: String { get }
    func credentials() async throws -> AWSCredentials
}

/// An HTTP request as the AWS layer builds it. Header names keep their case for signing;
/// lookups are case-insensitive.
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    public var url: URL
    public var headers: [(name: String, value: String)]
    public var body: Data

    public init(method: String, url: URL, headers: [(name: String, value: String)] = [], body: Data = Data()) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
        headers.append((name, value))
    }

    public static func == (a: HTTPRequest, b: HTTPRequest) -> Bool {
        a.method == b.method && a.url == b.url && a.body == b.body
            && a.headers.map { "\($0.name):\($0.value)" } == b.headers.map { "\($0.name):\($0.value)" }
    }
}

public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
        self.body = body
    }
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

/// Sends one HTTP request. The libcurl transport is the real one; tests use fakes.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse
}

/// STS operations the credential chain needs (AssumeRole for `role_arn` + `source_profile`,
/// AssumeRoleWithWebIdentity for `AWS_WEB_IDENTITY_TOKEN_FILE`). The STS client implements it;
/// the chain is tested with a fake.
public protocol RoleAssuming: Sendable {
    func assumeRole(using source: AWSCredentials, roleArn: String, sessionName: String, externalId: String?,
                    durationSeconds: Int?, region: String) async throws -> AWSCredentials
    func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, webIdentityToken: String,
                                   durationSeconds: Int?, region: String) async throws -> AWSCredentials
}
