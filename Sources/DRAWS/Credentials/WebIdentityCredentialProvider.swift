import DRCore
import Foundation

/// AssumeRoleWithWebIdentity with a token read from a file (re-read on every refresh: the
/// platform rotates it). Configured by `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`
/// (+ `AWS_ROLE_SESSION_NAME`), or by a profile's `web_identity_token_file` + `role_arn`.
public struct WebIdentityCredentialProvider: AWSCredentialProvider {
    public struct Settings: Sendable, Equatable {
        public var tokenFile: String
        public var roleArn: String
        public var sessionName: String?
        public var durationSeconds: Int?
        public init(tokenFile: String, roleArn: String, sessionName: String? = nil, durationSeconds: Int? = nil) {
            self.tokenFile = tokenFile
            self.roleArn = roleArn
            self.sessionName = sessionName
            self.durationSeconds = durationSeconds
        }
    }

    public let name: String
    /// nil when the environment does not configure web identity (the provider then reports
    /// "not configured"), or an error reason when it is half configured.
    let settings: Result<Settings, CredentialProviderError>
    let stsRegion: String
    let roleAssumer: (any RoleAssuming)?
    let clock: any DRClock

    public init(name: String, settings: Settings, stsRegion: String, roleAssumer: (any RoleAssuming)?, clock: any DRClock) {
        self.name = name
        self.settings = .success(settings)
        self.stsRegion = stsRegion
        self.roleAssumer = roleAssumer
        self.clock = clock
    }

    /// Web identity from `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`.
    public init(environment: AWSEnvironment, stsRegion: String, roleAssumer: (any RoleAssuming)?, clock: any DRClock) {
        name = "web-identity (AWS_WEB_IDENTITY_TOKEN_FILE)"
        self.stsRegion = stsRegion
        self.roleAssumer = roleAssumer
        self.clock = clock
        switch (environment["AWS_WEB_IDENTITY_TOKEN_FILE"], environment["AWS_ROLE_ARN"]) {
        case (nil, _):
            settings = .failure(.notConfigured(name, "AWS_WEB_IDENTITY_TOKEN_FILE is not set"))
        case (_?, nil):
            settings = .failure(.failed(name, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not"))
        case let (file?, role?):
            if let problem = STSInputRules.problem(roleArn: role) {
                settings = .failure(.failed(name, "AWS_ROLE_ARN \(problem)"))
            } else if let session = environment["AWS_ROLE_SESSION_NAME"], let problem = STSInputRules.problem(sessionName: session) {
                settings = .failure(.failed(name, "AWS_ROLE_SESSION_NAME = '\(session)' \(problem)"))
            } else {
                settings = .success(Settings(tokenFile: environment.expandingTilde(file), roleArn: role,
                                             sessionName: environment["AWS_ROLE_SESSION_NAME"]))
            }
        }
    }

    public func credentials() async throws -> AWSCredentials {
        let settings = try self.settings.get()
        guard let data = FileManager.default.contents(atPath: settings.tokenFile) else {
            throw CredentialProviderError.failed(name, "cannot read the web identity token file \(settings.tokenFile)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw CredentialProviderError.failed(name, "the web identity token file \(settings.tokenFile) is empty")
        }
        guard let roleAssumer else {
            throw CredentialProviderError.failed(name, AssumeRoleCredentialProvider.noSTSReason)
        }
        do {
            return try await roleAssumer.assumeRoleWithWebIdentity(
                roleArn: settings.roleArn, sessionName: settings.sessionName ?? AssumeRoleCredentialProvider.defaultSessionName(clock),
                webIdentityToken: token, durationSeconds: settings.durationSeconds, region: stsRegion)
        } catch {
            throw CredentialProviderError.failed(name, "AssumeRoleWithWebIdentity for \(settings.roleArn) failed: \(error)")
        }
    }
}
