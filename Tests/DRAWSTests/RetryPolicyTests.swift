@testable import DRAWS
import DRCore
import Foundation
import XCTest

final class RetryPolicyTests: XCTestCase {
    func testTransientErrorsRetryWithExponentialBackoffThenSucceed() async throws {
        let transport = ScriptedTransport([Fixtures.queryError(503, "ServiceUnavailable"), Fixtures.queryError(400, "Throttling"),
                                           Fixtures.describeOK()])
        let clock = ManualClock()
        let rds = RDSClient(config: Fixtures.config(transport, clock: clock))
        let page = try await rds.describeDBInstances()
        XCTAssertEqual(page.items.map(\.identifier), ["db1"])
        XCTAssertEqual(transport.sent.count, 3)
        XCTAssertEqual(clock.sleeps, [0.1, 0.2]) // jitter pinned to the ceiling
    }

    func testBackoffIsCappedAndJittered() {
        let policy = RetryPolicy(maxAttempts: 20, jitter: { $0 / 2 })
        XCTAssertEqual(policy.backoffCeiling(afterAttempt: 1), 0.1)
        XCTAssertEqual(policy.backoffCeiling(afterAttempt: 4), 0.8, accuracy: 1e-9)
        XCTAssertEqual(policy.backoffCeiling(afterAttempt: 15), 20)
        XCTAssertEqual(policy.decide(.service(status: 500, code: "InternalError"), attempt: 3), .retry(after: 0.2))
        let random = RetryPolicy(maxAttempts: 20)
        for attempt in 1...10 {
            guard case .retry(let d) = random.decide(.transport(.timedOut), attempt: attempt) else { return XCTFail("not retried") }
            XCTAssertTrue(d >= 0 && d <= random.backoffCeiling(afterAttempt: attempt))
        }
    }

    func testWhatIsRetryable() {
        let p = RetryPolicy()
        for code in ["Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "PriorRequestNotComplete",
                     "SlowDown", "RequestTimeout", "InternalError"] {
            XCTAssertTrue(p.isRetryable(.service(status: 400, code: code)), code)
        }
        for status in [500, 502, 503, 504] { XCTAssertTrue(p.isRetryable(.service(status: status, code: "X"))) }
        for code in ["ValidationError", "InvalidParameterValue", "AccessDenied", "SignatureDoesNotMatch", "DBInstanceNotFound",
                     "InvalidClientTokenId", "UnrecognizedClientException"] {
            XCTAssertFalse(p.isRetryable(.service(status: 400, code: code)), code)
        }
        XCTAssertTrue(p.isRetryable(.transport(.timedOut)))
        XCTAssertTrue(p.isRetryable(.transport(.connectionDropped)))
        XCTAssertTrue(p.isRetryable(.transport(.connectionFailed)))
        XCTAssertFalse(p.isRetryable(.transport(.tlsFailed)))
        XCTAssertFalse(p.isRetryable(.transport(.responseTooLarge)))
    }

    func testValidationErrorIsNotRetried() async throws {
        let transport = ScriptedTransport([Fixtures.queryError(400, "InvalidParameterValue")])
        let clock = ManualClock()
        let rds = RDSClient(config: Fixtures.config(transport, clock: clock))
        do {
            _ = try await rds.describeDBInstances(identifier: "x")
            XCTFail("expected an error")
        } catch let error as AWSError {
            XCTAssertEqual(error.code, "InvalidParameterValue")
            XCTAssertEqual(error.status, 400)
            XCTAssertEqual(error.requestId, "rid-InvalidParameterValue")
            XCTAssertEqual(error.service, "RDS")
            XCTAssertEqual(error.operation, "DescribeDBInstances")
            XCTAssertEqual(error.attempts.count, 1)
        }
        XCTAssertEqual(transport.sent.count, 1)
        XCTAssertEqual(clock.sleeps, [])
    }

