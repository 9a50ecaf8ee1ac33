import DRCore
import Foundation

/// STS AssumeRole with credentials from another provider: a profile's `role_arn` with
/// `source_profile` or `credential_source`.
public struct AssumeRoleCredentialProvider: AWSCredentialProvider {
    public struct Settings: Sendable, Equatable {
        public var roleArn: String
        public var sessionName: String?
        public var externalId: String?
        public var durationSeconds: Int?
        public init(roleArn: String, sessionName: String? = nil, externalId: String? = nil, durationSeconds: Int? = nil) {
            self.roleArn = roleArn
            self.sessionName = sessionName
            self.externalId = externalId
            self.durationSeconds = durationSeconds
        }
    }

    public let name: String
    public let source: any AWSCredentialProvider
    public let settings: Settings
    let stsRegion: String
    let roleAssumer: (any RoleAssuming)?
    let clock: any DRClock

    public init(name: String, source: any AWSCredentialProvider, settings: Settings, stsRegion: String,
                roleAssumer: (any RoleAssuming)?, clock: any DRClock) {
        self.name = name
        self.source = source
        self.settings = settings
        self.stsRegion = stsRegion
        self.roleAssumer = roleAssumer
        self.clock = clock
    }

    public func credentials() async throws -> AWSCredentials {
        guard let roleAssumer else { throw CredentialProviderError.failed(name, Self.noSTSReason) }
        let sourceCredentials: AWSCredentials
        do {
            sourceCredentials = try await source.credentials()
        } catch let error as CredentialProviderError {
            throw CredentialProviderError.failed(name, "its source \(error.source) gave no credentials: \(error.reason)")
        }
        do {
            return try await roleAssumer.assumeRole(
                using: sourceCredentials, roleArn: settings.roleArn, sessionName: settings.sessionName ?? Self.defaultSessionName(clock),
                externalId: settings.externalId, durationSeconds: settings.durationSeconds, region: stsRegion)
        } catch {
            throw CredentialProviderError.failed(name, "AssumeRole for \(settings.roleArn) failed: \(error)")
        }
    }

    static let noSTSReason = "assuming a role needs an STS client, and this chain was built without one"

    /// `dr-session-<unix seconds>`, like the SDKs' `botocore-session-<time>`.
    static func defaultSessionName(_ clock: any DRClock) -> String {
        "dr-session-\(Int(clock.now().timeIntervalSince1970))"
    }
}
