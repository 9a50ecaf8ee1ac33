import DRAWS
import DRCore
@testable import DRProcedures
@testable import DRDrill
@testable import DRRunbook
import DRRunbookEngine
import Foundation
import XCTest

/// The drill's pure parts: recovery points against a restorable window, metrics, history
/// trends and the policy warning, notification messages.
final class DrillTests: XCTestCase {
    let now = RFC3339.parse("2026-11-26T12:00:00Z")!
    var window: TimeWindow { TimeWindow(earliest: now.addingTimeInterval(-3 * 86_400), latest: now.addingTimeInterval(-60)) }

    func status(snapshots: [Date] = [], window: TimeWindow? = nil) -> TargetStatus {
        TargetStatus(target: "db", provider: "postgres", checkedAt: now,
                     snapshots: snapshots.enumerated().map { SnapshotSummary(id: "s\($0.offset)", kind: "base", createdAt: $0.element, ageSeconds: 0, sizeBytes: nil) },
                     drSnapshots: [], restorableWindow: window, exposureSeconds: nil, state: "ok", cache: nil, restores: [], display: [:], warnings: [])
    }

    func assertBadInput(_ body: @autoclosure () throws -> Any, contains text: String, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            XCTAssertEqual((error as? DRError)?.category, .badInput, line: line)
            XCTAssertTrue((error as? DRError)?.message.contains(text) == true, "\(error)", line: line)
        }
    }

    func testPointsParse() throws {
        XCTAssertEqual(try DrillPoint(parsing: "latest-snapshot"), .latestSnapshot)
        XCTAssertEqual(try DrillPoint(parsing: "latest"), .latest)
        XCTAssertEqual(try DrillPoint(parsing: "pitr:-5m"), .relative(seconds: -300))
        XCTAssertEqual(try DrillPoint(parsing: "random-within:7d"), .randomWithin(seconds: 7 * 86_400))
        XCTAssertEqual(try DrillPoint(parsing: "2026-11-20T12:00:00Z"), .time(RFC3339.parse("2026-11-20T12:00:00Z")!))
        for bad in ["", "pitr:5m", "pitr:-", "random-within:", "random-within:0s", "yesterday", "snapshot"] {
            assertBadInput(try DrillPoint(parsing: bad), contains: "is not a recovery point")
        }
        XCTAssertEqual(try DrillPoint(parsing: "pitr:-1h30m").description, "pitr:-1h30m")
    }

    func testPointsResolveInsideTheWindowOrAreRefused() throws {
        let s = status(snapshots: [now.addingTimeInterval(-7200), now.addingTimeInterval(-3600)], window: window)
        let snap = try DrillPoint.latestSnapshot.resolve(status: s, now: now)
        XCTAssertEqual(snap.snapshot, "s1")
        XCTAssertEqual(snap.recoveryPoint, now.addingTimeInterval(-3600))
        XCTAssertEqual(snap.input, "latest-snapshot")
        XCTAssertEqual(try DrillPoint.latest.resolve(status: s, now: now).recoveryPoint, window.latest)
        XCTAssertEqual(try DrillPoint.relative(seconds: -300).resolve(status: s, now: now).recoveryPoint, now.addingTimeInterval(-300))
        // Outside the window, on either side: refused, naming the window.
        assertBadInput(try DrillPoint.relative(seconds: -30).resolve(status: s, now: now), contains: "outside the restorable window")
        assertBadInput(try DrillPoint.time(now.addingTimeInterval(-4 * 86_400)).resolve(status: s, now: now), contains: window.description)
        // Random: inside both the window and the span, whatever the generator says.
        let low = try DrillPoint.randomWithin(seconds: 86_400).resolve(status: s, now: now) { $0.lowerBound }
        let high = try DrillPoint.randomWithin(seconds: 86_400).resolve(status: s, now: now) { $0.upperBound }
        XCTAssertEqual(low.recoveryPoint.timeIntervalSince1970, now.addingTimeInterval(-86_400).timeIntervalSince1970, accuracy: 1)
        XCTAssertEqual(high.recoveryPoint.timeIntervalSince1970, window.latest.timeIntervalSince1970, accuracy: 1)
        let wide = try DrillPoint.randomWithin(seconds: 30 * 86_400).resolve(status: s, now: now) { $0.lowerBound }
        XCTAssertEqual(wide.recoveryPoint, window.earliest, "never before the window")
        // Nothing to restore.
        assertBadInput(try DrillPoint.latestSnapshot.resolve(status: status(window: window), now: now), contains: "no snapshot")
        assertBadInput(try DrillPoint.latest.resolve(status: status(), now: now), contains: "no restorable window")
    }

    func testDefaultPointsPerProvider() {
        let pg = Target(name: "a", provider: .postgres(PostgresTargetSettings(conninfo: "", repository: "/r")))
        let rds = Target(name: "b", provider: .rds(RDSTargetSettings(region: "us-east-1", resource: .instance("i"))))
        XCTAssertEqual(DrillPoint.defaultPoint(for: pg), .latest)
        XCTAssertEqual(DrillPoint.defaultPoint(for: rds), .latestSnapshot)
    }

    func testInstanceNamesAreValidRDSIdentifiers() {
        let name = DrillRunner.instanceName(target: "Prod_DB--main.eu", drillID: "20261126T120000Z-3fa2")
        XCTAssertEqual(name, "drill-prod-db-main-eu-20261126t120000z-3fa2")
        XCTAssertNil(name.range(of: "--"))
        XCTAssertLessThanOrEqual(DrillRunner.instanceName(target: String(repeating: "x", count: 80), drillID: "20261126T120000Z-3fa2").count, 63)
    }

    func report(verdict: DrillReport.Verdict = .passed, target: String = "db", recovery: Double? = 12.5, freshness: Double? = 3) -> DrillReport {
        DrillReport(drillID: "20261126T120000Z-3fa2", target: target, provider: "postgres", instance: "drill-db", tags: ["dr:drill": "x"],
                    runID: "r", runbook: "restore-drill.yml", startedAt: "2026-11-26T12:00:00Z", endedAt: "2026-11-26T12:00:20Z",
                    point: .init(spec: "latest", recoveryPoint: "2026-11-26T11:59:00Z", snapshot: nil),
                    phases: [.init(name: "restore", startedAt: nil, endedAt: nil, seconds: 10, completed: true),
                             .init(name: "connect", startedAt: nil, endedAt: nil, seconds: 0.5, completed: true),
                             .init(name: "verify", startedAt: nil, endedAt: nil, seconds: 2, completed: true)],
                    recoverySeconds: recovery,
                    verification: .init(passed: verdict == .passed, reference: "live source", rows: "exact", objectsChecked: 3, tablesCounted: 1,
                                        failures: verdict == .passed ? 0 : 1, injectedFailure: verdict != .passed, findings: [], error: nil, report: nil),
                    freshness: .init(seconds: freshness, dataEndsAt: nil, source: "replay", note: nil),
                    teardown: .init(instance: "drill-db", removed: true, seconds: 1, error: nil), steps: [],
                    verdict: verdict, failure: verdict == .passed ? nil : "injected", versions: .init(dr: "0.1.0", postgres: "15.18", runbook: "x"))
    }

    /// Issue 11 item 5: a drill stopped before verifying says so, not "FAILED (0 objects…)".
    func testAnInterruptedDrillsSummarySaysVerificationDidNotRun() {
        var stopped = report(verdict: .interrupted)
        stopped.verification = .init(passed: false, reference: nil, rows: nil, objectsChecked: 0, tablesCounted: 0, failures: 0,
                                     injectedFailure: false, findings: [], error: nil, report: nil)
        XCTAssertTrue(stopped.text.contains("verification: not run (the drill stopped before it)"), stopped.text)
        XCTAssertFalse(stopped.text.contains("FAILED (0 objects"), stopped.text)
        XCTAssertTrue(report(verdict: .failed).text.contains("verification: FAILED (3 objects"))
    }

    func testMetricsAreTextfileFormatWithTargetLabels() {
        let text = DrillEvidence.metrics(report(target: "we\"ird"), lastSuccess: RFC3339.parse("2026-11-26T12:00:20Z"))
        XCTAssertTrue(text.contains("dr_drill_success{target=\"we\\\"ird\"} 1\n"), text)
        XCTAssertTrue(text.contains("dr_drill_recovery_seconds{target=\"we\\\"ird\",phase=\"connect\"} 0.500000\n"), text)
        XCTAssertTrue(text.contains("dr_drill_recovery_seconds{target=\"we\\\"ird\",phase=\"total\"} 12.500000\n"), text)
        XCTAssertTrue(text.contains("dr_drill_last_success_timestamp_seconds{target=\"we\\\"ird\"} 1795694420\n"), text)
        XCTAssertEqual(text.components(separatedBy: "# TYPE ").count - 1, 6)
        // Unknown values are left out, not written as zero.
        let unknown = DrillEvidence.metrics(report(verdict: .failed, recovery: nil, freshness: nil), lastSuccess: nil)
        XCTAssertFalse(unknown.contains("dr_drill_freshness_seconds") || unknown.contains("last_success") || unknown.contains("phase=\"total\""), unknown)
        XCTAssertTrue(unknown.contains("dr_drill_success{target=\"db\"} 0\n") && unknown.contains("dr_drill_verify_findings{target=\"db\"} 1\n"), unknown)
    }

    func testHistoryTrendsAndPolicyWarning() throws {
        let target = Target(name: "db", provider: .postgres(PostgresTargetSettings(conninfo: "", repository: "/r")), drill: DrillPolicy(maxAge: 86_400))
        var entries: [DrillHistory.Entry] = []
        for (i, seconds) in [10.0, 10, 10, 10, 10, 20, 20, 20, 20, 20].enumerated() {
            var e = DrillHistory.Entry(report(recovery: seconds, freshness: 5))
            e.endedAt = RFC3339.format(now.addingTimeInterval(Double(i - 10) * 3600))
            entries.append(e)
        }
        let fresh = DrillHistorySummary(target: target, entries: entries, last: 3, now: now)
        XCTAssertEqual(fresh.drills.count, 3)
        XCTAssertEqual(fresh.recoveryTrend.direction, "rising")
        XCTAssertEqual(fresh.recoveryTrend.recent, 20)
        XCTAssertEqual(fresh.freshnessTrend.direction, "steady")
        XCTAssertNil(fresh.warning)
        // Issue 11 item 5: a mean is called a mean, not "last".
        XCTAssertTrue(fresh.text.contains("Recovery time: rising (mean of the last 5 passed: 20.0s; of the 5 before: 10.0s)"), fresh.text)
        let stale = DrillHistorySummary(target: target, entries: entries, last: 3, now: now.addingTimeInterval(2 * 86_400))
        XCTAssertTrue(stale.warning?.contains("longer than its policy allows") == true, stale.warning ?? "")
        let never = DrillHistorySummary(target: target, entries: [DrillHistory.Entry(report(verdict: .failed))], last: 3, now: now)
        XCTAssertTrue(never.warning?.contains("never passed") == true)
    }

    func testHistorySkipsALineCutShortByACrash() throws {
        let dir = NSTemporaryDirectory() + "dr-history-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let history = DrillHistory(directory: dir)
        try history.append(DrillHistory.Entry(report()))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: history.path("db")))
        handle.seekToEndOfFile()
        handle.write(Data("{\"drill_id\":\"half".utf8))
        try handle.close()
        try history.append(DrillHistory.Entry(report(verdict: .failed)))
        XCTAssertEqual(history.entries("db").map(\.verdict), [.passed])
        XCTAssertEqual(history.lastSuccess("db"), RFC3339.parse("2026-11-26T12:00:20Z"))
    }

    struct Refusing: HTTPTransport {
        func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse { HTTPResponse(status: 403) }
    }

    func testNotificationsAreShortSentOnFailureAndKeepTheURLSecret() async throws {
        let url = try DrillNotifier.parseURL("https://hooks.slack.com/services/T0/B0/very-secret")
        let notifier = DrillNotifier(url: url, transport: Refusing())
        XCTAssertFalse(notifier.shouldSend(report()))
        XCTAssertTrue(notifier.shouldSend(report(verdict: .failed)))
        XCTAssertTrue(DrillNotifier(url: url, on: [.success], transport: Refusing()).shouldSend(report(verdict: .failed)), "failures always")
        let text = DrillNotifier.message(report(verdict: .failed))["text"] ?? ""
        XCTAssertTrue(text.contains("*db* failed") && text.contains("injected"), text)
        do {
            try await notifier.send(report(verdict: .failed))
            XCTFail("a refused notification must be reported")
        } catch let error as DRError {
            XCTAssertTrue(error.message.contains("HTTP 403") && !error.message.contains("very-secret"), error.message)
        }
        XCTAssertThrowsError(try DrillNotifier.parseURL("ftp://x/y"))
    }
}
