import DRCore
import Foundation

/// The credential chain `dr` uses, in the SDKs' order; the first source that gives credentials wins:
///
/// 1. environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`);
/// 2. web identity from the environment (`AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`);
/// 3. the profile (`--profile`, `AWS_PROFILE` or `default`) of the shared files;
/// 4. ECS container credentials;
/// 5. EC2 instance metadata (IMDSv2).
///
/// With an explicit `--profile` the two environment sources are skipped: the user named the
/// identity to use (the AWS CLI skips environment keys the same way).
/// Temporary credentials are cached and refreshed five minutes before they expire, one caller
/// at a time. `source()` says which source answered (for `dr aws whoami`).
public struct StandardCredentialChain: AWSCredentialProvider {
    public let chain: CredentialChain
    private let cache: RefreshingCredentialProvider

    public var name: String { "standard credential chain" }

    /// - Parameters:
    ///   - region: the resolved region, used for STS calls made to assume roles (falls back to
    ///     the configured region, then `us-east-1`).
    public init(configuration: AWSConfiguration, services: CredentialServices, region: String? = nil) {
        let stsRegion = region ?? (try? configuration.regionIfSet())??.region ?? "us-east-1"
        let environment = configuration.environment
        var providers: [any AWSCredentialProvider] = []
        if !configuration.profileIsExplicit {
            providers.append(EnvironmentCredentialProvider(environment: environment))
            providers.append(WebIdentityCredentialProvider(environment: environment, stsRegion: stsRegion,
                                                           roleAssumer: services.roleAssumer, clock: services.clock))
        }
        providers.append(ProfileCredentialProvider(configuration: configuration, services: services, stsRegion: stsRegion))
        providers.append(ContainerCredentialProvider(environment: environment, transport: services.transport))
        providers.append(InstanceMetadataCredentialProvider(environment: environment, transport: services.transport))
        self.init(providers: providers, clock: services.clock)
    }

    /// A chain of the given providers with the same caching (for tests and special set-ups).
    public init(providers: [any AWSCredentialProvider], clock: any DRClock = SystemClock()) {
        chain = CredentialChain(providers)
        cache = RefreshingCredentialProvider(chain, clock: clock)
    }

    public func credentials() async throws -> AWSCredentials {
        try await cache.credentials()
    }

    /// The name of the source that gave the credentials, once one has.
    public func source() async -> String? {
        await chain.selectedSource
    }

    /// Forget the cached credentials (e.g. after a service said they expired).
    public func invalidate() async {
        await cache.invalidate()
    }
}
