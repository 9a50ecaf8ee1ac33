import DRCore
import Foundation

/// Credentials from the selected profile of the shared config and credentials files.
///
/// Inside the profile, first match wins (the AWS CLI's order):
/// 1. `role_arn` with `source_profile` (followed through further profiles, cycles refused),
///    `credential_source` (`Environment`, `EcsContainer`, `Ec2InstanceMetadata`) or
///    `web_identity_token_file`;
/// 2. `aws_access_key_id` + `aws_secret_access_key` (+ `aws_session_token`);
/// 3. `credential_process`.
/// A source profile with its own static keys uses them directly, even when it also has a
/// `role_arn` (so `source_profile` may name its own profile).
public struct ProfileCredentialProvider: AWSCredentialProvider {
    public let name: String
    let configuration: AWSConfiguration
    let services: CredentialServices
    let stsRegion: String

    public init(configuration: AWSConfiguration, services: CredentialServices, stsRegion: String) {
        self.name = "profile \(configuration.profileName)"
        self.configuration = configuration
        self.services = services
        self.stsRegion = stsRegion
    }

    public func credentials() async throws -> AWSCredentials {
        let provider = try resolve()
        do {
            return try await provider.credentials()
        } catch let error as CredentialProviderError {
            throw CredentialProviderError.failed(name, error.source == name ? error.reason : "\(error.source): \(error.reason)")
        }
    }

    /// The provider the profile's settings describe (no I/O beyond the files already read).
    public func resolve() throws -> any AWSCredentialProvider {
        let profileName = configuration.profileName
        guard let section = configuration.files.profile(profileName) else {
            throw CredentialProviderError.notConfigured(name, "no profile '\(profileName)' in \(configuration.files.configFilePath) or \(configuration.files.credentialsFilePath)")
        }
        return try provider(profile: profileName, section: section, chain: [], isSource: false)
    }

    private func provider(profile: String, section: ConfigSection, chain: [String], isSource: Bool) throws -> any AWSCredentialProvider {
        if isSource, Self.hasStaticKeys(section) {
            return try staticKeys(profile: profile, section: section)
        }
        if let roleArn = section["role_arn"] {
            return try roleProvider(roleArn: roleArn, profile: profile, section: section, chain: chain)
        }
        if section["web_identity_token_file"] != nil {
            throw failure(profile, "web_identity_token_file needs role_arn in the same profile")
        }
        if Self.hasStaticKeys(section) {
            return try staticKeys(profile: profile, section: section)
        }
        if let command = section["credential_process"] {
            return ProcessCredentialProvider(command: command, profile: profile, runner: services.processRunner,
                                             environment: configuration.environment.variables, clock: services.clock)
        }
        if section["sso_session"] != nil || section["sso_start_url"] != nil || section["sso_account_id"] != nil {
            throw failure(profile, "IAM Identity Center (SSO) profiles are not supported by dr; use credential_process with "
                + "'aws configure export-credentials --profile \(profile) --format process'")
        }
        if isSource {
            throw failure(profile, "the source profile '\(profile)' has no credentials (no keys, role_arn or credential_process)")
        }
        throw CredentialProviderError.notConfigured(name, "the profile has no credentials (no aws_access_key_id, role_arn or credential_process)")
    }

