@testable import DRAWS
import XCTest

final class ConfigurationTests: XCTestCase {
    func testProfileSelection() throws {
        let home = try TempHome()
        try home.config("[default]\nregion = us-east-1\n[profile prod]\nregion = eu-west-1\n[profile env]\nregion = us-west-2\n")
        XCTAssertEqual(try AWSConfiguration(environment: home.environment()).profileName, "default")
        let fromEnv = try AWSConfiguration(environment: home.environment(["AWS_PROFILE": "env"]))
        XCTAssertEqual(fromEnv.profileName, "env")
        XCTAssertFalse(fromEnv.profileIsExplicit)
        let explicit = try AWSConfiguration(environment: home.environment(["AWS_PROFILE": "env"]), profile: "prod")
        XCTAssertEqual(explicit.profileName, "prod")
        XCTAssertTrue(explicit.profileIsExplicit)
        XCTAssertEqual(try explicit.region(), "eu-west-1")
    }

    func testNamedProfileMustExistButDefaultNeedNot() throws {
        let home = try TempHome()
        try home.config("[profile prod]\nregion = eu-west-1\n")
        XCTAssertNoThrow(try AWSConfiguration(environment: home.environment()))
        for (env, explicit) in [(["AWS_PROFILE": "nope"], nil), ([:], "nope")] as [([String: String], String?)] {
            XCTAssertThrowsError(try AWSConfiguration(environment: home.environment(env), profile: explicit)) { error in
                XCTAssertTrue((error as? AWSConfigError)?.isProfileNotFound == true)
                XCTAssertTrue("\(error)".contains("'nope' is not defined"), "\(error)")
                XCTAssertTrue("\(error)".contains("profiles there: prod"), "\(error)")
            }
        }
    }

    func testRegionPrecedence() throws {
        let home = try TempHome()
        try home.config("[default]\nregion = ca-central-1\n")
        let all = try AWSConfiguration(environment: home.environment(["AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "eu-north-1"]))
        XCTAssertEqual(try all.region(explicit: "us-gov-west-1"), "us-gov-west-1")
        XCTAssertEqual(try all.region(), "eu-west-3")
        XCTAssertEqual(try all.regionIfSet()?.source, "AWS_REGION")
        let noRegionVar = try AWSConfiguration(environment: home.environment(["AWS_DEFAULT_REGION": "eu-north-1"]))
        XCTAssertEqual(try noRegionVar.region(), "eu-north-1")
        XCTAssertEqual(try AWSConfiguration(environment: home.environment()).region(), "ca-central-1")
    }

    func testMissingRegionIsAClearError() throws {
        let home = try TempHome()
        let config = try AWSConfiguration(environment: home.environment())
        XCTAssertNil(try config.regionIfSet())
        XCTAssertThrowsError(try config.region()) { error in
            XCTAssertTrue((error as? AWSConfigError)?.isNoRegion == true)
            XCTAssertEqual((error as? AWSConfigError)?.drError.category, .badInput)
            // The caller's region parameter is named for the edge to word (`--region` on the command line).
            XCTAssertEqual((error as? AWSConfigError)?.text.parameters, [.region])
            XCTAssertTrue("\(error)".contains("AWS_REGION"), "\(error)")
        }
    }

    func testRegionNamesAreCheckedAgainstTheKnownRegions() throws {
        for good in ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "ap-southeast-4", "il-central-1", "us-isob-east-1",
                     "us-isof-south-1", "eusc-de-east-1"] {
            XCTAssertTrue(AWSRegion.isValid(good), good)
        }
        for bad in ["", "useast1", "us-east", "US-EAST-1", "us-east-1a", "us-east-123", "us_east_1", "eu-central-2 ", "x-east-1",
                    "us-foo-west-1", "a.b-c-1", "us-east-9", "eu-west-7", "us-moon-1"] {
            XCTAssertFalse(AWSRegion.isValid(bad), bad)
        }
        let home = try TempHome()
        let config = try AWSConfiguration(environment: home.environment(["AWS_REGION": "us-east-9"]))
        XCTAssertThrowsError(try config.region()) { error in
            XCTAssertTrue((error as? AWSConfigError)?.isInvalidRegion == true)
            XCTAssertEqual("\(error)", "\"us-east-9\" (AWS_REGION) is not an AWS region dr knows. Use a region name such as us-east-1, eu-central-2, us-gov-west-1 or cn-north-1 (similar: us-east-1, us-east-2). Nothing was changed.")
        }
        // Endpoints are only built for known regions.
        XCTAssertThrowsError(try config.resolveEndpoint(for: .rds, region: "eu-west-7")) { error in
            XCTAssertTrue((error as? AWSConfigError)?.isInvalidRegion == true, "\(error)")
        }
    }

    func testRetrySettingsAndCABundle() throws {
        let home = try TempHome()
        try home.config("[default]\nmax_attempts = 5\nretry_mode = adaptive\nca_bundle = ~/certs/ca.pem\n")
        let fromProfile = try AWSConfiguration(environment: home.environment())
        XCTAssertEqual(try fromProfile.maxAttempts(), 5)
        XCTAssertEqual(try fromProfile.retryMode(), .adaptive)
        XCTAssertEqual(fromProfile.caBundle, home.path + "/certs/ca.pem")

        let fromEnv = try AWSConfiguration(environment: home.environment(["AWS_MAX_ATTEMPTS": "2", "AWS_RETRY_MODE": "legacy", "AWS_CA_BUNDLE": "/etc/ca.pem"]))
        XCTAssertEqual(try fromEnv.maxAttempts(), 2)
        XCTAssertEqual(try fromEnv.retryMode(), .legacy)
        XCTAssertEqual(fromEnv.caBundle, "/etc/ca.pem")

        let defaults = try AWSConfiguration(environment: AWSEnvironment(variables: [:], homeDirectory: home.path + "/nowhere"))
        XCTAssertEqual(try defaults.maxAttempts(), 3)
        XCTAssertEqual(try defaults.retryMode(), .standard)
        XCTAssertNil(defaults.caBundle)

        for bad in ["0", "-1", "three", "2.5"] {
            let config = try AWSConfiguration(environment: home.environment(["AWS_MAX_ATTEMPTS": bad]))
            XCTAssertThrowsError(try config.maxAttempts()) { error in
                XCTAssertEqual("\(error)", "max_attempts = '\(bad)' (from AWS_MAX_ATTEMPTS) is not valid: expected a whole number of at least 1.")
            }
        }
        XCTAssertThrowsError(try AWSConfiguration(environment: home.environment(["AWS_RETRY_MODE": "aggressive"])).retryMode())
    }
}
