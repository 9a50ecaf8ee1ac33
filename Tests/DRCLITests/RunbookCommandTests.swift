import DRCore
import DRTestSupport
import Foundation
import XCTest

final class RunbookCommandTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "dr-cli-runbook-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func write(_ name: String, _ text: String) throws -> String {
        let path = "\(dir!)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Steps that leave marks in `dir`, so the end state can be compared between runs.
    func markerRunbook(sleep: Int) throws -> String {
        try write("marks.yml", """
        name: marks
        inputs:
          out: { type: string }
        steps:
          - id: first
            uses: exec
            with: { command: "echo first >> ${{ inputs.out }}/log; echo one" }
          - id: slow
            uses: exec
            with: { command: "sleep \(sleep); echo slow >> ${{ inputs.out }}/log" }
          - id: pause
            uses: wait
            with: { duration: 1s }
          - id: last
            uses: exec
            with: { command: "echo last ${{ steps.first.outputs.stdout }} >> ${{ inputs.out }}/log" }
        finally:
          - id: cleanup
            uses: exec
            with: { command: "echo cleanup >> ${{ inputs.out }}/log" }
        """)
    }

    func testValidateReportsProblemsWithPositions() throws {
        let good = try markerRunbook(sleep: 0)
        let ok = try DRBinary.run(["runbook", "validate", good])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout, "\(good): ok: marks, 4 steps, 1 finally steps\n")
        let bad = try write("bad.yml", "name: bad\nsteps:\n  - id: a\n    uses: snapshot\n    with: { target: db, weekly: often }\n  - id: b\n    uses: exec\n    with: { command: \"${{ steps.c.outputs.stdout }}\" }\n")
        let result = try DRBinary.run(["runbook", "validate", bad])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stdout, "")
        XCTAssertTrue(result.stderr.contains("\(bad):5:33: 'weekly' must be a bool"), result.stderr)
        XCTAssertTrue(result.stderr.contains("\(bad):8:27: unknown step 'c'"), result.stderr)
        let malformed = try write("malformed.yml", "name: [x\n")
        XCTAssertEqual(try DRBinary.run(["runbook", "validate", malformed]).status, 2)
        let folder: String = dir
        for (path, says) in [(folder + "/missing.yml", "no such runbook file"), (folder, "cannot read the runbook")] {
            for args in [["runbook", "validate", path], ["run", path]] {
                let r = try DRBinary.run(args)
                XCTAssertEqual(r.status, 2, r.stderr)
                XCTAssertEqual(r.stdout, "")
                XCTAssertTrue(r.stderr.contains("\(path): \(says)"), r.stderr)
            }
        }
    }

    func emptyFolder() throws -> String {
        let path = dir + "/empty"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func testPlanShowsEveryStepAndChangesNothing() throws {
        let config = try write("dr.yml", "targets:\n  prod-db: { provider: rds, region: us-east-1, instance: social-analytics-db }\n")
        let runbook = try write("drill.yml", """
        name: drill
        inputs:
          when: { type: time }
        steps:
          - id: check
            uses: status
            with: { target: prod-db }
          - id: touch
            uses: exec
            with: { command: "touch \(dir!)/touched ${{ inputs.when - 5m }}" }
        finally:
          - id: teardown
            uses: teardown
            with: { target: prod-db, instance: "${{ steps.check.outputs.latest_snapshot }}" }
        """)
        let env = ["DR_CONFIG": config]
        let result = try DRBinary.run(["run", runbook, "--plan", "--input", "when=2026-11-20T12:00:00Z", "--output", "json"], environment: env)
        XCTAssertEqual(result.status, 0, result.stderr)
        let plan = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let steps = plan["steps"] as! [[String: Any]]
        XCTAssertEqual(steps.map { $0["id"] as! String }, ["check", "touch", "teardown"])
        XCTAssertEqual((steps[1]["parameters"] as! [String: String])["command"], "touch \(dir!)/touched 2026-11-20T11:55:00Z")
        XCTAssertEqual(steps.map { $0["mutates"] as! Bool }, [false, true, true])
        XCTAssertEqual((steps[2]["parameters"] as! [String: String])["instance"], "(at run time: ${{ steps.check.outputs.latest_snapshot }})")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir!)/touched"), "--plan ran a command")
        let text = try DRBinary.run(["run", runbook, "--plan", "--input", "when=2026-11-20T12:00:00Z"], environment: env)
        XCTAssertTrue(text.stdout.contains("   * delete the DB instance (at run time: ${{ steps.check.outputs.latest_snapshot }}) an earlier step restores (no final snapshot) (rds:DeleteDBInstance)"), text.stdout)
        // Without a targets config the first step fails as bad input, before `touch` runs.
        let run = try DRBinary.run(["run", runbook, "--input", "when=2026-11-20T12:00:00Z", "--state-dir", dir + "/state"],
                                   environment: ["DR_CONFIG": ""], workingDirectory: try emptyFolder())
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertTrue(run.stderr.contains("there is no targets config"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir!)/touched"))
        let missing = try DRBinary.run(["run", runbook, "--plan"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("missing required input 'when'"), missing.stderr)
    }

    func testARunReportsStepsAndPhasesAndIsListed() throws {
        let runbook = try markerRunbook(sleep: 0)
        let result = try DRBinary.run(["run", runbook, "--input", "out=\(dir!)", "--state-dir", dir + "/state", "--output", "json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["status"] as? String, "succeeded")
        let steps = report["steps"] as! [[String: Any]]
        XCTAssertEqual(steps.map { $0["outcome"] as! String }, ["success", "success", "success", "success", "success"])
        XCTAssertEqual((steps[0]["outputs"] as! [String: String])["stdout"], "one")
        XCTAssertEqual((report["phases"] as! [[String: Any]]).map { $0["phase"] as! String }, ["operations", "wait"])
        XCTAssertEqual(try String(contentsOfFile: "\(dir!)/log", encoding: .utf8), "first\nslow\nlast one\ncleanup\n")
        XCTAssertTrue(result.stderr.contains("✓ pause"), result.stderr)
        let runs = try DRBinary.run(["runs", "--state-dir", dir + "/state"])
        XCTAssertTrue(runs.stdout.contains("  succeeded  started "), runs.stdout)
        let id = report["run_id"] as! String
        let again = try DRBinary.run(["run", "--resume", id, "--state-dir", dir + "/state"])
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.stderr.contains("has already finished"), again.stderr)
        XCTAssertEqual(try DRBinary.run(["run", "--resume", "no-such-run", "--state-dir", dir + "/state"]).status, 2)
    }

    /// Starts `dr` in the background and waits until its journal shows `marker`.
    func startAndWait(_ arguments: [String], until marker: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DRBinary.path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let runs = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/state/runs")) ?? []
            if let journal = runs.first(where: { $0.hasSuffix(".jsonl") }),
               let text = try? String(contentsOfFile: dir + "/state/runs/" + journal, encoding: .utf8), text.contains(marker) {
                return process
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        XCTFail("the run never reached \(marker)")
        throw CancellationError()
    }

    func testAKilledRunResumesToTheSameEndState() throws {
        let runbook = try markerRunbook(sleep: 2)
        let process = try startAndWait(["run", runbook, "--input", "out=\(dir!)", "--state-dir", dir + "/state"],
                                       until: "\"step\":\"slow\",\"type\":\"step_started\"")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let listed = try DRBinary.run(["runs", "--state-dir", dir + "/state", "--output", "json"])
        let runs = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual(runs.count, 1)
        XCTAssertEqual(runs[0]["state"] as? String, "interrupted")
        XCTAssertEqual(runs[0]["current_step"] as? String, "slow")
        let id = runs[0]["run_id"] as! String

        let resumed = try DRBinary.run(["run", "--resume", id, "--state-dir", dir + "/state", "--output", "json"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("slow (exec) — resuming the step that was in flight"), resumed.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["status"] as? String, "succeeded")
        XCTAssertEqual((report["steps"] as! [[String: Any]]).map { $0["outcome"] as! String }, Array(repeating: "success", count: 5))
        // `first` is not redone; the killed `slow` is re-entered (its sleep's orphan may still append, so wait for it).
        Thread.sleep(forTimeInterval: 2.5)
        let log = try String(contentsOfFile: "\(dir!)/log", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.filter { $0 == "first" }.count, 1)
        XCTAssertEqual(log.filter { $0 == "last one" }.count, 1)
        XCTAssertEqual(log.filter { $0 == "cleanup" }.count, 1)
        XCTAssertEqual(Set(log), ["first", "slow", "last one", "cleanup"])
    }

    func testCtrlCRunsFinallyAndExits130() throws {
        let runbook = try markerRunbook(sleep: 30)
        let began = Date()
        let process = try startAndWait(["run", runbook, "--input", "out=\(dir!)", "--state-dir", dir + "/state"],
                                       until: "\"step\":\"slow\",\"type\":\"step_started\"")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertLessThan(Date().timeIntervalSince(began), 15, "the sleeping step was stopped")
        XCTAssertEqual(try String(contentsOfFile: "\(dir!)/log", encoding: .utf8), "first\ncleanup\n")
        let runs = try DRBinary.run(["runs", "--state-dir", dir + "/state"])
        XCTAssertTrue(runs.stdout.contains("  cancelled  "), runs.stdout)
    }

    func testTwoRunsOnOneTargetAreRefused() throws {
        let runbook = try write("locked.yml", "name: locked\nsteps:\n  - id: hold\n    uses: exec\n    with: { command: sleep 5, target: prod-db }\n")
        let first = try startAndWait(["run", runbook, "--state-dir", dir + "/state"], until: "step_started")
        let second = try DRBinary.run(["run", runbook, "--state-dir", dir + "/state"])
        XCTAssertEqual(second.status, 2)
        XCTAssertTrue(second.stderr.contains("Target 'prod-db' is in use by run"), second.stderr)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        // The killed run's lock does not stay: a new run may take the target.
        let third = try DRBinary.run(["run", try write("quick.yml", "name: quick\nsteps:\n  - id: a\n    uses: exec\n    with: { command: 'true', target: prod-db }\n"), "--state-dir", dir + "/state"])
        XCTAssertEqual(third.status, 0, third.stderr)
    }
}
