import DRCore
import Foundation

/// The error every AWS call ends with when it fails: which service and operation, what the
/// service said (HTTP status, code, message, request id) or why no answer came, and what each
/// attempt ran into. Built only from values that hold no secret.
public struct AWSError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Reason: Sendable, Equatable {
        /// The service answered with an error.
        case service(status: Int, code: String, message: String)
        /// No HTTP answer (timeout, refused, dropped, TLS).
        case transport(TransportError.Kind, message: String)
    }

    public var service: String
    public var operation: String
    public var reason: Reason
    public var requestId: String?
    /// One line per attempt, oldest first (`attempt 1: HTTP 503 ServiceUnavailable: ...`).
    public var attempts: [String]
    /// True when the last failure was one the retry policy retries (throttling, 5xx, timeouts,
    /// dropped connections): the attempts ran out, but a later try may succeed. False for a
    /// refusal another try will not change (authentication, authorization, validation, not found).
    public var retryable: Bool

    public init(service: String, operation: String, reason: Reason, requestId: String? = nil, attempts: [String] = [],
                retryable: Bool = false) {
        self.service = service
        self.operation = operation
        self.reason = reason
        self.requestId = requestId
        self.attempts = attempts
        self.retryable = retryable
    }

    /// The service's error code, or `Transport.<kind>`.
    public var code: String {
        switch reason {
        case .service(_, let code, _): return code
        case .transport(let kind, _): return "Transport.\(kind.rawValue)"
        }
    }
    public var status: Int? {
        if case .service(let status, _, _) = reason { return status }
        return nil
    }
    public var message: String {
        switch reason {
        case .service(_, _, let message), .transport(_, let message): return message
        }
    }

    /// True for "the thing does not exist" answers (`DBInstanceNotFound`, `ResourceNotFoundException`, `NoSuchHostedZone`...).
    public var isNotFound: Bool {
        let c = code
        return c.hasSuffix("NotFound") || c.hasSuffix("NotFoundFault") || c.hasSuffix("NotFoundException") || c.hasPrefix("NoSuch")
    }

    /// One line: what failed and why; with more than one attempt, every attempt's error.
    public var summary: String {
        var text = "\(service) \(operation) failed: "
        switch reason {
        case .service(let status, let code, let message):
            text += "HTTP \(status) \(code)" + (message.isEmpty ? "" : ": \(message)")
        case .transport(let kind, let message):
            text += "\(kind.rawValue): \(message)"
        }
        if let requestId { text += " (request id \(requestId))" }
        return text
    }

    public var description: String {
        attempts.count > 1 ? summary + " after \(attempts.count) attempts [" + attempts.joined(separator: "; ") + "]" : summary
    }

    /// The project's form: a remote error (exit 3); a refusal another try will not change is
    /// `remoteRefused`, so a runbook step does not try it again.
    public var drError: DRError {
        DRError(retryable ? .remote : .remoteRefused, ErrorText(description), context: .init(object: "\(service) \(operation)"))
    }
}
