import DRCore
import DRProcedures
import DRVerify
import Foundation
import DRRunbook
import DRRunbookEngine

/// What a drill's procedures saw while the runbook ran: the moments that bound the recovery
/// phases, the restore's own result, the verification report and the freshness. The drill's
/// executors write it from the engine's tasks; the report reads it at the end.
public final class DrillRecorder: @unchecked Sendable {
    public struct Freshness: Sendable, Codable, Equatable {
        /// How far before the recovery point the restored data ends (seconds); nil when unknown.
        public var seconds: Double?
        /// The newest data found in the restored database.
        public var dataEndsAt: Date?
        /// `freshness_query` (the target's declared query) or `replay` (PostgreSQL's last replayed commit).
        public var source: String?
        public var note: String?
    }

    private let lock = NSLock()
    private var _restoreRequested: Date?
    private var _restoreAvailable: Date?
    private var _instance: String?
    private var _firstConnection: Date?
    private var _verificationDone: Date?
    private var _verification: VerificationReport?
    private var _verifyError: String?
    private var _injected = false
    private var _freshness: Freshness?
    private var _teardownStarted: Date?
    private var _teardownEnded: Date?
    private var _teardownRemoved: Bool?
    private var _teardownError: String?

    public init() {}

    private func locked<T>(_ body: () -> T) -> T { lock.withLock(body) }

    func restoreRequested(_ instance: String, at date: Date) { locked { _instance = instance; _restoreRequested = date } }
    func restoreAvailable(_ instance: String, at date: Date) { locked { _instance = instance; _restoreAvailable = date } }
    func firstConnection(at date: Date) { locked { if _firstConnection == nil { _firstConnection = date } } }
    func verified(_ report: VerificationReport?, error: String?, injected: Bool, freshness: Freshness?, at date: Date) {
        locked { _verification = report; _verifyError = error; _injected = injected; _freshness = freshness; _verificationDone = date }
    }
    func teardownStarted(at date: Date) { locked { _teardownStarted = date } }
    func tornDown(removed: Bool, error: String?, at date: Date) {
        locked { _teardownRemoved = removed; _teardownError = error; _teardownEnded = date }
    }

    public var restoreRequestedAt: Date? { locked { _restoreRequested } }
    public var restoreAvailableAt: Date? { locked { _restoreAvailable } }
    /// The server or instance a restore step started (known from the moment it was requested).
    public var instance: String? { locked { _instance } }
    public var firstConnectionAt: Date? { locked { _firstConnection } }
    public var verificationDoneAt: Date? { locked { _verificationDone } }
    public var verification: VerificationReport? { locked { _verification } }
    public var verifyError: String? { locked { _verifyError } }
    public var injectedFailure: Bool { locked { _injected } }
    public var freshness: Freshness? { locked { _freshness } }
    public var teardownStartedAt: Date? { locked { _teardownStarted } }
    public var teardownEndedAt: Date? { locked { _teardownEnded } }
    /// nil when no teardown ran.
    public var teardownRemoved: Bool? { locked { _teardownRemoved } }
    public var teardownError: String? { locked { _teardownError } }
}
