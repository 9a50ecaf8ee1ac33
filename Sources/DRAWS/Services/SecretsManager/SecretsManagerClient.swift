import DRCore
import Foundation

/// A secret's value. The value itself never reaches a description, a log or an error.
public struct SecretValue: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, Decodable {
    public var arn: String?
    public var name: String?
    public var versionId: String?
    public var secretString: String?
    public var secretBinary: Data?
    public var createdDate: Date?

    enum CodingKeys: String, CodingKey {
        case arn = "ARN", name = "Name", versionId = "VersionId", secretString = "SecretString",
             secretBinary = "SecretBinary", createdDate = "CreatedDate"
    }

    public var description: String {
        "SecretValue(name: \(name ?? "?"), versionId: \(versionId ?? "?"), value: \(Redact.mask))"
    }
    public var debugDescription: String { description }

    /// Registers the value with `Redact`: the secret string, its binary form as text, and the
    /// fields of a JSON secret whose names say they are secret.
    func registerSecrets() {
        Redact.register(secretString)
        Redact.register(secretBinary.map { String(decoding: $0, as: UTF8.self) })
        for (key, value) in (try? jsonFields()) ?? [:]
        where ["password", "secret", "token", "key"].contains(where: { key.lowercased().contains($0) }) {
            Redact.register(value)
        }
    }

    /// The secret string parsed as a JSON object of strings (e.g. `{"host","port","username","password","database"}`);
    /// numbers become their text. Throws without echoing the value when it is not such an object.
    public func jsonFields() throws -> [String: String] {
        guard let text = secretString, let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw AWSDecodingError("secret \(name ?? "?") is not a JSON object")
        }
        return object.compactMapValues { value in
            switch value {
            case let s as String: return s
            case let n as NSNumber: return n.stringValue
            default: return nil
            }
        }
    }
}

/// Secrets Manager (JSON 1.1, target prefix `secretsmanager`).
public struct SecretsManagerClient: Sendable {
    public let client: AWSClient

    public init(config: AWSClientConfig) { client = AWSClient(service: .secretsManager, config: config) }

    struct GetSecretValueInput: Encodable {
        var SecretId: String
        var VersionId: String?
        var VersionStage: String?
    }

    /// The secret's value, registered with `Redact` before it is returned (the whole string and
    /// each field of a JSON secret whose name says it is secret: password, secret, token, key),
    /// so no output edge can show it in any encoding.
    public func getSecretValue(secretId: String, versionId: String? = nil, versionStage: String? = nil) async throws -> SecretValue {
        let request = try AWSRequest.json("GetSecretValue", GetSecretValueInput(SecretId: secretId, VersionId: versionId, VersionStage: versionStage))
        let value = try await client.send(request).decode(SecretValue.self)
        value.registerSecrets()
        return value
    }
}
