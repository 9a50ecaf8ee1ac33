import DRCore
import Foundation
import Logging

/// Everything resolved for one run against AWS: the settings (profile, files, environment), the
/// region, the credential chain (with the real STS client for role profiles and web identity),
/// the transport, the retry policy and each service's endpoint. Service clients are built from it:
///
///     let session = try AWSSession(profile: "prod", region: "eu-west-1")
///     let rds = RDSClient(config: try session.clientConfig(for: .rds))
///     let who = try await STSClient(config: try session.clientConfig(for: .sts)).getCallerIdentity()
///     print(await session.credentials.source() ?? "-")   // e.g. "profile prod"
public struct AWSSession: Sendable {
    public let configuration: AWSConfiguration
    public let region: String
    /// Where the region came from: `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION` or the profile.
    public let regionSource: String
    public let credentials: StandardCredentialChain
    public let transport: any HTTPTransport
    public let retry: RetryPolicy
    public let clock: any DRClock
    public let logger: Logger

    /// - Parameters:
    ///   - profile: `--profile`; nil uses `AWS_PROFILE`, then `default`.
    ///   - region: `--region`; nil uses `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's region.
    ///   - transport: nil builds the libcurl transport, trusting `AWS_CA_BUNDLE` / `ca_bundle` when set.
    /// Throws `AWSConfigError` (bad input) for a missing profile or region, or invalid settings.
    public init(environment: AWSEnvironment = .current(), profile: String? = nil, region explicitRegion: String? = nil,
                transport: (any HTTPTransport)? = nil, processRunner: any ProcessRunning = SystemProcessRunner(),
                clock: any DRClock = SystemClock(), logger: Logger = Logger(label: "dr.aws")) throws {
        let configuration = try AWSConfiguration(environment: environment, profile: profile)
        guard let (region, regionSource) = try configuration.regionIfSet(explicit: explicitRegion) else {
            throw AWSConfigError.noRegion(profile: configuration.profileName)
        }
        let transport = transport ?? CurlTransport(options: CurlTransport.Options(caBundlePath: configuration.caBundle))
        let retry = RetryPolicy(maxAttempts: try configuration.maxAttempts())
        _ = try configuration.retryMode() // validated here; the standard policy serves every mode for now
        // STS for role assumption: validate its endpoint settings now, so the closure cannot fail.
        _ = try configuration.resolveEndpoint(for: .sts, region: region)
        let roleAssumer = STSRoleAssumer(
            endpoint: { stsRegion in
                (try? configuration.resolveEndpoint(for: .sts, region: stsRegion).url) ?? URL(string: "https://sts.\(stsRegion).amazonaws.com")!
            },
            transport: transport, retry: retry, clock: clock, logger: logger)
        let services = CredentialServices(transport: transport, processRunner: processRunner, roleAssumer: roleAssumer, clock: clock)
        self.configuration = configuration
        self.region = region
        self.regionSource = regionSource
        self.credentials = StandardCredentialChain(configuration: configuration, services: services, region: region)
        self.transport = transport
        self.retry = retry
        self.clock = clock
        self.logger = logger
    }

    /// The service's endpoint in `region` (default: the session's region).
    public func endpoint(for service: AWSService, region: String? = nil) throws -> ResolvedEndpoint {
        try configuration.resolveEndpoint(for: service, region: region ?? self.region)
    }

    /// A client configuration for the service. Its `region` is the region requests are signed
    /// for (us-east-1 for Route 53 and for STS at the legacy global endpoint).
    public func clientConfig(for service: AWSService, region: String? = nil, attemptTimeout: Double = 60) throws -> AWSClientConfig {
        let endpoint = try endpoint(for: service, region: region)
        return AWSClientConfig(region: endpoint.signingRegion, endpoint: endpoint.url, credentials: credentials,
                               transport: transport, retry: retry, clock: clock, logger: logger, attemptTimeout: attemptTimeout)
    }
}
