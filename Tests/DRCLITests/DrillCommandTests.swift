import DRCore
import DRRunbook
import DRTestSupport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
import DRRunbookEngine
import DRDrill

/// `dr drill` end to end against real PostgreSQL 15: a real base backup, a real point-in-time
/// restore through the runbook engine, real verification and freshness, teardown checked; the
/// evidence parsed back; failure injection with its metrics and notification; history and its
/// policy warning; a drill killed outright and cleaned up; bad input refused before any restore.
final class DrillCommandTests: XCTestCase {
    var source: ArchivedSource!
    var work: String!
    static let runbook = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("runbooks/restore-drill.yml").path

    override func setUpWithError() throws {
        source = try ArchivedSource()
        work = try TestCluster.makeFolder(in: try TestEnvironment.require("DR_TEST_WORK"), prefix: "drill")
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT clock_timestamp(), payload text)",
                                   "INSERT INTO events (payload) SELECT md5(g::text) FROM generate_series(1, 500) g")
        try writeConfig(maxAge: "7d")
    }

    override func tearDown() { source?.stop() }

    func writeConfig(maxAge: String) throws {
        try source.writeConfig(weekly: nil, extra: """
            verify: { rows: exact, freshness_query: "SELECT max(created_at) FROM events" }
            drill: { max_age: \(maxAge) }
        """)
    }

    var reports: String { work + "/reports" }
    var state: String { work + "/state" }

    /// `dr drill` with the test's report and state folders; the password reaches libpq only through PGPASSWORD.
    func drill(_ args: [String]) throws -> ProcessResult {
        try source.dr(["drill"] + args + ["--report-dir", reports, "--state-dir", state, "--runbook", Self.runbook],
                      environment: ["PGPASSWORD": source.cluster.password])
    }

    func json(_ r: ProcessResult) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout + r.stderr)
    }

    func restoredServers() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: source.restoreRoot)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Issue 11 item 3: the drill's verification logs in as the target's source does (the
    /// password in its conninfo), not as a password-less copy of the restore's conninfo.
    func testVerificationUsesTheTargetsCredentialsWithoutPGPASSWORD() throws {
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)
        let r = try source.dr(["drill", source.target, "--report-dir", reports, "--state-dir", state, "--runbook", Self.runbook, "--output", "json"],
                              environment: ["PGPASSWORD": "", "PGPASSFILE": "/nonexistent", "DR_LOG_LEVEL": "warning"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        // Issue 12: the drill's libraries log through the CLI's handler, so DR_LOG_LEVEL holds for them
        // (swift-log's default handler would print `2026-…+0000 info dr: …` lines).
        XCTAssertNil(r.stderr.range(of: #"(?m)^\d{4}-\d{2}-\d{2}T\S+ (info|notice|debug) "#, options: .regularExpression), r.stderr)
        XCTAssertFalse(r.stderr.contains("dr: restoring"), "info lines are below warning: \(r.stderr)")
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(report["verdict"] as? String, "passed", r.stdout)
        XCTAssertFalse(r.stdout.contains(source.cluster.password) || r.stderr.contains(source.cluster.password))
        let evidence = try String(contentsOfFile: evidence(report).json, encoding: .utf8)
        XCTAssertFalse(evidence.contains(source.cluster.password), "the password never reaches the evidence")
    }

    /// Prometheus text format, parsed: `name{labels}` → value; HELP/TYPE lines checked.
    func metrics(_ path: String) throws -> [String: Double] {
        var out: [String: Double] = [:]
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
            let parts = line.split(separator: " ")
            XCTAssertEqual(parts.count, 2, "not a sample line: \(line)")
            XCTAssertNotNil(line.range(of: #"^[a-z_]+\{target="[^"]+"(,phase="[a-z]+")?\} "#, options: .regularExpression), String(line))
            out[String(parts[0])] = try XCTUnwrap(Double(parts[1]), String(line))
        }
        return out
    }

    func evidence(_ report: [String: Any]) -> (json: String, junit: String, markdown: String, metrics: String) {
        let base = "\(reports)/drill-\(source.target)-\(report["drill_id"] as? String ?? "")"
        return (base + ".json", base + ".junit.xml", base + ".md", "\(reports)/dr_drill_\(source.target).prom")
    }

    func testDrillRestoresVerifiesMeasuresTearsDownAndLeavesEvidence() throws {
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        // A manifest captured at snapshot time (nothing written in between).
        let manifest = work + "/manifest.json"
        let capture = try source.dr(["verify", "capture", "--db", source.cluster.conninfo, "--out", manifest])
        XCTAssertEqual(capture.status, 0, capture.stderr)
        try source.cluster.execute("INSERT INTO events (payload) SELECT md5(g::text) FROM generate_series(1, 250) g")
        try source.cluster.switchWal(waitingFor: source.repository)
        let hook = try WebhookRecorder(folder: work)
        defer { hook.stop() }

        // A passing drill of the latest restorable point (the postgres default), notifying on success too.
        let passed = try drill([source.target, "--output", "json", "--notify", hook.url, "--notify-on", "success"])
        XCTAssertEqual(passed.status, 0, passed.stderr)
        let report = try json(passed)
        XCTAssertEqual(report["verdict"] as? String, "passed", passed.stdout)
        XCTAssertEqual((report["point"] as? [String: Any])?["spec"] as? String, "latest")
        let phases = report["phases"] as? [[String: Any]] ?? []
        XCTAssertEqual(phases.map { $0["name"] as? String }, ["restore", "connect", "verify"])
        XCTAssertTrue(phases.allSatisfy { $0["completed"] as? Bool == true && ($0["seconds"] as? Double ?? -1) >= 0 }, "\(phases)")
        let total = try XCTUnwrap(report["recovery_seconds"] as? Double)
        XCTAssertEqual(total, phases.compactMap { $0["seconds"] as? Double }.reduce(0, +), accuracy: 0.01)
        let verification = report["verification"] as? [String: Any] ?? [:]
        XCTAssertEqual(verification["passed"] as? Bool, true)
        XCTAssertEqual(verification["reference"] as? String, "live source")
        XCTAssertGreaterThan(verification["tables_counted"] as? Int ?? 0, 0)
        // Freshness from the declared query: the newest event is before the recovery point, by less than the test took.
        let freshness = report["freshness"] as? [String: Any] ?? [:]
        XCTAssertEqual(freshness["source"] as? String, "freshness_query")
        let fresh = try XCTUnwrap(freshness["seconds"] as? Double, "\(freshness)")
        XCTAssertTrue(fresh >= 0 && fresh < 120, "freshness \(fresh)")
        let teardown = report["teardown"] as? [String: Any] ?? [:]
        XCTAssertEqual(teardown["removed"] as? Bool, true)
        let instance = try XCTUnwrap(report["instance"] as? String)
        XCTAssertTrue(instance.hasPrefix("drill-local-db-"), instance)
        XCTAssertEqual((report["tags"] as? [String: String])?["dr:drill"], report["drill_id"] as? String)
        // Torn down: no server folder, no data directory, no server answering.
        XCTAssertEqual(restoredServers(), [])
        XCTAssertFalse(passed.stdout.contains(source.cluster.password) || passed.stderr.contains(source.cluster.password))

        // The evidence, parsed back.
        let files = evidence(report)
        let saved = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: files.json))) as? [String: Any])
        XCTAssertEqual(saved["drill_id"] as? String, report["drill_id"] as? String)
        XCTAssertNotNil((saved["versions"] as? [String: Any])?["postgres"] as? String)
        let junit = try XMLDocument(contentsOf: URL(fileURLWithPath: files.junit))
        let cases = try junit.nodes(forXPath: "//testcase").compactMap { ($0 as? XMLElement)?.attribute(forName: "name")?.stringValue }
        XCTAssertTrue(["phase: restore", "phase: connect", "phase: verify", "teardown"].allSatisfy(cases.contains), "\(cases)")
        XCTAssertTrue(cases.contains("public.events"), "one test case per verification check: \(cases)")
        XCTAssertEqual(try junit.nodes(forXPath: "//failure").count, 0)
        let markdown = try String(contentsOfFile: files.markdown, encoding: .utf8)
        XCTAssertTrue(markdown.contains("passed") && markdown.contains("| ✓ restore |"), markdown)
        let m = try metrics(files.metrics)
        let label = "{target=\"\(source.target)\"}"
        XCTAssertEqual(m["dr_drill_success\(label)"], 1)
        XCTAssertEqual(m["dr_drill_verify_findings\(label)"], 0)
        XCTAssertEqual(m["dr_drill_recovery_seconds{target=\"\(source.target)\",phase=\"total\"}"] ?? -1, total, accuracy: 0.001)
        XCTAssertNotNil(m["dr_drill_recovery_seconds{target=\"\(source.target)\",phase=\"connect\"}"])
        XCTAssertEqual(m["dr_drill_freshness_seconds\(label)"] ?? -1, fresh, accuracy: 0.001)
        let lastSuccess = try XCTUnwrap(m["dr_drill_last_success_timestamp_seconds\(label)"])
        XCTAssertEqual(hook.received.count, 1)
        XCTAssertTrue((hook.received.first?["text"] as? String ?? "").contains("passed"), "\(hook.received)")

        // --inject-failure: exit 1, failure metrics, the last success kept, the failure notified, still torn down.
        // The newest snapshot, verified exactly against the manifest captured with it; only the injected failure fails.
        let failed = try drill([source.target, "--inject-failure", "--point", "latest-snapshot", "--manifest", manifest, "--notify", hook.url])
        XCTAssertEqual(failed.status, 1, failed.stderr)
        XCTAssertTrue(failed.stdout.contains("FAILED") && failed.stdout.contains("snapshot"), failed.stdout)
        XCTAssertTrue(failed.stdout.contains("0 failing finding") == false && failed.stdout.contains("1 failing finding"), failed.stdout)
        XCTAssertEqual(restoredServers(), [])
        let after = try metrics(files.metrics)
        XCTAssertEqual(after["dr_drill_success\(label)"], 0)
        XCTAssertEqual(after["dr_drill_verify_findings\(label)"], 1)
        XCTAssertEqual(after["dr_drill_last_success_timestamp_seconds\(label)"], lastSuccess)
        XCTAssertEqual(hook.received.count, 2)
        let alert = hook.received.last?["text"] as? String ?? ""
        XCTAssertTrue(alert.contains("failed") && alert.contains("injected"), alert)
        XCTAssertFalse(failed.stderr.contains("secret-token"), "the webhook URL is a secret")
        let junitFiles = try FileManager.default.contentsOfDirectory(atPath: reports).filter { $0.hasSuffix(".junit.xml") }
        XCTAssertEqual(junitFiles.count, 2)
        let failedJUnit = try junitFiles.map { try XMLDocument(contentsOf: URL(fileURLWithPath: reports + "/" + $0)) }
            .map { try $0.nodes(forXPath: "//failure").count }
        XCTAssertEqual(failedJUnit.sorted(), [0, 1])
        // Every drill leaves its page too; the failed one says why.
        let pages = try FileManager.default.contentsOfDirectory(atPath: reports).filter { $0.hasSuffix(".html") }
        XCTAssertEqual(pages.count, 2)
        let failedPage = try pages.map { try String(contentsOfFile: reports + "/" + $0, encoding: .utf8) }.first { $0.contains("class=\"verdict failed\"") }
        XCTAssertTrue(try XCTUnwrap(failedPage, "\(pages)").contains("injected failure (--inject-failure)"))

        // History: both drills, the last success, no warning within the policy; a warning (exit 1) beyond it.
        let history = try source.dr(["drill", "history", source.target, "--state-dir", state, "--output", "json"])
        XCTAssertEqual(history.status, 0, history.stderr)
        let summary = try json(history)
        XCTAssertEqual(summary["total"] as? Int, 2)
        XCTAssertEqual((summary["drills"] as? [[String: Any]])?.map { $0["verdict"] as? String }, ["passed", "failed"])
        XCTAssertNotNil(summary["last_success"] as? String)
        XCTAssertNil(summary["warning"] as? String)
        try writeConfig(maxAge: "1s")
        sleep(2)
        let stale = try source.dr(["drill", "history", source.target, "--state-dir", state])
        XCTAssertEqual(stale.status, 1, stale.stdout + stale.stderr)
        XCTAssertTrue(stale.stdout.contains("WARNING") && stale.stdout.contains("drill.max_age"), stale.stdout)
        let lines = try String(contentsOfFile: state + "/drills/\(source.target).jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2, "one history line per drill, appended")
    }

    /// `verify: { content: checksum, exclude_content: [...] }` in dr.yml: the drill compares
    /// contents with a manifest captured with them. A changed value with the same row counts fails
    /// it; one in the excluded table does not (counted, not hashed, and said so).
    func testAContentChecksumDrillCatchesAChangedValueWithTheSameCounts() throws {
        try source.cluster.execute("CREATE TABLE notes (id int PRIMARY KEY, v text)",
                                   "INSERT INTO notes SELECT g, 'n' || g FROM generate_series(1, 20) g")
        try source.writeConfig(weekly: nil, extra: """
                verify: { rows: exact, content: checksum, exclude_content: [public.notes] }
            """)
        let manifest = work + "/content.json"
        let capture = try source.dr(["verify", "capture", "--db", source.cluster.conninfo, "--content", "checksum",
                                     "--exclude-content", "public.notes", "--out", manifest])
        XCTAssertEqual(capture.status, 0, capture.stderr)
        try source.cluster.execute("UPDATE events SET payload = 'changed' WHERE id = 7", "UPDATE notes SET v = 'changed' WHERE id = 3")
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)

        let r = try drill([source.target, "--point", "latest-snapshot", "--manifest", manifest, "--output", "json"])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        let report = try json(r)
        let verification = report["verification"] as? [String: Any] ?? [:]
        XCTAssertEqual(verification["failures"] as? Int, 1, r.stdout)
        XCTAssertEqual(restoredServers(), [])
        let junit = try XMLDocument(contentsOf: URL(fileURLWithPath: evidence(report).junit))
        let failures = try junit.nodes(forXPath: "//failure").compactMap { ($0 as? XMLElement)?.attribute(forName: "message")?.stringValue }
        XCTAssertEqual(failures.count, 1, "\(failures)")
        XCTAssertTrue(failures.first?.contains("public.events") ?? false && failures.first?.contains("contents differ") ?? false, "\(failures)")
        let notes = try junit.nodes(forXPath: "//system-out").compactMap(\.stringValue).joined(separator: "\n")
        XCTAssertTrue(notes.contains("public.notes: contents not compared"), notes)
    }

    func testBadInputIsRefusedBeforeAnythingIsRestored() throws {
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)
        let unwritable = work + "/a-file"
        _ = FileManager.default.createFile(atPath: unwritable, contents: Data())
        let cases: [([String], String)] = [
            (["no-such-db"], "no target named"),
            ([source.target, "--point", "2001-01-01T00:00:00Z"], "outside the restorable window"),
            ([source.target, "--point", "pitr:-30d"], "outside the restorable window"),
            ([source.target, "--point", "yesterday"], "is not a recovery point"),
            ([source.target, "--report-dir", unwritable + "/reports"], "cannot be written"),
            ([source.target, "--manifest", work + "/missing.json"], "cannot be read"),
        ]
        for (args, expected) in cases {
            let r = try source.dr(["drill"] + args + ["--state-dir", state, "--runbook", Self.runbook, "--report-dir", reports]
                                  .filter { !(args.contains("--report-dir") && ($0 == "--report-dir" || $0 == reports)) })
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one clear paragraph: \(r.stderr)")
        }
        XCTAssertEqual(restoredServers(), [], "nothing restored")
        XCTAssertFalse(FileManager.default.fileExists(atPath: state + "/drills"), "no drill recorded")
    }

    func testAKilledDrillIsCleanedUpAndNothingElseIsTouched() throws {
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)
        // A restored server that is not a drill's: cleanup must leave it alone.
        XCTAssertEqual(try source.dr(["restore", source.target, "--latest-restorable", "--as", "keep-me"]).status, 0)

        let process = try startDrill()
        // Killed outright once its server's marker exists: no teardown can run.
        let deadline = Date().addingTimeInterval(60)
        while !restoredServers().contains(where: { $0.hasPrefix("drill-") && FileManager.default.fileExists(atPath: source.restoreRoot + "/" + $0 + "/dr-restored.json") }) {
            XCTAssertTrue(Date() < deadline && process.isRunning, "the drill never started its restore")
            if Date() >= deadline || !process.isRunning { return }
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let leftover = try XCTUnwrap(restoredServers().first { $0.hasPrefix("drill-") })
        // The restored server's marker carries the drill's tag, its id the one in the server's name.
        let marker = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source.restoreRoot + "/" + leftover + "/dr-restored.json"))) as? [String: Any])
        let drillID = try XCTUnwrap((marker["tags"] as? [String: String])?["dr:drill"], "\(marker)")
        XCTAssertTrue(leftover.hasSuffix("-" + drillID.lowercased()), "\(leftover) \(drillID)")

        // A young leftover is kept by the default --older-than (a drill may still be running).
        let young = try source.dr(["drill", "--cleanup", "--output", "json"])
        XCTAssertEqual(young.status, 0, young.stderr)
        XCTAssertEqual(try json(young)["kept"] as? [String], [leftover])
        XCTAssertTrue(restoredServers().contains(leftover))

        let cleanup = try source.dr(["drill", "--cleanup", "--older-than", "0s", "--output", "json"])
        XCTAssertEqual(cleanup.status, 0, cleanup.stderr)
        let removed = try json(cleanup)["removed"] as? [[String: Any]] ?? []
        XCTAssertEqual(removed.map { $0["instance"] as? String }, [leftover])
        XCTAssertEqual(restoredServers(), ["keep-me"], "exactly the drill's leftover was removed")
        XCTAssertEqual(try source.dr(["teardown", "keep-me"]).status, 0)
    }

    /// Starts `dr drill` on the source target in the background, for the tests that interrupt it.
    func startDrill() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DRBinary.path)
        process.arguments = ["drill", source.target, "--report-dir", reports, "--state-dir", state, "--runbook", Self.runbook]
        var env = ProcessInfo.processInfo.environment
        env["DR_CONFIG"] = source.config
        env["PGPASSWORD"] = source.cluster.password
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func testCtrlCAndTimeoutTearDownBeforeExiting() throws {
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)

        // Ctrl-C once the server exists: the teardown runs, then exit 130.
        let process = try startDrill()
        let deadline = Date().addingTimeInterval(60)
        while !restoredServers().contains(where: { $0.hasPrefix("drill-") }) && Date() < deadline && process.isRunning { usleep(20_000) }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertEqual(restoredServers(), [], "torn down before exiting")
        let interrupted = DrillHistory(directory: state + "/drills").entries(source.target)
        XCTAssertEqual(interrupted.map(\.verdict.rawValue), ["interrupted"])

        // A drill past its --timeout is stopped, torn down, and fails (exit 1).
        let slow = try drill([source.target, "--timeout", "1s", "--output", "json"])
        XCTAssertEqual(slow.status, 1, slow.stderr)
        XCTAssertTrue((try json(slow)["failure"] as? String ?? "").contains("--timeout"), slow.stdout)
        XCTAssertEqual(restoredServers(), [])
    }
}
