import DRPostgres
import DRTestSupport
import Foundation

/// Holds an ACCESS EXCLUSIVE lock on a table, so a count on it blocks until cancelled.
final class TestDatabaseLock {
    private let conn: PGConnection

    init(_ db: TestDatabase, table: String) throws {
        conn = try PGConnection(conninfo: db.conninfo)
        try conn.query("BEGIN")
        try conn.query("LOCK TABLE \(table) IN ACCESS EXCLUSIVE MODE")
    }

    /// Queries from `dr verify` still running on the server.
    func activeVerifierQueries() throws -> Int {
        Int(try conn.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dr verify' AND state = 'active'").scalar ?? "-1") ?? -1
    }

    func release() {
        _ = try? conn.query("ROLLBACK")
        conn.close()
    }
}
