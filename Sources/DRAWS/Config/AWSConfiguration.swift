import DRCore
import Foundation

/// The AWS settings in force for one run: the selected profile from the shared files plus the
/// environment, resolved with the SDKs' precedence (explicit value, then environment, then profile).
public struct AWSConfiguration: Sendable {
    public let environment: AWSEnvironment
    public let files: SharedConfigFiles
    /// `--profile`, else `AWS_PROFILE`, else `default`.
    public let profileName: String
    /// True when the profile came from `--profile` (the SDKs then skip environment credentials).
    public let profileIsExplicit: Bool
    /// The selected profile's merged settings (empty when the default profile is not defined).
    public let profile: ConfigSection

    /// Reads the shared files. A profile named by `--profile` or `AWS_PROFILE` must exist;
    /// an undefined `default` profile is simply empty.
    public init(environment: AWSEnvironment = .current(), profile explicitProfile: String? = nil) throws {
        self.environment = environment
        files = try environment.loadSharedConfigFiles()
        profileIsExplicit = explicitProfile != nil
        profileName = explicitProfile ?? environment["AWS_PROFILE"] ?? "default"
        if let section = files.profile(profileName) {
            profile = section
        } else if explicitProfile != nil || environment["AWS_PROFILE"] != nil {
            throw AWSConfigError.profileNotFound(profileName, files: files)
        } else {
            profile = ConfigSection()
        }
    }

    // MARK: Region

    /// The region and where it came from, or nil when none is set. Every name is checked with
    /// the one region check (`AWSRegion.check`); an unknown one is bad input.
    public func regionIfSet(explicit: String? = nil) throws -> (region: String, source: String)? {
        let candidates: [(String?, ErrorText, String)] = [
            (explicit, "\(param: .region)", "--region"),
            (environment["AWS_REGION"], "AWS_REGION", "AWS_REGION"),
            (environment["AWS_DEFAULT_REGION"], "AWS_DEFAULT_REGION", "AWS_DEFAULT_REGION"),
            (profile["region"], "region in profile \(profileName)", "region in profile \(profileName)"),
        ]
        for case let (value?, source, shown) in candidates {
            let region = value.trimmingCharacters(in: .whitespaces)
            try AWSRegion.check(region, source: source)
            return (region, shown)
        }
        return nil
    }

    /// The region: `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`.
    public func region(explicit: String? = nil) throws -> String {
        guard let found = try regionIfSet(explicit: explicit) else { throw AWSConfigError.noRegion(profile: profileName) }
        return found.region
    }

    // MARK: Endpoints

    public func resolveEndpoint(for service: AWSService, region: String) throws -> ResolvedEndpoint {
        try resolveEndpoint(serviceID: service.serviceID, endpointPrefix: service.endpointPrefix, region: region, global: service.global)
    }

    /// The endpoint as the SDKs resolve it, first match wins:
    /// `AWS_ENDPOINT_URL_<SERVICE_ID>`, `AWS_ENDPOINT_URL`, the profile's `services` section
    /// entry for the service, the profile's `endpoint_url` (all four ignored when
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` / `ignore_configured_endpoint_urls` is true),
    /// then the default: `https://{prefix}.{region}.{dnsSuffix}`, one host per partition for
    /// global services (signed for the partition's global region), and STS regional unless
    /// `sts_regional_endpoints = legacy` for one of the legacy global regions.
    public func resolveEndpoint(serviceID: String, endpointPrefix: String, region: String, global: Bool) throws -> ResolvedEndpoint {
        try AWSRegion.check(region, source: "the region asked for")
        let partition = AWSRegion.partition(of: region)
        let signingRegion = global ? partition.globalSigningRegion : region

        if let (value, source) = configuredEndpoint(serviceID: serviceID) {
            return ResolvedEndpoint(url: try Self.endpointURL(value, source: source), signingRegion: signingRegion, source: source)
        }

        if global {
            let host = partition.id == "aws-us-gov" ? "\(endpointPrefix).us-gov.\(partition.dnsSuffix)" : "\(endpointPrefix).\(partition.dnsSuffix)"
            return ResolvedEndpoint(url: URL(string: "https://\(host)")!, signingRegion: signingRegion, source: "default")
        }
        if serviceID == AWSService.sts.serviceID, try stsUsesLegacyGlobalEndpoint(region: region) {
            return ResolvedEndpoint(url: URL(string: "https://sts.amazonaws.com")!, signingRegion: "us-east-1", source: "default (sts_regional_endpoints = legacy)")
        }
        return ResolvedEndpoint(url: URL(string: "https://\(endpointPrefix).\(region).\(partition.dnsSuffix)")!,
                                signingRegion: signingRegion, source: "default")
    }

