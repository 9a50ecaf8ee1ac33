@testable import DRAWS
import DRCore
import DRTestSupport
import XCTest

/// The chain wired to the real STS client (AWSSession), against moto with request authentication on.
final class CredentialSTSIntegrationTests: XCTestCase {
    func testRoleProfileAssumedThroughRealSTSAndRefreshedByOneCaller() async throws {
        let moto = try Moto.url()
        let key = try Moto.accessKey()
        let home = try TempHome()
        try home.credentials("[base]\naws_access_key_id = \(key.id)\naws_secret_access_key = \(key.secret)\n")
        try home.config("""
        [profile deploy]
        role_arn = arn:aws:iam::123456789012:role/dr-deploy
        source_profile = base
        role_session_name = integration
        duration_seconds = 900
        """)
        let session = try AWSSession(environment: home.environment(["AWS_ENDPOINT_URL": moto.absoluteString, "AWS_REGION": "us-east-1"]),
                                     profile: "deploy")
        // Fifty concurrent callers: one AssumeRole call, the same credentials for all.
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await session.credentials.credentials().accessKeyId } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        XCTAssertEqual(keys.count, 1)
        XCTAssertTrue(keys.first!.hasPrefix("ASIA"), "\(keys)")
        let identity = try await session.sts().getCallerIdentity()
        XCTAssertEqual(identity.arn, "arn:aws:sts::123456789012:assumed-role/dr-deploy/integration")
        let source = await session.credentialSource()
        XCTAssertEqual(source, "profile deploy")
    }

    func testWebIdentityThroughRealSTS() async throws {
        // AssumeRoleWithWebIdentity is unsigned (the token is the authentication); moto with
        // request authentication on answers unsigned requests with HTTP 500, so use the instance
        // with authentication off.
        let moto = try Moto.noAuthURL()
        let home = try TempHome()
        let tokenFile = try home.write("token", "header.payload.signature")
        let session = try AWSSession(environment: home.environment([
            "AWS_ENDPOINT_URL": moto.absoluteString, "AWS_REGION": "eu-west-1",
            "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/pod-role",
            "AWS_ROLE_SESSION_NAME": "pod",
        ]))
        let credentials = try await session.credentials.credentials()
        XCTAssertTrue(credentials.accessKeyId.hasPrefix("ASIA"), credentials.description)
        XCTAssertNotNil(credentials.sessionToken)
        XCTAssertNotNil(credentials.expiration)
        let source = await session.credentialSource()
        XCTAssertEqual(source, "web-identity (AWS_WEB_IDENTITY_TOKEN_FILE)")
    }

    func testSTSRefusalSurfacesAsOneMessageWithoutSecrets() async throws {
        let moto = try Moto.url()
        let key = try Moto.accessKey()
        let home = try TempHome()
        try home.config("""
        [profile bad]
        role_arn = arn:aws:iam::123456789012:role/x
        source_profile = base
        [profile base]
        aws_access_key_id = \(key.id)
        aws_secret_access_key = wrong-secret-for-the-test
        """)
        let session = try AWSSession(environment: home.environment(["AWS_ENDPOINT_URL": moto.absoluteString, "AWS_REGION": "us-east-1",
                                                                    "AWS_MAX_ATTEMPTS": "1"]), profile: "bad")
        do {
            _ = try await session.credentials.credentials()
            XCTFail("expected an error")
        } catch let error as NoCredentialsError {
            XCTAssertEqual(error.failedSource?.source, "profile bad")
            XCTAssertTrue(error.description.contains("AssumeRole for arn:aws:iam::123456789012:role/x failed: STS AssumeRole failed: HTTP 403"), error.description)
            assertNoSecrets(error.description, ["wrong-secret-for-the-test", key.secret])
        }
    }

    func testSessionClientConfigSignsGlobalServicesForTheirPartition() throws {
        let home = try TempHome()
        let session = try AWSSession(environment: home.environment(["AWS_REGION": "eu-west-1", "AWS_STS_REGIONAL_ENDPOINTS": "legacy",
                                                                    "AWS_MAX_ATTEMPTS": "7"]))
        XCTAssertEqual(session.retry.maxAttempts, 7)
        XCTAssertEqual(try session.resolvedRegion().source, "AWS_REGION")
        let route53 = try session.clientConfig(.route53)
        XCTAssertEqual(route53.endpoint.absoluteString, "https://route53.amazonaws.com")
        XCTAssertEqual(route53.region, "us-east-1")
        let sts = try session.clientConfig(.sts)
        XCTAssertEqual(sts.endpoint.absoluteString, "https://sts.amazonaws.com")
        XCTAssertEqual(sts.region, "us-east-1")
        let rds = try session.clientConfig(.rds, region: "us-west-2")
        XCTAssertEqual(rds.endpoint.absoluteString, "https://rds.us-west-2.amazonaws.com")
        XCTAssertEqual(rds.region, "us-west-2")
        // Global services sign for their partition's global region, whatever the client's region.
        for (region, host, signing) in [("cn-north-1", "https://route53.amazonaws.com.cn", "cn-northwest-1"),
                                        ("us-gov-east-1", "https://route53.us-gov.amazonaws.com", "us-gov-west-1"),
                                        ("ap-southeast-2", "https://route53.amazonaws.com", "us-east-1")] {
            let client = try session.route53(region: region).client
            XCTAssertEqual(client.config.endpoint.absoluteString, host, region)
            XCTAssertEqual(client.config.region, signing, region)
        }
        XCTAssertEqual(AWSService.route53.signingRegion("cn-northwest-1"), "cn-northwest-1")
        XCTAssertEqual(AWSService.route53.signingRegion("us-gov-east-1"), "us-gov-west-1")
        XCTAssertEqual(AWSService.rds.signingRegion("cn-north-1"), "cn-north-1")
        // No region is needed to build a session; asking for the default one without one is bad input.
        let regionless = try AWSSession(environment: home.environment([:]))
        XCTAssertThrowsError(try regionless.resolvedRegion()) { error in
            XCTAssertEqual((error as? DRError)?.category, .badInput)
            XCTAssertTrue("\(error)".contains("No AWS region is set"), "\(error)")
        }
        XCTAssertEqual(try regionless.rds("eu-central-2").client.config.region, "eu-central-2")
    }
}
