import Foundation

/// EC2 instance profile credentials through IMDSv2: a session token from
/// `PUT /latest/api/token`, then the role name and the role's credentials with that token.
///
/// Off when `AWS_EC2_METADATA_DISABLED=true`. `AWS_EC2_METADATA_SERVICE_ENDPOINT` overrides the
/// endpoint (`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6` picks fd00:ec2::254). Timeouts are
/// short (1 s) with one retry, so a machine without instance metadata fails fast.
/// IMDSv1 (no token) is deliberately not used as a fallback.
public struct InstanceMetadataCredentialProvider: AWSCredentialProvider {
    public let name = "instance-metadata (EC2 IMDSv2)"
    let environment: AWSEnvironment
    let http: MetadataHTTPClient
    static let tokenTTLSeconds = 21600

    public init(environment: AWSEnvironment, transport: any HTTPTransport, timeout: Double = 1, attempts: Int = 2) {
        self.environment = environment
        self.http = MetadataHTTPClient(transport: transport, timeout: timeout, attempts: attempts)
    }

    var endpoint: String {
        if let configured = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] {
            return configured.hasSuffix("/") ? String(configured.dropLast()) : configured
        }
        return environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"]?.lowercased() == "ipv6"
            ? "http://[fd00:ec2::254]" : "http://169.254.169.254"
    }

    public func credentials() async throws -> AWSCredentials {
        if environment.bool("AWS_EC2_METADATA_DISABLED") == true {
            throw CredentialProviderError.notConfigured(name, "AWS_EC2_METADATA_DISABLED is true")
        }
        let token = try await sessionToken()
        let rolePath = "/latest/meta-data/iam/security-credentials/"
        let roleResponse = try await get(rolePath, token: token)
        if roleResponse.status == 404 {
            throw CredentialProviderError.notConfigured(name, "the instance has no IAM role (\(endpoint)\(rolePath) answered HTTP 404)")
        }
        try expectOK(roleResponse, path: rolePath)
        let roleName = String(decoding: roleResponse.body, as: UTF8.self)
            .split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !roleName.isEmpty, !roleName.contains("/") else {
            throw CredentialProviderError.failed(name, "\(endpoint)\(rolePath) did not name an IAM role")
        }
        let credentialsPath = rolePath + roleName
        let response = try await get(credentialsPath, token: token)
        try expectOK(response, path: credentialsPath)
        return try CredentialDocument.decodeMetadata(response.body, source: name)
    }

    private func sessionToken() async throws -> String {
        let path = "/latest/api/token"
        guard let url = URL(string: endpoint + path) else {
            throw CredentialProviderError.failed(name, "AWS_EC2_METADATA_SERVICE_ENDPOINT is not a valid URL")
        }
        let request = HTTPRequest(method: "PUT", url: url, headers: [("X-aws-ec2-metadata-token-ttl-seconds", "\(Self.tokenTTLSeconds)")])
        let response = try await http.send(request, source: name, unreachable: .notConfigured)
        try expectOK(response, path: path)
        let token = String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw CredentialProviderError.failed(name, "\(endpoint)\(path) returned an empty token") }
        return token
    }

    private func get(_ path: String, token: String) async throws -> HTTPResponse {
        guard let url = URL(string: endpoint + path) else {
            throw CredentialProviderError.failed(name, "AWS_EC2_METADATA_SERVICE_ENDPOINT is not a valid URL")
        }
        let request = HTTPRequest(method: "GET", url: url, headers: [("X-aws-ec2-metadata-token", token)])
        return try await http.send(request, source: name, unreachable: .failed)
    }

    private func expectOK(_ response: HTTPResponse, path: String) throws {
        guard response.status == 200 else {
            throw CredentialProviderError.failed(name, "\(endpoint)\(path) answered HTTP \(response.status)")
        }
    }
}
