import Foundation

/// What one failed attempt ran into, as the retry policy sees it.
public enum AttemptFailure: Sendable, Equatable {
    case service(status: Int, code: String)
    case transport(TransportError.Kind)
}

/// The retry policy's answer.
public enum RetryDecision: Sendable, Equatable {
    case retry(after: Double)
    case stop
}

/// The AWS SDKs' "standard" retry mode as data: which failures are worth another attempt, how
/// many attempts, and how long to back off (exponential, full jitter, capped).
public struct RetryPolicy: Sendable {
    /// Total attempts including the first (`AWS_MAX_ATTEMPTS`, default 3).
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxBackoff: Double
    public var throttlingCodes: Set<String>
    public var transientCodes: Set<String>
    public var transientStatuses: Set<Int>
    public var retryableTransportKinds: Set<TransportError.Kind>
    /// Picks the actual delay from the ceiling `0...ceiling` (full jitter). Tests pin it.
    public var jitter: @Sendable (Double) -> Double

    public static let standardThrottlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
    ]
    public static let standardTransientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
    ]
    /// Errors that mean the request's time was off; retried once re-signed with the server's clock.
    public static let clockSkewCodes: Set<String> = [
        "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture", "InvalidSignatureException",
        "SignatureDoesNotMatch", "AuthFailure", "InvalidSignature",
    ]

    public init(maxAttempts: Int = 3, baseDelay: Double = 0.1, maxBackoff: Double = 20,
                jitter: @escaping @Sendable (Double) -> Double = { Double.random(in: 0...max(0, $0)) }) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxBackoff = maxBackoff
        self.throttlingCodes = Self.standardThrottlingCodes
        self.transientCodes = Self.standardTransientCodes
        self.transientStatuses = [500, 502, 503, 504]
        self.retryableTransportKinds = [.timedOut, .connectionFailed, .connectionDropped]
        self.jitter = jitter
    }

    /// The standard policy, with `AWS_MAX_ATTEMPTS` from the environment when it is a positive integer.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> RetryPolicy {
        let attempts = environment["AWS_MAX_ATTEMPTS"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return RetryPolicy(maxAttempts: attempts.flatMap { $0 > 0 ? $0 : nil } ?? 3)
    }

    /// Never retries: for calls whose caller handles failure itself.
    public static let none = RetryPolicy(maxAttempts: 1)

    public func isRetryable(_ failure: AttemptFailure) -> Bool {
        switch failure {
        case .service(let status, let code):
            return throttlingCodes.contains(code) || transientCodes.contains(code) || transientStatuses.contains(status)
        case .transport(let kind):
            return retryableTransportKinds.contains(kind)
        }
    }

    /// The backoff ceiling before attempt `attempt + 1`: `min(maxBackoff, baseDelay * 2^(attempt-1))`.
    public func backoffCeiling(afterAttempt attempt: Int) -> Double {
        min(maxBackoff, baseDelay * pow(2, Double(max(0, attempt - 1))))
    }

    /// `attempt` is the number of the attempt that just failed (1-based).
    public func decide(_ failure: AttemptFailure, attempt: Int) -> RetryDecision {
        guard attempt < maxAttempts, isRetryable(failure) else { return .stop }
        return .retry(after: min(backoffCeiling(afterAttempt: attempt), max(0, jitter(backoffCeiling(afterAttempt: attempt)))))
    }
}
