@testable import DRAWS
import DRCore
import XCTest

final class CredentialProcessTests: XCTestCase {
    private func provider(_ home: TempHome, script: String, clock: ManualClock = ManualClock()) throws -> ProcessCredentialProvider {
        let path = try home.write("bin/creds.sh", "#!/bin/sh\n" + script, executable: true)
        return ProcessCredentialProvider(command: "\(path) --profile prod", profile: "prod", runner: SystemProcessRunner(),
                                         environment: ["PATH": "/usr/bin:/bin"], clock: clock)
    }

    func testVersion1OutputWithExpiration() async throws {
        let home = try TempHome()
        let p = try provider(home, script: """
        test "$1" = --profile || exit 9
        cat <<JSON
        {"Version": 1, "AccessKeyId": "ASIAPROC", "SecretAccessKey": "proc-secret", "SessionToken": "proc-token",
         "Expiration": "2023-11-14T23:13:20Z"}
        JSON
        """)
        let creds = try await p.credentials()
        XCTAssertEqual(creds, AWSCredentials(accessKeyId: "ASIAPROC", secretAccessKey: "proc-secret", sessionToken: "proc-token",
                                             expiration: Date(timeIntervalSince1970: 1_700_003_600)))
    }

    func testThroughTheChainFromAProfile() async throws {
        let home = try TempHome()
        let path = try home.write("bin/creds.sh", "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIALONG\", \"SecretAccessKey\": \"long-secret\"}'\n", executable: true)
        try home.config("[profile tool]\ncredential_process = \(path)\n")
        let configuration = try AWSConfiguration(environment: home.environment(), profile: "tool")
        let chain = StandardCredentialChain(configuration: configuration, services: .test())
        let creds = try await chain.credentials()
        XCTAssertEqual(creds.accessKeyId, "AKIALONG")
        XCTAssertNil(creds.expiration)
        let source = await chain.source()
        XCTAssertEqual(source, "profile tool")
    }

    func testBrokenOutputsAreClearAndNeverEchoed() async throws {
        let home = try TempHome()
        let cases: [(String, String)] = [
            ("echo 'AccessKeyId: ASIALEAK SecretAccessKey: leaked-secret-1'", "the output is not a JSON object (55 bytes)"),
            ("echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"leaked-secret-2\"}'", "the output's Version must be 1"),
            ("echo '{\"Version\": 1, \"SecretAccessKey\": \"leaked-secret-3\"}'", "AccessKeyId is missing"),
            ("echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"leaked-secret-4\", \"Expiration\": \"tomorrow\"}'",
             "Expiration 'tomorrow' is not an RFC 3339 time"),
            ("echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"leaked-secret-5\", \"Expiration\": \"2020-01-01T00:00:00Z\"}'",
             "the command returned credentials that expired at 2020-01-01T00:00:00Z"),
            ("echo 'leaked-secret-6' >&2; echo leaked-secret-7; exit 3", "the command exited with status 3 (its output is not shown: it may hold secrets)"),
        ]
        for (script, reason) in cases {
            do {
                _ = try await provider(home, script: script).credentials()
                XCTFail("expected an error for \(script)")
            } catch let error as CredentialProviderError {
                XCTAssertEqual(error.kind, .failed)
                XCTAssertEqual(error.reason, reason, script)
                assertNoSecrets(error.description, (1...7).map { "leaked-secret-\($0)" } + ["ASIALEAK"])
            }
        }
    }
}
