@testable import DRProcedures
import DRCore
import XCTest

final class ServiceFileTests: XCTestCase {
    func testRepointKeepsThePreviousEntryAndUndoSwapsBack() throws {
        let path = NSTemporaryDirectory() + "pg_service-\(UUID().uuidString).conf"
        let state = NSTemporaryDirectory() + "dr-state-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: state)
        }
        try Data("# clients use service=app\n[other]\nhost=elsewhere\n\n[app]\nhost=10.0.0.5\nport=5432\ndbname=app\n".utf8)
            .write(to: URL(fileURLWithPath: path))
        let file = ServiceFile(path: path)
        let previous = try file.entry("app")
        try file.set("app", to: "host=127.0.0.1 port=6543 dbname=app", previous: previous)
        XCTAssertEqual(previous, "host=10.0.0.5 port=5432 dbname=app")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("# clients use service=app\n"))
        XCTAssertTrue(text.contains("[app]\nhost=127.0.0.1\nport=6543\ndbname=app"))
        XCTAssertTrue(text.contains("[app-previous]\nhost=10.0.0.5\nport=5432"))
        XCTAssertTrue(text.contains("[other]\nhost=elsewhere"))
        // No history in this state directory: undo goes back to the kept [app-previous].
        func failover(_ file: ServiceFile) -> ServiceFailover {
            ServiceFailover(file: file, service: "app", to: nil, undo: true, servers: RestoredServers(root: state + "/restores"),
                            targetName: "t", context: ProviderContext(stateDirectory: state))
        }
        let undo = failover(file)
        let undone = try undo.execute(try undo.decide())
        XCTAssertEqual(undone.now, "host=10.0.0.5 port=5432 dbname=app")
        XCTAssertTrue(try String(contentsOfFile: path, encoding: .utf8).contains("[app]\nhost=10.0.0.5"))
        XCTAssertThrowsError(try failover(ServiceFile(path: path + ".none")).decide()) { error in
            XCTAssertEqual((error as? DRError)?.category, .badInput)
        }
    }

    func testShellQuoting() {
        XCTAssertEqual(ShellQuote.quote("/usr/bin/dr"), "/usr/bin/dr")
        XCTAssertEqual(ShellQuote.quote("/my repo/it's"), "'/my repo/it'\\''s'")
    }
}
