@testable import DRAWS
import XCTest

final class ConfigFileParserTests: XCTestCase {
    func testSectionsCommentsAndSubsections() throws {
        let text = """
        # a comment
        ; another comment
        stray = ignored before any section
        [default]
        region = us-east-1   # inline comment
        output=json;not-a-comment
        s3 =
          max_concurrent_requests = 20
          addressing_style = path ; trailing
        retry_mode = standard

        [profile   prod] ; header comment
        region = eu-central-2
        credential_process = /usr/bin/get-creds --flag
          --continued
        [services local]
        rds =
          endpoint_url = http://127.0.0.1:5000
        route_53 =
          endpoint_url = http://127.0.0.1:5001\r
        """
        let sections = try ConfigFileParser.parse(text, path: "config")
        XCTAssertEqual(sections.map(\.name), ["default", "profile prod", "services local"])
        let def = sections[0].section
        XCTAssertEqual(def["region"], "us-east-1")
        XCTAssertEqual(def["output"], "json;not-a-comment")
        XCTAssertEqual(def["retry_mode"], "standard", "a property after a sub-section is back at the top level")
        XCTAssertNil(def["s3"], "a sub-section is not a property")
        XCTAssertEqual(def.subsections["s3"], ["max_concurrent_requests": "20", "addressing_style": "path"])
        XCTAssertNil(def["stray"])
        XCTAssertEqual(sections[1].section["credential_process"], "/usr/bin/get-creds --flag\n--continued")
        XCTAssertEqual(sections[2].section.subsections["rds"]?["endpoint_url"], "http://127.0.0.1:5000")
        XCTAssertEqual(sections[2].section.subsections["route_53"]?["endpoint_url"], "http://127.0.0.1:5001")
    }

    func testWindowsLineEndings() throws {
        let text = "[default]\r\nregion = eu-west-1\r\ns3 =\r\n  addressing_style = path\r\n[profile b]\r\nregion = us-east-2\r\n"
        let sections = try ConfigFileParser.parse(text, path: "c")
        XCTAssertEqual(sections.map(\.name), ["default", "profile b"])
        XCTAssertEqual(sections[0].section["region"], "eu-west-1")
        XCTAssertEqual(sections[0].section.subsections["s3"], ["addressing_style": "path"])
        XCTAssertEqual(sections[1].section["region"], "us-east-2")
    }

    func testKeysAreCaseInsensitive() throws {
        let sections = try ConfigFileParser.parse("[default]\nAWS_Access_Key_ID = AKIA1\n", path: "c")
        XCTAssertEqual(sections[0].section["aws_access_key_id"], "AKIA1")
    }

    func testMalformedLineNamesFileAndLineButNotContent() throws {
        let text = "[default]\naws_access_key_id = AKIA\nwJalrXUtnFEMI-secret-without-equals\n"
        XCTAssertThrowsError(try ConfigFileParser.parse(text, path: "/home/u/.aws/credentials")) { error in
            let message = "\(error)"
            XCTAssertEqual(message, "/home/u/.aws/credentials, line 3: expected 'name = value' or a [section] header")
            XCTAssertFalse(message.contains("wJalrXUtnFEMI"))
        }
        XCTAssertThrowsError(try ConfigFileParser.parse("[default\nregion = x\n", path: "c")) { error in
            XCTAssertEqual("\(error)", "c, line 1: a section header must end with ']'")
        }
    }

    func testConfigAndCredentialsFilesMergeWithCredentialsWinning() throws {
        let files = try SharedConfigFiles(
            configFilePath: "config",
            configText: """
            [default]
            region = us-east-1
            [profile prod]
            region = eu-west-1
            aws_access_key_id = FROM_CONFIG
            [prod]
            region = ignored: a config-file section without 'profile ' is not a profile
            [sso-session corp]
            sso_region = us-east-1
            """,
            credentialsFilePath: "credentials",
            credentialsText: """
            [prod]
            aws_access_key_id = FROM_CREDENTIALS
            aws_secret_access_key = s
            [profile odd]
            aws_access_key_id = literal name
            """)
        let prod = try XCTUnwrap(files.profile("prod"))
        XCTAssertEqual(prod["region"], "eu-west-1")
        XCTAssertEqual(prod["aws_access_key_id"], "FROM_CREDENTIALS")
        XCTAssertEqual(files.filesDefining("prod"), ["config", "credentials"])
        XCTAssertEqual(files.profileNames, ["default", "prod", "profile odd"], "the credentials file takes [profile odd] literally")
        XCTAssertNil(files.profile("corp"))
        XCTAssertNil(files.profile("missing"))
    }

    func testProfileDefaultWinsOverPlainDefaultInConfig() throws {
        let files = try SharedConfigFiles(configFilePath: "c", configText: "[profile default]\nregion = eu-west-1\n[default]\nregion = us-east-1\n",
                                          credentialsFilePath: "k", credentialsText: nil)
        XCTAssertEqual(files.profile("default")?["region"], "eu-west-1")
    }

    func testEnvironmentFilePathsAndTilde() throws {
        let home = try TempHome()
        try home.write("custom/cfg", "[profile x]\nregion = ap-southeast-4\n")
        try home.write("custom/creds", "[x]\naws_access_key_id = A\naws_secret_access_key = B\n")
        let env = home.environment(["AWS_CONFIG_FILE": "~/custom/cfg", "AWS_SHARED_CREDENTIALS_FILE": home.path + "/custom/creds"])
        XCTAssertEqual(env.configFilePath, home.path + "/custom/cfg")
        let files = try env.loadSharedConfigFiles()
        XCTAssertEqual(files.profile("x")?["region"], "ap-southeast-4")
        XCTAssertEqual(files.profile("x")?["aws_access_key_id"], "A")

        // Missing files are empty, not errors.
        let empty = try home.environment(["AWS_CONFIG_FILE": "~/nope", "AWS_SHARED_CREDENTIALS_FILE": "~/nope2"]).loadSharedConfigFiles()
        XCTAssertEqual(empty.profileNames, [])
    }

    func testMalformedFileIsBadInput() throws {
        let home = try TempHome()
        try home.config("[default]\nthis line is broken\n")
        XCTAssertThrowsError(try AWSConfiguration(environment: home.environment())) { error in
            let config = error as? AWSConfigError
            XCTAssertEqual(config?.drError.category, .badInput)
            XCTAssertTrue("\(error)".contains("\(home.path)/.aws/config, line 2"), "\(error)")
        }
    }
}
