import DRCore
import Foundation

/// The recovery procedures every provider implements (the RDS backend and the self-hosted
/// PostgreSQL backend). Commands and runbooks call these; they never know which backend runs.
///
/// Every mutating call is idempotent: re-running it after success or after an interruption
/// finishes the job without making a duplicate, and only deletes what `dr` made.
public protocol RecoveryProvider: Sendable {
    /// The target this provider acts on.
    var target: Target { get }
    /// Takes a snapshot (RDS: a manual DB snapshot; postgres: a base backup) and applies retention.
    func snapshot(_ request: SnapshotRequest) async throws -> SnapshotResult
    /// Copies snapshots (and, for postgres, the WAL archive) to the DR location.
    func copy(_ request: CopyRequest) async throws -> CopyResult
    /// Restores to a point in time, to the latest restorable time, or from a snapshot, as a new server.
    func restore(_ request: RestoreRequest) async throws -> RestoreResult
    /// Points clients at a restored server (RDS: a Route 53 record; postgres: a pg_service.conf entry).
    func failover(_ request: FailoverRequest) async throws -> FailoverResult
    /// Removes a restored server that `dr` made; refuses anything else.
    func teardown(_ request: TeardownRequest) async throws -> TeardownResult
    /// Snapshots and their ages, the restorable window and the current data-loss exposure.
    func status() async throws -> TargetStatus
    /// The restored servers or instances `dr` made from this target, with their tags (what
    /// `dr drill --cleanup` searches for leftovers).
    func restoredResources() async throws -> [RestoredResource]
    /// Read-only: what already holds the name `request` would restore as (its `name`, in the
    /// region its options and `fromDR` give), in words; nil when the name is free, or when
    /// `request.adoptExisting` is set and the holder is a restore dr made from this target (which
    /// `restore` would adopt). What `dr run --plan` checks before a restore step.
    func nameInUse(_ request: RestoreRequest) async throws -> String?
    /// Read-only: the value the failover entry has now (postgres: the pg_service.conf entry);
    /// nil when there is no such entry. What `dr run --plan` shows before a failover step.
    func currentFailoverValue(_ request: FailoverRequest) async throws -> String?
}

// MARK: - Requests

public struct SnapshotRequest: Sendable {
    /// Name the snapshot for the ISO week; a second run in the same week makes nothing new.
    public var weekly: Bool
    public var tags: [String: String]
    public init(weekly: Bool = false, tags: [String: String] = [:]) {
        self.weekly = weekly
        self.tags = tags
    }
}

public struct CopyRequest: Sendable {
    /// A snapshot id, or nil for every snapshot not yet copied (postgres) / the latest (RDS).
    public var snapshot: String?
    /// RDS: the region to copy to (default: the target's `dr_region`).
    public var toRegion: String?
    public init(snapshot: String? = nil, toRegion: String? = nil) {
        self.snapshot = snapshot
        self.toRegion = toRegion
    }
}

/// What to restore to.
public enum RestorePoint: Sendable, Equatable {
    case pointInTime(Date)
    case latestRestorable
    /// A snapshot id, or "latest".
    case snapshot(String)
}

public struct RestoreRequest: Sendable {
    public var point: RestorePoint
    /// The new server's name (RDS instance identifier; postgres: the restored server's name).
    public var name: String
    /// Restore from the DR copy (postgres: `dr_repository`; RDS: the DR region).
    public var fromDR: Bool
    /// Provider-specific overrides (RDS: instance class, subnet group, ...).
    public var options: [String: String]
    /// Extra tags for the new server (RDS: instance tags; postgres: kept in its marker), on top
    /// of the ones `dr` always sets. Defaults to `RestoreTags.current`, so a caller such as
    /// `dr drill` can tag every restore made on its behalf, whichever code builds the request.
    public var tags: [String: String]
    /// Finish and adopt a restore of this target that dr started under `name` (a runbook step
    /// re-entered after a crash) instead of refusing the name as taken. RDS always adopts.
    public var adoptExisting: Bool
    public init(point: RestorePoint, name: String, fromDR: Bool = false, options: [String: String] = [:],
                adoptExisting: Bool = false, tags: [String: String] = RestoreTags.current) {
        self.point = point
        self.name = name
        self.fromDR = fromDR
        self.options = options
        self.tags = tags
        self.adoptExisting = adoptExisting
    }
}

