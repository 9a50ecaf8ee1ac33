import DRCore
import DRTestSupport
import Foundation
import XCTest

/// `dr check` through the built binary: self-hosted against a real PostgreSQL whose archiving is
/// then broken on purpose (a failing archive_command); rds against moto (auth on).
final class CheckCommandTests: XCTestCase {
    static let runbook = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("runbooks/restore-drill.yml").path

    func json(_ r: ProcessResult) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout + r.stderr)
    }

    func statuses(_ report: [String: Any]) -> [String: String] {
        var out: [String: String] = [:]
        for c in report["checks"] as? [[String: Any]] ?? [] { out[c["name"] as? String ?? ""] = c["status"] as? String }
        return out
    }

    func testSelfHostedPassesThenFailsNamingArchivingWhenArchiveCommandFails() throws {
        let source = try ArchivedSource()
        defer { source.stop() }
        let work = try TestCluster.makeFolder(in: try TestEnvironment.require("DR_TEST_WORK"), prefix: "check")
        let state = work + "/state"
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, payload text)",
                                   "INSERT INTO events (payload) SELECT md5(g::text) FROM generate_series(1, 200) g")
        let env = ["PGPASSWORD": source.cluster.password]
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)
        let copy = try source.dr(["copy", source.target])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        let drilled = try source.dr(["drill", source.target, "--report-dir", work + "/reports", "--state-dir", state, "--runbook", Self.runbook], environment: env)
        XCTAssertEqual(drilled.status, 0, drilled.stderr)

        let ready = try source.dr(["check", source.target, "--state-dir", state], environment: env)
        XCTAssertEqual(ready.status, 0, ready.stdout + ready.stderr)
        for name in ["archiving", "wal_continuity", "dr_copy", "restore_space", "binaries", "drill_age"] {
            XCTAssertTrue(ready.stdout.contains("✓ \(name):"), "\(name): \(ready.stdout)")
        }
        XCTAssertFalse(ready.stdout.contains(source.cluster.password) || ready.stderr.contains(source.cluster.password))

        // Break archiving: every segment from now on fails to archive.
        try source.cluster.execute("ALTER SYSTEM SET archive_command = 'false'", "SELECT pg_reload_conf()")
        usleep(300_000)
        try source.cluster.execute("INSERT INTO events (payload) VALUES ('after')", "SELECT pg_switch_wal()")
        let deadline = Date().addingTimeInterval(30)
        while (Int(try source.cluster.scalar("SELECT failed_count FROM pg_stat_archiver") ?? "0") ?? 0) == 0 {
            guard Date() < deadline else { return XCTFail("the archiver never failed") }
            usleep(100_000)
        }
        let broken = try source.dr(["check", source.target, "--state-dir", state], environment: env)
        XCTAssertEqual(broken.status, 1, broken.stdout + broken.stderr)
        XCTAssertTrue(broken.stdout.contains("NOT READY"), broken.stdout)
        XCTAssertTrue(broken.stdout.contains("✗ archiving: archive_command is failing"), broken.stdout)
        XCTAssertTrue(broken.stdout.contains("fix: read the server log"), broken.stdout)

        let asJSON = try source.dr(["check", source.target, "--state-dir", state, "--output", "json"], environment: env)
        XCTAssertEqual(asJSON.status, 1)
        let report = try json(asJSON)
        XCTAssertEqual(statuses(report)["archiving"], "failed")
        XCTAssertEqual(statuses(report)["drill_age"], "ok")
        XCTAssertNotNil(report["checked_at"] as? String)

        let textfile = work + "/metrics/dr_check.prom"
        let prom = try source.dr(["check", "--all", "--state-dir", state, "--output", "prometheus", "--textfile", textfile], environment: env)
        XCTAssertEqual(prom.status, 1, prom.stderr)
        let metrics = try String(contentsOfFile: textfile, encoding: .utf8)
        XCTAssertTrue(metrics.contains("# TYPE dr_check_ok gauge"), metrics)
        XCTAssertTrue(metrics.contains("dr_check_ok{target=\"local-db\",check=\"archiving\"} 0"), metrics)
        XCTAssertTrue(metrics.contains("dr_check_ok{target=\"local-db\",check=\"binaries\"} 1"), metrics)
        XCTAssertNotNil(metrics.range(of: #"dr_check_age_seconds\{target="local-db",check="drill_age"\} [0-9.]+"#, options: .regularExpression), metrics)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: work + "/metrics")
        XCTAssertEqual(leftovers, ["dr_check.prom"], "written atomically: no temporary file left")
    }

    func testRDSThroughTheBinaryNamesWhatIsMissingAndRefusesBadInput() async throws {
        let m = try MotoCLI.make()
        try await m.createInstance("\(m.id)-db")
        // Its own target name: snapshot names derive from it, and tests share one moto.
        let name = "prod-\(m.id)"
        let config = m.dir + "/dr.yml"
        try """
        targets:
          \(name):
            provider: rds
            region: us-east-1
            instance: \(m.id)-db
            dr_region: us-west-2
        """.write(toFile: config, atomically: true, encoding: .utf8)
        func dr(_ args: [String]) throws -> ProcessResult { try DRBinary.run(args + ["--config", config], environment: m.env) }

        let started = Date()
        let missing = try dr(["check", name, "--output", "json"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "every check at once (the binary's start included)")
        XCTAssertEqual(missing.status, 1, missing.stdout + missing.stderr)
        let s = statuses(try json(missing))
        XCTAssertEqual(s["snapshot_age"], "failed", "no manual snapshot yet")
        XCTAssertEqual(s["dr_copy"], "failed", "no DR copy yet")
        XCTAssertEqual(s["drill_age"], "failed", "never drilled")
        XCTAssertEqual(s["automated_backups"], "ok")

        XCTAssertEqual(try dr(["snapshot", name, "--weekly"]).status, 0)
        let text = try dr(["check", name])
        XCTAssertEqual(text.status, 1)
        XCTAssertTrue(text.stdout.contains("✓ snapshot_age: newest manual snapshot"), text.stdout)
        XCTAssertTrue(text.stdout.contains("✗ dr_copy: no copy of \(name)'s snapshots in us-west-2"), text.stdout)
        XCTAssertTrue(text.stdout.contains("fix: copy the newest snapshot there: `dr copy \(name)`"), text.stdout)

        let unknown = try dr(["check", "nope"])
        XCTAssertEqual(unknown.status, 2, unknown.stderr)
        let both = try dr(["check", name, "--all"])
        XCTAssertEqual(both.status, 2, both.stderr)
        let badFile = try dr(["check", name, "--output", "prometheus", "--textfile", m.dir + "/x.txt"])
        XCTAssertEqual(badFile.status, 2, badFile.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: m.dir + "/x.txt"))
        XCTAssertFalse((missing.stdout + text.stdout + text.stderr).contains(m.key.secret))
    }
}
