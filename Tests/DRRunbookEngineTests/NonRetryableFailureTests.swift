import DRCore
@testable import DRRunbookEngine
import XCTest

/// A step's retries never repeat a failure that fails the same way every time (issue 11 item 11):
/// authentication, authorization, validation, bad input.
final class NonRetryableFailureTests: XCTestCase {
    let shapes = [RunStateMachine.StepShape(id: "snapshot", retries: 2)]

    func testARefusalEndsTheStepAtOnceAndATransientFailureIsRetried() throws {
        let refused = StepFailure(.remote, "RDS CreateDBSnapshot failed: HTTP 403 InvalidClientTokenId", retryable: false)
        var sim = Simulation()
        sim.results = ["snapshot": [.failure(refused), .success([:])]]
        let trace = try sim.run(RunStateMachine(steps: shapes), from: .started)
        XCTAssertFalse(trace.actions.contains { if case .retryStep = $0 { return true }; return false }, "\(trace.actions)")
        XCTAssertEqual(trace.machine.failure, refused)
        XCTAssertEqual(trace.events.last, .finished(.failed))

        let transient = StepFailure(.remote, "RDS CreateDBSnapshot failed: HTTP 503 after 3 attempts")
        XCTAssertTrue(transient.isRetryable)
        sim.results = ["snapshot": [.failure(transient), .success([:])]]
        let retried = try sim.run(RunStateMachine(steps: shapes), from: .started)
        XCTAssertTrue(retried.actions.contains(.retryStep(step: 0, attempt: 2, afterSeconds: RunStateMachine(steps: shapes).retryPolicy.delay(afterAttempt: 1))))
        XCTAssertEqual(retried.events.last, .finished(.succeeded))
    }

    func testTheDriverTakesRetryabilityFromTheError() {
        XCTAssertFalse(RunDriver.failure(DRError(.remoteRefused, "HTTP 403 AccessDenied")).isRetryable)
        XCTAssertFalse(RunDriver.failure(DRError(.authentication, "password authentication failed")).isRetryable)
        XCTAssertFalse(RunDriver.failure(DRError.badInput("no such target")).isRetryable)
        XCTAssertTrue(RunDriver.failure(DRError.remote("HTTP 503 after 3 attempts")).isRetryable)
        XCTAssertTrue(RunDriver.failure(DRError.timedOut("waited too long")).isRetryable)
    }

    func testTheJournalKeepsTheDecisionSoAResumeMakesTheSameOne() throws {
        let dir = NSTemporaryDirectory() + "dr-nonretryable-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let header = RunHeader(runID: "r", runbook: "/x.yml", name: "x", digest: "d", startedAt: Date(timeIntervalSince1970: 1_795_176_000),
                               inputs: [:], secretInputs: [], targets: [])
        let failures = [StepFailure(.remote, "refused", retryable: false), StepFailure(.remote, "busy"), StepFailure(.badInput, "bad")]
        let journal = try Journal(path: dir + "/r.jsonl")
        try journal.append(header)
        for (i, failure) in failures.enumerated() {
            try journal.append(JournalEntry(at: Date(timeIntervalSince1970: 1_795_176_001 + Double(i)),
                                            event: .stepFailed(step: 0, attempt: 1, failure: failure), stepID: "snapshot"))
        }
        let read = try Journal.read(path: dir + "/r.jsonl").entries.map(\.event)
        XCTAssertEqual(read, failures.map { .stepFailed(step: 0, attempt: 1, failure: $0) })
        let text = try String(contentsOfFile: dir + "/r.jsonl", encoding: .utf8)
        XCTAssertEqual(text.components(separatedBy: "\"retryable\"").count - 1, 1, "written only where the category does not imply it: \(text)")
    }
}
