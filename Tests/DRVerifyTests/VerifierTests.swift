import DRCore
import DRPostgres
import DRTestSupport
@testable import DRVerify
import XCTest

/// The verifier against a real PostgreSQL 15: every object kind, every kind of difference,
/// identical and dump-restored copies, one snapshot across workers, timeouts and cancellation.
final class VerifierTests: XCTestCase {
    private var databases: [TestDatabase] = []

    override func tearDown() {
        databases.forEach { $0.drop() }
        databases = []
    }

    private func database(template: TestDatabase? = nil) throws -> TestDatabase {
        let db = try TestDatabase(prefix: "drv", template: template)
        databases.append(db)
        return db
    }

    private func fixture() throws -> TestDatabase {
        let db = try database()
        try db.psql(Fixture.schema)
        return db
    }

    func testCaptureCoversEveryObjectKind() async throws {
        let db = try fixture()
        let m = try await Manifest.capture(conninfo: db.conninfo, options: CaptureOptions(jobs: 2))
        for kind in ObjectKind.allCases {
            XCTAssertFalse(m.objects(kind).isEmpty, "no \(kind.rawValue) captured")
        }
        let table = m.objects(.table)
        XCTAssertEqual(table[Fixture.oddTable]?["kind"], "ordinary")
        XCTAssertEqual(table[#""Odd Schema".parted"#]?["kind"], "partitioned table")
        XCTAssertEqual(table[#""Odd Schema".parted"#]?["partition_key"], "RANGE (k)")
        XCTAssertEqual(table[#""Odd Schema"."parted 1""#]?["kind"], "partition")
        XCTAssertEqual(table[#""Odd Schema"."parted 1""#]?["parent"], #""Odd Schema".parted"#)
        XCTAssertEqual(table[#""Odd Schema"."parted 1""#]?["partition_bound"], "FOR VALUES FROM (0) TO (100)")
        XCTAssertEqual(table[#""Odd Schema".inh_child"#]?["kind"], "inheritance child")
        XCTAssertEqual(table[#""Odd Schema".cache"#]?["persistence"], "unlogged")
        XCTAssertEqual(table[#""Odd Schema".child"#]?["row_security"], "enabled")

        let columns = m.objects(.column)
        let mixed = columns[Fixture.oddTable + #"."Mixed Case""#]
        XCTAssertEqual(mixed?["type"], "text")
        XCTAssertEqual(mixed?["collation"], #"pg_catalog."C""#)
        XCTAssertEqual(mixed?["default"], "'x'::text")
        XCTAssertEqual(mixed?["nullable"], "not null")
        XCTAssertEqual(columns[Fixture.oddTable + ".id"]?["identity"], "always")
        XCTAssertEqual(columns[Fixture.oddTable + ".doubled"]?["generated"], "(id * 2)")
        XCTAssertEqual(columns[Fixture.oddTable + ".price"]?["type"], "numeric(10,2)")
        XCTAssertEqual(columns[Fixture.oddTable + ".handle"]?["type"], "public.citext")

        XCTAssertEqual(m.objects(.constraint)[#""Odd Schema".child.nv"#]?["validity"], "not valid")
        XCTAssertEqual(m.objects(.constraint)[#""Odd Schema".excl.excl_r_excl"#]?["type"], "exclusion")
        XCTAssertEqual(m.objects(.index)[#""Odd Schema"."idx lower""#]?["features"], "partial, expression")
        XCTAssertEqual(m.objects(.sequence)[#""Odd Schema"."Seq One""#]?["last_value"], "8")
        XCTAssertEqual(m.objects(.materializedView)[#""Odd Schema".mv_empty"#]?["populated"], "not populated")
        XCTAssertEqual(m.objects(.function)[#""Odd Schema"."Add"(a integer, b integer)"#]?["body"], "SELECT a + b")
        XCTAssertEqual(m.objects(.function)[#""Odd Schema".proc(IN x integer)"#]?["kind"], "procedure")
        XCTAssertEqual(m.objects(.enum)[#""Odd Schema"."Mood""#]?["labels"], #"["sad", "ok", "happy"]"#)
        XCTAssertEqual(m.objects(.domain)[#""Odd Schema".positive"#]?["constraints"], #""is positive" CHECK ((VALUE > 0))"#)
        XCTAssertEqual(m.objects(.compositeType)[#""Odd Schema".pair"#]?["attributes"], #"a integer, "B b" text"#)
        XCTAssertEqual(m.objects(.extension)["citext"]?["version"], "1.6")
        XCTAssertEqual(m.objects(.policy)[#""Odd Schema".child."see all""#]?["using"], "true")
        XCTAssertNotNil(m.objects(.trigger)[#""Odd Schema".child."Trig Ger""#])

        // Exact counts, a parent counting only its own rows; partitioned parents hold none.
        XCTAssertEqual(m.rowCounts[Fixture.oddTable], 30)
        XCTAssertEqual(m.rowCounts[#""Odd Schema"."parted 1""#], 100)
        XCTAssertEqual(m.rowCounts[#""Odd Schema".parted_2"#], 50)
        XCTAssertNil(m.rowCounts[#""Odd Schema".parted"#])
        XCTAssertEqual(m.rowCounts[#""Odd Schema".inh_parent"#], 2)
        XCTAssertEqual(m.rowCounts[#""Odd Schema".inh_child"#], 1)
        XCTAssertEqual(m.server.database, db.name)
        XCTAssertNotNil(m.server.systemIdentifier)
    }

    func testManifestIsDeterministicAndHoldsNoCredentials() async throws {
        let db = try fixture()
        var first = try await Manifest.capture(conninfo: db.conninfo, options: CaptureOptions(jobs: 3))
        var second = try await Manifest.capture(conninfo: db.conninfo, options: CaptureOptions(jobs: 1))
        first.capturedAt = ""; second.capturedAt = ""
        XCTAssertEqual(try first.jsonData(), try second.jsonData())
        let text = String(decoding: try first.jsonData(), as: UTF8.self)
        let password = db.conninfo.components(separatedBy: "password=")[1].components(separatedBy: " ")[0]
        XCTAssertFalse(text.contains(password))
        XCTAssertEqual(try Manifest.decode(first.jsonData()), first)
    }

    func testIdenticalAndDumpRestoredCopiesPassWithNoFinding() async throws {
        let source = try fixture()
        let manifest = try await Manifest.capture(conninfo: source.conninfo)
        let copy = try database(template: source)
        let restored = try database()
        try restored.restoreDump(of: source)
        for target in [copy, restored] {
            let report = try await Verifier.verify(conninfo: target.conninfo, against: .manifest(manifest))
            XCTAssertEqual(report.findings, [], "\(target.name)")
            XCTAssertTrue(report.passed)
            XCTAssertEqual(report.summary.rowsCounted, manifest.totalRows)
        }
        let live = try await Verifier.verify(conninfo: restored.conninfo, against: .live(conninfo: source.conninfo))
        XCTAssertEqual(live.findings, [])
    }

    func testTheSampleDatasetRoundTripsThroughPgDump() async throws {
        let source = try database()
        try source.psql(file: TestDatabase.repositoryRoot.appendingPathComponent("scripts/sample/platform.sql").path,
                        variables: ["scale": "0.1"])
        let restored = try database()
        try restored.restoreDump(of: source)
        let report = try await Verifier.verify(conninfo: restored.conninfo, against: .live(conninfo: source.conninfo))
        XCTAssertEqual(report.findings, [])
        XCTAssertGreaterThan(report.summary.tablesCounted, 50)
    }

    func testEveryKindOfDifferenceIsCaught() async throws {
        let db = try fixture()
        let manifest = try await Manifest.capture(conninfo: db.conninfo)
        try db.psql(#"""
        ALTER TABLE "Odd Schema".wide DROP COLUMN b;
        ALTER TABLE "Odd Schema".wide ADD COLUMN d integer;
        ALTER TABLE "Odd Schema".wide ALTER COLUMN c TYPE bigint;
        ALTER TABLE "Odd Schema".wide ALTER COLUMN a SET NOT NULL;
        ALTER TABLE "Odd Schema"."My ""Quoted"" Table" ALTER COLUMN "Mixed Case" SET DEFAULT 'y';
        ALTER TABLE "Odd Schema"."My ""Quoted"" Table" DROP CONSTRAINT "price positive";
        ALTER TABLE "Odd Schema".child VALIDATE CONSTRAINT nv;
        DROP INDEX "Odd Schema"."idx lower";
        SELECT FROM setval('"Odd Schema"."Seq One"', 5);
        CREATE OR REPLACE VIEW "Odd Schema"."V iew" AS
          SELECT id, "Mixed Case" FROM "Odd Schema"."My ""Quoted"" Table" WHERE id > 1;
        REFRESH MATERIALIZED VIEW "Odd Schema".mv_empty;
        CREATE OR REPLACE FUNCTION "Odd Schema"."Add"(a integer, b integer DEFAULT 1) RETURNS integer
          LANGUAGE sql IMMUTABLE AS 'SELECT a + b + 0';
        DROP PROCEDURE "Odd Schema".proc;
        ALTER TABLE "Odd Schema".child DISABLE TRIGGER "Trig Ger";
        ALTER TYPE "Odd Schema"."Mood" ADD VALUE 'meh' BEFORE 'ok';
        ALTER DOMAIN "Odd Schema".positive DROP DEFAULT;
        ALTER TYPE "Odd Schema".pair ADD ATTRIBUTE c integer;
        ALTER EXTENSION citext UPDATE TO '1.6';
        ALTER POLICY "see all" ON "Odd Schema".child USING (ref > 0);
        ALTER TABLE "Odd Schema".parted DETACH PARTITION "Odd Schema".parted_2;
        ALTER TABLE "Odd Schema".parted ATTACH PARTITION "Odd Schema".parted_2 FOR VALUES FROM (100) TO (300);
        ALTER TABLE "Odd Schema".cache SET LOGGED;
        DELETE FROM "Odd Schema".child WHERE ref = 1;
        CREATE TABLE "Odd Schema"."Extra ""Table""" (x integer);
        """#)
        let report = try await Verifier.verify(conninfo: db.conninfo, against: .manifest(manifest))
        let got = Set(report.findings.map { "\($0.kind.rawValue) \($0.name) \($0.difference.rawValue) \($0.property ?? "-")" })
        let want: Set<String> = [
            #"column "Odd Schema".wide.b missing -"#,
            #"column "Odd Schema".wide.d unexpected -"#,
            #"column "Odd Schema".wide.c changed type"#,
            #"column "Odd Schema".wide.a changed nullable"#,
            #"column "Odd Schema"."My ""Quoted"" Table"."Mixed Case" changed default"#,
            #"constraint "Odd Schema"."My ""Quoted"" Table"."price positive" missing -"#,
            #"constraint "Odd Schema".child.nv changed definition"#,
            #"constraint "Odd Schema".child.nv changed validity"#,
            #"index "Odd Schema"."idx lower" missing -"#,
            #"sequence "Odd Schema"."Seq One" sequence behind last_value"#,
            #"view "Odd Schema"."V iew" changed definition"#,
            #"materialized view "Odd Schema".mv_empty changed populated"#,
            #"function "Odd Schema"."Add"(a integer, b integer) changed body"#,
            #"function "Odd Schema".proc(IN x integer) missing -"#,
            #"trigger "Odd Schema".child."Trig Ger" changed enabled"#,
            #"enum "Odd Schema"."Mood" changed labels"#,
            #"domain "Odd Schema".positive changed default"#,
            #"composite type "Odd Schema".pair changed attributes"#,
            #"policy "Odd Schema".child."see all" changed using"#,
            #"table "Odd Schema".parted_2 changed partition_bound"#,
            #"table "Odd Schema".cache changed persistence"#,
            #"table "Odd Schema".child row count rows"#,
            #"table "Odd Schema"."Extra ""Table""" unexpected -"#,
        ]
        XCTAssertEqual(got.subtracting(want), [], "unexpected findings")
        XCTAssertEqual(want.subtracting(got), [], "differences not caught")
        XCTAssertFalse(report.passed)
        let behind = report.findings.first { $0.difference == .sequenceBehind }
        XCTAssertEqual(behind?.expected, "8")
        XCTAssertEqual(behind?.found, "5")
        let rows = report.findings.first { $0.difference == .rowCount }
        XCTAssertEqual([rows?.expected, rows?.found], ["10", "9"])
    }

    /// A manifest in format 1 (camelCase, no owners or privileges), written by the dr before
    /// format 2 and committed as it was, still verifies the schema it was captured from.
    func testAFormatOneManifestStillVerifies() async throws {
        let folder = TestDatabase.repositoryRoot.appendingPathComponent("Tests/Fixtures/verify-format-1")
        let db = try database()
        try db.psql(file: folder.appendingPathComponent("schema.sql").path)
        let url = folder.appendingPathComponent("manifest.json")
        let manifest = try Manifest.read(from: url)
        XCTAssertEqual(manifest.version, 1)
        XCTAssertEqual(manifest.objects(.table)[#""Odd Schema".child"#]?["row_security"], "enabled")
        XCTAssertEqual(manifest.objects(.sequence)[#""Odd Schema"."Seq One""#]?["last_value"], "8")
        // It was captured on another cluster, from a database of another name.
        let report = try await Verifier.verify(conninfo: db.conninfo, against: .manifestFile(url), options: VerifyOptions(allowOtherDatabase: true))
        XCTAssertEqual(report.findings, [])
        XCTAssertGreaterThan(report.summary.objectsChecked, 60)
        try db.psql(#"DELETE FROM "Odd Schema".wide WHERE a = 1; ALTER TABLE "Odd Schema".wide ALTER COLUMN c TYPE bigint;"#)
        let changed = try await Verifier.verify(conninfo: db.conninfo, against: .manifestFile(url), options: VerifyOptions(allowOtherDatabase: true))
        XCTAssertEqual(Set(changed.failures.map(\.summary)), [#"table "Odd Schema".wide: expected 20 rows, found 19"#,
                                                              #"column "Odd Schema".wide.c: type: expected integer, found bigint"#])
    }

    func testAManifestOfAnotherDatabaseIsRefusedBeforeAnyRowIsRead() async throws {
        let db = try fixture()
        var manifest = try await Manifest.capture(conninfo: db.conninfo)
        manifest.server.database = "shop"
        manifest.server.systemIdentifier = "7000000000000000001"
        do {
            _ = try await Verifier.verify(conninfo: db.conninfo, against: .manifest(manifest))
            XCTFail("a manifest of another database is refused")
        } catch let error as DRError {
            XCTAssertEqual(error.code, .otherDatabase)
            XCTAssertTrue(error.message.contains(#""shop" (cluster 7000000000000000001"#), error.message)
            XCTAssertTrue(error.message.contains("\"\(db.name)\""), error.message)
            XCTAssertEqual(error.text.parameters, [.allowOtherDatabase])
        }
        // The same name on another cluster (a dump restored elsewhere), or another name on the
        // same cluster (a copy beside it): the same database.
        manifest.server.database = db.name
        let sameName = try await Verifier.verify(conninfo: db.conninfo, against: .manifest(manifest))
        XCTAssertTrue(sameName.passed)
    }

    func testExtensionVersionDifferenceIsCaught() async throws {
        let db = try database()
        try db.psql("CREATE EXTENSION hstore VERSION '1.7';")
        let manifest = try await Manifest.capture(conninfo: db.conninfo)
        try db.psql("ALTER EXTENSION hstore UPDATE TO '1.8';")
        let report = try await Verifier.verify(conninfo: db.conninfo, against: .manifest(manifest))
        XCTAssertEqual(report.findings, [Finding(kind: .extension, name: "hstore", difference: .changed,
                                                 property: "version", expected: "1.7", found: "1.8")])
    }

    func testMissingTableIsOneFindingNotOnePerColumn() async throws {
        let db = try fixture()
        let manifest = try await Manifest.capture(conninfo: db.conninfo)
        try db.psql(#"DROP TABLE "Odd Schema".wide CASCADE;"#)
        let report = try await Verifier.verify(conninfo: db.conninfo, against: .manifest(manifest))
        // Its columns and constraints go unmentioned; the view built on it is an object of its own.
        XCTAssertEqual(report.failures.map(\.summary), [#"table "Odd Schema".wide is missing"#,
                                                        #"materialized view "Odd Schema".mv is missing"#])
    }

    func testUnloggedTableFoundEmptyIsAcceptedAsExpected() async throws {
        let db = try fixture()
        let manifest = try await Manifest.capture(conninfo: db.conninfo)
        try db.psql(#"TRUNCATE "Odd Schema".cache;"#)
        let report = try await Verifier.verify(conninfo: db.conninfo, against: .manifest(manifest))
        XCTAssertTrue(report.passed)
        XCTAssertEqual(report.findings.map(\.difference), [.expectedEmpty])
        XCTAssertNotNil(report.findings.first?.accepted)
    }

    func testRowToleranceAgainstALiveSource() async throws {
        let source = try fixture()
        let target = try database(template: source)
        try target.psql(#"INSERT INTO "Odd Schema".wide SELECT g, 'b', g FROM generate_series(100, 101) g;"#) // 20 → 22
        func verify(_ rows: RowTolerance) async throws -> VerificationReport {
            try await Verifier.verify(conninfo: target.conninfo, against: .live(conninfo: source.conninfo),
                                      options: VerifyOptions(rows: rows))
        }
        let exact = try await verify(.exact)
        XCTAssertFalse(exact.passed)
        let atLeast = try await verify(.atLeast)
        XCTAssertTrue(atLeast.passed)
        XCTAssertEqual(atLeast.findings.first?.accepted, "--rows at-least: 22 ≥ 20")
        let within = try await verify(.within(percent: 10))
        XCTAssertTrue(within.passed)
        XCTAssertEqual(within.findings.first?.accepted, "--rows within=10%: differs by 10%")
        let tooTight = try await verify(.within(percent: 5))
        XCTAssertFalse(tooTight.passed)
    }

    /// Counts on several connections read one snapshot: with a writer adding a row to two
    /// tables in each transaction, and each table counted on its own connection, the two
    /// counts must still agree.
    func testParallelCountsShareOneSnapshot() async throws {
        let db = try database()
        var setup = "CREATE TABLE pair_a (x int); CREATE TABLE pair_b (x int);"
        for i in 0..<8 { setup += "CREATE TABLE filler_\(i) AS SELECT g FROM generate_series(1, 20000) g;" }
        try db.psql(setup)
        let writer = try PGConnection(conninfo: db.conninfo)
        let stop = ManagedAtomicFlag()
        let writing = Thread {
            while !stop.isSet {
                _ = try? writer.query("WITH a AS (INSERT INTO pair_a VALUES (1)) INSERT INTO pair_b VALUES (1)")
            }
        }
        writing.start()
        defer { stop.set() }
        var options = CaptureOptions(jobs: 4)
        options.tablesPerBatch = 1
        for _ in 0..<5 {
            let m = try await Manifest.capture(conninfo: db.conninfo, options: options)
            XCTAssertEqual(m.rowCounts["public.pair_a"], m.rowCounts["public.pair_b"])
        }
        stop.set()
        while !writing.isFinished { try await Task.sleep(nanoseconds: 10_000_000) }
        XCTAssertGreaterThan(Int(try db.scalar("SELECT count(*) FROM pair_a") ?? "0") ?? 0, 0)
    }

    func testStatementTimeoutCancelsALongCount() async throws {
        let db = try fixture()
        let locker = try PGConnection(conninfo: db.conninfo)
        try locker.query("BEGIN")
        try locker.query(#"LOCK TABLE "Odd Schema".wide IN ACCESS EXCLUSIVE MODE"#)
        defer { _ = try? locker.query("ROLLBACK") }
        let start = Date()
        do {
            _ = try await Manifest.capture(conninfo: db.conninfo, options: CaptureOptions(jobs: 2, statementTimeout: 0.5))
            XCTFail("the capture should time out")
        } catch let error as DRError {
            XCTAssertEqual(error.category, .timedOut)
            // The library names the parameter; the command line words it as its flag.
            let cli = Vocabulary { "--" + $0.name.replacingOccurrences(of: "_", with: "-") }
            XCTAssertTrue(error.message(in: cli).contains("--statement-timeout"), error.message)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func testCancellingTheTaskCancelsRunningQueries() async throws {
        let db = try fixture()
        let locker = try PGConnection(conninfo: db.conninfo)
        try locker.query("BEGIN")
        try locker.query(#"LOCK TABLE "Odd Schema".wide IN ACCESS EXCLUSIVE MODE"#)
        defer { _ = try? locker.query("ROLLBACK") }
        let conninfo = db.conninfo
        let task = Task { try await Manifest.capture(conninfo: conninfo, options: CaptureOptions(jobs: 2, statementTimeout: 60)) }
        try await Task.sleep(nanoseconds: 500_000_000)
        let start = Date()
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("the capture should be interrupted")
        } catch let error as DRError {
            XCTAssertEqual(error, .interrupted)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
        let waiting = try locker.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dr verify' AND state = 'active'").scalar
        XCTAssertEqual(waiting, "0")
    }

    func testUnreachableServerIsBadInputWithoutThePassword() async throws {
        do {
            _ = try await Manifest.capture(conninfo: "host=127.0.0.1 port=1 dbname=x user=u password=s3cret-pw connect_timeout=2")
            XCTFail("should not connect")
        } catch let error as DRError {
            XCTAssertEqual(error.category, .badInput)
            XCTAssertFalse(error.message.contains("s3cret-pw"), error.message)
            XCTAssertTrue(error.message.contains("Could not connect"), error.message)
        }
    }
}

/// A flag one thread sets and another reads.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
