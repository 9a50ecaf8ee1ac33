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
