@testable import DRAWS
import DRCore
import Foundation
import Logging
import XCTest

/// A command's `timeout` bounds every request, retry and wait made within it (issue 11 item 6),
/// with a fake transport and a `ManualClock`: nothing sleeps.
final class TimeBudgetTests: XCTestCase {
    func config(_ transport: any HTTPTransport, clock: ManualClock, logger: Logger = Logger(label: "test"),
                attemptTimeout: Double = 60) -> AWSClientConfig {
        AWSClientConfig(region: "us-east-1", endpoint: URL(string: "https://rds.us-east-1.amazonaws.com")!,
                        credentials: StaticCredentialProvider(Fixtures.credentials), transport: transport,
                        retry: RetryPolicy(jitter: { $0 }), clock: clock, logger: logger, attemptTimeout: attemptTimeout)
    }

    func testEachAttemptGetsWhatIsLeftAndTheCommandStopsWhenItIsGone() async throws {
        // Every answer takes 20 s; the command has 30 s: the first call answers at 20 s, the
        // second gets 10 s, times out, and the budget is gone: no retry, a timeout at 30 s.
        let clock = ManualClock()
        let start = clock.now()
        let transport = SlowTransport(clock: clock, delay: 20)
        let rds = RDSClient(config: config(transport, clock: clock))
        do {
            try await TimeBudget(seconds: 30, clock: clock).run {
                _ = try await rds.describeDBSnapshots(snapshotIdentifier: "a")
                _ = try await rds.describeDBSnapshots(snapshotIdentifier: "b")
            }
            XCTFail("expected the budget to run out")
        } catch let error as TimeBudgetExhausted {
            XCTAssertEqual(error.waitingFor, "an answer from RDS DescribeDBSnapshots")
            XCTAssertEqual(error.lastError?.hasPrefix("attempt 1: timedOut"), true, error.description)
            XCTAssertEqual(error.drError.exitStatus, .timedOut)
            XCTAssertEqual(error.text.parameters, [.timeout, .timeout], "the library names the parameter, the edge words it")
            XCTAssertTrue(error.description.contains("Stopped after 30.0s"), error.description)
        }
        XCTAssertEqual(transport.timeouts, [30, 10])
        XCTAssertEqual(clock.now().timeIntervalSince(start), 30, accuracy: 0.001)
        XCTAssertEqual(clock.sleeps, [], "no retry once the budget is gone")
    }

    func testWithoutABudgetTheClientsOwnAttemptLimitApplies() async throws {
        let clock = ManualClock()
        let transport = SlowTransport(clock: clock, delay: 65)
        let rds = RDSClient(config: config(transport, clock: clock))
        do {
            _ = try await rds.describeDBSnapshots()
            XCTFail("expected a timeout")
        } catch let error as AWSError {
            XCTAssertEqual(error.code, "Transport.timedOut")
            XCTAssertTrue(error.retryable)
            XCTAssertEqual(error.drError.code, .remote)
        }
        XCTAssertEqual(transport.timeouts, [60, 60, 60])
    }

    func testNoRetryIsMadeWhoseDelayWouldOutlastTheBudget() async throws {
        let clock = ManualClock()
        let transport = ScriptedTransport([Fixtures.queryError(503, "ServiceUnavailable"), Fixtures.queryError(503, "ServiceUnavailable"),
                                           Fixtures.describeOK()])
        var c = config(transport, clock: clock)
        c.retry = RetryPolicy(maxAttempts: 3, baseDelay: 2, jitter: { $0 })
        let rds = RDSClient(config: c)
        do {
            _ = try await TimeBudget(seconds: 3, clock: clock).run { try await rds.describeDBInstances() }
            XCTFail("expected the budget to run out")
        } catch let error as TimeBudgetExhausted {
            XCTAssertEqual(error.lastError, "attempt 2: HTTP 503 ServiceUnavailable: m ServiceUnavailable (request id rid-ServiceUnavailable)")
        }
        XCTAssertEqual(clock.sleeps, [2], "the first retry after 2 s fits; the second (after 4 s) does not")
        XCTAssertEqual(transport.sent.count, 2)
    }

    func testAnInnerBudgetNeverOutlastsTheOuterOne() async {
        let clock = ManualClock()
        let outer = TimeBudget(seconds: 10, clock: clock)
        let seen = await outer.run { await TimeBudget(seconds: 100, clock: clock).run { TimeBudget.current?.seconds } }
        XCTAssertEqual(seen, 10)
        let tighter = await outer.run { await TimeBudget(seconds: 5, clock: clock).run { TimeBudget.current?.seconds } }
        XCTAssertEqual(tighter, 5)
        XCTAssertNil(TimeBudget.current)
    }

    func testEachRetryPrintsOneLineWithOperationAttemptErrorAndDelay() async throws {
        let clock = ManualClock()
        let log = CapturedLog()
        let transport = ScriptedTransport([Fixtures.queryError(503, "ServiceUnavailable"), .fail(TransportError(.connectionDropped, "POST rds: connection reset")),
                                           Fixtures.describeOK()])
        _ = try await RDSClient(config: config(transport, clock: clock, logger: log.logger)).describeDBInstances()
        XCTAssertEqual(log.lines, [
            "retrying AWS request attempt=1/3 error=HTTP 503 ServiceUnavailable: m ServiceUnavailable (request id rid-ServiceUnavailable) operation=RDS DescribeDBInstances retry_in=100ms",
            "retrying AWS request attempt=2/3 error=connectionDropped: POST rds: connection reset operation=RDS DescribeDBInstances retry_in=200ms",
        ])
    }

