import DRCore
import DRSigV4
import Foundation
import Logging

/// The one generic client core: encodes a call in the service's protocol, signs it, sends it,
/// retries per the policy (re-signing every attempt, correcting clock skew), and decodes the
/// answer or the error. Service clients are thin typed operations over `send`.
public struct AWSClient: Sendable {
    public let service: AWSService
    public let config: AWSClientConfig
    let skew: ClockSkew

    public init(service: AWSService, config: AWSClientConfig) {
        self.service = service
        self.config = config
        self.skew = ClockSkew()
    }

    public static let userAgent = "dr/0.1 (Swift; libcurl)"

    /// Sends one operation call and returns its decoded response, or throws `AWSError`
    /// (credential errors from the provider pass through unchanged).
    ///
    /// Within a `TimeBudget` (a command's `timeout`), each attempt gets at most what is left of
    /// the budget, no retry is made whose delay would outlast it, and a budget that runs out
    /// ends the call with `TimeBudgetExhausted` (exit 4) instead of another attempt. Each retry
    /// is logged at info, one line: the operation, the attempt, its error and the next delay.
    public func send(_ request: AWSRequest) async throws -> AWSResponse {
        CallLog.record("\(service.signingName):\(request.operation)")
        var attempts: [String] = []
        var attempt = 0
        let logger = config.logger
        let budget = TimeBudget.current
        let operation = "\(service.serviceID) \(request.operation)"
        while true {
            attempt += 1
            try Task.checkCancellation()
            var timeout = config.attemptTimeout
            if let budget {
                guard !budget.isExhausted else {
                    throw budget.exhausted(waitingFor: "an answer from \(operation)", lastError: attempts.last)
                }
                timeout = min(timeout, budget.remaining)
            }
            let (http, secrets) = try await prepare(request)
            if attempt == 1 {
                AWSRequestRecorder.shared?.record(http, service: service, operation: request.operation,
                                                  overNetwork: config.transport is CurlTransport)
            }
            let failure: AttemptFailure
            var error: AWSError
            var skewCorrected = false
            do {
                let response = try await config.transport.send(http, timeout: timeout)
                if (200..<300).contains(response.status) {
                    logger.debug("aws call succeeded", metadata: meta(request, attempt, status: response.status))
                    return try service.wireProtocol.decodeSuccess(response, operation: request.operation)
                }
                let envelope = service.wireProtocol.decodeError(response)
                failure = .service(status: response.status, code: envelope.code)
                error = AWSError(service: service.serviceID, operation: request.operation,
                                 reason: .service(status: response.status, code: envelope.code,
                                                  message: Self.scrub(envelope.message, secrets)),
                                 requestId: envelope.requestId)
                if RetryPolicy.clockSkewCodes.contains(envelope.code) {
                    skewCorrected = skew.learn(serverDate: response.headers["date"], localNow: config.clock.now())
                }
            } catch let transport as TransportError {
                failure = .transport(transport.kind)
                error = AWSError(service: service.serviceID, operation: request.operation,
                                 reason: .transport(transport.kind, message: Self.scrub(transport.message, secrets)))
            }
            let summary = String(error.summary.dropFirst("\(operation) failed: ".count))
            attempts.append("attempt \(attempt): \(summary)")
            error.attempts = attempts
            error.retryable = config.retry.isRetryable(failure) || skewCorrected

            let decision: RetryDecision = skewCorrected && attempt < config.retry.maxAttempts
                ? .retry(after: 0) : config.retry.decide(failure, attempt: attempt)
            if let budget, budget.isExhausted {
                throw budget.exhausted(waitingFor: "an answer from \(operation)", lastError: attempts.last)
            }
            switch decision {
            case .stop:
                logger.debug("aws call failed", metadata: meta(request, attempt, status: error.status, code: error.code))
                throw error
            case .retry(let delay):
                if let budget, delay >= budget.remaining - TimeBudget.slack {
                    throw budget.exhausted(waitingFor: "an answer from \(operation)", lastError: attempts.last)
                }
                logger.info("retrying AWS request", metadata: [
                    "operation": "\(operation)", "attempt": "\(attempt)/\(config.retry.maxAttempts)",
                    "error": "\(summary)", "retry_in": "\(DurationText.format(delay))",
                ])
                try await config.clock.sleep(seconds: delay)
            }
        }
    }

    /// Encodes and signs one attempt. Returns the secrets to keep out of any message.
    func prepare(_ request: AWSRequest) async throws -> (HTTPRequest, [String]) {
        var http = try service.wireProtocol.encode(request, service: service, endpoint: config.endpoint)
        http.setHeader("User-Agent", Self.userAgent)
        guard request.signed else { return (http, []) }
        let credentials = try await config.credentials.credentials()
        credentials.registerSecrets()
        let signer = SigV4Signer(credentials: SigV4Credentials(accessKeyId: credentials.accessKeyId,
                                                               secretAccessKey: credentials.secretAccessKey,
                                                               sessionToken: credentials.sessionToken),
                                 region: service.signingRegion(config.region), service: service.signingName)
        let date = config.clock.now().addingTimeInterval(skew.current)
        let signed = signer.sign(method: http.method, url: http.url, headers: http.headers, body: http.body, date: date)
        http.headers = signed.headers
        return (http, [credentials.secretAccessKey] + (credentials.sessionToken.map { [$0] } ?? []))
    }

    /// A presigner for this client's credentials and the given region (RDS `PreSignedUrl`).
    func presign(url: URL, region: String, expires: Int = 3600) async throws -> URL {
        let credentials = try await config.credentials.credentials()
        credentials.registerSecrets()
        let signer = SigV4Signer(credentials: SigV4Credentials(accessKeyId: credentials.accessKeyId,
                                                               secretAccessKey: credentials.secretAccessKey,
                                                               sessionToken: credentials.sessionToken),
                                 region: region, service: service.signingName)
        return signer.presign(url: url, expires: expires, date: config.clock.now().addingTimeInterval(skew.current)).url
    }

    private func meta(_ request: AWSRequest, _ attempt: Int, status: Int? = nil, code: String? = nil) -> Logger.Metadata {
        var m: Logger.Metadata = ["service": "\(service.serviceID)", "operation": "\(request.operation)", "attempt": "\(attempt)"]
        if let status { m["status"] = "\(status)" }
        if let code { m["code"] = "\(code)" }
        return m
    }

    /// Masks any secret a service or library echoed back, in any encoding (the request's own
    /// credentials are registered with `Redact` before it is signed).
    static func scrub(_ text: String, _ secrets: [String]) -> String {
        Redact.secrets(in: secrets.filter { $0.count >= 8 }.reduce(text) { $0.replacingOccurrences(of: $1, with: Redact.mask) })
    }
}
