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

/// What `DescribeSecret` says of a secret (never its value).
public struct SecretDescription: Sendable, Equatable, Decodable {
    public struct Replica: Sendable, Equatable, Decodable {
        public var region: String
        public var kmsKeyId: String?
        /// `InSync`, `Failed` or `InProgress`.
        public var status: String?
        public var statusMessage: String?
        enum CodingKeys: String, CodingKey { case region = "Region", kmsKeyId = "KmsKeyId", status = "Status", statusMessage = "StatusMessage" }
    }
    public var arn: String?
    public var name: String?
    /// Set on a replica: the region of the primary secret it is replicated from.
    public var primaryRegion: String?
    /// Set on a primary: its replicas and their state.
    public var replicationStatus: [Replica]?
    /// Version id → its stages (`AWSCURRENT`, `AWSPREVIOUS`, ...).
    public var versionIdsToStages: [String: [String]]?
    public var tags: [AWSTag]?
    public var deletedDate: Date?

    enum CodingKeys: String, CodingKey {
        case arn = "ARN", name = "Name", primaryRegion = "PrimaryRegion", replicationStatus = "ReplicationStatus",
             versionIdsToStages = "VersionIdsToStages", tags = "Tags", deletedDate = "DeletedDate"
    }

    /// The version that holds `AWSCURRENT`.
    public var currentVersionId: String? { versionIdsToStages?.first { $0.value.contains("AWSCURRENT") }?.key }

    /// True when this is a replica of a secret in another region than `region`.
    public func isReplica(in region: String) -> Bool { primaryRegion.map { $0 != region } ?? false }
}

/// A version that `PutSecretValue` or `CreateSecret` made.
public struct SecretVersion: Sendable, Equatable, Decodable {
    public var arn: String?
    public var name: String?
    public var versionId: String?
    enum CodingKeys: String, CodingKey { case arn = "ARN", name = "Name", versionId = "VersionId" }
}

extension SecretsManagerClient {
    struct SecretIdInput: Encodable { var SecretId: String }

    public func describeSecret(_ secretId: String) async throws -> SecretDescription {
        try await client.send(try AWSRequest.json("DescribeSecret", SecretIdInput(SecretId: secretId))).decode(SecretDescription.self)
    }

    /// The secret's description, or nil when the region holds no such secret.
    public func secretIfPresent(_ secretId: String) async throws -> SecretDescription? {
        do { return try await describeSecret(secretId) } catch let e as AWSError where e.isNotFound { return nil }
    }

    struct ARNOutput: Decodable { var ARN: String? }

    /// Promotes a replica to a standalone secret in its own region (called in the replica's
    /// region); it stops following the primary. Returns the secret's ARN.
    @discardableResult
    public func stopReplicationToReplica(_ secretId: String) async throws -> String? {
        try await client.send(try AWSRequest.json("StopReplicationToReplica", SecretIdInput(SecretId: secretId))).decode(ARNOutput.self).ARN
    }

    struct PutSecretValueInput: Encodable {
        var SecretId: String
        var ClientRequestToken: String?
        var SecretString: String
    }

    /// A new version of the secret, staged `AWSCURRENT` (the one before becomes `AWSPREVIOUS`).
    /// `token` makes a retried call idempotent (32 to 64 characters). The value is registered
    /// with `Redact` before it is sent.
    public func putSecretValue(_ secretId: String, secretString: String, token: String? = nil) async throws -> SecretVersion {
        SecretValue(name: secretId, secretString: secretString).registerSecrets()
        let input = PutSecretValueInput(SecretId: secretId, ClientRequestToken: token, SecretString: secretString)
        return try await client.send(try AWSRequest.json("PutSecretValue", input)).decode(SecretVersion.self)
    }

    struct CreateSecretInput: Encodable {
        var Name: String
        var ClientRequestToken: String?
        var Description: String?
        var SecretString: String
        var Tags: [AWSTag]
    }

    public func createSecret(name: String, secretString: String, description: String? = nil, tags: [AWSTag] = [],
                             token: String? = nil) async throws -> SecretVersion {
        SecretValue(name: name, secretString: secretString).registerSecrets()
        let input = CreateSecretInput(Name: name, ClientRequestToken: token, Description: description, SecretString: secretString, Tags: tags)
        return try await client.send(try AWSRequest.json("CreateSecret", input)).decode(SecretVersion.self)
    }

    struct DeleteSecretInput: Encodable {
        var SecretId: String
        var ForceDeleteWithoutRecovery: Bool
    }

    /// Deletes the secret at once (no recovery window): for the copies dr makes, never a secret of a target.
    public func deleteSecretWithoutRecovery(_ secretId: String) async throws {
        _ = try await client.send(try AWSRequest.json("DeleteSecret", DeleteSecretInput(SecretId: secretId, ForceDeleteWithoutRecovery: true)))
    }

    struct UpdateVersionStageInput: Encodable {
        var SecretId: String
        var VersionStage: String
        var MoveToVersionId: String?
        var RemoveFromVersionId: String?
    }

    /// Moves `AWSCURRENT` (or another stage) from one version to another: how a change is undone.
    public func moveStage(_ stage: String = "AWSCURRENT", secretId: String, to version: String, from current: String?) async throws {
        _ = try await client.send(try AWSRequest.json("UpdateSecretVersionStage",
                                                      UpdateVersionStageInput(SecretId: secretId, VersionStage: stage, MoveToVersionId: version,
                                                                              RemoveFromVersionId: current)))
    }
}
