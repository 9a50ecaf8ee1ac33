import DRCore
import Foundation
import Logging

/// The one composition root of the AWS layer: the settings (profile, shared files, environment),
/// the default region, one credential chain (with the real STS client for role profiles and web
/// identity), one transport (one libcurl connection pool), the retry policy and each service's
/// endpoint. Every client of a process is made from it, so credentials are fetched once and
/// refreshed by one caller at a time, and connections are reused across steps:
///
///     let session = try AWSSession.standard(logger: logger)      // built once per process
///     let rds = try session.rds("eu-west-1")
///     let who = try await session.sts().getCallerIdentity()
///     print(await session.credentialSource() ?? "-")              // e.g. "profile prod"
///
/// A client's region is the region its requests are signed for, taken from the resolved
/// endpoint: the region itself for regional services, the partition's global region for global
/// ones (Route 53: us-east-1, cn-northwest-1, us-gov-west-1, ...).
public final class AWSSession: Sendable {
    public let configuration: AWSConfiguration
    public let credentials: any AWSCredentialProvider
    public let transport: any HTTPTransport
    public let retry: RetryPolicy
    public let clock: any DRClock
    public let logger: Logger
    /// `--region` when the command took one; the default region also looks at the environment
    /// and the profile (`defaultRegion()`).
    public let explicitRegion: String?

    /// A session over parts the caller built (tests, special set-ups).
    public init(configuration: AWSConfiguration, credentials: any AWSCredentialProvider, transport: any HTTPTransport,
                retry: RetryPolicy, clock: any DRClock = SystemClock(), logger: Logger = Logger(label: "dr.aws"),
                explicitRegion: String? = nil) {
        self.configuration = configuration
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.clock = clock
        self.logger = logger
        self.explicitRegion = explicitRegion
    }

    /// Resolves everything from the environment and the shared files, as the SDKs do.
    ///
    /// - Parameters:
    ///   - profile: `--profile`; nil uses `AWS_PROFILE`, then `default`.
    ///   - region: `--region`; nil uses `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's region.
    ///     No region is needed to build a session (targets name their own); asking for the
    ///     default region without one is bad input.
    ///   - transport: nil builds the libcurl transport, trusting `AWS_CA_BUNDLE` / `ca_bundle` when set.
    /// Throws a bad-input `DRError` for a missing profile, an unknown region or invalid settings.
    public convenience init(environment: AWSEnvironment = .current(), profile: String? = nil, region: String? = nil,
                            transport: (any HTTPTransport)? = nil, processRunner: any ProcessRunning = SystemProcessRunner(),
                            clock: any DRClock = SystemClock(), logger: Logger = Logger(label: "dr.aws")) throws {
        let (configuration, retry, stsRegion) = try Self.settings {
            let configuration = try AWSConfiguration(environment: environment, profile: profile)
            let retry = RetryPolicy(maxAttempts: try configuration.maxAttempts())
            _ = try configuration.retryMode() // validated here; the standard policy serves every mode for now
            // Role assumption calls STS in the default region, else us-east-1 (as the SDKs do).
            let stsRegion = try configuration.regionIfSet(explicit: region)?.region ?? "us-east-1"
            // Validate STS's endpoint settings now, so the role assumer's lookup cannot fail later.
            _ = try configuration.resolveEndpoint(for: .sts, region: stsRegion)
            return (configuration, retry, stsRegion)
        }
        let transport = transport ?? CurlTransport(options: CurlTransport.Options(caBundlePath: configuration.caBundle,
                                                                                   proxy: .fromEnvironment(environment.variables)))
        let roleAssumer = STSRoleAssumer(
            endpoint: { region in
                (try? configuration.resolveEndpoint(for: .sts, region: region)) ?? ResolvedEndpoint(
                    url: URL(string: "https://sts.\(region).amazonaws.com")!, signingRegion: region, source: "default")
            },
            transport: transport, retry: retry, clock: clock, logger: logger)
        let services = CredentialServices(transport: transport, processRunner: processRunner, roleAssumer: roleAssumer, clock: clock)
        self.init(configuration: configuration,
                  credentials: StandardCredentialChain(configuration: configuration, services: services, region: stsRegion),
                  transport: transport, retry: retry, clock: clock, logger: logger, explicitRegion: region)
    }

    // MARK: The process's session

    private static let cache = SessionCache()

