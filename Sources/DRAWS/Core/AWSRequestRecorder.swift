import DRCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// With `DR_AWS_REQUEST_LOG=FILE`, every AWS request this process encodes is appended to FILE as
/// one JSON line (service, protocol, operation, method, URL, the headers that carry the
/// operation, the body), whatever transport sends it, and every HTTP request the libcurl
/// transport sends (its method and URL without the query). Secrets are masked
/// (`Redact.secrets(in:)`). `make test` sets it and checks every recorded request against the
/// botocore service models (`scripts/check-aws-requests.py`); it is also a way to see exactly
/// what dr asked of AWS.
///
/// Lines are written with one `write(2)` each to a file opened with `O_APPEND`, so the test
/// process and the `dr` processes it starts can share one file.
public final class AWSRequestRecorder: Sendable {
    public static let variable = "DR_AWS_REQUEST_LOG"

    /// The process's recorder, or nil when the variable is not set.
    public static let shared: AWSRequestRecorder? = {
        guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty else { return nil }
        return AWSRequestRecorder(path: path)
    }()

    let path: String
    private let fd: Int32

    init?(path: String) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    struct AWSLine: Encodable {
        var kind = "aws"
        var service: String
        var apiVersion: String
        var wireProtocol: String
        var operation: String
        var method: String
        var url: String
        var contentType: String?
        var target: String?
        var body: String
        /// False when a test's fake transport answered: the request never left the process.
        var sentOverNetwork: Bool
        var pid: Int32
    }

    struct HTTPLine: Encodable {
        var kind = "http"
        var method: String
        var url: String
        var pid: Int32
    }

    /// One AWS request as sent; its signature headers are left out (they add nothing the models describe).
    func record(_ request: HTTPRequest, service: AWSService, operation: String, overNetwork: Bool) {
        let wire: String
        switch service.wireProtocol {
        case .query: wire = "query"
        case .ec2: wire = "ec2"
        case .restXML: wire = "rest-xml"
        case .json(let version, _): wire = "json-\(version)"
        }
        write(AWSLine(service: service.serviceID, apiVersion: service.apiVersion, wireProtocol: wire, operation: operation,
                      method: request.method, url: Redact.secrets(in: request.url.absoluteString),
                      contentType: request.header("Content-Type"), target: request.header("X-Amz-Target"),
                      body: Redact.secrets(in: String(decoding: request.body, as: UTF8.self)), sentOverNetwork: overNetwork,
                      pid: getpid()))
    }

    /// One HTTP request the real transport is about to send: where it goes.
    func recordHTTP(_ request: HTTPRequest) {
        var parts = URLComponents(url: request.url, resolvingAgainstBaseURL: false)
        parts?.query = nil
        parts?.user = nil
        parts?.password = nil
        write(HTTPLine(method: request.method, url: parts?.string ?? "", pid: getpid()))
    }

    private func write<T: Encodable>(_ line: T) {
        guard var data = try? DRJSON.encode(line, .line) else { return }
        data.append(0x0A)
        _ = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}