/// Tags that every `RestoreRequest` made inside `RestoreTags.$current.withValue(...)` carries
/// (a task-local value: it follows the task and its child tasks, not other threads).
public enum RestoreTags {
    @TaskLocal public static var current: [String: String] = [:]
}

public struct FailoverRequest: Sendable {
    /// Where clients should go: a restored server's name (postgres) or a host (RDS).
    public var to: String?
    /// The entry to rewrite: a service name (postgres) or a DNS record (RDS). Default from the target.
    public var entry: String?
    /// Put back the entry as it was before the last failover.
    public var undo: Bool
    public init(to: String? = nil, entry: String? = nil, undo: Bool = false) {
        self.to = to
        self.entry = entry
        self.undo = undo
    }
}

public struct TeardownRequest: Sendable {
    /// The restored server's name (postgres), or instance id (RDS; the cluster id for Aurora targets).
    public var name: String
    public init(name: String) { self.name = name }
}

// MARK: - Results

public struct SnapshotResult: Sendable, Codable, Equatable {
    public var target: String
    public var id: String
    public var kind: String
    /// False when an existing snapshot was reused (`--weekly` twice in a week).
    public var created: Bool
    public var startedAt: Date
    public var finishedAt: Date
    public var sizeBytes: Int64?
    public var deleted: [String]
    /// Backend details worth showing (LSNs, timeline, ARNs).
    public var details: [String: String]
}

public struct CopyResult: Sendable, Codable, Equatable {
    public var target: String
    public var destination: String
    public var copied: [String]
    public var alreadyPresent: Int
    public var bytesCopied: Int64
    public var seconds: Double
    /// What retention removed at the destination (RDS: DR-region copies beyond the policy).
    public var deleted: [String] = []
    /// Backend details worth showing (RDS: source snapshot, KMS key, region).
    public var details: [String: String] = [:]
}

public struct RestoreResult: Sendable, Codable, Equatable {
    public var target: String
    public var name: String
    /// Conninfo (postgres) or endpoint (RDS), never with a password.
    public var endpoint: String
    public var snapshot: String
    /// The time asked for, nil for the latest restorable.
    public var requestedTime: Date?
    /// What the restore recovered to, as far as the backend knows it.
    public var recoveredTo: Date?
    /// Seconds per phase, in order (e.g. choose, lay down, recover, start).
    public var phases: [Phase]
    public var details: [String: String]

    public struct Phase: Sendable, Codable, Equatable {
        public var name: String
        public var seconds: Double
        public init(name: String, seconds: Double) {
            self.name = name
            self.seconds = seconds
        }
    }
    public var totalSeconds: Double { phases.reduce(0) { $0 + $1.seconds } }
}

public struct FailoverResult: Sendable, Codable, Equatable {
    public var entry: String
    public var location: String
    public var now: String
    /// The entry before this change, so it can be undone.
    public var previous: String?
}

/// A server or instance `dr restore` made, as `restoredResources()` lists it.
public struct RestoredResource: Sendable, Codable, Equatable {
    /// The restored server's name (postgres) or instance id (RDS): what `teardown` takes.
    public var name: String
    public var state: String
    public var tags: [String: String]
    public init(name: String, state: String, tags: [String: String]) {
        self.name = name
        self.state = state
        self.tags = tags
    }
}

public struct TeardownResult: Sendable, Codable, Equatable {
    public var name: String
    public var removed: Bool
    public var details: [String: String]
}

public struct TargetStatus: Sendable, Codable, Equatable {
    public var target: String
    public var provider: String
    public var checkedAt: Date
    public var snapshots: [SnapshotSummary]
    public var drSnapshots: [SnapshotSummary]
    public var restorableWindow: TimeWindow?
    /// Seconds of writes that would be lost if the source were lost now.
    public var exposureSeconds: Double?
    public var details: [String: String]
    public var warnings: [String]
}

public struct SnapshotSummary: Sendable, Codable, Equatable {
    public var id: String
    public var kind: String
    public var createdAt: Date
    public var ageSeconds: Double
    public var sizeBytes: Int64?
}

public struct TimeWindow: Sendable, Codable, Equatable, CustomStringConvertible {
    public var earliest: Date
    public var latest: Date
    public init(earliest: Date, latest: Date) {
        self.earliest = earliest
        self.latest = latest
    }
    public func contains(_ date: Date) -> Bool { date >= earliest && date <= latest }
    public var description: String { "\(RFC3339.format(earliest, fractional: true)) to \(RFC3339.format(latest, fractional: true))" }
}
