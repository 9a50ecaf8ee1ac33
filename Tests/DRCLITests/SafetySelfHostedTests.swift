import DRCore
import DRPostgres
import DRTestSupport
import Foundation
import XCTest

/// Issue 10 on the native provider, through the built binary against real PostgreSQL: a target
/// repointed at another database, teardown of what serves production, re-runs with another
/// point, failover twice and undone, Ctrl-C and kill -9 at several moments, ad-hoc snapshots in
/// one minute, two runs from different state directories, drill cleanup's rules.
final class SafetySelfHostedTests: XCTestCase {
    var source: ArchivedSource!

    override func setUpWithError() throws {
        source = try ArchivedSource(weekly: 2)
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, payload text)",
                                   "INSERT INTO events (payload) SELECT md5(g::text) FROM generate_series(1, 500) g")
    }

    override func tearDown() { source?.stop() }

    func json(_ r: ProcessResult) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout + r.stderr)
    }

    /// Folders under the restore root, hidden work folders included.
    func restoreFolders() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: source.restoreRoot)) ?? []).sorted()
    }

    func backupFolders() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: source.repository + "/backups")) ?? []).sorted()
    }

    func systemIdentifier(_ cluster: TestCluster) throws -> String {
        try XCTUnwrap(cluster.scalar("SELECT system_identifier::text FROM pg_control_system()"))
    }

    func setConninfo(_ conninfo: String) throws {
        var yaml = try String(contentsOfFile: source.config, encoding: .utf8)
        let old = try XCTUnwrap(yaml.range(of: #"conninfo: "[^"]*""#, options: .regularExpression))
        yaml.replaceSubrange(old, with: "conninfo: \"\(conninfo)\"")
        try yaml.write(toFile: source.config, atomically: true, encoding: .utf8)
    }

    /// Starts `dr ARGS` with the source's dr.yml, output discarded.
    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DRBinary.path)
        process.arguments = arguments
        var env = DRBinary.environment(environment)
        env["DR_CONFIG"] = source.config
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Polls every millisecond until `condition` holds (true) or the process ended or 60 s passed (false).
    func wait(for process: Process, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && process.isRunning {
            if condition() { return true }
            usleep(1_000)
        }
        return condition() && process.isRunning
    }

    func interrupt(_ process: Process, with signal: Int32 = SIGINT) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// True when a postgres server runs on a data directory under `folder`.
    func serverRuns(in folder: String) -> Bool {
        let out = (try? SystemProcessRunner.runBlocking("pgrep", ["-af", "postgres"]))?.stdout ?? ""
        return out.contains(folder + "/data")
    }

    // MARK: Finding 1: snapshots belong to a database, not to a name

    func testARepointedTargetNeverBacksUpOrRestoresAnotherDatabase() throws {
        let weekly = try source.dr(["snapshot", source.target, "--weekly", "--output", "json"])
        XCTAssertEqual(weekly.status, 0, weekly.stderr)
        let id = try XCTUnwrap(json(weekly)["id"] as? String)
        try source.cluster.switchWal(waitingFor: source.repository)
        let ours = try systemIdentifier(source.cluster)

        // The target's conninfo now names another cluster (a rebuilt server, a copy-paste slip).
        let other = try TestCluster()
        defer { other.stop() }
        let theirs = try systemIdentifier(other)
        XCTAssertNotEqual(ours, theirs)
        try setConninfo(other.conninfo)
        let before = backupFolders()

        let snapshot = try source.dr(["snapshot", source.target, "--weekly"])
        XCTAssertEqual(snapshot.status, 2, snapshot.stderr)
        XCTAssertTrue(snapshot.stderr.contains(ours) && snapshot.stderr.contains(theirs) && snapshot.stderr.contains("Nothing was changed"), snapshot.stderr)
        XCTAssertFalse(snapshot.stdout.contains("already"), "never reported as this week's snapshot: \(snapshot.stdout)")
        XCTAssertEqual(backupFolders(), before)

        let latest = try source.dr(["restore", source.target, "--latest-restorable", "--as", "wrong"])
        XCTAssertEqual(latest.status, 2, latest.stderr)
        XCTAssertTrue(latest.stderr.contains("holds no backup of target \(source.target)'s source (system identifier \(theirs))"), latest.stderr)
        let named = try source.dr(["restore", source.target, "--from-snapshot", id, "--as", "wrong"])
        XCTAssertEqual(named.status, 2, named.stderr)
        XCTAssertTrue(named.stderr.contains(ours) && named.stderr.contains(theirs), named.stderr)
        XCTAssertFalse(restoreFolders().contains("wrong"))
        let status = try source.dr(["status", source.target, "--output", "json"])
        let warnings = (try json(status)["warnings"] as? [String] ?? []).joined(separator: "\n")
        XCTAssertTrue(warnings.contains("of another database") && warnings.contains(id), warnings)
        XCTAssertEqual((try json(status)["snapshots"] as? [Any])?.count, 0, "none of them is this database's")

        // Pointed back, everything is the target's again.
        try setConninfo(source.cluster.conninfo)
        let restore = try source.dr(["restore", source.target, "--from-snapshot", id, "--as", "right", "--output", "json"])
        XCTAssertEqual(restore.status, 0, restore.stderr)
        XCTAssertEqual(try source.dr(["teardown", "right"]).status, 0)
    }

    // MARK: Findings 2, 4, 5: failover history, teardown of what serves production, forged markers

    func testFailoverTwiceThenUndoAndTeardownGuards() throws {
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)
        XCTAssertEqual(try source.dr(["restore", source.target, "--latest-restorable", "--as", "r1"]).status, 0)
        let original = "[local-db]\nhost=127.0.0.1\nport=\(source.cluster.port)\ndbname=postgres\nuser=postgres\n"
        try Data(original.utf8).write(to: URL(fileURLWithPath: source.serviceFile))

        XCTAssertEqual(try source.dr(["failover", source.target, "--to", "r1"]).status, 0)
        let again = try source.dr(["failover", source.target, "--to", "r1", "--output", "json"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try json(again)["changed"] as? Bool, false, "the same destination again changes nothing")
        let history = try source.dr(["failover", source.target, "--history"])
        XCTAssertEqual(history.status, 0, history.stderr)
        XCTAssertTrue(history.stdout.contains("port=\(source.cluster.port)"), "the value before the change is kept: \(history.stdout)")

        // Production now runs on r1: it cannot be torn down.
        let refused = try source.dr(["teardown", "r1"])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("[local-db]") && refused.stderr.contains("points at it"), refused.stderr)
        XCTAssertTrue(serverRuns(in: source.restoreRoot + "/r1"))

        let undo = try source.dr(["failover", source.target, "--undo"])
        XCTAssertEqual(undo.status, 0, undo.stderr)
        let entry = try String(contentsOfFile: source.serviceFile, encoding: .utf8)
        XCTAssertTrue(entry.contains("[local-db]\nhost=127.0.0.1\nport=\(source.cluster.port)\n"), "back to the original after two runs: \(entry)")

        // A marker without dr's fields (written by hand, or by an old tool) is refused.
        let marker = source.restoreRoot + "/r1/dr-restored.json"
        var fields = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: marker))) as? [String: Any])
        XCTAssertNotNil(fields["source_system"], "\(fields)")
        let saved = try Data(contentsOf: URL(fileURLWithPath: marker))
        fields["source_system"] = nil
        try JSONSerialization.data(withJSONObject: fields).write(to: URL(fileURLWithPath: marker))
        let forged = try source.dr(["teardown", "r1"])
        XCTAssertEqual(forged.status, 2, forged.stderr)
        XCTAssertTrue(forged.stderr.contains("source system identifier"), forged.stderr)
        XCTAssertTrue(serverRuns(in: source.restoreRoot + "/r1"))
        try saved.write(to: URL(fileURLWithPath: marker))

        XCTAssertEqual(try source.dr(["teardown", "r1"]).status, 0)
        XCTAssertFalse(restoreFolders().contains("r1"))
    }

    // MARK: Finding 3: a re-run with another point is refused, the same point is adopted

    func testARestoreReRunWithAnotherMomentIsRefused() throws {
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        let t1 = try source.cluster.now()
        try source.cluster.execute("INSERT INTO events (payload) VALUES ('after t1')")
        usleep(50_000)
        let t2 = try source.cluster.now()
        try source.cluster.execute("INSERT INTO events (payload) VALUES ('after t2')")
        try source.cluster.switchWal(waitingFor: source.repository)

        let first = try source.dr(["restore", source.target, "--point-in-time", RFC3339.format(t1, fractional: true), "--as", "x"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let marker = try Data(contentsOf: URL(fileURLWithPath: source.restoreRoot + "/x/dr-restored.json"))
        let other = try source.dr(["restore", source.target, "--point-in-time", RFC3339.format(t2, fractional: true), "--as", "x"])
        XCTAssertEqual(other.status, 2, other.stderr)
        XCTAssertTrue(other.stderr.contains("already taken by a restore of \(source.target) made for time \(RFC3339.format(t1, fractional: true))"), other.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: source.restoreRoot + "/x/dr-restored.json")), marker, "untouched")
        let same = try source.dr(["restore", source.target, "--point-in-time", RFC3339.format(t1, fractional: true), "--as", "x", "--output", "json"])
        XCTAssertEqual(same.status, 0, same.stderr)
        XCTAssertEqual(try json(same)["adopted"] as? Bool, true)
        XCTAssertEqual(try source.dr(["teardown", "x"]).status, 0)
    }

    // MARK: Finding 6: interrupts leave nothing behind

    func testCtrlCAtThreeMomentsOfARestoreLeavesNothingAndTheNameIsReusable() throws {
        // Enough data that laying it down takes a moment.
        try source.cluster.execute("CREATE TABLE bulk AS SELECT g AS id, repeat(md5(g::text), 16) AS pad FROM generate_series(1, 120000) g")
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)
        let folder = source.restoreRoot + "/ctrl-c"
        let moments: [(String, () -> Bool)] = [
            ("once it holds the target's lock", { FileManager.default.fileExists(atPath: self.source.repository + ".lock") }),
            ("while the backup is laid down", { FileManager.default.fileExists(atPath: folder + "/dr-restored.json") }),
            ("while the server recovers", { FileManager.default.fileExists(atPath: folder + "/data/postmaster.pid") }),
        ]
        for (moment, condition) in moments {
            let process = try start(["restore", source.target, "--latest-restorable", "--as", "ctrl-c"])
            XCTAssertTrue(wait(for: process, until: condition), "the restore never got \(moment)")
            XCTAssertEqual(interrupt(process), 130, moment)
            XCTAssertEqual(restoreFolders(), [], "nothing left \(moment)")
            XCTAssertFalse(serverRuns(in: folder), "no server left \(moment)")
        }
        let done = try source.dr(["restore", source.target, "--latest-restorable", "--as", "ctrl-c"])
        XCTAssertEqual(done.status, 0, "the name is free again: \(done.stderr)")
        XCTAssertEqual(try source.dr(["teardown", "ctrl-c"]).status, 0)
    }

    func testCtrlCAtThreeMomentsOfASnapshotLeavesNothingAndTheNextOneWorks() throws {
        try source.cluster.execute("CREATE TABLE bulk AS SELECT g AS id, repeat(md5(g::text), 16) AS pad FROM generate_series(1, 120000) g")
        let backups = source.repository + "/backups"
        let work = { ((try? FileManager.default.contentsOfDirectory(atPath: backups)) ?? []).first { $0.hasSuffix(".tmp") } }
        let moments: [(String, () -> Bool)] = [
            ("once it holds the target's lock", { FileManager.default.fileExists(atPath: self.source.repository + ".lock") }),
            ("as the copy starts", { work() != nil }),
            ("in the middle of the copy", {
                guard let w = work() else { return false }
                return ((try? FileManager.default.subpathsOfDirectory(atPath: backups + "/" + w)) ?? []).count > 200
            }),
        ]
        for (moment, condition) in moments {
            let process = try start(["snapshot", source.target])
            XCTAssertTrue(wait(for: process, until: condition), "the snapshot never got \(moment)")
            XCTAssertEqual(interrupt(process, with: SIGTERM), 130, moment)
            XCTAssertEqual(backupFolders(), [], "nothing left \(moment)")
            var sessions: String?
            for _ in 0..<100 {
                sessions = try source.cluster.scalar("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name = 'dr' AND pid <> pg_backend_pid()")
                if sessions == "0" { break }
                usleep(50_000)
            }
            XCTAssertEqual(sessions, "0", "its session (and so the server's backup mode) ended \(moment)")
        }
        let snap = try source.dr(["snapshot", source.target])
        XCTAssertEqual(snap.status, 0, snap.stderr)
        XCTAssertEqual(backupFolders().filter { $0.hasPrefix(".") }, [])
    }

    func testKill9ThenStatusNamesTheLeftoversAndTheNextCommandsClearThem() throws {
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)
        let restore = try start(["restore", source.target, "--latest-restorable", "--as", "killed"])
        XCTAssertTrue(wait(for: restore, until: { FileManager.default.fileExists(atPath: self.source.restoreRoot + "/killed/dr-restored.json") }))
        XCTAssertEqual(interrupt(restore, with: SIGKILL), 9)
        // What a killed snapshot leaves: its work folder.
        try FileManager.default.createDirectory(atPath: source.repository + "/backups/.20260101T000000Z.tmp/data", withIntermediateDirectories: true)
        // The restore may have started its server before it died: stop it, as a reboot would.
        if serverRuns(in: source.restoreRoot + "/killed") {
            _ = try SystemProcessRunner.runBlocking("/usr/sbin/runuser", ["-u", "postgres", "--", source.cluster.bindir + "/pg_ctl", "-D", source.restoreRoot + "/killed/data", "-m", "immediate", "-w", "stop"])
        }

        let status = try source.dr(["status", source.target, "--output", "json"])
        let report = try json(status)
        let warnings = (report["warnings"] as? [String] ?? []).joined(separator: "\n")
        XCTAssertTrue(warnings.contains("The restore killed was abandoned") && warnings.contains("`dr teardown killed`"), warnings)
        XCTAssertTrue(warnings.contains("An abandoned backup") && warnings.contains(".20260101T000000Z.tmp"), warnings)
        let restores = report["restores"] as? [[String: Any]] ?? []
        XCTAssertEqual(restores.first { $0["name"] as? String == "killed" }?["state"] as? String, "abandoned", "\(restores)")

        XCTAssertEqual(try source.dr(["teardown", "killed"]).status, 0)
        XCTAssertFalse(restoreFolders().contains("killed"))
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        XCTAssertEqual(backupFolders().filter { $0.hasPrefix(".") }, [], "the next snapshot removed the killed one's work folder")
    }

    // MARK: Finding 7: ad-hoc snapshots in one minute

    func testTwoAdhocSnapshotsInOneMinuteAreBothTakenWithTheirOwnTimes() throws {
        let first = try json(try source.dr(["snapshot", source.target, "--output", "json"]))
        let second = try json(try source.dr(["snapshot", source.target, "--output", "json"]))
        XCTAssertEqual(first["created"] as? Bool, true)
        XCTAssertEqual(second["created"] as? Bool, true)
        let ids = [first["id"] as? String, second["id"] as? String].compactMap { $0 }
        XCTAssertEqual(Set(ids).count, 2, "\(ids)")
        XCTAssertEqual(Set(backupFolders()), Set(ids))
        for snapshot in [first, second] {
            let id = snapshot["id"] as? String ?? ""
            let info = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source.repository + "/backups/\(id)/backup.json"))) as? [String: Any])
            XCTAssertEqual(snapshot["started_at"] as? String, info["started_at"] as? String, "the snapshot's own start, not the report's now")
        }
    }

    // MARK: Finding 9: one lock per target for the whole machine; an interrupted run resumes

    func testTwoRunsFromDifferentStateDirectoriesAreRefusedAndAnInterruptedRunResumes() throws {
        let runbook = source.folder + "/hold.yml"
        try """
        name: hold
        steps:
          - id: look
            uses: status
            with: { target: \(source.target) }
          - id: pause
            uses: wait
            with: { duration: 4s }
        finally:
          - id: note
            uses: exec
            with: { command: "echo cleanup >> \(source.folder)/cleanup.log", mutates: false }
        """.write(toFile: runbook, atomically: true, encoding: .utf8)
        let stateA = source.folder + "/state-a", stateB = source.folder + "/state-b"
        let first = try start(["run", runbook, "--state-dir", stateA])
        let journal = { ((try? FileManager.default.contentsOfDirectory(atPath: stateA + "/runs")) ?? []).first { $0.hasSuffix(".jsonl") } }
        XCTAssertTrue(wait(for: first, until: {
            guard let j = journal(), let text = try? String(contentsOfFile: stateA + "/runs/" + j, encoding: .utf8) else { return false }
            return text.contains("\"step\":\"pause\",\"type\":\"step_started\"")
        }))
        let second = try source.dr(["run", runbook, "--state-dir", stateB])
        XCTAssertEqual(second.status, 2, second.stderr)
        XCTAssertTrue(second.stderr.contains("Target '\(source.target)' is in use by run"), second.stderr)
        let snapshot = try source.dr(["snapshot", source.target])
        XCTAssertEqual(snapshot.status, 2, snapshot.stderr)
        XCTAssertTrue(snapshot.stderr.contains("is in use by run"), snapshot.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: source.repository + ".lock"), "the lock lives beside the repository")

        XCTAssertEqual(interrupt(first), 130)
        let runID = try XCTUnwrap(journal()).replacingOccurrences(of: ".jsonl", with: "")
        let runs = try DRBinary.run(["runs", "--state-dir", stateA])
        XCTAssertTrue(runs.stdout.contains("cancelled"), runs.stdout)
        let resumed = try source.dr(["run", "--resume", runID, "--state-dir", stateA, "--output", "json"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let report = try json(resumed)
        XCTAssertEqual(report["status"] as? String, "succeeded")
        let outcomes = (report["steps"] as? [[String: Any]] ?? []).map { "\($0["id"] ?? "")=\($0["outcome"] ?? "")" }
        XCTAssertEqual(outcomes, ["look=success", "pause=success", "note=success"])
        XCTAssertEqual(try String(contentsOfFile: source.folder + "/cleanup.log", encoding: .utf8), "cleanup\ncleanup\n", "cleanup ran at the end of each attempt")
        let finished = try source.dr(["run", "--resume", runID, "--state-dir", stateA])
        XCTAssertEqual(finished.status, 2, "a finished run is not resumed again: \(finished.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: source.repository + ".lock"), "no lock file left behind")
        XCTAssertEqual(((try? FileManager.default.contentsOfDirectory(atPath: stateA + "/locks")) ?? []).filter { $0.hasSuffix(".lock") }, [])
    }

    func testAnInterruptedRunListsTheServerItLeft() throws {
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)
        let runbook = source.folder + "/restore-and-wait.yml"
        try """
        name: restore-and-wait
        steps:
          - id: restore
            uses: restore.point-in-time
            with: { target: \(source.target), time: latest, as: left-here }
          - id: pause
            uses: wait
            with: { duration: 30s }
        """.write(toFile: runbook, atomically: true, encoding: .utf8)
        let state = source.folder + "/state"
        let out = source.folder + "/run.out"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DRBinary.path)
        process.arguments = ["run", runbook, "--state-dir", state]
        var env = DRBinary.environment([:])
        env["DR_CONFIG"] = source.config
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = FileHandle.nullDevice
        try process.run()
        XCTAssertTrue(wait(for: process, until: {
            let runs = (try? FileManager.default.contentsOfDirectory(atPath: state + "/runs")) ?? []
            return runs.contains { (try? String(contentsOfFile: state + "/runs/" + $0, encoding: .utf8))?.contains("\"step\":\"pause\",\"type\":\"step_started\"") == true }
        }))
        XCTAssertEqual(interrupt(process), 130)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(text.contains("Left behind: left-here (target \(source.target), made by step restore)"), text)
        XCTAssertTrue(text.contains("dr run --resume"), text)
        XCTAssertEqual(try source.dr(["teardown", "left-here"]).status, 0)
    }

    // MARK: Findings 10, 11: status shows only the target's restores; target names

    func testStatusListsOnlyTheTargetsOwnRestoresAndTargetNamesAreChecked() throws {
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)
        XCTAssertEqual(try source.dr(["restore", source.target, "--latest-restorable", "--as", "mine"]).status, 0)
        let otherRepository = source.folder + "/other-repo"
        try FileManager.default.createDirectory(atPath: otherRepository, withIntermediateDirectories: true)
        TestCluster.giveToPostgres(otherRepository)
        var yaml = try String(contentsOfFile: source.config, encoding: .utf8)
        yaml += "\n  other:\n    provider: postgres\n    conninfo: \"\(source.cluster.conninfo)\"\n    repository: \(otherRepository)\n    restore_root: \(source.restoreRoot)\n"
        try yaml.write(toFile: source.config, atomically: true, encoding: .utf8)
        let other = try json(try source.dr(["status", "other", "--output", "json"]))
        XCTAssertEqual((other["restores"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }, [])
        let own = try json(try source.dr(["status", source.target, "--output", "json"]))
        XCTAssertEqual((own["restores"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }, ["mine"])
        let refused = try source.dr(["teardown", "mine", "--target", "other"])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(restoreFolders().contains("mine"))
        XCTAssertEqual(try source.dr(["teardown", "mine"]).status, 0)

        for bad in [String(repeating: "a", count: 41), "my db"] {
            let file = source.folder + "/bad.yml"
            try "targets:\n  \"\(bad)\":\n    provider: postgres\n    conninfo: \"host=127.0.0.1\"\n    repository: /tmp/x\n".write(toFile: file, atomically: true, encoding: .utf8)
            let r = try DRBinary.run(["status", bad, "--config", file])
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.range(of: #"bad\.yml:\d+:\d+: the target name"#, options: .regularExpression) != nil
                          && r.stderr.contains("1 to 40 letters, digits, - or _"), r.stderr)
        }
    }

    // MARK: Finding 5: drill cleanup removes only what is plainly a drill's

    func testDrillCleanupRemovesOnlyPrefixedTaggedAndOldDrillServers() throws {
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)
        let cases: [(name: String, started: String?)] = [
            ("drill-old", "2026-01-01T00:00:00Z"), ("handmade", "2026-01-01T00:00:00Z"),
            ("drill-nostart", nil), ("drill-unreadable", "last tuesday"), ("drill-future", "2099-01-01T00:00:00Z"),
        ]
        for c in cases {
            XCTAssertEqual(try source.dr(["restore", source.target, "--latest-restorable", "--as", c.name]).status, 0)
            let marker = source.restoreRoot + "/\(c.name)/dr-restored.json"
            var fields = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: marker))) as? [String: Any])
            var tags = ["dr:drill": "20260101T000000Z-abcd"]
            tags["dr:drill-started"] = c.started
            fields["tags"] = tags
            try JSONSerialization.data(withJSONObject: fields).write(to: URL(fileURLWithPath: marker))
        }
        let r = try source.dr(["drill", "--cleanup", "--older-than", "1h", "--output", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let result = try json(r)
        XCTAssertEqual((result["removed"] as? [[String: Any]] ?? []).compactMap { $0["instance"] as? String }, ["drill-old"])
        let left = Dictionary(uniqueKeysWithValues: (result["left"] as? [[String: Any]] ?? []).map { ($0["instance"] as? String ?? "", $0["reason"] as? String ?? "") })
        XCTAssertEqual(Set(left.keys), ["handmade", "drill-nostart", "drill-unreadable", "drill-future"], "\(left)")
        XCTAssertTrue(left["handmade"]?.contains("does not start with drill-") == true, "\(left)")
        XCTAssertTrue(left["drill-nostart"]?.contains("no dr:drill-started") == true, "\(left)")
        XCTAssertTrue(left["drill-unreadable"]?.contains("not an RFC 3339 time") == true, "\(left)")
        XCTAssertTrue(left["drill-future"]?.contains("in the future") == true, "\(left)")
        XCTAssertEqual(restoreFolders().filter { !$0.hasPrefix(".") }, ["drill-future", "drill-nostart", "drill-unreadable", "handmade"])
        for name in left.keys { XCTAssertEqual(try source.dr(["teardown", name]).status, 0) }
    }
}