    // MARK: Waits

    func waiter(timeout: Double = 3600) -> Waiter<DBInstance?> {
        .until("DB instance db1 to be available", success: ["available"], state: { $0?.status }, minDelay: 5, maxDelay: 60, timeout: timeout)
    }

    static func instance(_ status: String) -> ScriptedTransport.Step {
        .respond(HTTPResponse(status: 200, body: Data("""
            <DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance>
            <DBInstanceIdentifier>db1</DBInstanceIdentifier><DBInstanceStatus>\(status)</DBInstanceStatus>
            </DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>
            """.utf8)))
    }

    func testAPollThatFailsItsAttemptsDoesNotEndAWaitThatStillHasTime() async throws {
        let clock = ManualClock()
        // Poll 1: creating. Poll 2: three 503s (its attempts spent). Poll 3: available.
        let transport = ScriptedTransport([Self.instance("creating"), Fixtures.queryError(503, "ServiceUnavailable"),
                                           Fixtures.queryError(503, "ServiceUnavailable"), Fixtures.queryError(503, "ServiceUnavailable"),
                                           Self.instance("available")])
        let rds = RDSClient(config: config(transport, clock: clock))
        final class Seen: @unchecked Sendable { var items: [WaitProgress] = [] }
        let seen = Seen()
        try await waiter().wait(clock: clock, jitter: { $0.upperBound }, progress: { seen.items.append($0) }) { try await rds.dbInstance("db1") }
        XCTAssertEqual(seen.items.map(\.state), ["creating", "creating", "available"])
        XCTAssertNil(seen.items[0].pollError)
        XCTAssertEqual(seen.items[1].pollError?.contains("HTTP 503 ServiceUnavailable"), true, "\(seen.items[1])")
        XCTAssertEqual(transport.sent.count, 5)
    }

    func testARefusalStillEndsTheWaitAtOnce() async throws {
        let clock = ManualClock()
        let transport = ScriptedTransport([Self.instance("creating"), Fixtures.queryError(403, "AccessDenied")])
        let rds = RDSClient(config: config(transport, clock: clock))
        do {
            try await waiter().wait(clock: clock, jitter: { $0.upperBound }) { try await rds.dbInstance("db1") }
            XCTFail("expected the refusal to end the wait")
        } catch let error as WaiterError {
            XCTAssertEqual(error.kind, .unexpectedError)
            XCTAssertEqual(error.drError.code, .remoteRefused)
            XCTAssertFalse(error.drError.isRetryable)
        }
        XCTAssertEqual(transport.sent.count, 2)
    }

    func testAWaitPollsNoLongerThanTheBudgetAndNamesWhatItWaitedFor() async throws {
        let clock = ManualClock()
        let start = clock.now()
        let transport = ScriptedTransport([], fallback: HTTPResponse(status: 200, body: Data("""
            <DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance>
            <DBInstanceIdentifier>db1</DBInstanceIdentifier><DBInstanceStatus>creating</DBInstanceStatus>
            </DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>
            """.utf8)))
        let rds = RDSClient(config: config(transport, clock: clock))
        do {
            _ = try await TimeBudget(seconds: 30, clock: clock).run {
                try await waiter(timeout: 7200).wait(clock: clock, jitter: { $0.upperBound }) { try await rds.dbInstance("db1") }
            }
            XCTFail("expected a timeout")
        } catch let error as TimeBudgetExhausted {
            XCTAssertEqual(error.waitingFor, "DB instance db1 to be available (last state \"creating\")")
            XCTAssertTrue(error.description.hasPrefix("Stopped after 30.0s, the `timeout` given, while waiting for DB instance db1"), error.description)
            XCTAssertEqual(error.drError.exitStatus, .timedOut)
        }
        XCTAssertEqual(clock.now().timeIntervalSince(start), 30, accuracy: 0.001)
        XCTAssertEqual(clock.sleeps, [5, 10, 15], "the last sleep ends at the budget")
    }
}

extension TimeBudgetTests {
    func testAPollsRequestsGetNoMoreThanWhatIsLeftOfTheWait() async throws {
        // No command budget; the wait has 50 s; every answer takes 40 s. The first poll answers
        // "creating" at 40 s, the wait sleeps until 45 s, and the next poll's request gets 5 s.
        let clock = ManualClock()
        let start = clock.now()
        let transport = SlowTransport(clock: clock, delay: 40, answer: HTTPResponse(status: 200, body: Data("""
            <DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance>
            <DBInstanceIdentifier>db1</DBInstanceIdentifier><DBInstanceStatus>creating</DBInstanceStatus>
            </DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>
            """.utf8)))
        let rds = RDSClient(config: config(transport, clock: clock))
        do {
            try await waiter(timeout: 50).wait(clock: clock, jitter: { $0.upperBound }) { try await rds.dbInstance("db1") }
            XCTFail("expected a timeout")
        } catch let error as WaiterError {
            XCTAssertEqual(error.kind, .timedOut)
            XCTAssertEqual(error.lastState, "creating")
            XCTAssertEqual(error.drError.exitStatus, .timedOut)
        }
        XCTAssertEqual(transport.timeouts, [50, 5])
        XCTAssertEqual(clock.now().timeIntervalSince(start), 50, accuracy: 0.001)
    }
}
