@testable import DRAWS
import DRCore
import Foundation
import Logging

/// A transport that answers from a script and records what it was sent.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    enum Step { case respond(HTTPResponse), fail(TransportError) }
    private let lock = NSLock()
    private var steps: [Step]
    private(set) var requests: [HTTPRequest] = []
    let fallback: HTTPResponse

    init(_ steps: [Step], fallback: HTTPResponse = HTTPResponse(status: 200, body: Data("<R><OpResult/></R>".utf8))) {
        self.steps = steps
        self.fallback = fallback
    }

    var sent: [HTTPRequest] { lock.withLock { requests } }

    func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
        let step: Step? = lock.withLock {
            requests.append(request)
            return steps.isEmpty ? nil : steps.removeFirst()
        }
        switch step {
        case .respond(let r)?: return r
        case .fail(let e)?: throw e
        case nil: return fallback
        }
    }
}

enum Fixtures {
    static let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                            sessionToken: "SESSIONTOKENSECRET123")

    static func config(_ transport: any HTTPTransport, clock: any DRClock, retry: RetryPolicy = RetryPolicy(jitter: { $0 })) -> AWSClientConfig {
        AWSClientConfig(region: "us-east-1", endpoint: URL(string: "https://rds.us-east-1.amazonaws.com")!,
                        credentials: StaticCredentialProvider(credentials), transport: transport, retry: retry, clock: clock)
    }

    static func queryError(_ status: Int, _ code: String, date: String? = nil) -> ScriptedTransport.Step {
        var headers: [String: String] = ["Content-Type": "text/xml"]
        if let date { headers["Date"] = date }
        return .respond(HTTPResponse(status: status, headers: headers, body: Data(
            "<ErrorResponse><Error><Type>Sender</Type><Code>\(code)</Code><Message>m \(code)</Message></Error><RequestId>rid-\(code)</RequestId></ErrorResponse>".utf8)))
    }

    static func describeOK(_ ids: [String] = ["db1"]) -> ScriptedTransport.Step {
        let members = ids.map { "<DBInstance><DBInstanceIdentifier>\($0)</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus></DBInstance>" }.joined()
        return .respond(HTTPResponse(status: 200, body: Data("""
            <DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBInstancesResult>
            <DBInstances>\(members)</DBInstances></DescribeDBInstancesResult>
            <ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeDBInstancesResponse>
            """.utf8)))
    }
}

/// A transport whose every answer takes `delay` seconds of a `ManualClock`: an attempt whose
/// time limit is shorter ends at that limit with a timeout, as libcurl's does. Records the
/// limit each attempt was given.
final class SlowTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var limits: [Double] = []
    let clock: ManualClock
    let delay: Double
    let answer: HTTPResponse

    init(clock: ManualClock, delay: Double, answer: HTTPResponse = HTTPResponse(status: 200, body: Data("""
        <DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots/></DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>
        """.utf8))) {
        self.clock = clock
        self.delay = delay
        self.answer = answer
    }

    var timeouts: [Double] { lock.withLock { limits } }

    func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
        lock.withLock { limits.append(timeout) }
        clock.advance(min(delay, timeout))
        guard delay <= timeout else { throw TransportError(.timedOut, "\(request.method) \(request.url.host ?? ""): Operation timed out after \(Int(timeout * 1000)) milliseconds") }
        return answer
    }
}

/// A log handler that keeps every message with its metadata, one line each, as `dr`'s progress log prints them.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    var lines: [String] { lock.withLock { items } }
    func append(_ line: String) { lock.withLock { items.append(line) } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let fields = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            log.append(([event.message.description] + fields).joined(separator: " "))
        }
    }
}
