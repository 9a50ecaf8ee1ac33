import DRCore
import Foundation
import XCTest

/// The botocore installed with the AWS emulator (`scripts/setup.sh` installs moto, which brings
/// it): its service models and partitions are the reference dr's requests and regions are
/// checked against. Missing botocore fails the test; it never skips.
public enum Botocore {
    /// `.../site-packages/botocore/data`.
    public static func dataDirectory(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try SystemProcessRunner.runBlocking("python3", ["-c", "import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), 'data'))"])
        let path = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.succeeded, FileManager.default.fileExists(atPath: path + "/partitions.json") else {
            XCTFail("botocore is not installed for python3 (scripts/setup.sh installs it with moto): \(result.stderr)", file: file, line: line)
            throw TestEnvironment.MissingServer(name: "botocore")
        }
        return path
    }

    /// A JSON file under the data directory, e.g. `partitions.json`.
    public static func json(_ relativePath: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: try dataDirectory(file: file, line: line) + "/" + relativePath))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], file: file, line: line)
    }

    /// The repository's `scripts/` folder.
    public static var scriptsDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts").path
    }
}
