import DRCore
import Foundation
import Logging

/// Everything a service client needs, already resolved: the region, the endpoint URL (part of
/// the configuration layer's job), where credentials come from, and the seams for tests.
public struct AWSClientConfig: Sendable {
    /// The region requests are signed for (the session takes it from the resolved endpoint).
    public var region: String
    public var endpoint: URL
    public var credentials: any AWSCredentialProvider
    public var transport: any HTTPTransport
    public var retry: RetryPolicy
    public var clock: any DRClock
    public var logger: Logger
    /// Total time allowed for one attempt (connect, send, receive), in seconds.
    public var attemptTimeout: Double

    public init(region: String, endpoint: URL, credentials: any AWSCredentialProvider,
                transport: any HTTPTransport, retry: RetryPolicy = .standard(), clock: any DRClock = SystemClock(),
                logger: Logger = Logger(label: "dr.aws"), attemptTimeout: Double = 60) {
        self.region = region
        self.endpoint = endpoint
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.clock = clock
        self.logger = logger
        self.attemptTimeout = attemptTimeout
    }
}
