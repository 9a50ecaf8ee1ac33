import DRPostgres
import DRTestSupport
import XCTest

final class ConnectionTests: XCTestCase {
    func testQueriesWithBoundParameters() throws {
        let conn = try PGConnection(conninfo: try TestEnvironment.postgresConninfo())
        let result = try conn.query("select $1::int + 1 as n, $2::text is null as isnull", ["41", nil])
        XCTAssertEqual(result.columns, ["n", "isnull"])
        XCTAssertEqual(result.rows, [["42", "t"]])
        XCTAssertGreaterThanOrEqual(conn.serverVersion, 150000)
    }

    func testStatementTimeoutCancelsTheQueryAndKeepsTheConnectionUsable() throws {
        let conn = try PGConnection(conninfo: try TestEnvironment.postgresConninfo())
        let start = Date()
        XCTAssertThrowsError(try conn.query("select pg_sleep(30)", timeout: 0.3)) { error in
            XCTAssertEqual((error as? PostgresError)?.code, .timedOut)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(try conn.query("select 1").scalar, "1")
    }

    func testWrongPasswordFailsWithoutEchoingIt() throws {
        let good = try TestEnvironment.postgresConninfo()
        let bad = good.replacingOccurrences(of: "password=", with: "password=wrong-") 
        XCTAssertThrowsError(try PGConnection(conninfo: bad)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("password authentication failed"), text)
            XCTAssertFalse(text.contains("wrong-"), "the password must never reach an error message")
        }
    }

    func testMalformedConninfoIsRejectedBeforeConnecting() {
        XCTAssertThrowsError(try PGConnection(conninfo: "host=127.0.0.1 nonsense")) { error in
            XCTAssertEqual((error as? PostgresError)?.code, .badConninfo)
        }
    }

    func testQuoteIdentifierUsesLibpqRules() throws {
        let conn = try PGConnection(conninfo: try TestEnvironment.postgresConninfo())
        XCTAssertEqual(try conn.quoteIdentifier("My \"Table\""), "\"My \"\"Table\"\"\"")
    }
}
