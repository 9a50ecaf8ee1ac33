import DRCore
import DRTestSupport
import Foundation
import XCTest

/// Every shipped runbook, on the native self-hosted provider against a real PostgreSQL: its
/// `--plan`, then its run, and the run made exactly the changes the plan listed. The changes the
/// run made are recorded where they happen (`DR_CALL_LOG`: pg_ctl, the copies into the
/// repositories and restore folders, removals, the service file's rewrite), not by the code that
/// decided them.
final class PlanEqualsRunSelfHostedTests: XCTestCase {
    var source: ArchivedSource!
    var state: String { source.folder + "/state" }
    var callLog: String { source.folder + "/calls.jsonl" }

    override func setUpWithError() throws {
        source = try ArchivedSource()
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

    /// Plans `runbook`, runs it, and checks the run against the plan; returns the run's report.
    @discardableResult
    func planThenRun(_ runbook: String, _ inputs: [String: String], file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        try PlanCalls.planThenRun(runbook, inputs, callLog: callLog, dr: { try self.dr($0, log: true) }, file: file, line: line)
    }

    func testEveryShippedRunbookMakesExactlyTheChangesItsPlanListed() throws {
        // weekly-snapshot: a weekly backup, its copy to dr_repository, retention.
        try planThenRun("weekly-snapshot.yml", ["target": source.target])
        // ... and again in the same week: the plan says it reuses the backup, the run makes none.
        try planThenRun("weekly-snapshot.yml", ["target": source.target])

        try source.cluster.execute("INSERT INTO events (batch, payload) SELECT 2, md5(g::text) FROM generate_series(1, 50) g")
        usleep(20_000)
        let moment = RFC3339.format(try source.cluster.now(), fractional: true)
        try source.cluster.switchWal(waitingFor: source.repository)

        // point-in-time-restore without a manifest: verify is skipped in the plan and the run.
        let pitr = try planThenRun("point-in-time-restore.yml", ["target": source.target, "time": moment, "name": "pitr"])
        XCTAssertEqual(stepOutcome(pitr, "verify"), "skipped")

        // restore-drill: restore, verify against a manifest, always tear down.
        let manifest = source.folder + "/manifest.json"
        XCTAssertEqual(try dr(["verify", "capture", "--db", source.cluster.conninfo, "--out", manifest]).status, 0)
        try planThenRun("restore-drill.yml", ["target": source.target, "name": "drill-1", "manifest": manifest, "rows": "at-least"])

        // region-failover: the newest DR copy restored, the service entry repointed.
        try dr(["copy", source.target]).assertSucceeded()
        let failover = try planThenRun("region-failover.yml", ["target": source.target, "name": "dr-1"])
        XCTAssertEqual(stepOutcome(failover, "verify"), "skipped")
        XCTAssertTrue(try String(contentsOfFile: source.serviceFile, encoding: .utf8).contains("[\(source.target)-previous]"))
    }

    func stepOutcome(_ report: [String: Any], _ id: String) -> String? {
        (report["steps"] as? [[String: Any]] ?? []).first { $0["id"] as? String == id }?["outcome"] as? String
    }
}

/// The mutating calls a `dr run --plan --output json` listed, and the check of a run against them.
struct PlanCalls {
    /// Listed unconditionally: the run must make each.
    var always: Set<String> = []
    /// Listed with a condition (`only if a tag is missing`): the run may make them.
    var conditional: Set<String> = []

    init(planJSON: String) throws {
        let plan = try JSONSerialization.jsonObject(with: Data(planJSON.utf8)) as? [String: Any] ?? [:]
        for step in plan["steps"] as? [[String: Any]] ?? [] {
            let runs = step["condition"] as? String != "false"
            let atRunTime = step["condition"] as? String == "at run time"
            for action in step["actions"] as? [[String: Any]] ?? [] where action["mutates"] as? Bool == true && runs {
                guard let call = action["call"] as? String else { continue }
                if action["condition"] != nil || atRunTime { conditional.insert(call) } else { always.insert(call) }
            }
        }
    }

    init(always: Set<String>, conditional: Set<String> = []) {
        self.always = always
        self.conditional = conditional
    }

    /// `dr run RUNBOOK --plan`, then `dr run RUNBOOK` (both through `dr`, which records calls in
    /// `callLog`): the plan changed nothing and the run made exactly what it listed. Returns the run's report.
    static func planThenRun(_ runbook: String, _ inputs: [String: String], callLog: String, mutating: (String) -> Bool = { _ in true },
                            dr: ([String]) throws -> ProcessResult, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let args = ["run", RunbookSelfHostedTests.runbook(runbook)] + inputs.sorted { $0.key < $1.key }.flatMap { ["--input", "\($0.key)=\($0.value)"] }
        try? FileManager.default.removeItem(atPath: callLog)
        let plan = try dr(args + ["--plan", "--output", "json"])
        XCTAssertEqual(plan.status, 0, "\(runbook) --plan: \(plan.stderr)", file: file, line: line)
        XCTAssertEqual(recorded(callLog).filter(mutating), [], "\(runbook): the plan changed something", file: file, line: line)
        let planned = try PlanCalls(planJSON: plan.stdout)
        try? FileManager.default.removeItem(atPath: callLog)
        let run = try dr(args + ["--output", "json"])
        XCTAssertEqual(run.status, 0, "\(runbook): \(run.stderr)", file: file, line: line)
        planned.check(made: recorded(callLog), mutating: mutating, runbook: runbook, file: file, line: line)
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
    }

    /// Every call recorded in a `DR_CALL_LOG` file, in order.
    static func recorded(_ file: String) -> [String] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String])?["call"]
        }
    }

    /// The run made every unconditional change the plan listed and nothing the plan did not list.
    /// `mutating` picks the recorded calls that change something (every self-hosted one does).
    func check(made: [String], mutating: (String) -> Bool = { _ in true }, runbook: String, file: StaticString = #filePath, line: UInt = #line) {
        let changes = Set(made.filter(mutating))
        let unplanned = changes.subtracting(always).subtracting(conditional)
        XCTAssertEqual(unplanned, [], "\(runbook): the run made changes its plan did not list", file: file, line: line)
        let missed = always.subtracting(changes)
        XCTAssertEqual(missed, [], "\(runbook): the plan listed changes the run did not make", file: file, line: line)
    }
}

extension ProcessResult {
    func assertSucceeded(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(status, 0, stderr, file: file, line: line)
    }
}
