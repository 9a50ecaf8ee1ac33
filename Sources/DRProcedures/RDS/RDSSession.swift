import DRAWS
import DRCore
import Foundation
import Logging

/// Everything the RDS backend needs to talk to AWS: the SDK-style configuration (profile,
/// endpoints), one credential chain shared by every client, the transport, retries and clock.
/// Clients are made per region on demand, each with its endpoint resolved as the SDKs do
/// (`AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, profile, default).
public struct RDSSession: Sendable {
    public let configuration: AWSConfiguration
    public let credentials: any AWSCredentialProvider
    public let transport: any HTTPTransport
    public let retry: RetryPolicy
    public let clock: any DRClock
    public let logger: Logger

    public init(configuration: AWSConfiguration, credentials: any AWSCredentialProvider, transport: any HTTPTransport,
                retry: RetryPolicy, clock: any DRClock = SystemClock(), logger: Logger = Logger(label: "dr.aws")) {
        self.configuration = configuration
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.clock = clock
        self.logger = logger
    }

    /// The session a command runs with: the standard credential chain over libcurl, retries
    /// per `AWS_MAX_ATTEMPTS` / `max_attempts`. Settings errors are bad input (exit 2).
    public static func standard(environment: AWSEnvironment = .current(), logger: Logger = Logger(label: "dr.aws")) throws -> RDSSession {
        do {
            let configuration = try AWSConfiguration(environment: environment)
            let transport = CurlTransport(options: .init(caBundlePath: configuration.caBundle,
                                                         proxy: .fromEnvironment(environment.variables)))
            let retry = RetryPolicy(maxAttempts: try configuration.maxAttempts())
            let clock = SystemClock()
            let stsEndpoint: @Sendable (String) -> URL = { region in
                (try? configuration.resolveEndpoint(for: .sts, region: region).url) ?? URL(string: "https://sts.\(region).amazonaws.com")!
            }
            let services = CredentialServices(transport: transport,
                                              roleAssumer: STSRoleAssumer(endpoint: stsEndpoint, transport: transport, retry: retry,
                                                                          clock: clock, logger: logger),
                                              clock: clock)
            let chain = StandardCredentialChain(configuration: configuration, services: services)
            return RDSSession(configuration: configuration, credentials: chain, transport: transport, retry: retry,
                              clock: clock, logger: logger)
        } catch let error as AWSConfigError {
            throw error.drError
        }
    }

    /// A client configuration for one service in one region (global services sign for their partition).
    public func clientConfig(_ service: AWSService, region: String) throws -> AWSClientConfig {
        try KnownRegions.check(region, what: "region")
        let endpoint: ResolvedEndpoint
        do { endpoint = try configuration.resolveEndpoint(for: service, region: region) } catch let error as AWSConfigError { throw error.drError }
        return AWSClientConfig(region: service.global ? endpoint.signingRegion : region, endpoint: endpoint.url,
                               credentials: credentials, transport: transport, retry: retry, clock: clock, logger: logger)
    }

    /// The region from `--region`, the environment or the profile; bad input when none is set.
    public func defaultRegion(explicit: String? = nil) throws -> String {
        do { return try configuration.region(explicit: explicit) } catch let error as AWSConfigError { throw error.drError }
    }

    public func rds(_ region: String) throws -> RDSClient { RDSClient(config: try clientConfig(.rds, region: region)) }
    public func elastiCache(_ region: String) throws -> ElastiCacheClient { ElastiCacheClient(config: try clientConfig(.elastiCache, region: region)) }
    public func kms(_ region: String) throws -> KMSClient { KMSClient(config: try clientConfig(.kms, region: region)) }
    public func secretsManager(_ region: String) throws -> SecretsManagerClient {
        SecretsManagerClient(config: try clientConfig(.secretsManager, region: region))
    }
    /// Route 53 is global; its endpoint and signing region come from the partition of `region`.
    public func route53(region: String = "us-east-1") throws -> Route53Client { Route53Client(config: try clientConfig(.route53, region: region)) }
}
