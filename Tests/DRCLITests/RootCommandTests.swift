import DRTestSupport
import XCTest

final class RootCommandTests: XCTestCase {
    func testVersionAndHelp() throws {
        let version = try DRBinary.run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
        let help = try DRBinary.run(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("USAGE: dr"), help.stdout)
    }

    func testUnknownSubcommandIsBadInput() throws {
        let result = try DRBinary.run(["no-such-command"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("no-such-command"), result.stderr)
        XCTAssertEqual(result.stdout, "")
    }
}
