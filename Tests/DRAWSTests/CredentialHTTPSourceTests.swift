@testable import DRAWS
import DRCore
import XCTest

/// ECS container credentials and EC2 instance metadata against a real HTTP server on 127.0.0.1.
final class CredentialHTTPSourceTests: XCTestCase {
    let transport = CurlTransport()

    func testECSRelativeURI() async throws {
        let server = try MetadataServer(["--ecs-path", "/v2/credentials/task-1"])
        let env = AWSEnvironment(variables: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/task-1"], homeDirectory: "/nonexistent")
        let provider = ContainerCredentialProvider(environment: env, transport: transport, ecsAgentBase: server.base)
        let creds = try await provider.credentials()
        XCTAssertEqual(creds.accessKeyId, "ASIAECSTESTKEY")
        XCTAssertEqual(creds.secretAccessKey, "ecs-secret-access-key")
        XCTAssertEqual(creds.sessionToken, "ecs-session-token")
        XCTAssertNotNil(creds.expiration)
    }

    func testECSFullURIWithAuthorizationTokenThroughTheChain() async throws {
        let server = try MetadataServer(["--ecs-path", "/creds", "--ecs-token", "ecs-auth-token-value"])
        let home = try TempHome()
        let chain = StandardCredentialChain(
            configuration: try AWSConfiguration(environment: home.environment([
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.base + "/creds",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ecs-auth-token-value",
            ])),
            services: .test(transport: transport))
        let creds = try await chain.credentials()
        XCTAssertEqual(creds.accessKeyId, "ASIAECSTESTKEY")
        let source = await chain.source()
        XCTAssertEqual(source, "container (ECS)")
    }

    func testECSTokenFileWinsOverTokenVariable() async throws {
        let server = try MetadataServer(["--ecs-path", "/creds", "--ecs-token", "from-file-token"])
        let home = try TempHome()
        let tokenFile = try home.write("ecs-token", "from-file-token\n")
        let env = home.environment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.base + "/creds",
                                    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "stale-variable-token",
                                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile])
        let creds = try await ContainerCredentialProvider(environment: env, transport: transport).credentials()
        XCTAssertEqual(creds.accessKeyId, "ASIAECSTESTKEY")
    }

    func testECSWrongTokenIsAClearErrorWithoutTheToken() async throws {
        let server = try MetadataServer(["--ecs-path", "/creds", "--ecs-token", "right-token"])
        let home = try TempHome()
        let configuration = try AWSConfiguration(environment: home.environment([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.base + "/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong-token-value",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1",
        ]))
        do {
            _ = try await StandardCredentialChain(configuration: configuration, services: .test(transport: transport)).credentials()
            XCTFail("expected an error")
        } catch let error as NoCredentialsError {
            XCTAssertEqual(error.failedSource?.source, "container (ECS)")
            XCTAssertEqual(error.failedSource?.reason, "\(server.base)/creds answered HTTP 401 (the endpoint refused the authorization token: "
                + "check AWS_CONTAINER_AUTHORIZATION_TOKEN / _TOKEN_FILE)")
            XCTAssertEqual(error.attempts.count, 4, "instance metadata is not tried after a configured source failed")
            assertNoSecrets(error.description, ["wrong-token-value", "right-token"])
        }
    }

    func testECSFullURIHostRules() throws {
        let allowed = ["127.0.0.1", "127.1.2.3", "localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"]
        for host in allowed {
            let env = AWSEnvironment(variables: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://\(host):8080/creds"], homeDirectory: "/")
            XCTAssertNoThrow(try ContainerCredentialProvider(environment: env, transport: transport).endpoint(), host)
        }
        for host in ["10.0.0.5", "169.254.169.254", "example.com", "127.0.0.1.example.com", "128.0.0.1"] {
            let env = AWSEnvironment(variables: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://\(host)/creds"], homeDirectory: "/")
            XCTAssertThrowsError(try ContainerCredentialProvider(environment: env, transport: transport).endpoint(), host) { error in
                XCTAssertTrue("\(error)".contains("is not allowed over http"), "\(error)")
            }
        }
        let https = AWSEnvironment(variables: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example.com/x"], homeDirectory: "/")
        XCTAssertNoThrow(try ContainerCredentialProvider(environment: https, transport: transport).endpoint())
        let relativeWins = AWSEnvironment(variables: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/x",
                                                      "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://example.com/"], homeDirectory: "/")
        XCTAssertEqual(try ContainerCredentialProvider(environment: relativeWins, transport: transport).endpoint().absoluteString,
                       "http://169.254.170.2/v2/x")
    }

    func testIMDSv2TokenThenRoleThenCredentials() async throws {
        let server = try MetadataServer(["--imds-role", "dr-node"])
        let home = try TempHome()
        let chain = StandardCredentialChain(
            configuration: try AWSConfiguration(environment: home.environment(["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.base + "/"])),
            services: .test(transport: transport))
        let creds = try await chain.credentials()
        XCTAssertEqual(creds.accessKeyId, "ASIAIMDSTESTKEY")
        XCTAssertEqual(creds.sessionToken, "imds-session-token")
        let source = await chain.source()
        XCTAssertEqual(source, "instance-metadata (EC2 IMDSv2)")
        let stats = try await server.stats()
        XCTAssertEqual(stats["PUT /latest/api/token"], 1)
        XCTAssertEqual(stats["GET /latest/meta-data/iam/security-credentials/"], 1)
        XCTAssertEqual(stats["GET /latest/meta-data/iam/security-credentials/dr-node"], 1)
    }

    func testIMDSRefusesRequestsWithoutToken() async throws {
        // The stand-in behaves like IMDSv2-only instances: a GET without a token is 401.
        let server = try MetadataServer()
        let response = try await transport.send(HTTPRequest(method: "GET", url: URL(string: server.base + "/latest/meta-data/iam/security-credentials/")!), timeout: 2)
        XCTAssertEqual(response.status, 401)
        let withoutTTL = try await transport.send(HTTPRequest(method: "PUT", url: URL(string: server.base + "/latest/api/token")!), timeout: 2)
        XCTAssertEqual(withoutTTL.status, 400)
    }

    func testIMDSWithoutRoleIsNotConfigured() async throws {
        let server = try MetadataServer(["--imds-role", ""])
        let env = AWSEnvironment(variables: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.base], homeDirectory: "/")
        do {
            _ = try await InstanceMetadataCredentialProvider(environment: env, transport: transport).credentials()
            XCTFail("expected an error")
        } catch let error as CredentialProviderError {
            XCTAssertEqual(error.kind, .notConfigured)
            XCTAssertTrue(error.reason.hasPrefix("the instance has no IAM role"), error.reason)
        }
    }

    func testSilentEndpointTimesOutWithinTheBudget() async throws {
        let server = try MetadataServer(["--ecs-path", "/creds"])
        let env = AWSEnvironment(variables: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.base + "/hang"], homeDirectory: "/")
        let provider = ContainerCredentialProvider(environment: env, transport: transport, timeout: 0.5, attempts: 2)
        let started = Date()
        do {
            _ = try await provider.credentials()
            XCTFail("expected a timeout")
        } catch let error as CredentialProviderError {
            let elapsed = Date().timeIntervalSince(started)
            XCTAssertLessThan(elapsed, 3, "two attempts of 0.5 s")
            XCTAssertGreaterThanOrEqual(elapsed, 0.9)
            XCTAssertTrue(error.reason.hasPrefix("no answer from \(server.base)/hang after 2 attempt(s) of 0.5s (timedOut"), error.reason)
        }
        let stats = try await server.stats()
        XCTAssertEqual(stats["GET /hang"], 2)
    }

    func testCredentialSourceEcsContainerForARole() async throws {
        let server = try MetadataServer(["--ecs-path", "/creds"])
        let home = try TempHome()
        try home.config("[profile task-admin]\nrole_arn = arn:aws:iam::1:role/admin\ncredential_source = EcsContainer\n")
        let sts = FakeRoleAssumer()
        let configuration = try AWSConfiguration(environment: home.environment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.base + "/creds"]),
                                                 profile: "task-admin")
        let creds = try await StandardCredentialChain(configuration: configuration, services: .test(roleAssumer: sts, transport: transport)).credentials()
        XCTAssertEqual(creds.accessKeyId, "ASIAASSUMED1")
        XCTAssertEqual(sts.calls.first?.sourceAccessKeyId, "ASIAECSTESTKEY")
    }

    func testCredentialSourceEc2InstanceMetadataForARole() async throws {
        let server = try MetadataServer()
        let home = try TempHome()
        try home.config("[profile node-admin]\nrole_arn = arn:aws:iam::1:role/admin\ncredential_source = Ec2InstanceMetadata\n")
        let sts = FakeRoleAssumer()
        let configuration = try AWSConfiguration(environment: home.environment(["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.base]),
                                                 profile: "node-admin")
        _ = try await StandardCredentialChain(configuration: configuration, services: .test(roleAssumer: sts, transport: transport)).credentials()
        XCTAssertEqual(sts.calls.first?.sourceAccessKeyId, "ASIAIMDSTESTKEY")
    }

    func testECSTokenWithLineBreakIsRefusedBeforeAnyRequest() async throws {
        let server = try MetadataServer(["--ecs-path", "/creds"])
        let home = try TempHome()
        let tokenFile = try home.write("token", "abc\r\nX-Injected: 1")
        let env = home.environment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.base + "/creds",
                                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile])
        do {
            _ = try await ContainerCredentialProvider(environment: env, transport: transport).credentials()
            XCTFail("expected an error")
        } catch let error as CredentialProviderError {
            XCTAssertEqual(error.reason, "the container authorization token contains a line break")
        }
        let stats = try await server.stats()
        XCTAssertNil(stats["GET /creds"])
    }

    func testECSRelativeURIThroughTheChainNamesItsSource() async throws {
        let server = try MetadataServer(["--ecs-path", "/v2/credentials/abc"])
        let env = AWSEnvironment(variables: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "v2/credentials/abc"], homeDirectory: "/nonexistent")
        let chain = StandardCredentialChain(providers: [
            EnvironmentCredentialProvider(environment: env),
            ContainerCredentialProvider(environment: env, transport: transport, ecsAgentBase: server.base),
        ], clock: SystemClock())
        let creds = try await chain.credentials()
        XCTAssertEqual(creds.accessKeyId, "ASIAECSTESTKEY")
        let source = await chain.source()
        XCTAssertEqual(source, "container (ECS)")
    }
}
