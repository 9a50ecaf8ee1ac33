@testable import DRAWS
import DRCore
import XCTest

final class CredentialChainTests: XCTestCase {
    private func chain(_ home: TempHome, _ env: [String: String], profile: String? = nil,
                       services: CredentialServices = .test()) throws -> StandardCredentialChain {
        StandardCredentialChain(configuration: try AWSConfiguration(environment: home.environment(env), profile: profile), services: services)
    }

    func testEnvironmentWinsOverProfile() async throws {
        let home = try TempHome()
        try home.credentials("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = file-secret\n")
        let chain = try chain(home, ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token"])
        let credentials = try await chain.credentials()
        XCTAssertEqual(credentials, AWSCredentials(accessKeyId: "AKIAENV", secretAccessKey: "env-secret", sessionToken: "env-token"))
        let source = await chain.source()
        XCTAssertEqual(source, "environment")
    }

    func testProfileUsedWhenEnvironmentIsEmpty() async throws {
        let home = try TempHome()
        try home.credentials("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = file-secret\naws_session_token = file-token\n")
        let chain = try chain(home, ["AWS_ACCESS_KEY_ID": ""])
        let credentials = try await chain.credentials()
        XCTAssertEqual(credentials.accessKeyId, "AKIAFILE")
        XCTAssertEqual(credentials.sessionToken, "file-token")
        let source = await chain.source()
        XCTAssertEqual(source, "profile default")
    }

    func testAWSProfileKeepsEnvironmentFirstButExplicitProfileSkipsIt() async throws {
        let home = try TempHome()
        try home.credentials("[prod]\naws_access_key_id = AKIAPROD\naws_secret_access_key = prod-secret\n")
        let env = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_PROFILE": "prod"]
        let viaVariable = try await chain(home, env).credentials()
        XCTAssertEqual(viaVariable.accessKeyId, "AKIAENV")
        let explicit = try await chain(home, env, profile: "prod").credentials()
        XCTAssertEqual(explicit.accessKeyId, "AKIAPROD")
    }

    func testPartialEnvironmentIsBrokenAndStopsTheSearch() async throws {
        let home = try TempHome()
        try home.credentials("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = file-secret\n")
        do {
            _ = try await chain(home, ["AWS_ACCESS_KEY_ID": "AKIAENV"]).credentials()
            XCTFail("expected an error")
        } catch let error as NoCredentialsError {
            XCTAssertEqual(error.attempts.count, 1)
            XCTAssertEqual(error.failedSource?.source, "environment")
            XCTAssertTrue(error.description.hasPrefix("AWS credentials from environment failed: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"), error.description)
        }
    }

    func testNothingFoundListsEverySourceTried() async throws {
        let home = try TempHome()
        let server = try MetadataServer()
        // Instance metadata pointed at a port where nothing listens: fails fast.
        server.stop()
        let env = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.base]
        let started = Date()
        do {
            _ = try await chain(home, env, services: .test(transport: CurlTransport())).credentials()
            XCTFail("expected an error")
        } catch let error as NoCredentialsError {
            XCTAssertLessThan(Date().timeIntervalSince(started), 5, "an unreachable metadata service must fail fast")
            XCTAssertNil(error.failedSource)
            XCTAssertEqual(error.attempts.map(\.source), ["environment", "web-identity (AWS_WEB_IDENTITY_TOKEN_FILE)", "profile default",
                                                         "container (ECS)", "instance-metadata (EC2 IMDSv2)"])
            let text = error.description
            XCTAssertTrue(text.hasPrefix("No AWS credentials found. Sources tried, in order:\n"), text)
            XCTAssertTrue(text.contains("  - environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set\n"), text)
            XCTAssertTrue(text.contains("  - web-identity (AWS_WEB_IDENTITY_TOKEN_FILE): AWS_WEB_IDENTITY_TOKEN_FILE is not set\n"), text)
            XCTAssertTrue(text.contains("  - profile default: no profile 'default' in \(home.path)/.aws/config or \(home.path)/.aws/credentials\n"), text)
            XCTAssertTrue(text.contains("  - container (ECS): AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set\n"), text)
            XCTAssertTrue(text.contains("  - instance-metadata (EC2 IMDSv2): no answer from \(server.base)/latest/api/token after 2 attempt(s) of 1s"), text)
            XCTAssertEqual(error.drError.category, .badInput)
        }
    }

    func testMetadataDisabledIsReported() async throws {
        let home = try TempHome()
        do {
            _ = try await chain(home, ["AWS_EC2_METADATA_DISABLED": "true"]).credentials()
            XCTFail("expected an error")
        } catch let error as NoCredentialsError {
            XCTAssertEqual(error.attempts.last?.reason, "AWS_EC2_METADATA_DISABLED is true")
        }
    }

    func testChainRemembersTheSourceThatAnswered() async throws {
        let clock = ManualClock()
        let first = CountingProvider(name: "first", clock: clock)
        first.failWith = CredentialProviderError.notConfigured("first", "not here")
        let second = CountingProvider(name: "second", clock: clock, lifetime: 600)
        let third = CountingProvider(name: "third", clock: clock)
        let chain = StandardCredentialChain(providers: [first, second, third], clock: clock)
        let initial = try await chain.credentials()
        XCTAssertEqual(initial.accessKeyId, "AKIASECOND1")
        clock.advance(400) // inside the refresh window
        let refreshed = try await chain.credentials()
        XCTAssertEqual(refreshed.accessKeyId, "AKIASECOND2")
        XCTAssertEqual(first.calls, 1, "the refresh goes straight to the source that answered")
        XCTAssertEqual(third.calls, 0)
        let source = await chain.source()
        XCTAssertEqual(source, "second")
    }

    func testUnknownErrorsFromAProviderStopTheChain() async throws {
        struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }
        let clock = ManualClock()
        let broken = CountingProvider(name: "broken", clock: clock)
        broken.failWith = Boom()
        let later = CountingProvider(name: "later", clock: clock)
        do {
            _ = try await StandardCredentialChain(providers: [broken, later], clock: clock).credentials()
            XCTFail("expected an error")
        } catch let error as NoCredentialsError {
            XCTAssertEqual(error.failedSource, .failed("broken", "boom"))
            XCTAssertEqual(later.calls, 0)
        }
    }

    func testExplicitProfileSkipsEnvironmentWebIdentity() async throws {
        let home = try TempHome()
        let tokenFile = try home.write("token", "web-token")
        try home.credentials("[prod]\naws_access_key_id = AKIAPROD\naws_secret_access_key = prod-secret\n")
        let sts = FakeRoleAssumer()
        let env = ["AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::1:role/pod"]
        let explicit = try chain(home, env, profile: "prod", services: .test(roleAssumer: sts))
        let creds = try await explicit.credentials()
        XCTAssertEqual(creds.accessKeyId, "AKIAPROD")
        XCTAssertEqual(sts.calls, [])
        XCTAssertEqual(explicit.chain.providers.map(\.name), ["profile prod", "container (ECS)", "instance-metadata (EC2 IMDSv2)"])
    }
}
