@testable import DRAWS
import DRCore
import XCTest

/// Secrets never reach descriptions or error text.
final class CredentialSecretsTests: XCTestCase {
    func testCredentialsDescriptionHidesSecrets() {
        let creds = AWSCredentials(accessKeyId: "AKIAVISIBLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG", sessionToken: "FwoGZXIvYXdzEJr")
        for text in [creds.description, creds.debugDescription, "\(creds)", String(reflecting: creds)] {
            XCTAssertTrue(text.contains("AKIAVISIBLE"))
            assertNoSecrets(text, ["wJalrXUtnFEMI/K7MDENG", "FwoGZXIvYXdzEJr"])
        }
    }

    func testErrorsFromEveryBrokenSourceHoldNoSecrets() async throws {
        let home = try TempHome()
        let secrets = ["env-secret-value", "profile-secret-value", "session-token-value", "web-token-value"]
        let tokenFile = try home.write("token", "web-token-value")
        try home.config("""
        [profile half-env]
        role_arn = arn:aws:iam::1:role/x
        credential_source = Environment
        [profile k]
        aws_access_key_id = AKIAK
        aws_secret_access_key = profile-secret-value
        aws_session_token = session-token-value
        [profile r]
        role_arn = arn:aws:iam::1:role/r
        source_profile = k
        """)
        let refusing = FakeRoleAssumer()
        refusing.refuse = "AccessDenied"
        let scenarios: [([String: String], String?)] = [
            (["AWS_SECRET_ACCESS_KEY": "env-secret-value"], nil),
            (["AWS_SECRET_ACCESS_KEY": "env-secret-value", "AWS_SESSION_TOKEN": "session-token-value"], "half-env"),
            (["AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::1:role/w"], nil),
            ([:], "r"),
        ]
        for (env, profile) in scenarios {
            let configuration = try AWSConfiguration(environment: home.environment(env), profile: profile)
            do {
                _ = try await StandardCredentialChain(configuration: configuration, services: .test(roleAssumer: refusing)).credentials()
                XCTFail("expected an error for \(env) \(profile ?? "")")
            } catch let error as NoCredentialsError {
                assertNoSecrets(error.description, secrets)
                assertNoSecrets(error.drError.message, secrets)
                assertNoSecrets(String(reflecting: error), secrets)
            }
        }
    }
}
