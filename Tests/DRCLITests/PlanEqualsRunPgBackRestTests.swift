import DRCore
import DRTestSupport
import Foundation
import XCTest

/// Every shipped runbook on a pgbackrest target against real pgBackRest and PostgreSQL: its
/// `--plan`, then its run, and the run made exactly the changes the plan listed (`DR_CALL_LOG`:
/// pgbackrest backup/expire/check/restore, pg_ctl, removals, the service file's rewrite).
final class PlanEqualsRunPgBackRestTests: XCTestCase {
    var source: PgBackRestSource!
    var state: String { source.folder + "/state" }
    var callLog: String { source.folder + "/calls.jsonl" }

    override func setUpWithError() throws {
        source = try PgBackRestSource()
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, batch int NOT NULL, payload text)")
        try source.cluster.execute("INSERT INTO events (batch, payload) SELECT 1, md5(g::text) FROM generate_series(1, 200) g")
        try Data("[\(source.target)]\nhost=127.0.0.1\nport=\(source.cluster.port)\ndbname=postgres\n".utf8)
            .write(to: URL(fileURLWithPath: source.serviceFile))
    }

    override func tearDown() { source?.stop() }

    func dr(_ arguments: [String], log: Bool = false) throws -> ProcessResult {
        var env = ["PGPASSWORD": source.cluster.password, "DR_STATE_DIR": state]
        if log { env["DR_CALL_LOG"] = callLog }
        return try source.dr(arguments, environment: env)
    }

    @discardableResult
    func planThenRun(_ runbook: String, _ inputs: [String: String], file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let args = ["run", RunbookSelfHostedTests.runbook(runbook)] + inputs.sorted { $0.key < $1.key }.flatMap { ["--input", "\($0.key)=\($0.value)"] }
        try? FileManager.default.removeItem(atPath: callLog)
        let plan = try dr(args + ["--plan", "--output", "json"], log: true)
        XCTAssertEqual(plan.status, 0, "\(runbook) --plan: \(plan.stderr)\(plan.stdout)", file: file, line: line)
        XCTAssertEqual(PlanCalls.recorded(callLog), [], "\(runbook): the plan changed something", file: file, line: line)
        let planned = try PlanCalls(planJSON: plan.stdout)
        let run = try dr(args + ["--output", "json"], log: true)
        XCTAssertEqual(run.status, 0, "\(runbook): \(run.stderr)\(run.stdout)", file: file, line: line)
        planned.check(made: PlanCalls.recorded(callLog), runbook: runbook, file: file, line: line)
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
    }

    func testEveryShippedRunbookMakesExactlyTheChangesItsPlanListed() throws {
        try planThenRun("weekly-snapshot.yml", ["target": source.target])
        try planThenRun("weekly-snapshot.yml", ["target": source.target])
        XCTAssertEqual(try source.sets(repo: 1).count, 1, "the second weekly run reuses this week's set")

        usleep(1_100_000)
        try source.cluster.execute("INSERT INTO events (batch, payload) SELECT 2, md5(g::text) FROM generate_series(1, 50) g")
        usleep(20_000)
        let moment = RFC3339.format(try source.cluster.now(), fractional: true)
        try source.switchWal()
        try planThenRun("point-in-time-restore.yml", ["target": source.target, "time": moment, "name": "pitr"])

        let manifest = source.folder + "/manifest.json"
        XCTAssertEqual(try dr(["verify", "capture", "--db", source.cluster.conninfo, "--out", manifest]).status, 0)
        try planThenRun("restore-drill.yml", ["target": source.target, "name": "drill-1", "manifest": manifest, "rows": "at-least"])

        try dr(["copy", source.target]).assertSucceeded()
        try planThenRun("region-failover.yml", ["target": source.target, "name": "dr-1"])
        XCTAssertTrue(try String(contentsOfFile: source.serviceFile, encoding: .utf8).contains("[\(source.target)-previous]"))
    }
}
