@testable import DRProcedures
import DRCore
import XCTest

final class ServiceFileTests: XCTestCase {
    func testRepointKeepsThePreviousEntryAndUndoSwapsBack() throws {
        let path = NSTemporaryDirectory() + "pg_service-\(UUID().uuidString).conf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("# clients use service=app\n[other]\nhost=elsewhere\n\n[app]\nhost=10.0.0.5\nport=5432\ndbname=app\n".utf8)
            .write(to: URL(fileURLWithPath: path))
        let file = ServiceFile(path: path)
        let previous = try file.repoint("app", to: [("host", "127.0.0.1"), ("port", "6543"), ("dbname", "app")])
        XCTAssertEqual(previous, "host=10.0.0.5 port=5432 dbname=app")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("# clients use service=app\n"))
        XCTAssertTrue(text.contains("[app]\nhost=127.0.0.1\nport=6543\ndbname=app"))
        XCTAssertTrue(text.contains("[app-previous]\nhost=10.0.0.5\nport=5432"))
        XCTAssertTrue(text.contains("[other]\nhost=elsewhere"))
        let undone = try file.undo("app")
        XCTAssertEqual(undone.now, "host=10.0.0.5 port=5432 dbname=app")
        XCTAssertTrue(try String(contentsOfFile: path, encoding: .utf8).contains("[app]\nhost=10.0.0.5"))
        XCTAssertThrowsError(try ServiceFile(path: path + ".none").undo("app")) { error in
            XCTAssertEqual((error as? DRError)?.category, .badInput)
        }
    }

    func testShellQuoting() {
        XCTAssertEqual(ShellQuote.quote("/usr/bin/dr"), "/usr/bin/dr")
        XCTAssertEqual(ShellQuote.quote("/my repo/it's"), "'/my repo/it'\\''s'")
    }
}