    /// A configured endpoint URL for the service and where it was set, or nil.
    func configuredEndpoint(serviceID: String) -> (String, String)? {
        let ignore = environment.bool("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            ?? profile["ignore_configured_endpoint_urls"].map { $0.lowercased() == "true" } ?? false
        if ignore { return nil }
        let serviceVariable = AWSService.endpointVariable(serviceID: serviceID)
        if let value = environment[serviceVariable] { return (value, serviceVariable) }
        if let value = environment["AWS_ENDPOINT_URL"] { return (value, "AWS_ENDPOINT_URL") }
        if let servicesName = profile["services"],
           let value = files.servicesSection(servicesName)?.subsections[AWSService.configKey(serviceID: serviceID)]?["endpoint_url"],
           !value.isEmpty {
            return (value, "[services \(servicesName)] \(AWSService.configKey(serviceID: serviceID)) endpoint_url (profile \(profileName))")
        }
        if let value = profile["endpoint_url"] { return (value, "endpoint_url (profile \(profileName))") }
        return nil
    }

    static func endpointURL(_ value: String, source: String) throws -> URL {
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty else {
            throw AWSConfigError.invalidEndpoint(value, source: source)
        }
        return url
    }

    /// Regions whose STS calls went to `sts.amazonaws.com` before regional endpoints became the default.
    static let legacyGlobalSTSRegions: Set<String> = [
        "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1",
        "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    ]

    func stsUsesLegacyGlobalEndpoint(region: String) throws -> Bool {
        guard let (value, source) = setting(variable: "AWS_STS_REGIONAL_ENDPOINTS", key: "sts_regional_endpoints") else { return false }
        switch value.lowercased() {
        case "regional": return false
        case "legacy": return Self.legacyGlobalSTSRegions.contains(region)
        default: throw AWSConfigError.invalidSetting("sts_regional_endpoints", value: value, source: source, expected: "regional or legacy")
        }
    }

    // MARK: Retries and TLS

    public enum RetryMode: String, Sendable, CaseIterable {
        case standard, legacy, adaptive
    }

    /// `AWS_MAX_ATTEMPTS`, else the profile's `max_attempts`, else 3. Counts the first try.
    public func maxAttempts() throws -> Int {
        guard let (value, source) = setting(variable: "AWS_MAX_ATTEMPTS", key: "max_attempts") else { return 3 }
        guard let n = Int(value.trimmingCharacters(in: .whitespaces)), n >= 1 else {
            throw AWSConfigError.invalidSetting("max_attempts", value: value, source: source, expected: "a whole number of at least 1")
        }
        return n
    }

    /// `AWS_RETRY_MODE`, else the profile's `retry_mode`, else `standard`.
    public func retryMode() throws -> RetryMode {
        guard let (value, source) = setting(variable: "AWS_RETRY_MODE", key: "retry_mode") else { return .standard }
        guard let mode = RetryMode(rawValue: value.lowercased()) else {
            throw AWSConfigError.invalidSetting("retry_mode", value: value, source: source, expected: "standard, legacy or adaptive")
        }
        return mode
    }

    /// `AWS_CA_BUNDLE`, else the profile's `ca_bundle`, with `~` expanded; nil for the system store.
    public var caBundle: String? {
        setting(variable: "AWS_CA_BUNDLE", key: "ca_bundle").map { environment.expandingTilde($0.0) }
    }

    /// An environment variable, else a key of the selected profile, with its source for messages.
    func setting(variable: String, key: String) -> (String, String)? {
        if let value = environment[variable] { return (value, variable) }
        if let value = profile[key], !value.isEmpty { return (value, "\(key) in profile \(profileName)") }
        return nil
    }
}
