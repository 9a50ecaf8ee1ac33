@testable import DRAWS
import DRCore
import Foundation
import XCTest

final class WaiterTests: XCTestCase {
    final class States: @unchecked Sendable {
        let lock = NSLock()
        var queue: [Result<String?, AWSError>]
        var polls: [Date] = []
        init(_ q: [Result<String?, AWSError>]) { queue = q }
        func next(_ now: Date) throws -> String? {
            try lock.withLock {
                polls.append(now)
                return try (queue.count > 1 ? queue.removeFirst() : queue[0]).get()
            }
        }
    }

    func waiter(timeout: Double = 3600) -> Waiter<String?> {
        .until("DB instance x to be available", success: ["available"], state: { $0 }, minDelay: 5, maxDelay: 60, timeout: timeout)
    }

    func testPollsAtOnceThenBacksOffUntilSuccess() async throws {
        let clock = ManualClock()
        let start = clock.now()
        let states = States([.success("creating"), .success("creating"), .success("backing-up"), .success("creating"), .success("available")])
        final class Seen: @unchecked Sendable { var items: [WaitProgress] = [] }
        let seen = Seen()
        let result = try await waiter().wait(clock: clock, jitter: { $0.upperBound }, progress: { seen.items.append($0) }) {
            try states.next(clock.now())
        }
        XCTAssertEqual(result, "available")
        XCTAssertEqual(states.polls.first, start) // first poll at once
        XCTAssertEqual(clock.sleeps, [5, 10, 20, 40])
        XCTAssertEqual(seen.items.map(\.state), ["creating", "creating", "backing-up", "creating", "available"])
        XCTAssertEqual(seen.items.last?.elapsed, 75)
    }

    func testDelaysAreCappedAndJitteredWithinBounds() {
        let w = waiter()
        for attempt in 1...12 {
            let d = w.delay(afterAttempt: attempt, jitter: { Double.random(in: $0) })
            XCTAssertTrue(d >= 5 && d <= 60, "\(d)")
        }
        XCTAssertEqual(w.delay(afterAttempt: 10, jitter: { $0.upperBound }), 60)
    }

    func testFailureStateEndsTheWaitAtOnce() async throws {
        let clock = ManualClock()
        let states = States([.success("creating"), .success("incompatible-restore"), .success("available")])
        do {
            try await waiter().wait(clock: clock, jitter: { $0.lowerBound }) { try states.next(clock.now()) }
            XCTFail("expected failure")
        } catch let error as WaiterError {
            XCTAssertEqual(error.kind, .failureState)
            XCTAssertEqual(error.lastState, "incompatible-restore")
            XCTAssertTrue(error.description.contains("incompatible-restore"))
            XCTAssertEqual(error.drError.exitStatus, .remote)
        }
        XCTAssertEqual(states.polls.count, 2)
    }

    func testTimeoutSaysWhatItWaitedForAndWhatItLastSaw() async throws {
        let clock = ManualClock()
        let states = States([.success("modifying")])
        do {
            try await waiter(timeout: 100).wait(clock: clock, jitter: { $0.upperBound }) { try states.next(clock.now()) }
            XCTFail("expected timeout")
        } catch let error as WaiterError {
            XCTAssertEqual(error.kind, .timedOut)
            XCTAssertTrue(error.description.contains("DB instance x to be available"), error.description)
            XCTAssertTrue(error.description.contains("\"modifying\""), error.description)
            XCTAssertEqual(error.drError.exitStatus, .timedOut)
        }
        // Never sleeps past the deadline.
        XCTAssertEqual(clock.sleeps, [5, 10, 20, 40, 25])
        XCTAssertEqual(clock.sleeps.reduce(0, +), 100)
    }

    func testNotFoundIsSuccessForDeletionWaits() async throws {
        let clock = ManualClock()
        let notFound = AWSError(service: "RDS", operation: "DescribeDBSnapshots", reason: .service(status: 404, code: "DBSnapshotNotFound", message: "gone"))
        let states = States([.success("deleting"), .failure(notFound)])
        let w = Waiter<String?>(name: "snapshot s to be deleted", acceptors: [.init(.success, .notFound)], state: { $0 })
        let out = try await w.wait(clock: clock) { try states.next(clock.now()) }
        XCTAssertNil(out ?? nil)
        XCTAssertEqual(states.polls.count, 2)
    }

    func testUnexpectedErrorEndsTheWait() async throws {
        let clock = ManualClock()
        let denied = AWSError(service: "RDS", operation: "DescribeDBInstances", reason: .service(status: 403, code: "AccessDenied", message: "no"))
        let states = States([.failure(denied)])
        do {
            try await waiter().wait(clock: clock) { try states.next(clock.now()) }
            XCTFail("expected failure")
        } catch let error as WaiterError {
            XCTAssertEqual(error.kind, .unexpectedError)
            XCTAssertTrue(error.description.contains("AccessDenied"))
        }
    }

    func testRDSWaiterThroughTheClientCore() async throws {
        func instance(_ status: String) -> ScriptedTransport.Step {
            .respond(HTTPResponse(status: 200, body: Data("<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance><DBInstanceIdentifier>db</DBInstanceIdentifier><DBInstanceStatus>\(status)</DBInstanceStatus></DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>".utf8)))
        }
        let transport = ScriptedTransport([Fixtures.queryError(404, "DBInstanceNotFound"), instance("creating"), instance("available")])
        let clock = ManualClock()
        let rds = RDSClient(config: Fixtures.config(transport, clock: clock))
        try await rds.waitForDBInstanceAvailable("db")
        XCTAssertEqual(transport.sent.count, 3)
        XCTAssertEqual(clock.sleeps.count, 2)
        XCTAssertEqual(clock.sleeps.first, 5)
    }
}
