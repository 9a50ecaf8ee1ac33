import DRCore
import DRTestSupport
import Foundation
import XCTest

/// The restorable window right after a backup taken mid-segment (issue 11, item 1): `dr status`
/// and `dr restore` agree on what the archive truly holds, through the binary.
final class SelfHostedWindowTests: XCTestCase {
    var source: ArchivedSource!

    override func tearDown() { source?.stop() }

    func json(_ r: ProcessResult) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout + r.stderr)
    }

    func testATimeBetweenTwoBackupsRightAfterTheSecondTakenMidSegment() throws {
        source = try ArchivedSource()
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, payload text)",
                                   "INSERT INTO events (payload) SELECT md5(g::text) FROM generate_series(1, 100) g")
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.execute("INSERT INTO events (payload) SELECT md5(g::text) FROM generate_series(1, 50) g")
        usleep(20_000)
        let between = try source.cluster.now()
        usleep(20_000)
        try source.cluster.execute("INSERT INTO events (payload) SELECT md5(g::text) FROM generate_series(1, 25) g")
        // The second backup starts inside the segment the first one's switch opened: no switch in between.
        let second = try json(try source.dr(["snapshot", source.target, "--output", "json"]))
        let details = second["display"] as? [String: String] ?? [:]
        let start = try XCTUnwrap(details["start_lsn"].flatMap(Self.lsn))
        XCTAssertNotEqual(start % (16 << 20), 0, "the backup starts mid-segment (\(details))")
        XCTAssertEqual(details["start_wal"], details["stop_wal"], "and stops in the same segment")

        // Right away, before any further WAL switch: one window, from the first backup to the second's end.
        let status = try source.dr(["status", source.target, "--output", "json"])
        XCTAssertEqual(status.status, 0, status.stderr)
        let doc = try json(status)
        let window = try XCTUnwrap(doc["restorable_window"] as? [String: String], status.stdout)
        let earliest = try XCTUnwrap(window["earliest"].flatMap(RFC3339.parse)), latest = try XCTUnwrap(window["latest"].flatMap(RFC3339.parse))
        let finished = try XCTUnwrap((second["finished_at"] as? String).flatMap(RFC3339.parse))
        XCTAssertLessThan(earliest, between)
        XCTAssertGreaterThan(latest, between)
        XCTAssertLessThanOrEqual(latest, finished, "no later than the WAL the archive holds")
        XCTAssertFalse((doc["warnings"] as? [String] ?? []).contains { $0.contains("gap") }, "\(doc["warnings"] ?? "")")
        let text = try source.dr(["status", source.target])
        XCTAssertFalse(text.stdout.contains("gap"), text.stdout)

        // dr restore takes the same time and restores exactly the rows committed before it...
        let restored = try json(try source.dr(["restore", source.target, "--point-in-time", RFC3339.format(between, fractional: true),
                                               "--as", "between", "--output", "json"]))
        XCTAssertEqual(restored["snapshot"] as? String != second["id"] as? String, true, "from the first backup")
        let port = (restored["endpoint"] as? [String: Any])?["port"] as? Int ?? 0
        XCTAssertEqual(try source.cluster.scalar("SELECT count(*) FROM events", port: port), "150")
        XCTAssertEqual(try source.dr(["teardown", "between"]).status, 0)
        // ...and the end of the window is the second backup, restorable at once.
        let end = try json(try source.dr(["restore", source.target, "--point-in-time", RFC3339.format(latest, fractional: true),
                                          "--as", "at-end", "--output", "json"]))
        let endPort = (end["endpoint"] as? [String: Any])?["port"] as? Int ?? 0
        XCTAssertEqual(try source.cluster.scalar("SELECT count(*) FROM events", port: endPort), "175")
        XCTAssertEqual(try source.dr(["teardown", "at-end"]).status, 0)
    }

    static func lsn(_ text: String) -> UInt64? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let hi = UInt64(parts[0], radix: 16), let lo = UInt64(parts[1], radix: 16) else { return nil }
        return hi << 32 | lo
    }
}
