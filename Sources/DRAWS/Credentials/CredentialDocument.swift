import DRCore
import Foundation

/// The JSON credential documents that container credentials, instance metadata and
/// `credential_process` return. Decoding errors name the missing field, never the content.
struct CredentialDocument {
    /// Container and instance metadata: `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`
    /// (instance metadata adds `"Code": "Success"`).
    static func decodeMetadata(_ data: Data, source: String) throws -> AWSCredentials {
        let object = try jsonObject(data, source: source, what: "response")
        if let code = object["Code"] as? String, code != "Success" {
            throw CredentialProviderError.failed(source, "the response's Code is '\(code)', not 'Success'")
        }
        return try credentials(object, tokenKey: "Token", source: source)
    }

    /// `credential_process` output: `Version: 1`, `AccessKeyId`, `SecretAccessKey`, optional
    /// `SessionToken` and `Expiration`.
    static func decodeProcessOutput(_ data: Data, source: String) throws -> AWSCredentials {
        let object = try jsonObject(data, source: source, what: "output")
        guard let version = object["Version"] as? Int, version == 1 else {
            throw CredentialProviderError.failed(source, "the output's Version must be 1")
        }
        return try credentials(object, tokenKey: "SessionToken", source: source)
    }

    private static func jsonObject(_ data: Data, source: String, what: String) throws -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CredentialProviderError.failed(source, "the \(what) is not a JSON object (\(data.count) bytes)")
        }
        return object
    }

    private static func credentials(_ object: [String: Any], tokenKey: String, source: String) throws -> AWSCredentials {
        guard let keyId = object["AccessKeyId"] as? String, !keyId.isEmpty else {
            throw CredentialProviderError.failed(source, "AccessKeyId is missing")
        }
        guard let secret = object["SecretAccessKey"] as? String, !secret.isEmpty else {
            throw CredentialProviderError.failed(source, "SecretAccessKey is missing")
        }
        var expiration: Date?
        if let text = object["Expiration"] as? String {
            guard let date = RFC3339.parse(text) else {
                throw CredentialProviderError.failed(source, "Expiration '\(text)' is not an RFC 3339 time")
            }
            expiration = date
        }
        let token = (object[tokenKey] as? String).flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: token, expiration: expiration)
    }
}
