import Foundation

/// STS operations the credential chain needs (AssumeRole for `role_arn` + `source_profile`,
/// AssumeRoleWithWebIdentity for `AWS_WEB_IDENTITY_TOKEN_FILE`). The STS client implements it;
/// the chain is tested with a fake.
public protocol RoleAssuming: Sendable {
    func assumeRole(using source: AWSCredentials, roleArn: String, sessionName: String, externalId: String?,
                    durationSeconds: Int?, region: String) async throws -> AWSCredentials
    func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, webIdentityToken: String,
                                   durationSeconds: Int?, region: String) async throws -> AWSCredentials
}
