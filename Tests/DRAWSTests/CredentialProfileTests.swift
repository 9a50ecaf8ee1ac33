@testable import DRAWS
import DRCore
import XCTest

final class CredentialProfileTests: XCTestCase {
    private func resolve(_ home: TempHome, profile: String, env: [String: String] = [:],
                         sts: FakeRoleAssumer? = FakeRoleAssumer(), region: String = "eu-west-1") async throws -> AWSCredentials {
        let configuration = try AWSConfiguration(environment: home.environment(env), profile: profile)
        let services = CredentialServices.test(roleAssumer: sts)
        return try await StandardCredentialChain(configuration: configuration, services: services, region: region).credentials()
    }

    private func failure(_ home: TempHome, profile: String, env: [String: String] = [:], sts: FakeRoleAssumer? = FakeRoleAssumer(),
                         file: StaticString = #filePath, line: UInt = #line) async -> NoCredentialsError? {
        do {
            _ = try await resolve(home, profile: profile, env: env, sts: sts)
            XCTFail("expected an error", file: file, line: line)
        } catch let error as NoCredentialsError {
            return error
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
        return nil
    }

    func testRoleChainThroughSourceProfiles() async throws {
        let home = try TempHome()
        try home.config("""
        [profile admin]
        role_arn = arn:aws:iam::111111111111:role/admin
        source_profile = hop
        role_session_name = dr-admin
        external_id = ext-123
        duration_seconds = 1800
        [profile hop]
        role_arn = arn:aws:iam::222222222222:role/hop
        source_profile = base
        """)
        try home.credentials("[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n")
        let sts = FakeRoleAssumer()
        let credentials = try await resolve(home, profile: "admin", sts: sts)
        XCTAssertEqual(credentials.accessKeyId, "ASIAASSUMED2")
        XCTAssertEqual(sts.calls, [
            .init(operation: "AssumeRole", roleArn: "arn:aws:iam::222222222222:role/hop", sessionName: "dr-session-1700000000",
                  sourceAccessKeyId: "AKIABASE", region: "eu-west-1"),
            .init(operation: "AssumeRole", roleArn: "arn:aws:iam::111111111111:role/admin", sessionName: "dr-admin",
                  sourceAccessKeyId: "ASIAASSUMED1", externalId: "ext-123", durationSeconds: 1800, region: "eu-west-1"),
        ])
    }

    func testSourceProfileWithStaticKeysUsesThemEvenWithItsOwnRole() async throws {
        let home = try TempHome()
        try home.config("""
        [profile app]
        role_arn = arn:aws:iam::1:role/app
        source_profile = base
        [profile base]
        role_arn = arn:aws:iam::1:role/never-assumed
        source_profile = base
        aws_access_key_id = AKIABASE
        aws_secret_access_key = base-secret
        """)
        let sts = FakeRoleAssumer()
        _ = try await resolve(home, profile: "app", sts: sts)
        XCTAssertEqual(sts.calls.map(\.roleArn), ["arn:aws:iam::1:role/app"])
        XCTAssertEqual(sts.calls.first?.sourceAccessKeyId, "AKIABASE")

        // A profile may name itself as source when it has keys (self-reference is not a cycle).
        let selfSts = FakeRoleAssumer()
        _ = try await resolve(home, profile: "base", sts: selfSts)
        XCTAssertEqual(selfSts.calls.map(\.roleArn), ["arn:aws:iam::1:role/never-assumed"])
        XCTAssertEqual(selfSts.calls.first?.sourceAccessKeyId, "AKIABASE")
    }

    func testSourceProfileCycleIsRefused() async throws {
        let home = try TempHome()
        try home.config("""
        [profile a]
        role_arn = arn:aws:iam::1:role/a
        source_profile = b
        [profile b]
        role_arn = arn:aws:iam::1:role/b
        source_profile = c
        [profile c]
        role_arn = arn:aws:iam::1:role/c
        source_profile = a
        [profile selfish]
        role_arn = arn:aws:iam::1:role/s
        source_profile = selfish
        """)
        let sts = FakeRoleAssumer()
        let error = await failure(home, profile: "a", sts: sts)
        XCTAssertEqual(error?.failedSource?.reason, "in profile 'c': source_profile forms a cycle: a -> b -> c -> a")
        let selfish = await failure(home, profile: "selfish", sts: sts)
        XCTAssertEqual(selfish?.failedSource?.reason, "source_profile forms a cycle: selfish -> selfish")
        XCTAssertEqual(sts.calls, [], "nothing is assumed when the chain is broken")
    }

    func testBrokenRoleProfiles() async throws {
        let home = try TempHome()
        try home.config("""
        [profile both]
        role_arn = arn:aws:iam::1:role/x
        source_profile = base
        credential_source = Environment
        [profile neither]
        role_arn = arn:aws:iam::1:role/x
        [profile missing-source]
        role_arn = arn:aws:iam::1:role/x
        source_profile = ghost
        [profile bad-source]
        role_arn = arn:aws:iam::1:role/x
        credential_source = Laptop
        [profile empty-source]
        role_arn = arn:aws:iam::1:role/x
        source_profile = empty
        [profile empty]
        region = us-east-1
        [profile sso]
        sso_session = corp
        sso_account_id = 1
        [profile half]
        aws_access_key_id = AKIAHALF
        """)
        let cases = [
            ("both", "role_arn has both source_profile and credential_source; keep one"),
            ("neither", "role_arn needs source_profile, credential_source or web_identity_token_file"),
            ("missing-source", "source_profile 'ghost' is not defined in \(home.path)/.aws/config or \(home.path)/.aws/credentials"),
            ("bad-source", "credential_source 'Laptop' is not one of Environment, EcsContainer, Ec2InstanceMetadata"),
            ("empty-source", "in profile 'empty': the source profile 'empty' has no credentials (no keys, role_arn or credential_process)"),
            ("half", "aws_access_key_id is set but aws_secret_access_key is not"),
        ]
        for (profile, reason) in cases {
            let error = await failure(home, profile: profile)
            XCTAssertEqual(error?.failedSource?.source, "profile \(profile)")
            XCTAssertEqual(error?.failedSource?.reason, reason, profile)
        }
        let sso = await failure(home, profile: "sso")
        XCTAssertTrue(sso?.failedSource?.reason.contains("SSO") == true)
        // A profile without credentials is "not configured": the search goes on.
        let empty = await failure(home, profile: "empty")
        XCTAssertEqual(empty?.attempts.first?.kind, .notConfigured)
        XCTAssertEqual(empty?.attempts.map(\.source).first, "profile empty")
    }

    func testSTSSettingsAreCheckedAsTheModelsSayBeforeAnyCall() async throws {
        let home = try TempHome()
        try home.config("""
        [profile long]
        role_arn = arn:aws:iam::111111111111:role/x
        source_profile = base
        duration_seconds = 50000
        [profile short]
        role_arn = arn:aws:iam::111111111111:role/x
        source_profile = base
        duration_seconds = 600
        [profile spaced]
        role_arn = arn:aws:iam::111111111111:role/x
        source_profile = base
        role_session_name = on call/ops
        [profile one]
        role_arn = arn:aws:iam::111111111111:role/x
        source_profile = base
        role_session_name = x
        [profile external]
        role_arn = arn:aws:iam::111111111111:role/x
        source_profile = base
        external_id = a b
        [profile fine]
        role_arn = arn:aws:iam::111111111111:role/x
        source_profile = base
        role_session_name = dr+ops=1,a.b@c-d_e
        duration_seconds = 43200
        """)
        try home.credentials("[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n")
        let cases = [
            ("long", "duration_seconds must be 900 to 43200 seconds (it is 50000)"),
            ("short", "duration_seconds must be 900 to 43200 seconds (it is 600)"),
            ("spaced", "role_session_name = 'on call/ops' may hold only letters, digits and _+=,.@-"),
            ("one", "role_session_name = 'x' must be 2 to 64 characters long (it has 1)"),
            ("external", "external_id may hold only letters, digits and _+=,.@:/-"),
        ]
        for (profile, reason) in cases {
            let sts = FakeRoleAssumer()
            let error = await failure(home, profile: profile, sts: sts)
            XCTAssertEqual(error?.failedSource?.source, "profile \(profile)", profile)
            XCTAssertEqual(error?.failedSource?.reason, reason, profile)
            XCTAssertEqual(error?.drError.category, .badInput)
            XCTAssertEqual(sts.calls.count, 0, "nothing is sent to STS: \(profile)")
        }
        let sts = FakeRoleAssumer()
        _ = try await resolve(home, profile: "fine", sts: sts)
        XCTAssertEqual(sts.calls.first?.durationSeconds, 43200)
        XCTAssertEqual(sts.calls.first?.sessionName, "dr+ops=1,a.b@c-d_e")

        let token = try home.write("token", "header.payload.signature")
        let web = try await failureOfChain(home, ["AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": "arn:aws:iam::1:role/pod",
                                                  "AWS_ROLE_SESSION_NAME": "pod name"])
        XCTAssertEqual(web?.failedSource?.reason, "AWS_ROLE_SESSION_NAME = 'pod name' may hold only letters, digits and _+=,.@-")
        XCTAssertEqual(STSInputRules.problem(sessionName: String(repeating: "a", count: 65)), "must be 2 to 64 characters long (it has 65)")
        XCTAssertNil(STSInputRules.problem(sessionName: "dr-session-1700000000"))
        XCTAssertEqual(STSInputRules.problem(roleArn: "arn:x"), "must be 20 to 2048 characters long (it has 5)")
    }

    func testCredentialSourceEnvironment() async throws {
        let home = try TempHome()
        try home.config("[profile ci]\nrole_arn = arn:aws:iam::1:role/ci\ncredential_source = Environment\n")
        let sts = FakeRoleAssumer()
        let creds = try await resolve(home, profile: "ci", env: ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret"], sts: sts)
        XCTAssertEqual(creds.accessKeyId, "ASIAASSUMED1")
        XCTAssertEqual(sts.calls.first?.sourceAccessKeyId, "AKIAENV")
        // With the variables unset, the configured profile is broken.
        let error = await failure(home, profile: "ci")
        XCTAssertEqual(error?.failedSource?.reason,
                       "assume-role arn:aws:iam::1:role/ci (profile ci): its source environment gave no credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
    }

    func testRoleWithoutSTSClientFailsClearly() async throws {
        let home = try TempHome()
        try home.config("[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = k\n[profile k]\naws_access_key_id = A\naws_secret_access_key = s\n")
        let error = await failure(home, profile: "r", sts: nil)
        XCTAssertTrue(error?.failedSource?.reason.contains("needs an STS client") == true, "\(String(describing: error))")
    }

    func testSTSRefusalIsReportedWithoutSecrets() async throws {
        let home = try TempHome()
        try home.config("[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = k\n[profile k]\naws_access_key_id = AKIAK\naws_secret_access_key = k-very-secret\n")
        let sts = FakeRoleAssumer()
        sts.refuse = "STS AssumeRole: AccessDenied (HTTP 403): not authorized"
        let error = await failure(home, profile: "r", sts: sts)
        XCTAssertEqual(error?.failedSource?.reason,
                       "assume-role arn:aws:iam::1:role/r (profile r): AssumeRole for arn:aws:iam::1:role/r failed: STS AssumeRole: AccessDenied (HTTP 403): not authorized")
        assertNoSecrets(error?.description ?? "", ["k-very-secret"])
    }

    func testWebIdentityFromEnvironmentAndProfile() async throws {
        let home = try TempHome()
        let tokenFile = try home.write("token", "eyJ-web-identity-token\n")
        let sts = FakeRoleAssumer()
        let env = ["AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::1:role/pod", "AWS_ROLE_SESSION_NAME": "pod-session"]
        let configuration = try AWSConfiguration(environment: home.environment(env))
        let chain = StandardCredentialChain(configuration: configuration, services: .test(roleAssumer: sts), region: "us-west-2")
        let creds = try await chain.credentials()
        XCTAssertEqual(creds.accessKeyId, "ASIAASSUMED1")
        XCTAssertEqual(sts.calls, [.init(operation: "AssumeRoleWithWebIdentity", roleArn: "arn:aws:iam::1:role/pod", sessionName: "pod-session",
                                         webIdentityToken: "eyJ-web-identity-token", region: "us-west-2")])
        let source = await chain.source()
        XCTAssertEqual(source, "web-identity (AWS_WEB_IDENTITY_TOKEN_FILE)")

        try home.config("[profile web]\nrole_arn = arn:aws:iam::1:role/web\nweb_identity_token_file = ~/token\n")
        let profileSts = FakeRoleAssumer()
        _ = try await resolve(home, profile: "web", sts: profileSts)
        XCTAssertEqual(profileSts.calls.first?.webIdentityToken, "eyJ-web-identity-token")
        XCTAssertEqual(profileSts.calls.first?.roleArn, "arn:aws:iam::1:role/web")

        // Half-configured or unreadable web identity is a broken source, and the token never shows.
        let noRole = try await failureOfChain(home, ["AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile])
        XCTAssertEqual(noRole?.failedSource?.reason, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
        let missing = try await failureOfChain(home, ["AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/pod"])
        XCTAssertEqual(missing?.failedSource?.reason, "cannot read the web identity token file /nonexistent/token")
        let refusing = FakeRoleAssumer()
        refusing.refuse = "InvalidIdentityToken"
        let refused = try await failureOfChain(home, env, sts: refusing)
        assertNoSecrets(refused?.description ?? "", ["eyJ-web-identity-token"])
        XCTAssertTrue(refused?.description.contains("AssumeRoleWithWebIdentity for arn:aws:iam::1:role/pod failed: InvalidIdentityToken") == true)
    }

    private func failureOfChain(_ home: TempHome, _ env: [String: String], sts: FakeRoleAssumer = FakeRoleAssumer()) async throws -> NoCredentialsError? {
        let configuration = try AWSConfiguration(environment: home.environment(env))
        do {
            _ = try await StandardCredentialChain(configuration: configuration, services: .test(roleAssumer: sts)).credentials()
            XCTFail("expected an error")
        } catch let error as NoCredentialsError {
            return error
        }
        return nil
    }

    func testStaticKeysWinOverCredentialProcessInAProfile() async throws {
        let home = try TempHome()
        try home.config("[profile p]\ncredential_process = /bin/false\n")
        try home.credentials("[p]\naws_access_key_id = AKIAP\naws_secret_access_key = p-secret\n")
        let creds = try await resolve(home, profile: "p")
        XCTAssertEqual(creds.accessKeyId, "AKIAP")
    }
}
