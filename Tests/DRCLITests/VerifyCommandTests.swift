import DRCore
import DRPostgres
import DRTestSupport
import Foundation
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `dr verify` as a user runs it: exit codes, outputs, and every bad input the issue lists,
/// with the password never printed.
final class VerifyCommandTests: XCTestCase {
    private var databases: [TestDatabase] = []
    private var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("dr-verify-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDown() {
        databases.forEach { $0.drop() }
        databases = []
        try? FileManager.default.removeItem(at: work)
    }

    private func database(template: TestDatabase? = nil) throws -> TestDatabase {
        let db = try TestDatabase(prefix: "drc", template: template)
        databases.append(db)
        return db
    }

    private var password: String {
        get throws {
            try TestEnvironment.postgresConninfo().components(separatedBy: "password=")[1].components(separatedBy: " ")[0]
        }
    }

    private func assertNoSecret(_ r: ProcessResult, file: StaticString = #filePath, line: UInt = #line) throws {
        let pw = try password
        XCTAssertFalse(r.stdout.contains(pw) || r.stderr.contains(pw), "the password leaked", file: file, line: line)
    }

    /// A small database with one table of 3 rows and an index, and its manifest.
    private func sourceWithManifest() throws -> (TestDatabase, String) {
        let db = try database()
        try db.psql(#"CREATE TABLE "Big ""T"" able" (id int PRIMARY KEY, v text); INSERT INTO "Big ""T"" able" SELECT g, 'v' FROM generate_series(1, 3) g; CREATE INDEX v_idx ON "Big ""T"" able" (v);"#)
        let out = work.appendingPathComponent("manifest.json").path
        let r = try DRBinary.run(["verify", "capture", "--db", db.conninfo, "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        try assertNoSecret(r)
        return (db, out)
    }

    func testMatchExitsZeroAndMismatchExitsOne() throws {
        let (db, manifest) = try sourceWithManifest()
        let manifestText = try String(contentsOfFile: manifest, encoding: .utf8)
        XCTAssertFalse(manifestText.contains(try password))
        XCTAssertTrue(manifestText.contains(#""format" : "dr-verify-manifest""#))

        let copy = try database(template: db)
        let pass = try DRBinary.run(["verify", "--db", copy.conninfo, "--manifest", manifest])
        XCTAssertEqual(pass.status, 0, pass.stdout + pass.stderr)
        XCTAssertTrue(pass.stdout.contains("PASS"), pass.stdout)

        try copy.psql(#"DELETE FROM "Big ""T"" able" WHERE id = 1; DROP INDEX v_idx;"#)
        let fail = try DRBinary.run(["verify", "--db", copy.conninfo, "--manifest", manifest])
        XCTAssertEqual(fail.status, 1, fail.stdout + fail.stderr)
        XCTAssertTrue(fail.stdout.contains(#"table public."Big ""T"" able": expected 3 rows, found 2"#), fail.stdout)
        XCTAssertTrue(fail.stdout.contains("index public.v_idx is missing"), fail.stdout)
        try assertNoSecret(fail)

        let json = try DRBinary.run(["verify", "--db", copy.conninfo, "--manifest", manifest, "--output", "json"])
        XCTAssertEqual(json.status, 1)
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(doc?["passed"] as? Bool, false)
        XCTAssertEqual((doc?["findings"] as? [Any])?.count, 2)

        let junit = try DRBinary.run(["verify", "--db", copy.conninfo, "--manifest", manifest, "--output", "junit"])
        XCTAssertEqual(junit.status, 1)
        XCTAssertTrue(XMLParser(data: Data(junit.stdout.utf8)).parse(), junit.stdout)
        XCTAssertTrue(junit.stdout.contains("<failure"), junit.stdout)
        try assertNoSecret(junit)
    }

    func testLiveSourceWithTolerance() throws {
        let (source, _) = try sourceWithManifest()
        let target = try database(template: source)
        try target.psql(#"INSERT INTO "Big ""T"" able" VALUES (4, 'v');"#)
        let exact = try DRBinary.run(["verify", "--db", target.conninfo, "--against", source.conninfo, "--jobs", "2"])
        XCTAssertEqual(exact.status, 1, exact.stdout + exact.stderr)
        let atLeast = try DRBinary.run(["verify", "--db", target.conninfo, "--against", source.conninfo, "--rows", "at-least"])
        XCTAssertEqual(atLeast.status, 0, atLeast.stdout + atLeast.stderr)
        XCTAssertTrue(atLeast.stdout.contains("--rows at-least: 4 ≥ 3"), atLeast.stdout)
        try assertNoSecret(atLeast)
    }

    func testBadInputsExitTwoWithOneClearParagraphAndNoPassword() throws {
        let (db, manifest) = try sourceWithManifest()
        let server = try TestEnvironment.postgresConninfo()
        let pw = try password
        let foreign = work.appendingPathComponent("package.json").path
        try #"{"name": "left-pad", "version": "1.0.0"}"#.write(toFile: foreign, atomically: true, encoding: .utf8)
        let future = work.appendingPathComponent("future.json").path
        try #"{"format": "dr-verify-manifest", "version": 7}"#.write(toFile: future, atomically: true, encoding: .utf8)
        let garbage = work.appendingPathComponent("garbage.json").path
        try "\u{0}\u{1}binary".write(toFile: garbage, atomically: true, encoding: .utf8)
        let unreadable = work.path // a folder is not a readable manifest file

        let cases: [(String, [String], String)] = [
            ("unreachable host", ["verify", "--db", "host=127.0.0.1 port=1 dbname=x user=u password=\(pw) connect_timeout=3", "--manifest", manifest], "Could not connect"),
            ("wrong password", ["verify", "--db", server.replacingOccurrences(of: "password=\(pw)", with: "password=\(pw)-wrong"), "--manifest", manifest], "password authentication failed"),
            ("missing database", ["verify", "--db", TestDatabase.conninfo(server, database: "no_such_db_\(UUID().uuidString.prefix(6))"), "--manifest", manifest], "does not exist"),
            ("missing manifest", ["verify", "--db", db.conninfo, "--manifest", work.appendingPathComponent("nope.json").path], "no such file"),
            ("unreadable manifest", ["verify", "--db", db.conninfo, "--manifest", unreadable], "Could not read the manifest"),
            ("foreign JSON", ["verify", "--db", db.conninfo, "--manifest", foreign], "not a dr verify manifest"),
            ("not JSON", ["verify", "--db", db.conninfo, "--manifest", garbage], "not a dr verify manifest"),
            ("incompatible version", ["verify", "--db", db.conninfo, "--manifest", future], "manifest format 7"),
            ("no reference", ["verify", "--db", db.conninfo], "--manifest FILE"),
            ("both references", ["verify", "--db", db.conninfo, "--manifest", manifest, "--against", db.conninfo], "not both"),
            ("bad tolerance", ["verify", "--db", db.conninfo, "--manifest", manifest, "--rows", "mostly"], "--rows"),
            ("bad timeout", ["verify", "--db", db.conninfo, "--manifest", manifest, "--statement-timeout", "soon"], "--statement-timeout"),
            ("bad conninfo", ["verify", "--db", "host=127.0.0.1 password=\(pw) nonsense", "--manifest", manifest], "not valid"),
        ]
        for (label, args, expected) in cases {
            let r = try DRBinary.run(args)
            XCTAssertEqual(r.status, 2, "\(label): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", label)
            XCTAssertTrue(r.stderr.contains(expected), "\(label): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Fatal error") || r.stderr.contains("Stack"), label)
            // The message (before the usage lines, whose "..." marks repeatable options) is one
            // paragraph of sentences: libpq's lines joined, no "?." or doubled full stop.
            let message = r.stderr.components(separatedBy: "\nUsage:")[0]
            XCTAssertFalse(message.contains("?.") || message.contains("..") || message.contains("\t"), "\(label): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains(pw), "\(label): the password leaked: \(r.stderr)")
        }
    }

    /// `--content checksum` as a user runs it: capture, a passing copy, a changed value caught
    /// against the manifest and named by key against the live source; the JSON is snake_case.
    func testContentChecksumThroughTheBinary() throws {
        let db = try database()
        try db.psql("CREATE TABLE accounts (id int PRIMARY KEY, name text, balance numeric); INSERT INTO accounts SELECT g, 'n' || g, g * 1.5 FROM generate_series(1, 500) g;")
        let out = work.appendingPathComponent("contents.json").path
        let capture = try DRBinary.run(["verify", "capture", "--db", db.conninfo, "--out", out, "--content", "checksum", "--output", "json"])
        XCTAssertEqual(capture.status, 0, capture.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(capture.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(summary?["tables_hashed"] as? Int, 1)
        XCTAssertNotNil(summary?["captured_at"])
        let text = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(text.contains(#""version" : 2"#) && text.contains(#""row_counts""#) && text.contains(#""function" : "dr-row-hash-1""#), text)

        let copy = try database(template: db)
        let pass = try DRBinary.run(["verify", "--db", copy.conninfo, "--manifest", out, "--content", "checksum"])
        XCTAssertEqual(pass.status, 0, pass.stdout + pass.stderr)
        XCTAssertTrue(pass.stdout.contains("1 hashed"), pass.stdout)

        try copy.psql("UPDATE accounts SET balance = balance + 0.01 WHERE id = 377")
        let fail = try DRBinary.run(["verify", "--db", copy.conninfo, "--manifest", out, "--content", "checksum"])
        XCTAssertEqual(fail.status, 1, fail.stdout + fail.stderr)
        XCTAssertTrue(fail.stdout.contains("table public.accounts: contents differ"), fail.stdout)
        let counts = try DRBinary.run(["verify", "--db", copy.conninfo, "--manifest", out])
        XCTAssertEqual(counts.status, 0, "without --content only counts are compared: \(counts.stdout)")

        let live = try DRBinary.run(["verify", "--db", copy.conninfo, "--against", db.conninfo, "--content", "checksum", "--output", "json"])
        XCTAssertEqual(live.status, 1, live.stderr)
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(live.stdout.utf8)) as? [String: Any])
        XCTAssertNotNil(doc["duration_seconds"])
        XCTAssertNil(doc["durationSeconds"])
        XCTAssertEqual(doc["content"] as? String, "checksum")
        XCTAssertEqual((doc["summary"] as? [String: Any])?["tables_hashed"] as? Int, 1)
        let finding = try XCTUnwrap((doc["findings"] as? [[String: Any]])?.first)
        let range = try XCTUnwrap((finding["ranges"] as? [[String: Any]])?.first)
        XCTAssertEqual(range["kind"] as? String, "changed row")
        XCTAssertEqual(range["from"] as? [String], ["377"])
        let liveText = try DRBinary.run(["verify", "--db", copy.conninfo, "--against", db.conninfo, "--content", "checksum"])
        XCTAssertTrue(liveText.stdout.contains("id = 377: changed row"), liveText.stdout)
        try assertNoSecret(liveText)
    }

    /// The messages issue 11 lists, through the binary: each names the problem and the fix, exits 2.
    func testMessagesNameTheProblemAndTheFix() throws {
        let (db, manifest) = try sourceWithManifest()
        let cases: [(String, [String], [String], [String])] = [
            ("a folder as manifest", ["verify", "--db", db.conninfo, "--manifest", work.path], ["is a folder, not a file"], ["NSCocoaErrorDomain", "256"]),
            ("--jobs -1", ["verify", "--db", db.conninfo, "--manifest", manifest, "--jobs", "-1"], ["--jobs -1", "from 1 to 64"], ["Missing value"]),
            ("--jobs 0", ["verify", "capture", "--db", db.conninfo, "--out", work.appendingPathComponent("x.json").path, "--jobs", "0"], ["from 1 to 64"], []),
            ("no contents in the manifest", ["verify", "--db", db.conninfo, "--manifest", manifest, "--content", "checksum"],
             ["captured without contents", "--content checksum"], ["`content`"]),
            ("an exclusion naming no table", ["verify", "capture", "--db", db.conninfo, "--out", work.appendingPathComponent("y.json").path,
                                              "--content", "checksum", "--exclude-content", "public.nope"], ["--exclude-content public.nope names no table"], []),
            ("an exclusion without contents", ["verify", "--db", db.conninfo, "--manifest", manifest, "--exclude-content", "public.t"], ["--content checksum"], []),
            ("a bad role mapping", ["verify", "--db", db.conninfo, "--against", db.conninfo, "--map-role", "app"], ["--map-role \"app\"", "old=new"], []),
            ("a bad content mode", ["verify", "--db", db.conninfo, "--manifest", manifest, "--content", "md5"], ["--content"], []),
        ]
        for (label, args, wanted, unwanted) in cases {
            let r = try DRBinary.run(args)
            XCTAssertEqual(r.status, 2, "\(label): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", label)
            for w in wanted { XCTAssertTrue(r.stderr.contains(w), "\(label): \(r.stderr)") }
            for u in unwanted { XCTAssertFalse(r.stderr.contains(u), "\(label): \(r.stderr)") }
            XCTAssertFalse(r.stderr.contains("Fatal error"), label)
            try assertNoSecret(r)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("y.json").path))
    }

    /// A manifest of a database on another cluster, under another name: refused (exit 2) with
    /// both named, before any row is read; `--allow-other-database` compares anyway.
    func testAManifestOfAnotherDatabaseIsNamedAsSuch() throws {
        let cluster = try TestCluster(name: "other")
        defer { cluster.stop() }
        try cluster.execute("CREATE DATABASE shop")
        let schema = "CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items SELECT generate_series(1, 3);"
        let shop = try PGConnection(conninfo: cluster.conninfo + " dbname=shop")
        try shop.execute(schema)
        shop.close()
        let out = work.appendingPathComponent("shop.json").path
        XCTAssertEqual(try DRBinary.run(["verify", "capture", "--db", cluster.conninfo + " dbname=shop", "--out", out]).status, 0)
        let here = try database()
        try here.psql(schema)
        let sysid = try cluster.scalar("SELECT system_identifier::text FROM pg_control_system()") ?? "?"

        let r = try DRBinary.run(["verify", "--db", here.conninfo, "--manifest", out])
        XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("is a manifest of another database"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\"shop\" (cluster \(sysid)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\"\(here.name)\""), r.stderr)
        XCTAssertTrue(r.stderr.contains("--allow-other-database"), r.stderr)
        try assertNoSecret(r)
        XCTAssertFalse(r.stderr.contains(cluster.password))

        let allowed = try DRBinary.run(["verify", "--db", here.conninfo, "--manifest", out, "--allow-other-database"])
        XCTAssertEqual(allowed.status, 0, allowed.stdout + allowed.stderr)
    }

    func testAFormatOneManifestStillVerifiesThroughTheBinary() throws {
        let folder = TestDatabase.repositoryRoot.appendingPathComponent("Tests/Fixtures/verify-format-1")
        let db = try database()
        try db.psql(file: folder.appendingPathComponent("schema.sql").path)
        let r = try DRBinary.run(["verify", "--db", db.conninfo, "--manifest", folder.appendingPathComponent("manifest.json").path,
                                  "--allow-other-database", "--output", "json"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(doc?["passed"] as? Bool, true)
    }

    func testFailedCaptureWritesNothing() throws {
        let out = work.appendingPathComponent("never.json").path
        let r = try DRBinary.run(["verify", "capture", "--db", "host=127.0.0.1 port=1 dbname=x connect_timeout=3", "--out", out])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testCtrlCCancelsTheRunningQueriesAndExits130() throws {
        let (db, manifest) = try sourceWithManifest()
        let locker = try TestDatabaseLock(db, table: #""Big ""T"" able""#)
        defer { locker.release() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DRBinary.path)
        process.arguments = ["verify", "--db", db.conninfo, "--manifest", manifest]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1.0)
        let start = Date()
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
        XCTAssertEqual(try locker.activeVerifierQueries(), 0)
    }

    func testHelpReadsWell() throws {
        let r = try DRBinary.run(["verify", "--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("capture"), r.stdout)
        let compare = try DRBinary.run(["verify", "compare", "--help"])
        for option in ["--db", "--manifest", "--against", "--jobs", "--rows", "--statement-timeout", "--output",
                       "--content", "--exclude-content", "--map-role", "--allow-other-database"] {
            XCTAssertTrue(compare.stdout.contains(option), option)
        }
    }
}
