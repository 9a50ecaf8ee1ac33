import DRCore
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
            XCTAssertFalse(r.stderr.contains(pw), "\(label): the password leaked: \(r.stderr)")
        }
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
        for option in ["--db", "--manifest", "--against", "--jobs", "--rows", "--statement-timeout", "--output"] {
            XCTAssertTrue(compare.stdout.contains(option), option)
        }
    }
}
