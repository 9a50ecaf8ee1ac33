import DRCore
import DRTestSupport
import Foundation
import XCTest

final class RootCommandTests: XCTestCase {
    func testVersionAndHelp() throws {
        let version = try DRBinary.run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
        let help = try DRBinary.run(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("USAGE: dr"), help.stdout)
    }

    func testUnknownSubcommandIsBadInput() throws {
        let result = try DRBinary.run(["no-such-command"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("no-such-command"), result.stderr)
        XCTAssertEqual(result.stdout, "")
    }

    /// Issue 11 item 2: an impossible date is refused, naming the field — never moved to another day.
    func testImpossibleDatesAreRefusedEverywhereNamingTheField() throws {
        let dir = NSTemporaryDirectory() + "dr-dates-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/dr.yml"
        try "targets:\n  t:\n    provider: postgres\n    conninfo: \"host=127.0.0.1 port=1\"\n    repository: \(dir)/repo\n".write(toFile: config, atomically: true, encoding: .utf8)
        for bad in ["2026-11-31T17:50:37Z", "2026-02-30T12:00:00Z", "2026-11-20T12:00:00"] {
            let restore = try DRBinary.run(["restore", "t", "--point-in-time", bad, "--as", "x"])
            XCTAssertEqual(restore.status, 2, restore.stderr)
            XCTAssertTrue(restore.stderr.contains("--point-in-time \(bad) is not an RFC 3339 time"), restore.stderr)
            let drill = try DRBinary.run(["drill", "t", "--point", bad, "--state-dir", dir + "/state", "--config", config])
            XCTAssertEqual(drill.status, 2, drill.stderr)
            XCTAssertTrue(drill.stderr.contains("--point \"\(bad)\""), drill.stderr)
        }
        let runbook = dir + "/when.yml"
        try "name: when\ninputs:\n  when: { type: time }\nsteps:\n  - id: show\n    uses: exec\n    with: { command: 'echo ${{ inputs.when }}' }\n"
            .write(toFile: runbook, atomically: true, encoding: .utf8)
        let run = try DRBinary.run(["run", runbook, "--input", "when=2026-11-31T17:50:37Z", "--state-dir", dir + "/state"])
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertTrue(run.stderr.contains("when"), run.stderr)
        XCTAssertFalse(run.stdout.contains("2026-12-01"), "never moved to the next day: \(run.stdout)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/state/runs"), "nothing started")
    }

    /// `make demo` (scripts/demo.sh) with the built binary: the README's first command works.
    func testTheDemoRunsToTheEndAndVerifies() throws {
        let script = TestDatabase.repositoryRoot.appendingPathComponent("scripts/demo.sh").path
        let r = try SystemProcessRunner.runBlocking("bash", [script], DRBinary.environment(["DR": DRBinary.path]))
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("dr verify: exit 0"), r.stdout)
        XCTAssertTrue(r.stdout.contains("posts: 7000 restored"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Nothing is left running."), r.stdout)
    }
}
