import Foundation

/// ECS / EKS container credentials.
///
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is fetched from the ECS agent at 169.254.170.2;
/// otherwise `AWS_CONTAINER_CREDENTIALS_FULL_URI`, which must be https or point at a loopback,
/// ECS (169.254.170.2) or EKS (169.254.170.23, fd00:ec2::23) address. The authorization token
/// comes from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (re-read each time; it rotates), else
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`, and is sent as the `Authorization` header.
public struct ContainerCredentialProvider: AWSCredentialProvider {
    public let name = "container (ECS)"
    let environment: AWSEnvironment
    let http: MetadataHTTPClient
    let ecsAgentBase: String

    /// - Parameter ecsAgentBase: where relative URIs point; only tests change it.
    public init(environment: AWSEnvironment, transport: any HTTPTransport, timeout: Double = 2, attempts: Int = 2,
                ecsAgentBase: String = "http://169.254.170.2") {
        self.environment = environment
        self.http = MetadataHTTPClient(transport: transport, timeout: timeout, attempts: attempts)
        self.ecsAgentBase = ecsAgentBase
    }

    public func credentials() async throws -> AWSCredentials {
        var request = HTTPRequest(method: "GET", url: try endpoint(), headers: [("Accept", "application/json")])
        if let token = try authorizationToken() { request.setHeader("Authorization", token) }
        let response = try await http.send(request, source: name, unreachable: .failed)
        guard response.status == 200 else {
            let hint = (response.status == 401 || response.status == 403)
                ? " (the endpoint refused the authorization token: check AWS_CONTAINER_AUTHORIZATION_TOKEN / _TOKEN_FILE)" : ""
            throw CredentialProviderError.failed(name, "\(MetadataHTTPClient.display(request.url)) answered HTTP \(response.status)\(hint)")
        }
        return try CredentialDocument.decodeMetadata(response.body, source: name)
    }

    func endpoint() throws -> URL {
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            let path = relative.hasPrefix("/") ? relative : "/" + relative
            guard let url = URL(string: ecsAgentBase + path) else {
                throw CredentialProviderError.failed(name, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a valid URI path")
            }
            return url
        }
        guard let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] else {
            throw CredentialProviderError.notConfigured(name, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set")
        }
        guard let url = URL(string: full), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw CredentialProviderError.failed(name, "AWS_CONTAINER_CREDENTIALS_FULL_URI is not a valid URL")
        }
        guard scheme == "https" || (scheme == "http" && Self.isAllowedPlainHTTPHost(host)) else {
            throw CredentialProviderError.failed(name, "AWS_CONTAINER_CREDENTIALS_FULL_URI host \(host) is not allowed over \(scheme): use https, "
                + "or a loopback, ECS (169.254.170.2) or EKS (169.254.170.23, fd00:ec2::23) address")
        }
        return url
    }

    /// Plain HTTP only to the local machine or the container agents.
    static func isAllowedPlainHTTPHost(_ rawHost: String) -> Bool {
        let host = rawHost.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if host == "localhost" || host == "::1" || host == "169.254.170.2" || host == "169.254.170.23" { return true }
        if host == "fd00:ec2::23" || host == "fd00:ec2:0:0:0:0:0:23" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        if octets.count == 4, octets[0] == "127", octets.allSatisfy({ UInt8($0) != nil }) { return true }
        return false
    }

    func authorizationToken() throws -> String? {
        var token: String?
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] {
            let path = environment.expandingTilde(file)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CredentialProviderError.failed(name, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(path)")
            }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
        }
        // Unicode scalars, not Characters: "\r\n" is one Character and equals neither.
        if let token, token.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw CredentialProviderError.failed(name, "the container authorization token contains a line break")
        }
        return token
    }
}