    /// The session of this process for `profile` and `region` (nil: the defaults): built on
    /// first use from the process's environment and shared by every later caller — every
    /// command, runbook step and drill of the run. The first caller's logger is the one its
    /// clients log retries to. Settings errors are bad input (`DRError`) and are not cached.
    ///
    /// With `environment` (tests), a new session is built for that environment every time.
    public static func standard(environment: AWSEnvironment? = nil, profile: String? = nil, region: String? = nil,
                                logger: Logger = Logger(label: "dr.aws")) throws -> AWSSession {
        if let environment { return try AWSSession(environment: environment, profile: profile, region: region, logger: logger) }
        return try cache.session(key: [profile ?? "", region ?? ""].joined(separator: "\u{0}")) {
            try AWSSession(profile: profile, region: region, logger: logger)
        }
    }

    // MARK: Region and endpoints

    /// The default region and where it came from: `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`
    /// or the profile's `region`. Bad input when none is set or the name is not a region.
    public func resolvedRegion() throws -> (region: String, source: String) {
        try Self.settings {
            guard let found = try configuration.regionIfSet(explicit: explicitRegion) else {
                throw AWSConfigError.noRegion(profile: configuration.profileName)
            }
            return found
        }
    }

    /// The default region (`explicit` overrides the session's own `--region`).
    public func defaultRegion(explicit: String? = nil) throws -> String {
        if let explicit {
            try Self.settings { try AWSRegion.check(explicit, source: "\(param: .region)") }
            return explicit
        }
        return try resolvedRegion().region
    }

    /// The service's endpoint in `region` (default: the default region).
    public func endpoint(for service: AWSService, region: String? = nil) throws -> ResolvedEndpoint {
        let region = try region ?? defaultRegion()
        return try Self.settings { try configuration.resolveEndpoint(for: service, region: region) }
    }

    /// A client configuration for the service in `region` (default: the default region),
    /// signed for the region the resolved endpoint names.
    public func clientConfig(_ service: AWSService, region: String? = nil, attemptTimeout: Double = 60) throws -> AWSClientConfig {
        let endpoint = try endpoint(for: service, region: region)
        return AWSClientConfig(region: endpoint.signingRegion, endpoint: endpoint.url, credentials: credentials,
                               transport: transport, retry: retry, clock: clock, logger: logger, attemptTimeout: attemptTimeout)
    }

    // MARK: Clients

    public func rds(_ region: String) throws -> RDSClient { RDSClient(config: try clientConfig(.rds, region: region)) }
    public func elastiCache(_ region: String) throws -> ElastiCacheClient { ElastiCacheClient(config: try clientConfig(.elastiCache, region: region)) }
    public func kms(_ region: String) throws -> KMSClient { KMSClient(config: try clientConfig(.kms, region: region)) }
    public func ec2(_ region: String) throws -> EC2Client { EC2Client(config: try clientConfig(.ec2, region: region)) }
    public func secretsManager(_ region: String) throws -> SecretsManagerClient {
        SecretsManagerClient(config: try clientConfig(.secretsManager, region: region))
    }
    public func ecs(_ region: String) throws -> ECSClient { ECSClient(config: try clientConfig(.ecs, region: region)) }
    public func ecr(_ region: String) throws -> ECRClient { ECRClient(config: try clientConfig(.ecr, region: region)) }
    /// STS in `region` (default: the default region; the legacy global endpoint when configured).
    public func sts(_ region: String? = nil) throws -> STSClient { STSClient(config: try clientConfig(.sts, region: region)) }
    /// Route 53 is global: its endpoint and signing region come from the partition of `region`.
    public func route53(region: String = "us-east-1") throws -> Route53Client { Route53Client(config: try clientConfig(.route53, region: region)) }

    /// Settings problems as the project's error: bad input, nothing sent.
    private static func settings<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as AWSConfigError { throw error.drError }
    }

    /// The name of the credential source that answered, once one has (`dr aws whoami`).
    public func credentialSource() async -> String? {
        if let chain = credentials as? StandardCredentialChain { return await chain.source() }
        return credentials.name
    }
}

/// The process's sessions, one per (profile, region), built by the first caller.
private final class SessionCache: @unchecked Sendable {
    // @unchecked: the dictionary is only touched under `lock`.
    private let lock = NSLock()
    private var sessions: [String: AWSSession] = [:]

    func session(key: String, make: () throws -> AWSSession) throws -> AWSSession {
        try lock.withLock {
            if let found = sessions[key] { return found }
            let made = try make()
            sessions[key] = made
            return made
        }
    }
}