    private func roleProvider(roleArn: String, profile: String, section: ConfigSection, chain: [String]) throws -> any AWSCredentialProvider {
        var durationSeconds: Int?
        if let text = section["duration_seconds"] {
            guard let seconds = Int(text) else {
                throw failure(profile, "duration_seconds = '\(text)' must be a whole number of seconds, \(STSInputRules.durations.lowerBound) to \(STSInputRules.durations.upperBound)")
            }
            if let problem = STSInputRules.problem(durationSeconds: seconds) { throw failure(profile, "duration_seconds \(problem)") }
            durationSeconds = seconds
        }
        // The values STS would refuse, refused here with the profile and key named (as the SDKs'
        // parameter validation does), before any credential is looked for.
        if let problem = STSInputRules.problem(roleArn: roleArn) { throw failure(profile, "role_arn \(problem)") }
        if let name = section["role_session_name"], let problem = STSInputRules.problem(sessionName: name) {
            throw failure(profile, "role_session_name = '\(name)' \(problem)")
        }
        if let id = section["external_id"], let problem = STSInputRules.problem(externalId: id) {
            throw failure(profile, "external_id \(problem)")
        }
        let settings = AssumeRoleCredentialProvider.Settings(roleArn: roleArn, sessionName: section["role_session_name"],
                                                             externalId: section["external_id"], durationSeconds: durationSeconds)
        let sourceProfile = section["source_profile"], credentialSource = section["credential_source"]
        let name = "assume-role \(roleArn) (profile \(profile))"
        let source: any AWSCredentialProvider
        switch (sourceProfile, credentialSource) {
        case (_?, _?):
            throw failure(profile, "role_arn has both source_profile and credential_source; keep one")
        case let (sourceName?, nil):
            source = try self.sourceProfile(sourceName, of: profile, section: section, chain: chain)
        case let (nil, credentialSource?):
            source = try self.credentialSource(credentialSource, profile: profile)
        case (nil, nil):
            guard let tokenFile = section["web_identity_token_file"] else {
                throw failure(profile, "role_arn needs source_profile, credential_source or web_identity_token_file")
            }
            let web = WebIdentityCredentialProvider.Settings(tokenFile: configuration.environment.expandingTilde(tokenFile), roleArn: roleArn,
                                                             sessionName: section["role_session_name"], durationSeconds: durationSeconds)
            return WebIdentityCredentialProvider(name: "web-identity \(roleArn) (profile \(profile))", settings: web,
                                                 stsRegion: stsRegion, roleAssumer: services.roleAssumer, clock: services.clock)
        }
        return AssumeRoleCredentialProvider(name: name, source: source, settings: settings, stsRegion: stsRegion,
                                            roleAssumer: services.roleAssumer, clock: services.clock)
    }

    private func sourceProfile(_ sourceName: String, of profile: String, section: ConfigSection, chain: [String]) throws -> any AWSCredentialProvider {
        if sourceName == profile, Self.hasStaticKeys(section) {
            return try staticKeys(profile: profile, section: section)
        }
        let path = chain + [profile]
        if path.contains(sourceName) {
            throw failure(profile, "source_profile forms a cycle: \((path + [sourceName]).joined(separator: " -> "))")
        }
        guard let sourceSection = configuration.files.profile(sourceName) else {
            throw failure(profile, "source_profile '\(sourceName)' is not defined in \(configuration.files.configFilePath) or \(configuration.files.credentialsFilePath)")
        }
        return try provider(profile: sourceName, section: sourceSection, chain: path, isSource: true)
    }

    private func credentialSource(_ value: String, profile: String) throws -> any AWSCredentialProvider {
        let environment = configuration.environment
        switch value {
        case "Environment": return EnvironmentCredentialProvider(environment: environment)
        case "EcsContainer": return ContainerCredentialProvider(environment: environment, transport: services.transport)
        case "Ec2InstanceMetadata": return InstanceMetadataCredentialProvider(environment: environment, transport: services.transport)
        default:
            throw failure(profile, "credential_source '\(value)' is not one of Environment, EcsContainer, Ec2InstanceMetadata")
        }
    }

    private func staticKeys(profile: String, section: ConfigSection) throws -> any AWSCredentialProvider {
        switch (section["aws_access_key_id"], section["aws_secret_access_key"]) {
        case let (keyId?, secret?):
            return ProfileKeysProvider(name: "keys (profile \(profile))",
                                       keys: AWSCredentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: section["aws_session_token"]))
        case (_?, nil): throw failure(profile, "aws_access_key_id is set but aws_secret_access_key is not")
        default: throw failure(profile, "aws_secret_access_key is set but aws_access_key_id is not")
        }
    }

    private func failure(_ profile: String, _ reason: String) -> CredentialProviderError {
        .failed(name, profile == configuration.profileName ? reason : "in profile '\(profile)': \(reason)")
    }

    static func hasStaticKeys(_ section: ConfigSection) -> Bool {
        section["aws_access_key_id"] != nil || section["aws_secret_access_key"] != nil
    }
}

/// The keys written in a profile. (Not a general static provider: that is `StaticCredentialProvider`.)
struct ProfileKeysProvider: AWSCredentialProvider {
    let name: String
    let keys: AWSCredentials
    func credentials() async throws -> AWSCredentials { keys }
}