    func testExhaustedRetriesKeepEveryAttemptsError() async throws {
        let transport = ScriptedTransport([.fail(TransportError(.timedOut, "timed out after 60s")), Fixtures.queryError(503, "ServiceUnavailable"),
                                           .fail(TransportError(.connectionDropped, "connection reset"))])
        let clock = ManualClock()
        let rds = RDSClient(config: Fixtures.config(transport, clock: clock))
        do {
            _ = try await rds.describeDBInstances()
            XCTFail("expected an error")
        } catch let error as AWSError {
            XCTAssertEqual(error.attempts.count, 3)
            XCTAssertEqual(error.code, "Transport.connectionDropped")
            XCTAssertTrue(error.description.contains("attempt 1: timedOut"), error.description)
            XCTAssertTrue(error.description.contains("attempt 2: HTTP 503 ServiceUnavailable"), error.description)
            XCTAssertTrue(error.description.contains("after 3 attempts"), error.description)
            XCTAssertEqual(error.drError.exitStatus, .remote)
        }
        XCTAssertEqual(clock.sleeps, [0.1, 0.2])
    }

    func testMaxAttemptsFromEnvironment() async throws {
        XCTAssertEqual(RetryPolicy.standard(environment: [:]).maxAttempts, 3)
        XCTAssertEqual(RetryPolicy.standard(environment: ["AWS_MAX_ATTEMPTS": "5"]).maxAttempts, 5)
        XCTAssertEqual(RetryPolicy.standard(environment: ["AWS_MAX_ATTEMPTS": "junk"]).maxAttempts, 3)
        var policy = RetryPolicy.standard(environment: ["AWS_MAX_ATTEMPTS": "5"])
        policy.jitter = { $0 }
        let transport = ScriptedTransport(Array(repeating: Fixtures.queryError(500, "InternalError"), count: 10))
        let clock = ManualClock()
        _ = try? await RDSClient(config: Fixtures.config(transport, clock: clock, retry: policy)).describeDBInstances()
        XCTAssertEqual(transport.sent.count, 5)
        XCTAssertEqual(clock.sleeps, [0.1, 0.2, 0.4, 0.8])
    }

    func testClockSkewIsCorrectedFromTheDateHeaderAndTheRequestResigned() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000)) // 2023-11-14T22:13:20Z
        let serverDate = "Tue, 14 Nov 2023 23:13:20 GMT" // one hour ahead
        let transport = ScriptedTransport([Fixtures.queryError(403, "SignatureDoesNotMatch", date: serverDate), Fixtures.describeOK()])
        _ = try await RDSClient(config: Fixtures.config(transport, clock: clock)).describeDBInstances()
        XCTAssertEqual(transport.sent.count, 2)
        XCTAssertEqual(transport.sent[0].header("X-Amz-Date"), "20231114T221320Z")
        XCTAssertEqual(transport.sent[1].header("X-Amz-Date"), "20231114T231320Z")
        XCTAssertEqual(clock.sleeps, [0])
    }

    func testAuthErrorWithoutSkewIsNotRetried() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_700_000_000))
        let transport = ScriptedTransport([Fixtures.queryError(403, "SignatureDoesNotMatch", date: "Tue, 14 Nov 2023 22:13:21 GMT")])
        do {
            _ = try await RDSClient(config: Fixtures.config(transport, clock: clock)).describeDBInstances()
            XCTFail("expected an error")
        } catch let error as AWSError {
            XCTAssertEqual(error.code, "SignatureDoesNotMatch")
        }
        XCTAssertEqual(transport.sent.count, 1)
    }

    func testSecretsNeverReachErrorsOrDescriptions() async throws {
        let echo = HTTPResponse(status: 400, body: Data("<ErrorResponse><Error><Code>Bad</Code><Message>key wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY token SESSIONTOKENSECRET123</Message></Error></ErrorResponse>".utf8))
        let transport = ScriptedTransport([.respond(echo)])
        do {
            _ = try await RDSClient(config: Fixtures.config(transport, clock: ManualClock())).describeDBInstances()
            XCTFail("expected an error")
        } catch let error as AWSError {
            XCTAssertFalse(error.description.contains("wJalr"), error.description)
            XCTAssertFalse(error.description.contains("SESSIONTOKENSECRET"), error.description)
        }
        XCTAssertFalse("\(Fixtures.credentials)".contains("wJalr"))
        let secret = SecretValue(arn: nil, name: "db", versionId: "v1", secretString: "{\"password\":\"hunter2\"}", secretBinary: nil, createdDate: nil)
        XCTAssertFalse("\(secret)".contains("hunter2"))
        XCTAssertFalse(String(reflecting: secret).contains("hunter2"))
        XCTAssertEqual(try secret.jsonFields()["password"], "hunter2")
    }
}
