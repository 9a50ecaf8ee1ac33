import DRCore
import DRTestSupport
import Foundation
import XCTest

/// The shipped runbooks end to end against the self-hosted provider and a real PostgreSQL:
/// plans that change nothing, a point-in-time restore and drills verified against a manifest,
/// and a run killed at every step boundary (and mid-restore, mid-wait) that resumes to the
/// same resources as an uninterrupted one.
final class RunbookSelfHostedTests: XCTestCase {
    var source: ArchivedSource!
    var state: String { source.folder + "/state" }

    override func setUpWithError() throws {
        source = try ArchivedSource()
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, batch int NOT NULL, payload text)")
    }

    override func tearDown() { source?.stop() }

    static func runbook(_ name: String) -> String { TestDatabase.repositoryRoot.appendingPathComponent("runbooks/" + name).path }

    func insert(batch: Int, rows: Int) throws {
        try source.cluster.execute("INSERT INTO events (batch, payload) SELECT \(batch), md5(g::text) FROM generate_series(1, \(rows)) g")
    }

    /// `dr` with the source's dr.yml; PGPASSWORD lets restored servers (which keep the source's auth) be verified.
    func dr(_ arguments: [String]) throws -> ProcessResult {
        try source.dr(arguments, environment: ["PGPASSWORD": source.cluster.password, "DR_STATE_DIR": state])
    }

    func json(_ result: ProcessResult) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
    }

    func steps(_ report: [String: Any]) -> [String: [String: Any]] {
        Dictionary(uniqueKeysWithValues: (report["steps"] as? [[String: Any]] ?? []).map { ($0["id"] as! String, $0) })
    }

    func restoredServers() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: source.restoreRoot)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    func backups() throws -> [String] {
        let status = try json(try source.dr(["status", source.target, "--output", "json"]))
        return (status["snapshots"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }.sorted()
    }

    /// A base backup, 150 rows, the moment (with its manifest), then a disaster: most rows deleted.
    func prepareDisaster() throws -> (moment: String, manifest: String) {
        try insert(batch: 1, rows: 100)
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try insert(batch: 2, rows: 50)
        usleep(20_000)
        let moment = RFC3339.format(try source.cluster.now(), fractional: true)
        let manifest = source.folder + "/manifest.json"
        let capture = try source.dr(["verify", "capture", "--db", source.cluster.conninfo, "--out", manifest])
        XCTAssertEqual(capture.status, 0, capture.stderr)
        usleep(20_000)
        try source.cluster.execute("DELETE FROM events WHERE id > 20")
        try source.cluster.switchWal(waitingFor: source.repository)
        return (moment, manifest)
    }

    func testShippedRunbooksValidate() throws {
        for name in ["weekly-snapshot.yml", "point-in-time-restore.yml", "region-failover.yml", "restore-drill.yml"] {
            let result = try DRBinary.run(["runbook", "validate", Self.runbook(name)])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
        }
    }

    func testPointInTimeRestoreAndDrillsEndToEnd() throws {
        let (moment, manifest) = try prepareDisaster()
        let before = try backups()
        let pitr = ["run", Self.runbook("point-in-time-restore.yml"), "--input", "target=\(source.target)", "--input", "time=\(moment)",
                    "--input", "name=pitr", "--input", "manifest=\(manifest)", "--output", "json"]

        // The plan reads the window and changes nothing; a time outside the window is refused by it.
        let plan = try dr(pitr + ["--plan"])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        XCTAssertEqual(try json(plan)["mutating_steps"] as? Int, 1)
        let outside = try dr(["run", Self.runbook("point-in-time-restore.yml"), "--plan", "--input", "target=\(source.target)",
                              "--input", "time=2001-01-01T00:00:00Z", "--input", "name=pitr"])
        XCTAssertEqual(outside.status, 2)
        XCTAssertTrue(outside.stderr.contains("outside the restorable window"), outside.stderr)
        XCTAssertEqual(restoredServers(), [])
        XCTAssertEqual(try backups(), before)

        // The restore: exactly the rows at the moment, verified against its manifest.
        let run = try dr(pitr)
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try json(run)
        let byID = steps(report)
        XCTAssertEqual(byID["verify"]?["outcome"] as? String, "success")
        let outputs = byID["restore"]?["outputs"] as? [String: String] ?? [:]
        let port = Int(outputs["endpoint_port"] ?? "") ?? 0
        XCTAssertEqual(try source.cluster.scalar("SELECT count(*) FROM events", port: port), "150")
        XCTAssertFalse(outputs["conninfo"]?.contains("password") ?? true)
        XCTAssertTrue((byID["switch-over"]?["outputs"] as? [String: String])?["stdout"]?.contains("dr failover local-db --to pitr") ?? false)
        XCTAssertFalse(run.stdout.contains(source.cluster.password) || run.stderr.contains(source.cluster.password))
        XCTAssertEqual(restoredServers(), ["pitr"])
        XCTAssertEqual(try dr(["teardown", "pitr"]).status, 0)

        // Issue 11 item 4: the text report, as the on-call engineer reads it, with time=latest:
        // the advice whole (never cut), the teardown command right, the time filled in.
        let text = try dr(["run", Self.runbook("point-in-time-restore.yml"), "--input", "target=\(source.target)",
                           "--input", "time=latest", "--input", "name=pitr-latest"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("To remove it instead: dr teardown pitr-latest --target \(source.target)."), text.stdout)
        XCTAssertTrue(text.stdout.contains("To send clients there: dr failover \(source.target) --to pitr-latest."), text.stdout)
        XCTAssertNil(text.stdout.range(of: "Restored \(source.target) to +as", options: .regularExpression), text.stdout)
        XCTAssertFalse(text.stdout.contains("..."), "nothing cut: \(text.stdout)")
        XCTAssertEqual(try dr(["teardown", "pitr-latest"]).status, 0)

        // The drill: restore, verify, tear down, whatever happened.
        let drill = ["run", Self.runbook("restore-drill.yml"), "--input", "target=\(source.target)", "--input", "manifest=\(manifest)", "--output", "json"]
        let passed = try dr(drill + ["--input", "point=\(moment)", "--input", "name=drill-ok", "--input", "report_file=\(source.folder)/report.json"])
        XCTAssertEqual(passed.status, 0, passed.stderr)
        let passedSteps = steps(try json(passed))
        XCTAssertEqual(passedSteps["verify-time"]?["outcome"] as? String, "success")
        XCTAssertEqual(passedSteps["restore-snapshot"]?["outcome"] as? String, "skipped")
        XCTAssertEqual((passedSteps["teardown"]?["outputs"] as? [String: String])?["deleted"], "true")
        XCTAssertTrue(FileManager.default.fileExists(atPath: source.folder + "/report.json"))
        XCTAssertEqual(restoredServers(), [])

        // The latest data (after the DELETE) does not match the manifest: exit 1, findings reported, still torn down.
        let failed = try dr(drill + ["--input", "point=latest", "--input", "name=drill-bad"])
        XCTAssertEqual(failed.status, 1, failed.stderr)
        let failedSteps = steps(try json(failed))
        XCTAssertEqual(failedSteps["verify-time"]?["outcome"] as? String, "failure")
        XCTAssertTrue((failedSteps["verify-time"]?["error"] as? String ?? "").contains("Verification failed"), "\(failedSteps)")
        XCTAssertTrue((failedSteps["verify-time"]?["error"] as? String ?? "").contains("events"), "\(failedSteps)")
        XCTAssertEqual(failedSteps["teardown"]?["outcome"] as? String, "success")
        XCTAssertEqual(restoredServers(), [])

        // From the base backup itself (point=snapshot): the 100 rows it holds.
        let fromSnapshot = try dr(drill + ["--input", "point=snapshot", "--input", "name=drill-snap", "--input", "rows=at-least"])
        XCTAssertEqual(fromSnapshot.status, 1, "the backup has fewer rows than the manifest: \(fromSnapshot.stderr)")
        XCTAssertEqual(steps(try json(fromSnapshot))["restore-snapshot"]?["outcome"] as? String, "success")
        XCTAssertEqual(restoredServers(), [])
    }

    /// The plan refuses a restore into a name that is taken (exit 2, nothing changed) and shows
    /// what a failover's service entry points at now.
    func testPlanRefusesATakenNameAndShowsTheCurrentFailoverEntry() throws {
        try insert(batch: 1, rows: 10)
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)
        // A restore of another point than the runbook's (its latest restorable time) holds the name.
        XCTAssertEqual(try dr(["restore", source.target, "--from-snapshot", "latest", "--as", "taken"]).status, 0)
        defer { _ = try? dr(["teardown", "taken"]) }
        try Data("[local-db]\nhost=127.0.0.1\nport=\(source.cluster.port)\ndbname=postgres\n".utf8).write(to: URL(fileURLWithPath: source.serviceFile))
        let path = source.folder + "/plan.yml"
        func write(_ name: String) throws {
            try """
            name: plan-check
            steps:
              - id: restore
                uses: restore.point-in-time
                with: { target: local-db, time: latest, as: \(name) }
              - id: snap
                uses: restore.snapshot
                with: { target: local-db, as: \(name)-2 }
              - id: repoint
                uses: failover
                with: { target: local-db, to: \(name) }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let marker = try Data(contentsOf: URL(fileURLWithPath: source.restoreRoot + "/taken/dr-restored.json"))
        let service = try String(contentsOfFile: source.serviceFile, encoding: .utf8)

        try write("taken")
        let refused = try dr(["run", path, "--plan"])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("Step 'restore': The name taken (`as`) is already taken"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("Choose another `as`"), refused.stderr)
        XCTAssertEqual(restoredServers(), ["taken"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: source.restoreRoot + "/taken/dr-restored.json")), marker)

        try write("fresh")
        let plan = try dr(["run", path, "--plan", "--output", "json"])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        let repoint = steps(try json(plan))["repoint"]?["actions"] as? [[String: Any]] ?? []
        let change = repoint.first { $0["mutates"] as? Bool == true } ?? [:]
        XCTAssertEqual(change["current"] as? String, "host=127.0.0.1 port=\(source.cluster.port) dbname=postgres", "\(repoint)")
        XCTAssertTrue((change["summary"] as? String ?? "").contains("currently host=127.0.0.1 port=\(source.cluster.port) dbname=postgres → will be restored server fresh"), "\(change)")
        let text = try dr(["run", path, "--plan"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("currently host=127.0.0.1"), text.stdout)
        XCTAssertEqual(restoredServers(), ["taken"])
        XCTAssertEqual(try String(contentsOfFile: source.serviceFile, encoding: .utf8), service)
    }

    /// snapshot → restore → wait → verify → failover (service file), for the crash test.
    func crashRunbook() throws -> String {
        let path = source.folder + "/crash.yml"
        try """
        name: crash
        inputs:
          name: {}
          manifest: {}
        steps:
          - id: backup
            uses: snapshot
            with: { target: local-db }
          - id: restore
            uses: restore.point-in-time
            with: { target: local-db, time: latest, as: "${{ inputs.name }}" }
          - id: pause
            uses: wait
            with: { duration: 2s }
          - id: verify
            uses: verify
            with: { db: "${{ steps.restore.outputs.conninfo }}", manifest: "${{ inputs.manifest }}" }
          - id: repoint
            uses: failover
            with: { target: local-db, to: "${{ steps.restore.outputs.instance_id }}" }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testKilledAtEveryStepBoundaryResumesToTheSameResources() throws {
        try insert(batch: 1, rows: 120)
        let manifest = source.folder + "/manifest.json"
        XCTAssertEqual(try source.dr(["verify", "capture", "--db", source.cluster.conninfo, "--out", manifest]).status, 0)
        let runbook = try crashRunbook()

        // Uninterrupted: one more backup, one restored server, the service entry pointing at it.
        let start = try backups()
        let clean = try dr(["run", runbook, "--input", "name=clean", "--input", "manifest=\(manifest)"])
        XCTAssertEqual(clean.status, 0, clean.stderr)
        let afterClean = try backups()
        XCTAssertEqual(afterClean.count, start.count + 1)
        XCTAssertEqual(restoredServers(), ["clean"])

        // Killed after every step start and end (and mid-restore, mid-wait), resumed each time.
        var env = ProcessInfo.processInfo.environment
        env["DR_CONFIG"] = source.config
        env["DR_STATE_DIR"] = state
        env["PGPASSWORD"] = source.cluster.password
        let crash = try CrashLoop(journalDir: state + "/runs", environment: env, midStep: ["restore": 0.4, "pause": 1])
            .run(["run", runbook, "--input", "name=crashed", "--input", "manifest=\(manifest)"])
        XCTAssertEqual(crash.status, 0, "the resumed run must finish cleanly; journal:\n\(crash.journal)")
        XCTAssertGreaterThanOrEqual(crash.kills, 9, "killed at every boundary")
        XCTAssertEqual(crash.killedMidStep, ["restore", "pause"], "killed mid-restore and mid-wait")

        // Same resources as the uninterrupted run: exactly one more backup, one more server, no duplicates.
        XCTAssertEqual(try backups().count, afterClean.count + 1, "no duplicate backup")
        XCTAssertEqual(restoredServers(), ["clean", "crashed"], "no duplicate restore")
        let marker = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source.restoreRoot + "/crashed/dr-restored.json"))) as! [String: Any]
        XCTAssertEqual(marker["state"] as? String, "running")
        let service = try String(contentsOfFile: source.serviceFile, encoding: .utf8)
        XCTAssertTrue(service.contains("[local-db]") && service.contains("port=\(marker["port"] as! Int)"), service)
    }
}
