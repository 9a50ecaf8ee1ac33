import DRAWS
import DRCore
@testable import DRRunbook
import DRRunbookEngine
import Foundation
import XCTest

/// `http.check`, the smoke check: retries with growing pauses until the expected status or the
/// deadline (a scripted transport and a `ManualClock`), a real refused connection on a closed
/// 127.0.0.1 port through libcurl, and URLs that are never shown with their secrets.
final class HTTPCheckProcedureTests: XCTestCase {
    final class Script: HTTPTransport, @unchecked Sendable {
        let lock = NSLock()
        var answers: [Result<Int, TransportError>]
        var urls: [String] = []
        init(_ answers: [Result<Int, TransportError>]) { self.answers = answers }
        func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
            let next: Result<Int, TransportError> = lock.withLock {
                urls.append(request.method + " " + request.url.absoluteString)
                return answers.count > 1 ? answers.removeFirst() : answers[0]
            }
            return HTTPResponse(status: try next.get())
        }
    }

    func call(_ parameters: [String: Value]) -> ResolvedCall { ResolvedCall(stepID: "smoke", procedure: "http.check", parameters: parameters) }
    func context(_ clock: ManualClock) -> StepContext {
        StepContext(runID: "r1", attempt: 1, isReentry: false, attemptStartedAt: clock.now(), clock: clock)
    }

    func testItTriesAgainWithGrowingPausesUntilTheServiceAnswers() async throws {
        let clock = ManualClock()
        let script = Script([.failure(TransportError(.connectionFailed, "Connection refused")), .success(503), .success(502), .success(200)])
        let check = HTTPCheckProcedure(transport: script, clock: clock)
        let out = try await check.run(call(["url": .string("http://127.0.0.1:8080/health")]), context: context(clock))
        XCTAssertEqual(out["status"], .int(200))
        XCTAssertEqual(out["attempts"], .int(4))
        XCTAssertEqual(out["elapsed"], .duration(7))
        XCTAssertEqual(clock.sleeps, [1, 2, 4])
        XCTAssertEqual(script.urls, Array(repeating: "GET http://127.0.0.1:8080/health", count: 4))
    }

    func testAServiceThatNeverAnswersFailsAsAProblemFoundWithItsLastAnswer() async throws {
        let clock = ManualClock()
        let check = HTTPCheckProcedure(transport: Script([.success(500)]), clock: clock)
        do {
            _ = try await check.run(call(["url": .string("http://127.0.0.1:8080/health"), "within": .duration(30), "expect_status": .int(204)]),
                                    context: context(clock))
            XCTFail("must fail")
        } catch let error as DRError {
            XCTAssertEqual(error.code, .smokeCheckFailed)
            XCTAssertEqual(error.exitStatus, .problemFound)
            XCTAssertTrue(error.message.contains("did not answer 204 within 30s"), error.message)
            XCTAssertTrue(error.message.contains("last: HTTP 500"), error.message)
        }
        XCTAssertEqual(clock.sleeps, [1, 2, 4, 8, 10, 5], "pauses grow to 10 s and stop at the deadline")
    }

    func testARefusedConnectionOnAClosedLocalPortIsRetriedAndReported() async throws {
        // Nothing listens on 127.0.0.1:9 (discard): the real libcurl transport is refused.
        let clock = ManualClock()
        let check = HTTPCheckProcedure(clock: clock)
        do {
            _ = try await check.run(call(["url": .string("http://127.0.0.1:9/health"), "within": .duration(3)]), context: context(clock))
            XCTFail("nothing listens on 127.0.0.1:9")
        } catch let error as DRError {
            XCTAssertEqual(error.exitStatus, .problemFound)
            XCTAssertTrue(error.message.contains("connectionFailed"), error.message)
        }
    }

    func testPlansReadOnlyAndNeverShowTheURLsSecrets() async throws {
        let check = HTTPCheckProcedure(transport: Script([.success(200)]), clock: ManualClock())
        let plan = try await check.plan(call(["url": .string("https://ops:hunter2@app.example.com/health?token=abc123&x=1")]))
        XCTAssertEqual(plan.actions.count, 1)
        XCTAssertFalse(plan.actions[0].mutates)
        XCTAssertEqual(plan.actions[0].call, "http:GET")
        XCTAssertFalse(plan.actions[0].summary.contains("hunter2"), plan.actions[0].summary)
        XCTAssertFalse(plan.actions[0].summary.contains("abc123"), plan.actions[0].summary)
        XCTAssertTrue(plan.actions[0].summary.contains("https://app.example.com/health?token="), plan.actions[0].summary)
        for bad in ["ftp://app.example.com/", "app.example.com/health", "http:///health"] {
            do {
                _ = try await check.plan(call(["url": .string(bad)]))
                XCTFail(bad)
            } catch let error as DRError {
                XCTAssertEqual(error.exitStatus, .badInput, bad)
                XCTAssertTrue(error.message.contains("Step 'smoke'"), error.message)
            }
        }
    }
}
