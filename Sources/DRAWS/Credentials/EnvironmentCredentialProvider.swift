import DRCore
import Foundation

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN` and
/// `AWS_CREDENTIAL_EXPIRATION` (RFC 3339). One key without the other is a broken source.
public struct EnvironmentCredentialProvider: AWSCredentialProvider {
    public let name = "environment"
    let environment: AWSEnvironment

    public init(environment: AWSEnvironment) {
        self.environment = environment
    }

    public func credentials() async throws -> AWSCredentials {
        try resolve()
    }

    func resolve() throws -> AWSCredentials {
        let keyId = environment["AWS_ACCESS_KEY_ID"], secret = environment["AWS_SECRET_ACCESS_KEY"]
        switch (keyId, secret) {
        case (nil, nil):
            throw CredentialProviderError.notConfigured(name, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
        case (_?, nil):
            throw CredentialProviderError.failed(name, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        case (nil, _?):
            throw CredentialProviderError.failed(name, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case let (keyId?, secret?):
            var expiration: Date?
            if let text = environment["AWS_CREDENTIAL_EXPIRATION"] {
                guard let date = RFC3339.parse(text) else {
                    throw CredentialProviderError.failed(name, "AWS_CREDENTIAL_EXPIRATION '\(text)' is not an RFC 3339 time")
                }
                expiration = date
            }
            return AWSCredentials(accessKeyId: keyId, secretAccessKey: secret,
                                  sessionToken: environment["AWS_SESSION_TOKEN"], expiration: expiration)
        }
    }
}
