import DRCore
import DRPostgres
import DRTestSupport
@testable import DRVerify
import XCTest

/// 10,000 tables on a server with the default `max_locks_per_transaction` (64): the capture
/// and the verification both work (one transaction holding a lock on every table and index
/// needs ~20,000 lock slots; the server has ~7,800), and the built binary stays under 100 MiB.
final class ScaleTests: XCTestCase {
    private var databases: [TestDatabase] = []

    override func tearDown() {
        databases.forEach { $0.drop() }
        databases = []
    }

    /// Tables with a primary key (a lock each for the table and its index), one in ten with a
    /// serial (a sequence), a few rows in some — built by one multi-statement query, committing
    /// every 500 tables so that the build itself fits in the lock table.
    static func tenThousandTables(_ db: TestDatabase) throws {
        var sql = "SET client_min_messages = warning; BEGIN;"
        for i in 0..<10_000 {
            sql += i % 10 == 0 ? "CREATE TABLE public.t\(i) (id serial PRIMARY KEY, v int);"
                               : "CREATE TABLE public.t\(i) (id int PRIMARY KEY, v int);"
            if i % 500 == 499 { sql += "COMMIT; BEGIN;" }
        }
        sql += "COMMIT; INSERT INTO public.t0 (v) SELECT g FROM generate_series(1, 25) g;"
        sql += "INSERT INTO public.t9999 SELECT g, g FROM generate_series(1, 7) g;"
        let conn = try PGConnection(conninfo: db.conninfo)
        defer { conn.close() }
        try conn.execute(sql)
    }

    func testTenThousandTablesVerifyWithTheDefaultLockTable() throws {
        let server = try PGConnection(conninfo: try TestEnvironment.postgresConninfo())
        XCTAssertEqual(try server.query("SELECT current_setting('max_locks_per_transaction')").scalar, "64")
        server.close()
        let db = try TestDatabase(prefix: "drs")
        databases.append(db)
        try Self.tenThousandTables(db)

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("dr-scale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let manifest = work.appendingPathComponent("m.json").path

        let capture = try Self.runMeasured(["verify", "capture", "--db", db.conninfo, "--out", manifest])
        XCTAssertEqual(capture.result.status, 0, capture.result.stderr)
        XCTAssertTrue(capture.result.stdout.contains("10000 tables"), capture.result.stdout)
        XCTAssertLessThan(capture.maxRSSMiB, 100, "capture peak memory")

        let verify = try Self.runMeasured(["verify", "--db", db.conninfo, "--manifest", manifest])
        XCTAssertEqual(verify.result.status, 0, verify.result.stdout + verify.result.stderr)
        XCTAssertTrue(verify.result.stdout.contains("PASS"), verify.result.stdout)
        XCTAssertLessThan(verify.maxRSSMiB, 100, "verify peak memory")

        let m = try Manifest.read(from: URL(fileURLWithPath: manifest))
        XCTAssertEqual(m.rowCounts.count, 10_000)
        XCTAssertEqual(m.rowCounts["public.t0"], 25)
        XCTAssertEqual(m.rowCounts["public.t9999"], 7)
        XCTAssertEqual(m.objects(.sequence).count, 1_000)
        XCTAssertEqual(m.objects(.sequence)["public.t0_id_seq"]?["last_value"], "25")
        XCTAssertEqual(m.objects(.index).count, 10_000)
    }

    /// Runs the built binary under a small Python wrapper that reports the child's peak
    /// resident memory (`getrusage(RUSAGE_CHILDREN)`: the only child is dr).
    static func runMeasured(_ arguments: [String]) throws -> (result: ProcessResult, maxRSSMiB: Double) {
        let wrapper = """
            import resource, subprocess, sys
            r = subprocess.run(sys.argv[1:])
            sys.stderr.write("\\nmax-rss-kib=%d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            sys.exit(r.returncode)
            """
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        let result = try SystemProcessRunner.runBlocking("/usr/bin/python3", ["-c", wrapper, DRBinary.path] + arguments, env)
        let kib = result.stderr.components(separatedBy: "max-rss-kib=").last.flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? .infinity
        return (result, kib / 1024)
    }
}
