import DRCore
import Foundation

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

    /// Registers the secret key and the session token with `Redact`, so every output edge masks
    /// them in any encoding (a presigned URL carries the token URL-encoded, twice in a form body).
    public func registerSecrets() {
        Redact.register(secretAccessKey)
        Redact.register(sessionToken)
    }
}

/// A source of credentials (environment, profile, container, instance metadata, a chain of them).
public protocol AWSCredentialProvider: Sendable {
    /// A short name for diagnostics, e.g. `environment`, `shared-credentials-file (profile prod)`.
    var name: String { get }
    func credentials() async throws -> AWSCredentials
}
