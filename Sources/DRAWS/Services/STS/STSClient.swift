import DRCore
import Foundation
import Logging

public struct CallerIdentity: Sendable, Equatable {
    public var account: String
    public var arn: String
    public var userId: String
}

/// Temporary credentials from AssumeRole*, with the role session they belong to.
public struct AssumedRole: Sendable, Equatable {
    public var credentials: AWSCredentials
    public var assumedRoleArn: String?
}

/// What STS accepts in AssumeRole* (the service model's constraints, which the service enforces):
/// checked where the values are configured, so a wrong profile setting is bad input naming the
/// profile and the key instead of an STS refusal after the credential search.
public enum STSInputRules {
    /// `DurationSeconds`: 900 to 43200 (the role's maximum session duration may be lower).
    public static let durations = 900...43200

    /// nil when `name` is a valid `RoleSessionName`: 2 to 64 of `[A-Za-z0-9_+=,.@-]`.
    public static func problem(sessionName name: String) -> String? {
        problem(name, length: 2...64, extra: "+=,.@-", what: "letters, digits and _+=,.@-")
    }

    /// nil when `id` is a valid `ExternalId`: 2 to 1224 of `[A-Za-z0-9_+=,.@:/-]`.
    public static func problem(externalId id: String) -> String? {
        problem(id, length: 2...1224, extra: "+=,.@:/-", what: "letters, digits and _+=,.@:/-")
    }

    /// nil when `arn` has a valid `RoleArn` length (20 to 2048).
    public static func problem(roleArn arn: String) -> String? {
        (20...2048).contains(arn.count) ? nil : "must be 20 to 2048 characters long (it has \(arn.count))"
    }

    /// nil when `seconds` is a valid `DurationSeconds`.
    public static func problem(durationSeconds seconds: Int) -> String? {
        durations.contains(seconds) ? nil : "must be \(durations.lowerBound) to \(durations.upperBound) seconds (it is \(seconds))"
    }

    static func problem(_ value: String, length: ClosedRange<Int>, extra: String, what: String) -> String? {
        guard length.contains(value.count) else { return "must be \(length.lowerBound) to \(length.upperBound) characters long (it has \(value.count))" }
        let allowed = value.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || extra.unicodeScalars.contains($0)) }
        return allowed ? nil : "may hold only \(what)"
    }
}

/// STS (AWS Query, API 2011-06-15).
public struct STSClient: Sendable {
    public let client: AWSClient

    public init(config: AWSClientConfig) { client = AWSClient(service: .sts, config: config) }

    public func getCallerIdentity() async throws -> CallerIdentity {
        let r = try await client.send(QueryParams().request("GetCallerIdentity")).xml()
        return CallerIdentity(account: r.string("Account") ?? "", arn: r.string("Arn") ?? "", userId: r.string("UserId") ?? "")
    }

    public func assumeRole(roleArn: String, sessionName: String, externalId: String? = nil,
                           durationSeconds: Int? = nil) async throws -> AssumedRole {
        var p = QueryParams()
        p.add("RoleArn", roleArn)
        p.add("RoleSessionName", sessionName)
        p.add("ExternalId", externalId)
        p.add("DurationSeconds", durationSeconds)
        return try Self.assumed(try await client.send(p.request("AssumeRole")).xml())
    }

    /// Unsigned: the web identity token is the authentication.
    public func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, webIdentityToken: String,
                                          durationSeconds: Int? = nil) async throws -> AssumedRole {
        var p = QueryParams()
        p.add("RoleArn", roleArn)
        p.add("RoleSessionName", sessionName)
        p.add("WebIdentityToken", webIdentityToken)
        p.add("DurationSeconds", durationSeconds)
        var request = p.request("AssumeRoleWithWebIdentity")
        request.signed = false
        return try Self.assumed(try await client.send(request).xml())
    }

    static func assumed(_ r: XElement) throws -> AssumedRole {
        guard let c = r.child("Credentials"), let id = c.string("AccessKeyId"), let secret = c.string("SecretAccessKey") else {
            throw AWSDecodingError("STS returned no credentials")
        }
        return AssumedRole(credentials: AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: c.string("SessionToken"),
                                                       expiration: c.date("Expiration")),
                           assumedRoleArn: r.string("AssumedRoleUser", "Arn"))
    }
}

/// The `RoleAssuming` seam for the credential chain, over real STS calls. The chain knows the
/// region; `endpoint` maps it to the STS endpoint and the region it signs for (the session's
/// resolver: regional, or the legacy global endpoint signed for us-east-1).
public struct STSRoleAssumer: RoleAssuming {
    let endpoint: @Sendable (String) -> ResolvedEndpoint
    let transport: any HTTPTransport
    let retry: RetryPolicy
    let clock: any DRClock
    let logger: Logger

    public init(endpoint: @escaping @Sendable (String) -> ResolvedEndpoint, transport: any HTTPTransport, retry: RetryPolicy = .standard(),
                clock: any DRClock = SystemClock(), logger: Logger = Logger(label: "dr.aws.sts")) {
        self.endpoint = endpoint
        self.transport = transport
        self.retry = retry
        self.clock = clock
        self.logger = logger
    }

    func client(region: String, credentials: AWSCredentials?) -> STSClient {
        let provider: any AWSCredentialProvider = StaticCredentialProvider(
            credentials ?? AWSCredentials(accessKeyId: "", secretAccessKey: ""), name: "assume-role source")
        let resolved = endpoint(region)
        return STSClient(config: AWSClientConfig(region: resolved.signingRegion, endpoint: resolved.url, credentials: provider,
                                                 transport: transport, retry: retry, clock: clock, logger: logger))
    }

    public func assumeRole(using source: AWSCredentials, roleArn: String, sessionName: String, externalId: String?,
                           durationSeconds: Int?, region: String) async throws -> AWSCredentials {
        try await client(region: region, credentials: source)
            .assumeRole(roleArn: roleArn, sessionName: sessionName, externalId: externalId, durationSeconds: durationSeconds).credentials
    }

    public func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, webIdentityToken: String,
                                          durationSeconds: Int?, region: String) async throws -> AWSCredentials {
        try await client(region: region, credentials: nil)
            .assumeRoleWithWebIdentity(roleArn: roleArn, sessionName: sessionName, webIdentityToken: webIdentityToken,
                                       durationSeconds: durationSeconds).credentials
    }
}
