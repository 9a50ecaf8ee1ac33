import DRCore
import Foundation

/// Caches another provider's credentials and refreshes them a few minutes before they expire,
/// one caller at a time: callers that arrive while a refresh runs await that same refresh.
///
/// Long-term credentials (no expiration) are fetched once. When a refresh fails while the cached
/// credentials are still valid, callers keep getting the cached ones and the next call tries again.
/// Modelled on soto-core's `ExpiringValue`.
public actor RefreshingCredentialProvider: AWSCredentialProvider {
    public nonisolated let base: any AWSCredentialProvider
    public nonisolated let refreshWindow: TimeInterval
    private let clock: any DRClock
    private var cached: AWSCredentials?
    private var refreshing: Task<AWSCredentials, Error>?

    public nonisolated var name: String { base.name }

    /// - Parameter refreshWindow: how long before expiry credentials count as stale (default 5 minutes).
    public init(_ base: any AWSCredentialProvider, clock: any DRClock = SystemClock(), refreshWindow: TimeInterval = 300) {
        self.base = base
        self.clock = clock
        self.refreshWindow = refreshWindow
    }

    public func credentials() async throws -> AWSCredentials {
        if let cached, !isStale(cached) { return cached }
        let task: Task<AWSCredentials, Error>
        if let refreshing {
            task = refreshing
        } else {
            let base = self.base
            task = Task { try await base.credentials() }
            refreshing = task
        }
        do {
            let fresh = try await task.value
            finish(task, with: fresh)
            return fresh
        } catch {
            finish(task, with: nil)
            if let cached, !isExpired(cached) { return cached }
            throw error
        }
    }

    /// Drops the cached credentials, so the next call fetches new ones (e.g. after the service
    /// rejected them as expired).
    public func invalidate() {
        cached = nil
    }

    private func finish(_ task: Task<AWSCredentials, Error>, with value: AWSCredentials?) {
        // Only the first waiter to come back for this task stores its result.
        guard refreshing == task else { return }
        refreshing = nil
        if let value { cached = value }
    }

    private func isStale(_ credentials: AWSCredentials) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return clock.now().addingTimeInterval(refreshWindow) >= expiration
    }

    private func isExpired(_ credentials: AWSCredentials) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return clock.now() >= expiration
    }
}
