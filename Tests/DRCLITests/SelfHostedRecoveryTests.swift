import DRCore
import DRProcedures
import DRTestSupport
import Foundation
import XCTest

/// A restored server that refuses dr's login, replay progress and the restore's time limit
/// (issue 11, item 3), through the binary.
final class SelfHostedRecoveryTests: XCTestCase {
    var source: ArchivedSource!

    override func setUpWithError() throws {
        source = try ArchivedSource()
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, payload text)",
                                   "INSERT INTO events (payload) SELECT md5(g::text) FROM generate_series(1, 300) g")
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.execute("INSERT INTO events (payload) SELECT md5(g::text) FROM generate_series(1, 30) g")
        try source.cluster.switchWal(waitingFor: source.repository)
    }

    override func tearDown() { source?.stop() }

    /// dr.yml with the conninfo's password removed: the backup (scram in pg_hba.conf) asks for one.
    func dropPasswordFromConfig() throws {
        let text = try String(contentsOfFile: source.config, encoding: .utf8)
        try Data(text.replacingOccurrences(of: " password=\(source.cluster.password)", with: "").utf8)
            .write(to: URL(fileURLWithPath: source.config))
    }

    func testARestoredServerThatRefusesTheLoginEndsAtOnceAndKeepsItsLog() throws {
        try dropPasswordFromConfig()
        let noPassword = ["PGPASSWORD": "", "PGPASSFILE": source.folder + "/no-pgpass"]
        let started = Date()
        let refused = try source.dr(["restore", source.target, "--latest-restorable", "--as", "nopw", "--timeout", "600"], environment: noPassword)
        let took = Date().timeIntervalSince(started)
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertLessThan(took, 60, "a refused login ends the wait at once, not after --timeout")
        for part in ["refused dr's login", "password", "PGPASSWORD", "pgpass", "its log is kept at \(source.restoreRoot)/nopw/server.log", "dr teardown nopw"] {
            XCTAssertTrue(refused.stderr.contains(part), "\(refused.stderr) lacks \(part)")
        }
        XCTAssertFalse(refused.stderr.contains(source.cluster.password))
        // The log is there, and says the server was ready while dr could not get in.
        let log = try String(contentsOfFile: source.restoreRoot + "/nopw/server.log", encoding: .utf8)
        XCTAssertTrue(log.contains("ready to accept") || log.contains("password authentication failed"), log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: source.restoreRoot + "/nopw/data"), "the data is removed, the server stopped")
        let marker = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source.restoreRoot + "/nopw/dr-restored.json"))) as? [String: Any])
        XCTAssertEqual(marker["state"] as? String, "failed")
        let teardown = try source.dr(["teardown", "nopw"])
        XCTAssertEqual(teardown.status, 0, teardown.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: source.restoreRoot + "/nopw"))

        // The fix the message gives works: the password through PGPASSWORD. Progress goes to stderr as log lines.
        let fixed = try source.dr(["restore", source.target, "--latest-restorable", "--as", "withpw"], environment: ["PGPASSWORD": source.cluster.password])
        XCTAssertEqual(fixed.status, 0, fixed.stderr)
        XCTAssertTrue(fixed.stderr.contains("dr: waiting for restored server withpw to recover:"), fixed.stderr)
        XCTAssertTrue(fixed.stdout.contains("Restored local-db as withpw"), fixed.stdout)
        XCTAssertEqual(try source.dr(["teardown", "withpw"]).status, 0)
    }

    func testProgressOnATerminalATimeLimitThatKeepsTheLogAndTheDefaultHelpStates() async throws {
        let terminal = try await DRBinary.runOnTerminal(["restore", source.target, "--latest-restorable", "--as", "onterm"],
                                                        environment: ["DR_CONFIG": source.config], noColor: true)
        XCTAssertEqual(terminal.status, 0, terminal.stdout)
        XCTAssertTrue(terminal.stdout.contains("\r\u{1B}[2Kwaiting for restored server onterm to recover: "), terminal.stdout)
        XCTAssertEqual(try source.dr(["teardown", "onterm"]).status, 0)

        let cut = try source.dr(["restore", source.target, "--latest-restorable", "--as", "cut", "--timeout", "0.05"])
        XCTAssertEqual(cut.status, 4, cut.stderr)
        XCTAssertTrue(cut.stderr.contains("did not finish recovery within") && cut.stderr.contains("timeout"), cut.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: source.restoreRoot + "/cut/server.log"), "a failed restore keeps its log")
        XCTAssertEqual(try source.dr(["teardown", "cut"]).status, 0)

        // No hidden default: what --help states is what a restore waits.
        let help = try DRBinary.run(["restore", "--help"])
        XCTAssertTrue(help.stdout.contains("restore 4 h"), help.stdout)
        XCTAssertEqual(WaitSettings.Operation.restore.defaultDeadline, 4 * 3600)
    }
}
