import Foundation

public struct KeyMetadata: Sendable, Equatable, Decodable {
    public var keyId: String
    public var arn: String?
    public var enabled: Bool?
    public var keyState: String?
    public var keyManager: String?
    public var multiRegion: Bool?
    public var description: String?

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId", arn = "Arn", enabled = "Enabled", keyState = "KeyState", keyManager = "KeyManager",
             multiRegion = "MultiRegion", description = "Description"
    }
}

/// KMS (JSON 1.1, target prefix `TrentService`).
public struct KMSClient: Sendable {
    public let client: AWSClient

    public init(config: AWSClientConfig) { client = AWSClient(service: .kms, config: config) }

    struct DescribeKeyInput: Encodable { var KeyId: String }
    struct DescribeKeyOutput: Decodable { var KeyMetadata: KeyMetadata }

    /// `keyId` may be a key id, key ARN, alias name (`alias/x`) or alias ARN.
    public func describeKey(_ keyId: String) async throws -> KeyMetadata {
        try await client.send(try AWSRequest.json("DescribeKey", DescribeKeyInput(KeyId: keyId))).decode(DescribeKeyOutput.self).KeyMetadata
    }
}
