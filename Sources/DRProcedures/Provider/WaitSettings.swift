import DRAWS
import DRCore
import Foundation

/// How the procedures wait: one deadline per kind of operation, and where progress goes. On
/// AWS, polls start 5 s apart and back off to a minute (the DRAWS waiters), failure states end a
/// wait at once (exit 3), and a timeout says what it waited for and what it last saw (exit 4).
/// `timeout` bounds the whole procedure: every request and every wait in it gets only what is
/// left of it (`bounded`). `noWait` returns as soon as AWS has accepted the request. A
/// self-hosted restore waits for its server to recover and promote under the same deadline.
public struct WaitSettings: Sendable {
    public enum Operation: String, Sendable {
        case snapshot, copy, restore, delete, dns, cacheSnapshot
        /// An application service (ECS) becoming stable after a scale or a rollback.
        case appDeployment

        /// Sensible deadlines: a large snapshot or cross-region copy takes hours; DNS, minutes.
        public var defaultDeadline: Double {
            switch self {
            case .snapshot: return 4 * 3600
            case .copy: return 8 * 3600
            case .restore: return 4 * 3600
            case .delete: return 3600
            case .dns: return 600
            case .cacheSnapshot: return 2 * 3600
            case .appDeployment: return 1800
            }
        }
    }

    /// The time the whole procedure may take (seconds): its requests, retries and waits.
    public var timeout: Double?
    public var noWait: Bool
    public var progress: (@Sendable (WaitProgress) -> Void)?

    public init(timeout: Double? = nil, noWait: Bool = false, progress: (@Sendable (WaitProgress) -> Void)? = nil) {
        self.timeout = timeout
        self.noWait = noWait
        self.progress = progress
    }

    public func deadline(_ operation: Operation) -> Double { timeout ?? operation.defaultDeadline }

    /// Runs a procedure within `timeout` (a `TimeBudget` on `clock`, read by every request and
    /// wait it makes), with AWS failures as the project's errors.
    func bounded<T>(clock: any DRClock, _ body: () async throws -> T) async throws -> T {
        try await RDSProvider.translatingErrors {
            guard let timeout else { return try await body() }
            return try await TimeBudget(seconds: timeout, clock: clock).run(body)
        }
    }

    /// Runs one DRAWS wait with this operation's deadline; nothing when `noWait`.
    func run(_ operation: Operation, _ wait: (Double, (@Sendable (WaitProgress) -> Void)?) async throws -> Void) async throws {
        guard !noWait else { return }
        do { try await wait(deadline(operation), progress) }
        catch let error as WaiterError { throw error.drError }
        catch let error as TimeBudgetExhausted { throw error.drError }
    }
}
