import DRPostgres
import DRTestSupport
import XCTest

/// Readers that share one exported snapshot in transactions of their own, the simple-protocol
/// scripts that open them, and the settings that pin how values print.
final class SnapshotTests: XCTestCase {
    private var conninfo: String { get throws { try TestEnvironment.postgresConninfo() } }

    func testImportedSnapshotsSeeTheExportedStateAndReleaseTheirLocks() throws {
        let setup = try PGConnection(conninfo: try conninfo)
        defer { setup.close() }
        let table = "snap_\(UUID().uuidString.prefix(8).lowercased())"
        try setup.query("CREATE TABLE \(table) (x int)")
        defer { _ = try? setup.query("DROP TABLE \(table)") }
        try setup.query("INSERT INTO \(table) VALUES (1)")

        let leader = try PGConnection(conninfo: try conninfo)
        defer { leader.close() }
        let snapshot = try leader.beginExportedSnapshot()
        try setup.query("INSERT INTO \(table) VALUES (2)")

        let reader = try PGConnection(conninfo: try conninfo)
        defer { reader.close() }
        try reader.beginImportedSnapshot(snapshot, parallelWorkers: 0, jit: false)
        XCTAssertEqual(try reader.query("SELECT count(*) FROM \(table)").scalar, "1")
        XCTAssertEqual(try reader.query("SELECT current_setting('max_parallel_workers_per_gather')").scalar, "0")
        XCTAssertEqual(try reader.query("SELECT current_setting('jit')").scalar, "off")
        let locks = "SELECT count(*) FROM pg_locks WHERE relation = '\(table)'::regclass AND pid = pg_backend_pid()"
        XCTAssertEqual(try reader.query(locks).scalar, "1")
        // The next transaction on the same snapshot: the first one's lock is gone, the view is the same.
        try reader.nextImportedSnapshot(snapshot)
        XCTAssertEqual(try reader.query(locks).scalar, "0")
        XCTAssertEqual(try reader.query("SELECT count(*) FROM \(table)").scalar, "1")
        XCTAssertEqual(try reader.query("SELECT current_setting('transaction_read_only')").scalar, "on")
        XCTAssertEqual(try reader.query("SELECT current_setting('jit')").scalar, "on", "jit: false lasts one transaction")
        try reader.rollback()
        try leader.rollback()
        XCTAssertThrowsError(try reader.beginImportedSnapshot(snapshot), "the snapshot ended with its transaction")
    }

    func testAScriptRunsInOneCallAndReportsItsFirstError() throws {
        let conn = try PGConnection(conninfo: try conninfo)
        defer { conn.close() }
        try conn.execute("SET application_name = 'one'; SET application_name = 'two'")
        XCTAssertEqual(try conn.query("SELECT current_setting('application_name')").scalar, "two")
        XCTAssertThrowsError(try conn.execute("SELECT 1; SELECT 1/0; SELECT 2")) { error in
            XCTAssertTrue(String(describing: error).contains("division by zero"), "\(error)")
        }
        XCTAssertEqual(try conn.query("SELECT 3").scalar, "3", "the connection stays usable")
    }

    func testReadersPrintValuesTheSameWhateverTheServersSettings() throws {
        let conn = try PGConnection(conninfo: try conninfo + " options='-c TimeZone=Asia/Tokyo -c DateStyle=German -c extra_float_digits=-5 -c bytea_output=escape'")
        defer { conn.close() }
        try conn.configureReader(statementTimeout: 10)
        let row = try conn.query("SELECT '2026-01-01 00:00:00+00'::timestamptz::text, 0.1::float8::text, '\\xff'::bytea::text, '1 day 2 hours'::interval::text").rows.first
        XCTAssertEqual(row, ["2026-01-01 00:00:00+00", "0.1", "\\xff", "1 day 02:00:00"])
        XCTAssertThrowsError(try conn.query("CREATE TABLE nope (x int)"), "readers are read-only")
    }

    func testACancelFromAnotherThreadEndsTheQueryAtOnce() throws {
        let conn = try PGConnection(conninfo: try conninfo)
        defer { conn.close() }
        let canceller = try XCTUnwrap(conn.makeCanceller())
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { XCTAssertNil(canceller.cancel()) }
        let start = Date()
        XCTAssertThrowsError(try conn.query("SELECT pg_sleep(30)")) { error in
            XCTAssertEqual((error as? PostgresError)?.code, .cancelled)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(try conn.query("SELECT 1").scalar, "1")
    }
}
