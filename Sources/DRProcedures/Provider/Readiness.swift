import DRCore
import Foundation

/// One line of a readiness check ("could we fail over right now?"): what was checked, what was
/// found, and for a failure or a warning, the fix. Read-only: a check never changes anything.
public struct ReadinessCheck: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// ✓ ready.
        case ok
        /// ✗ a restore or failover now would fail, or break the target's policy.
        case failed
        /// ! ready, but something needs attention soon (close to a limit, not verifiable).
        case warning
    }

    /// A stable, snake_case name (`snapshot_age`, `dr_kms_key`): a metric label.
    public var name: String
    public var status: Status
    /// What was found, in words: `newest manual snapshot dr-prod-db-weekly-2026-w48, 2d old`.
    public var found: String
    /// How to put it right, for `failed` and `warning`.
    public var fix: String?
    /// How old the thing checked is, when it has an age (a snapshot, a copy, a drill).
    public var ageSeconds: Double?

    public init(_ name: String, _ status: Status, found: String, fix: String? = nil, ageSeconds: Double? = nil) {
        self.name = name
        self.status = status
        self.found = found
        self.fix = fix
        self.ageSeconds = ageSeconds
    }
}

/// Every readiness check of one target.
public struct ReadinessReport: Sendable, Codable, Equatable {
    public var target: String
    public var provider: String
    public var checkedAt: Date
    public var checks: [ReadinessCheck]

    public init(target: String, provider: String, checkedAt: Date, checks: [ReadinessCheck]) {
        self.target = target
        self.provider = provider
        self.checkedAt = checkedAt
        self.checks = checks
    }

    /// True when no check failed (warnings do not fail a target).
    public var passed: Bool { !checks.contains { $0.status == .failed } }
}

/// What to check.
public struct ReadinessRequest: Sendable, Equatable {
    public enum Scope: String, Sendable, Equatable {
        /// Everything `dr check` shows: backups, copies, policies, what a failover needs.
        case all
        /// Only what a restore in the DR location needs, read from the DR location alone (the
        /// primary region may be gone): the copy, its key, the network and settings it will
        /// use, the secret there. What the region-failover runbook checks first.
        case drRestore = "dr-restore"
    }
    public var scope: Scope
    public init(scope: Scope = .all) { self.scope = scope }
}

extension ReadinessReport {
    /// The checks that failed.
    public var failures: [ReadinessCheck] { checks.filter { $0.status == .failed } }
    public var warnings: [ReadinessCheck] { checks.filter { $0.status == .warning } }
}

/// Runs independent checks at once and keeps their order: each check is a function returning
/// its lines, so a backend's list is easy to extend (another service, another provider's checks).
public enum ReadinessChecks {
    public typealias Check = @Sendable () async throws -> [ReadinessCheck]

    public static func gather(_ checks: [Check]) async throws -> [ReadinessCheck] {
        try await withThrowingTaskGroup(of: (Int, [ReadinessCheck]).self) { group in
            for (index, check) in checks.enumerated() { group.addTask { (index, try await check()) } }
            var results = [[ReadinessCheck]](repeating: [], count: checks.count)
            for try await (index, lines) in group { results[index] = lines }
            return results.flatMap { $0 }
        }
    }
}
