import Foundation
import XCTest

/// The servers `make test` starts for the integration tests (scripts/with-test-servers.sh).
/// A missing server is a failure, never a skip: run the tests with `make test`.
public enum TestEnvironment {
    public static func require(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            XCTFail("\(name) is not set: integration tests need the servers that `make test` starts (scripts/with-test-servers.sh).", file: file, line: line)
            throw MissingServer(name: name)
        }
        return value
    }

    /// Conninfo of the shared PostgreSQL 15 test server (superuser, with password).
    public static func postgresConninfo(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try require("DR_TEST_PG_CONNINFO", file: file, line: line)
    }

    /// AWS settings for a test or a process it starts: nothing may leave the machine, so the
    /// EC2 instance-metadata source is off (`AWS_EC2_METADATA_DISABLED=true`, as
    /// scripts/with-test-servers.sh exports it for the whole run) unless the settings name a
    /// local metadata server (`AWS_EC2_METADATA_SERVICE_ENDPOINT`) or switch it explicitly.
    public static func awsVariables(_ variables: [String: String]) -> [String: String] {
        var out = variables
        if out["AWS_EC2_METADATA_SERVICE_ENDPOINT"] == nil, out["AWS_EC2_METADATA_DISABLED"] == nil {
            out["AWS_EC2_METADATA_DISABLED"] = "true"
        }
        return out
    }

    /// The PostgreSQL server binaries' folder (`pg_config --bindir`).
    public static func postgresBindir() throws -> String { try require("DR_TEST_PG_BINDIR") }

    public struct MissingServer: Error, CustomStringConvertible {
        public var name: String
        public var description: String { "\(name) is not set; run the tests with make test" }
    }
}
