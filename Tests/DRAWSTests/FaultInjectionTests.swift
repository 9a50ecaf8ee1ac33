@testable import DRAWS
import DRCore
import DRTestSupport
import Foundation
import XCTest

/// Retries and the libcurl transport through scripts/fault-proxy.py in front of moto.
final class FaultInjectionTests: XCTestCase {
    let transport = CurlTransport(options: .init(proxy: ProxySettings()))

    func config(_ endpoint: URL, maxAttempts: Int = 3, timeout: Double = 10, transport: (any HTTPTransport)? = nil) throws -> AWSClientConfig {
        let key = try Moto.accessKey()
        return AWSClientConfig(region: "us-east-1", endpoint: endpoint,
                               credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: key.id, secretAccessKey: key.secret)),
                               transport: transport ?? self.transport,
                               retry: RetryPolicy(maxAttempts: maxAttempts, baseDelay: 0.01, maxBackoff: 0.05), attemptTimeout: timeout)
    }

    func testRetriesConvergeThroughEveryProtocolsShapedFaults() async throws {
        let moto = try Moto.url()
        // Query (RDS): 503, throttling, a dropped connection, then through.
        let p1 = try FaultProxy(upstream: moto, schedule: ["503", "throttle"])
        let rds = RDSClient(config: try config(p1.url))
        _ = try await rds.describeDBInstances()
        XCTAssertEqual(try p1.stats()["requests"], 3)
        XCTAssertEqual(try p1.stats()["faults"], 2)
        p1.stop()

        let p2 = try FaultProxy(upstream: moto, schedule: ["drop", "500"])
        _ = try await RDSClient(config: try config(p2.url)).describeDBSnapshots()
        XCTAssertEqual(try p2.stats()["requests"], 3)
        p2.stop()

        // JSON (KMS): ThrottlingException then through; the error is decoded from `__type`.
        let p3 = try FaultProxy(upstream: moto, schedule: ["throttle", "503"])
        do {
            _ = try await KMSClient(config: try config(p3.url)).describeKey("alias/none")
            XCTFail("expected NotFoundException")
        } catch let error as AWSError {
            XCTAssertEqual(error.code, "NotFoundException")
            XCTAssertEqual(error.attempts.count, 3)
            XCTAssertTrue(error.description.contains("ThrottlingException"), error.description)
        }
        p3.stop()

        // REST-XML (Route 53).
        let p4 = try FaultProxy(upstream: try Moto.noAuthURL(), schedule: ["throttle", "500"])
        _ = try await Route53Client(config: try config(p4.url)).listHostedZonesByName()
        XCTAssertEqual(try p4.stats()["requests"], 3)
        p4.stop()
    }

    func testGivesUpAfterMaxAttemptsWithEveryAttemptInTheMessage() async throws {
        let proxy = try FaultProxy(upstream: try Moto.url(), schedule: ["503", "throttle", "500", "503"])
        do {
            _ = try await RDSClient(config: try config(proxy.url)).describeDBInstances()
            XCTFail("expected failure")
        } catch let error as AWSError {
            XCTAssertEqual(error.attempts.count, 3)
            XCTAssertTrue(error.description.contains("attempt 1: HTTP 503 ServiceUnavailable"), error.description)
            XCTAssertTrue(error.description.contains("attempt 2: HTTP 400 Throttling"), error.description)
            XCTAssertTrue(error.description.contains("attempt 3: HTTP 500 InternalError"), error.description)
        }
        XCTAssertEqual(try proxy.stats()["requests"], 3)
    }

    func testNonRetryableErrorIsNotRetried() async throws {
        let proxy = try FaultProxy(upstream: try Moto.url(), schedule: ["denied"])
        do {
            _ = try await RDSClient(config: try config(proxy.url, maxAttempts: 5)).describeDBInstances()
            XCTFail("expected AccessDenied")
        } catch let error as AWSError {
            XCTAssertEqual(error.code, "AccessDenied")
            XCTAssertEqual(error.status, 403)
        }
        XCTAssertEqual(try proxy.stats()["requests"], 1)
    }

    func testDeterministicRatioOfFaultsStillConverges() async throws {
        let proxy = try FaultProxy(upstream: try Moto.url(), ratio: 0.33, seed: 7)
        let rds = RDSClient(config: try config(proxy.url, maxAttempts: 8))
        for _ in 0..<15 { _ = try await rds.describeDBInstances() }
        let stats = try proxy.stats()
        XCTAssertGreaterThan(stats["faults"] ?? 0, 0)
        XCTAssertEqual(stats["forwarded"], 15)
    }

    func testTimeoutIsRetriedAndReportedAsTimedOut() async throws {
        let proxy = try FaultProxy(upstream: try Moto.url(), schedule: ["delay", "delay"], delay: 3)
        do {
            _ = try await RDSClient(config: try config(proxy.url, maxAttempts: 2, timeout: 0.5)).describeDBInstances()
            XCTFail("expected a timeout")
        } catch let error as AWSError {
            XCTAssertEqual(error.code, "Transport.timedOut")
            XCTAssertEqual(error.attempts.count, 2)
        }
    }

    func testTransportReusesConnectionsBoundsResponsesAndMapsErrors() async throws {
        let moto = try Moto.url()
        // moto's server closes every connection; the proxy speaks HTTP/1.1 keep-alive.
        let keepAlive = try FaultProxy(upstream: moto)
        let curl = CurlTransport(options: .init(proxy: ProxySettings()))
        let rds = RDSClient(config: try config(keepAlive.url, transport: curl))
        for _ in 0..<4 { _ = try await rds.describeDBInstances() }
        XCTAssertGreaterThan(curl.reusedConnections, 0, "connections are kept and reused")

        let tiny = CurlTransport(options: .init(maxResponseBytes: 64, proxy: ProxySettings()))
        do {
            _ = try await tiny.send(HTTPRequest(method: "GET", url: moto.appendingPathComponent("moto-api/")), timeout: 5)
            XCTFail("expected responseTooLarge")
        } catch let error as TransportError {
            XCTAssertEqual(error.kind, .responseTooLarge)
        }

        let dead = URL(string: "http://127.0.0.1:1/")! // nothing listens on port 1
        do {
            _ = try await curl.send(HTTPRequest(method: "GET", url: dead), timeout: 5)
            XCTFail("expected connectionFailed")
        } catch let error as TransportError {
            XCTAssertEqual(error.kind, .connectionFailed)
        }

        // TLS is verified: a plain-HTTP server spoken to over https fails the handshake.
        let https = URL(string: moto.absoluteString.replacingOccurrences(of: "http://", with: "https://"))!
        do {
            _ = try await curl.send(HTTPRequest(method: "GET", url: https), timeout: 5)
            XCTFail("expected tlsFailed")
        } catch let error as TransportError {
            XCTAssertEqual(error.kind, .tlsFailed)
        }
    }

    func testProxyVariablesAndNoProxy() async throws {
        let moto = try Moto.url()
        let deadProxy = "http://127.0.0.1:1"
        let env = ["HTTP_PROXY": deadProxy]
        XCTAssertEqual(ProxySettings.fromEnvironment(env).proxy(for: moto), deadProxy)
        // Through a proxy that is down: the request fails.
        let viaProxy = CurlTransport(options: .init(proxy: .fromEnvironment(env)))
        do {
            _ = try await viaProxy.send(HTTPRequest(method: "GET", url: moto.appendingPathComponent("moto-api/")), timeout: 5)
            XCTFail("expected the dead proxy to be used")
        } catch let error as TransportError {
            XCTAssertEqual(error.kind, .connectionFailed)
        }
        // NO_PROXY names the host: straight to moto.
        let bypass = CurlTransport(options: .init(proxy: .fromEnvironment(env.merging(["NO_PROXY": "localhost,127.0.0.1"]) { a, _ in a })))
        let response = try await bypass.send(HTTPRequest(method: "GET", url: moto.appendingPathComponent("moto-api/")), timeout: 5)
        XCTAssertEqual(response.status, 200)
    }
}
