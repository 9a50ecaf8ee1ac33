@testable import DRAWS
import XCTest

final class EndpointResolutionTests: XCTestCase {
    private func configuration(_ env: [String: String] = [:], config: String = "", profile: String? = nil) throws -> AWSConfiguration {
        let home = try TempHome()
        try home.config(config)
        return try AWSConfiguration(environment: home.environment(env), profile: profile)
    }

    func testServiceIdentifiers() {
        XCTAssertEqual(AWSService.route53.endpointVariable, "AWS_ENDPOINT_URL_ROUTE_53")
        XCTAssertEqual(AWSService.secretsManager.endpointVariable, "AWS_ENDPOINT_URL_SECRETS_MANAGER")
        XCTAssertEqual(AWSService.elastiCache.endpointVariable, "AWS_ENDPOINT_URL_ELASTICACHE")
        XCTAssertEqual(AWSService.rds.endpointVariable, "AWS_ENDPOINT_URL_RDS")
        XCTAssertEqual(AWSService.secretsManager.configKey, "secrets_manager")
        XCTAssertEqual(AWSService.route53.configKey, "route_53")
    }

    func testDefaultEndpointsTable() throws {
        let config = try configuration()
        let table: [(AWSService, String, String, String)] = [
            (.rds, "us-east-1", "https://rds.us-east-1.amazonaws.com", "us-east-1"),
            (.elastiCache, "eu-central-2", "https://elasticache.eu-central-2.amazonaws.com", "eu-central-2"),
            (.secretsManager, "us-west-2", "https://secretsmanager.us-west-2.amazonaws.com", "us-west-2"),
            (.kms, "ap-southeast-4", "https://kms.ap-southeast-4.amazonaws.com", "ap-southeast-4"),
            (.sts, "eu-west-1", "https://sts.eu-west-1.amazonaws.com", "eu-west-1"),
            (.sts, "us-east-1", "https://sts.us-east-1.amazonaws.com", "us-east-1"),
            (.rds, "cn-north-1", "https://rds.cn-north-1.amazonaws.com.cn", "cn-north-1"),
            (.rds, "us-gov-west-1", "https://rds.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
            (.route53, "eu-west-1", "https://route53.amazonaws.com", "us-east-1"),
            (.route53, "us-west-2", "https://route53.amazonaws.com", "us-east-1"),
            (.route53, "cn-northwest-1", "https://route53.amazonaws.com.cn", "cn-northwest-1"),
            (.route53, "us-gov-east-1", "https://route53.us-gov.amazonaws.com", "us-gov-west-1"),
        ]
        for (service, region, url, signing) in table {
            let endpoint = try config.resolveEndpoint(for: service, region: region)
            XCTAssertEqual(endpoint.url.absoluteString, url, "\(service.serviceID) in \(region)")
            XCTAssertEqual(endpoint.signingRegion, signing, "\(service.serviceID) in \(region)")
            XCTAssertEqual(endpoint.source, "default")
        }
    }

    func testSTSLegacyGlobalEndpoint() throws {
        for source in [(["AWS_STS_REGIONAL_ENDPOINTS": "legacy"], ""), ([:], "[default]\nsts_regional_endpoints = legacy\n")] {
            let config = try configuration(source.0, config: source.1)
            let legacy = try config.resolveEndpoint(for: .sts, region: "eu-west-1")
            XCTAssertEqual(legacy.url.absoluteString, "https://sts.amazonaws.com")
            XCTAssertEqual(legacy.signingRegion, "us-east-1")
            // Regions launched after the global endpoint was the default stay regional.
            let newer = try config.resolveEndpoint(for: .sts, region: "eu-central-2")
            XCTAssertEqual(newer.url.absoluteString, "https://sts.eu-central-2.amazonaws.com")
            XCTAssertEqual(newer.signingRegion, "eu-central-2")
        }
        let regional = try configuration(["AWS_STS_REGIONAL_ENDPOINTS": "regional"])
        XCTAssertEqual(try regional.resolveEndpoint(for: .sts, region: "eu-west-1").url.absoluteString, "https://sts.eu-west-1.amazonaws.com")
        XCTAssertThrowsError(try configuration(["AWS_STS_REGIONAL_ENDPOINTS": "global"]).resolveEndpoint(for: .sts, region: "eu-west-1"))
    }

    func testConfiguredEndpointPrecedence() throws {
        let config = """
        [default]
        endpoint_url = http://127.0.0.1:4000
        services = local
        [services local]
        rds =
          endpoint_url = http://127.0.0.1:4001
        secrets_manager =
          endpoint_url = http://127.0.0.1:4002/base
        [profile plain]
        region = us-east-1
        """
        let env = ["AWS_ENDPOINT_URL_RDS": "http://127.0.0.1:5001", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"]
        // 1. service-specific variable, 2. global variable.
        let both = try configuration(env, config: config)
        XCTAssertEqual(try both.resolveEndpoint(for: .rds, region: "us-east-1").url.absoluteString, "http://127.0.0.1:5001")
        XCTAssertEqual(try both.resolveEndpoint(for: .rds, region: "us-east-1").source, "AWS_ENDPOINT_URL_RDS")
        XCTAssertEqual(try both.resolveEndpoint(for: .kms, region: "us-east-1").url.absoluteString, "http://127.0.0.1:5000")
        // 3. the profile's services section, 4. the profile's endpoint_url.
        let files = try configuration([:], config: config)
        XCTAssertEqual(try files.resolveEndpoint(for: .rds, region: "us-east-1").url.absoluteString, "http://127.0.0.1:4001")
        XCTAssertEqual(try files.resolveEndpoint(for: .secretsManager, region: "us-east-1").url.absoluteString, "http://127.0.0.1:4002/base")
        XCTAssertEqual(try files.resolveEndpoint(for: .kms, region: "us-east-1").url.absoluteString, "http://127.0.0.1:4000")
        XCTAssertEqual(try files.resolveEndpoint(for: .kms, region: "us-east-1").source, "endpoint_url (profile default)")
        // A profile without endpoint settings gets the defaults.
        let plain = try configuration([:], config: config, profile: "plain")
        XCTAssertEqual(try plain.resolveEndpoint(for: .rds, region: "us-east-1").url.absoluteString, "https://rds.us-east-1.amazonaws.com")
        // A service-specific variable for Route 53 keeps signing in us-east-1.
        let r53 = try configuration(["AWS_ENDPOINT_URL_ROUTE_53": "http://127.0.0.1:5053"])
        let endpoint = try r53.resolveEndpoint(for: .route53, region: "eu-west-1")
        XCTAssertEqual(endpoint.url.absoluteString, "http://127.0.0.1:5053")
        XCTAssertEqual(endpoint.signingRegion, "us-east-1")
        // Regional services sign for the client's region at a custom endpoint.
        XCTAssertEqual(try both.resolveEndpoint(for: .rds, region: "eu-west-1").signingRegion, "eu-west-1")
    }

    func testIgnoreConfiguredEndpointURLs() throws {
        let config = "[default]\nendpoint_url = http://127.0.0.1:4000\n"
        for (env, text) in [(["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true", "AWS_ENDPOINT_URL_RDS": "http://127.0.0.1:1"], config),
                            (["AWS_ENDPOINT_URL": "http://127.0.0.1:1"], config + "ignore_configured_endpoint_urls = true\n")] {
            let c = try configuration(env, config: text)
            XCTAssertEqual(try c.resolveEndpoint(for: .rds, region: "us-east-1").url.absoluteString, "https://rds.us-east-1.amazonaws.com")
        }
        let notIgnored = try configuration(["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false"], config: config)
        XCTAssertEqual(try notIgnored.resolveEndpoint(for: .rds, region: "us-east-1").url.absoluteString, "http://127.0.0.1:4000")
    }

    func testInvalidEndpointAndRegionAreBadInput() throws {
        for bad in ["127.0.0.1:5000", "ftp://host", "http://", "not a url"] {
            let config = try configuration(["AWS_ENDPOINT_URL_RDS": bad])
            XCTAssertThrowsError(try config.resolveEndpoint(for: .rds, region: "us-east-1"), bad) { error in
                XCTAssertEqual((error as? AWSConfigError)?.drError.category, .badInput)
                XCTAssertTrue("\(error)".contains("AWS_ENDPOINT_URL_RDS"), "\(error)")
            }
        }
        XCTAssertThrowsError(try configuration().resolveEndpoint(for: .rds, region: "moon-base-1x"))
    }

    func testArbitraryServiceID() throws {
        let config = try configuration(["AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING": "http://127.0.0.1:9"])
        let endpoint = try config.resolveEndpoint(serviceID: "Application Auto Scaling", endpointPrefix: "application-autoscaling",
                                                  region: "us-east-1", global: false)
        XCTAssertEqual(endpoint.url.absoluteString, "http://127.0.0.1:9")
    }
}
