import DRCore
import DRPostgres
import DRTestSupport
@testable import DRVerify
import XCTest

/// `content: checksum` against a real PostgreSQL 15: every kind of change the issue lists is
/// caught against a manifest and named by key against a live source; identical, dump-restored
/// and physically restored copies pass; exclusions are counted, not hashed, and said so.
final class ContentTests: XCTestCase {
    private var databases: [TestDatabase] = []
    private var clusters: [TestCluster] = []

    override func tearDown() {
        databases.forEach { $0.drop() }
        databases = []
        clusters.forEach { $0.stop() }
        clusters = []
    }

    private func database(template: TestDatabase? = nil) throws -> TestDatabase {
        let db = try TestDatabase(prefix: "drh", template: template)
        databases.append(db)
        return db
    }

    private static let checksum = VerifyOptions(capture: CaptureOptions(jobs: 2, content: .checksum))

    /// Keyed tables with NULLs and empty strings, a TOASTed value, a partitioned table, an
    /// inheritance child whose columns a dump reorders, a keyless table and a sequence.
    static let schema = #"""
    SET client_min_messages = warning;
    CREATE TABLE items (id int PRIMARY KEY, a text, b int, note text, big text, at timestamptz, f float8, n numeric, j jsonb, tags text[]);
    INSERT INTO items
      SELECT g, 'a' || g, g * 10, CASE WHEN g % 3 = 0 THEN '' WHEN g % 3 = 1 THEN NULL ELSE 'n' || g END,
             NULL, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute', g / 3.0, g / 7.0,
             jsonb_build_object('g', g), ARRAY['x' || g, NULL]
      FROM generate_series(1, 300) g;
    -- A value of ~20 kB that does not compress: stored out of line (TOAST).
    UPDATE items SET big = (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 640) i) WHERE id = 1;
    CREATE TABLE parts (region text NOT NULL, id int NOT NULL, v text, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
    CREATE TABLE parts_eu PARTITION OF parts FOR VALUES IN ('eu');
    CREATE TABLE parts_us PARTITION OF parts FOR VALUES IN ('us');
    INSERT INTO parts SELECT CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, g, 'v' || g FROM generate_series(1, 200) g;
    CREATE TABLE base (k int PRIMARY KEY, x text);
    CREATE TABLE derived (y text) INHERITS (base);
    ALTER TABLE base ADD COLUMN z int;
    INSERT INTO derived (k, x, y, z) SELECT g, 'x' || g, 'y' || g, g FROM generate_series(1, 50) g;
    CREATE TABLE keyless (v text);
    INSERT INTO keyless SELECT 'k' || g FROM generate_series(1, 20) g;
    CREATE TABLE audit (id serial PRIMARY KEY, what text);
    INSERT INTO audit (what) SELECT 'w' || g FROM generate_series(1, 40) g;
    """#

    private func source() throws -> TestDatabase {
        let db = try database()
        try db.psql(Self.schema)
        return db
    }

    /// Each change, made on its own copy of the source: caught against the manifest (contents
    /// differ, table named) and named by key against the live source.
    func testEveryKindOfChangeIsCaughtAndNamedByKey() async throws {
        let src = try source()
        let manifest = try await Manifest.capture(conninfo: src.conninfo, options: Self.checksum.capture)
        let cases: [(String, String, [String: [(KeyRange.Kind, [String])]])] = [
            ("a changed value", "UPDATE items SET b = b + 1 WHERE id = 42",
             ["public.items": [(.changed, ["42"])]]),
            ("a swapped pair of values", "UPDATE items SET a = CASE id WHEN 10 THEN 'a11' ELSE 'a10' END WHERE id IN (10, 11)",
             ["public.items": [(.changed, ["10"]), (.changed, ["11"])]]),
            ("a NULL set where the value was empty", "UPDATE items SET note = NULL WHERE id = 6",
             ["public.items": [(.changed, ["6"])]]),
            ("a changed TOASTed value", "UPDATE items SET big = overlay(big PLACING 'X' FROM 15000 FOR 1) WHERE id = 1",
             ["public.items": [(.changed, ["1"])]]),
            ("a row moved between partitions", "UPDATE parts SET region = 'us' WHERE region = 'eu' AND id = 8",
             ["public.parts_eu": [(.missing, ["eu", "8"])], "public.parts_us": [(.unexpected, ["us", "8"])]]),
        ]
        for (label, change, expected) in cases {
            let copy = try database(template: src)
            // The empty string and NULL differ: the change must be real for the test to mean anything.
            try copy.psql(change)
            let report = try await Verifier.verify(conninfo: copy.conninfo, against: .manifest(manifest), options: Self.checksum)
            XCTAssertFalse(report.passed, label)
            let differing = report.failures.filter { $0.difference == .content }.map(\.name)
            XCTAssertEqual(Set(differing), Set(expected.keys), "\(label): \(report.failures.map(\.summary))")

            let live = try await Verifier.verify(conninfo: copy.conninfo, against: .live(conninfo: src.conninfo), options: Self.checksum)
            for (table, rows) in expected {
                let finding = try XCTUnwrap(live.findings.first { $0.name == table && $0.difference == .content }, "\(label): \(table)")
                let named = (finding.ranges ?? []).map { "\($0.kind.rawValue) \($0.from ?? [])" }
                XCTAssertEqual(named, rows.map { "\($0.0.rawValue) \($0.1)" }, "\(label): \(table)")
            }
            copy.drop()
        }
    }

    func testIdenticalDumpRestoredAndPhysicallyRestoredCopiesPass() async throws {
        let src = try source()
        let manifest = try await Manifest.capture(conninfo: src.conninfo, options: Self.checksum.capture)
        XCTAssertEqual(manifest.contents?.checksums.count, manifest.rowCounts.count)
        let copy = try database(template: src)
        let restored = try database()
        try restored.restoreDump(of: src)
        // The dump reordered the inheritance child's columns; the checksum does not care.
        XCTAssertNotEqual(try restored.scalar("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'derived'::regclass AND attnum > 0"),
                          try src.scalar("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'derived'::regclass AND attnum > 0"))
        for target in [copy, restored] {
            let report = try await Verifier.verify(conninfo: target.conninfo, against: .manifest(manifest), options: Self.checksum)
            XCTAssertEqual(report.findings, [], target.name)
            XCTAssertEqual(report.summary.tablesHashed, manifest.rowCounts.count)
        }
        let live = try await Verifier.verify(conninfo: restored.conninfo, against: .live(conninfo: src.conninfo), options: Self.checksum)
        XCTAssertEqual(live.findings, [])

        // A physical restore: a base backup of another cluster, started (replaying its WAL).
        let cluster = try TestCluster(name: "hsrc")
        clusters.append(cluster)
        try cluster.execute("CREATE DATABASE app")
        let primary = cluster.conninfo + " dbname=app"
        let loader = try PGConnection(conninfo: primary)
        // An unlogged table with a serial: PostgreSQL 15 makes its sequence unlogged, and the
        // restore empties the one and resets the other (it is not "behind").
        try loader.execute(Self.schema + """
            CREATE UNLOGGED TABLE sessions (id serial PRIMARY KEY, who text);
            INSERT INTO sessions (who) SELECT 'u' || g FROM generate_series(1, 25) g;
            """)
        loader.close()
        let physical = try await Manifest.capture(conninfo: primary, options: Self.checksum.capture)
        XCTAssertEqual(physical.objects(.sequence)["public.sessions_id_seq"]?["persistence"], "unlogged")
        XCTAssertEqual(physical.objects(.sequence)["public.sessions_id_seq"]?["last_value"], "25")
        let copyOfCluster = try PhysicalCopy(of: cluster)
        defer { copyOfCluster.stop() }
        let report = try await Verifier.verify(conninfo: copyOfCluster.conninfo + " dbname=app", against: .manifest(physical), options: Self.checksum)
        let shown = report.findings.map(\.summary).joined(separator: "\n")
        XCTAssertTrue(report.passed, report.failures.map(\.summary).joined(separator: "\n"))
        XCTAssertTrue(report.findings.allSatisfy { [.sequenceAhead, .expectedEmpty, .sequenceReset].contains($0.difference) }, shown)
        XCTAssertTrue(report.findings.contains { $0.name == "public.sessions" && $0.difference == .expectedEmpty && $0.isAccepted }, shown)
        let reset = try XCTUnwrap(report.findings.first { $0.name == "public.sessions_id_seq" }, shown)
        XCTAssertEqual(reset.difference, .sequenceReset)
        XCTAssertEqual(reset.expected, "25")
        XCTAssertTrue(reset.accepted?.contains("unlogged table public.sessions") ?? false, shown)
    }

    func testExcludedTablesAreCountedNotHashedAndSaidSo() async throws {
        let src = try source()
        var options = Self.checksum
        options.capture.excludeContent = [TableName(schema: "public", table: "audit"), TableName(schema: "public", table: "parts")]
        let manifest = try await Manifest.capture(conninfo: src.conninfo, options: options.capture)
        XCTAssertEqual(Set(manifest.contents?.excluded ?? []), ["public.audit", "public.parts_eu", "public.parts_us"])
        XCTAssertNil(manifest.contents?.checksums["public.audit"])
        XCTAssertEqual(manifest.rowCounts["public.audit"], 40)

        let copy = try database(template: src)
        try copy.psql("UPDATE audit SET what = 'changed' WHERE id = 1; UPDATE parts SET v = 'changed' WHERE id = 1")
        let report = try await Verifier.verify(conninfo: copy.conninfo, against: .manifest(manifest), options: options)
        XCTAssertTrue(report.passed, report.failures.map(\.summary).joined(separator: "\n"))
        XCTAssertEqual(Set(report.findings.filter { $0.difference == .contentNotCompared }.map(\.name)),
                       ["public.audit", "public.parts_eu", "public.parts_us"])
        XCTAssertTrue(report.findings.allSatisfy(\.isAccepted))

        // Left out when the manifest was captured, the table is not compared even when asked.
        let all = try await Verifier.verify(conninfo: copy.conninfo, against: .manifest(manifest), options: Self.checksum)
        XCTAssertTrue(all.passed)
        XCTAssertEqual(all.findings.first { $0.name == "public.audit" }?.accepted, "left out of the content check when the reference was captured")

        var unknown = Self.checksum
        unknown.capture.excludeContent = [TableName(schema: "public", table: "nope")]
        do {
            _ = try await Manifest.capture(conninfo: src.conninfo, options: unknown.capture)
            XCTFail("an exclusion naming no table is refused")
        } catch let error as DRError {
            XCTAssertEqual(error.category, .badInput)
            XCTAssertTrue(error.message.contains("public.nope"), error.message)
        }
    }

    func testUnloggedTablesStayExpectedEmpty() async throws {
        let src = try database()
        try src.psql("CREATE UNLOGGED TABLE cache (k int PRIMARY KEY, v text); INSERT INTO cache SELECT g, 'v' FROM generate_series(1, 10) g;")
        let manifest = try await Manifest.capture(conninfo: src.conninfo, options: Self.checksum.capture)
        let copy = try database(template: src)
        try copy.psql("TRUNCATE cache")
        let report = try await Verifier.verify(conninfo: copy.conninfo, against: .manifest(manifest), options: Self.checksum)
        XCTAssertTrue(report.passed)
        XCTAssertEqual(report.findings.map(\.difference), [.expectedEmpty])
    }

    func testAManifestWithoutContentsIsRefusedBeforeAnythingIsRead() async throws {
        let src = try source()
        let manifest = try await Manifest.capture(conninfo: src.conninfo)
        XCTAssertNil(manifest.contents)
        do {
            _ = try await Verifier.verify(conninfo: "host=127.0.0.1 port=1 dbname=x connect_timeout=1", against: .manifest(manifest), options: Self.checksum)
            XCTFail("no contents to compare with")
        } catch let error as DRError {
            XCTAssertEqual(error.code, .noContents)
            XCTAssertTrue(error.message.contains("without contents"), error.message)
        }
    }

    /// One changed row in 200,000, and a table without a key: the narrowing names the row within
    /// the query budget, and says why it cannot name anything for the other.
    func testNarrowingNamesOneRowInTwoHundredThousandWithinTheBudget() async throws {
        let src = try database()
        try src.psql("""
            CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL);
            INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 200000) g;
            CREATE TABLE pairs (a text COLLATE "C", b int, v int, PRIMARY KEY (a, b));
            INSERT INTO pairs SELECT chr(65 + g % 26) || (g / 26), g % 7, g FROM generate_series(1, 5000) g;
            CREATE TABLE keyless (v text);
            INSERT INTO keyless SELECT 'k' || g FROM generate_series(1, 20) g;
            """)
        let copy = try database(template: src)
        try copy.psql("UPDATE big SET v = 'changed' WHERE id = 123457; DELETE FROM pairs WHERE a = 'Q100' AND b = 5; UPDATE keyless SET v = 'x' WHERE v = 'k3'")
        let narrowing = RangeNarrowing(source: ReaderPool(conninfo: src.conninfo, options: CaptureOptions(content: .checksum)),
                                       target: ReaderPool(conninfo: copy.conninfo, options: CaptureOptions(content: .checksum)),
                                       maxRanges: 10)
        let results = try await narrowing.narrow(["public.big", "public.pairs", "public.keyless"])
        let big = try XCTUnwrap(results["public.big"])
        XCTAssertEqual(big.ranges, [KeyRange(kind: .changed, key: ["id"], from: ["123457"])])
        XCTAssertLessThanOrEqual(big.queries, 20)
        let pairs = try XCTUnwrap(results["public.pairs"])
        XCTAssertEqual(pairs.ranges.map(\.summary), ["(a, b) = (Q100, 5): missing row"])
        XCTAssertLessThanOrEqual(pairs.queries, 20)
        XCTAssertEqual(results["public.keyless"]?.ranges, [])
        XCTAssertTrue(results["public.keyless"]?.detail?.contains("no primary key") ?? false)
    }

    /// The row hash depends on values, not on column order, and tells NULL from '' and 0.
    func testTheRowHashSeesValuesNotLayout() async throws {
        let db = try database()
        try db.psql("""
            CREATE TABLE ab (a text, b int); CREATE TABLE ba (b int, a text);
            INSERT INTO ab VALUES ('x', 1), (NULL, 0), ('', NULL); INSERT INTO ba VALUES (1, 'x'), (0, NULL), (NULL, '');
            CREATE TABLE ab2 (a text, b int); INSERT INTO ab2 VALUES ('x', 1), ('', 0), (NULL, NULL);
            ALTER TABLE ba SET (fillfactor = 50);
            """)
        let m = try await Manifest.capture(conninfo: db.conninfo, options: CaptureOptions(content: .checksum))
        let sums = try XCTUnwrap(m.contents?.checksums)
        XCTAssertEqual(sums["public.ab"], sums["public.ba"])
        XCTAssertNotEqual(sums["public.ab"], sums["public.ab2"])
    }
}

/// A physically restored copy of a test cluster: `pg_basebackup` of it (WAL streamed), started
/// on a port of its own, where it replays that WAL as a restore does.
final class PhysicalCopy {
    let folder: String
    let port: Int
    let conninfo: String
    private let bindir: String

    init(of cluster: TestCluster) throws {
        bindir = cluster.bindir
        folder = try TestCluster.makeFolder(in: try TestEnvironment.require("DR_TEST_WORK"), prefix: "hcopy")
        port = try TestCluster.freePort()
        conninfo = "host=127.0.0.1 port=\(port) dbname=postgres user=postgres password=\(cluster.password)"
        try Self.asPostgres(bindir + "/pg_basebackup", ["-D", folder + "/data", "-X", "stream", "-c", "fast",
                                                        "-d", cluster.conninfo], log: folder + "/basebackup.log")
        let settings = "\nport = \(port)\nunix_socket_directories = '\(folder)'\n"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/data/postgresql.auto.conf"))
        handle.seekToEndOfFile()
        handle.write(Data(settings.utf8))
        try handle.close()
        try Self.asPostgres(bindir + "/pg_ctl", ["-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60", "start"],
                            log: folder + "/pg_ctl.out")
    }

    func stop() {
        _ = try? Self.asPostgres(bindir + "/pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "stop"], log: folder + "/pg_ctl.out")
    }

    /// Runs a server program as the postgres OS user (PostgreSQL refuses root), its output to a
    /// file (`pg_ctl start` leaves a daemon behind that must not hold our pipes).
    private static func asPostgres(_ exe: String, _ args: [String], log: String) throws {
        let argv = geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", exe] + args : [exe] + args
        let result = try SystemProcessRunner.runBlocking(Command(argv[0], Array(argv.dropFirst()), output: .appendToFile(log)))
        guard result.status == 0 else {
            throw TestClusterError("\(exe) failed: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
    }
}
