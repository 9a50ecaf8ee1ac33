import DRCore
import Foundation

/// The recovery procedures every backend implements (RDS, the native self-hosted engine, ...).
/// Commands and runbooks call these with typed requests and read typed results; they never know
/// which backend runs, and `Providers` is the one place that picks it.
///
/// Every mutating procedure answers both "do it" and "what would you do" from one decision: the
/// backend decides (making read-only calls), and then either lists the decision's calls
/// (`plan`) or executes them (`snapshot`, `restore`, ...). So a plan cannot disagree with its run.
///
/// Every mutating call is idempotent: re-running it after success or after an interruption
/// finishes the job without making a duplicate, and only deletes what `dr` made.
public protocol RecoveryProvider: Sendable {
    /// The target this provider acts on.
    var target: Target { get }
    /// The machine-wide lock every mutating command and run of this target takes, keyed on what
    /// the target's data is (its repository; its region and instance), not on its name.
    var lockPath: String { get }
    /// What `request` would do: the read-only calls it made to decide, then every call the run
    /// would make, from the same decision the run takes. Changes nothing.
    func plan(_ request: ProcedureRequest) async throws -> ProcedurePlan
    /// Takes a snapshot (RDS: a manual DB snapshot, and the cache's; postgres: a base backup) and applies retention.
    func snapshot(_ request: SnapshotRequest) async throws -> SnapshotResult
    /// Copies snapshots (and, for postgres, the WAL archive) to the DR location.
    func copy(_ request: CopyRequest) async throws -> CopyResult
    /// Restores to a point in time, to the latest restorable time, or from a snapshot, as a new server.
    func restore(_ request: RestoreRequest) async throws -> RestoreResult
    /// Points clients at a restored server (RDS: a Route 53 record; postgres: a pg_service.conf entry).
    func failover(_ request: FailoverRequest) async throws -> FailoverResult
    /// The changes dr made to the target's failover entry, newest first (what `--undo` walks back).
    func failoverHistory(_ request: FailoverRequest) async throws -> [FailoverChange]
    /// Removes a restored server that `dr` made from this target; refuses anything else.
    func teardown(_ request: TeardownRequest) async throws -> TeardownResult
    /// Sets the desired count of the target's application service (ECS) in a region and waits
    /// until it is stable; a backend without an application tier refuses (bad input).
    func appScale(_ request: AppScaleRequest) async throws -> AppScaleResult
    /// Rolls the target's application service back to an earlier task definition revision and
    /// waits until it is stable; a backend without an application tier refuses (bad input).
    func appRollback(_ request: AppRollbackRequest) async throws -> AppRollbackResult
    /// Snapshots and their ages, the restorable window and the current data-loss exposure.
    func status() async throws -> TargetStatus
    /// The restored servers or instances `dr` made from this target, with their tags (what
    /// `dr drill --cleanup` searches for leftovers).
    func restoredResources() async throws -> [RestoredResource]
    /// How to connect to the target's own database, with its password when it has one (a
    /// Secrets Manager secret's, a conninfo's): for verification only. Never print it.
    func sourceConninfo() async throws -> String
    /// Could we fail over right now? Every readiness check of the target, run at once. Read-only.
    func check(_ request: ReadinessRequest) async throws -> ReadinessReport
    /// Repoints the application's database secret at a restored endpoint (RDS: Secrets Manager)
    /// and proves it by logging in with the credentials read back.
    func repointSecret(_ request: SecretRepointRequest) async throws -> SecretRepointResult
    /// A new cache with the shape of the target's (RDS: an ElastiCache replication group).
    func restoreCache(_ request: CacheRestoreRequest) async throws -> CacheRestoreResult
    /// Removes a secret copy (`secret`) or a restored cache (`cache`) that dr made for this target.
    func teardownSecretCopy(_ request: StackTeardownRequest) async throws -> TeardownResult
    func teardownCache(_ request: StackTeardownRequest) async throws -> TeardownResult
}

extension RecoveryProvider {
    /// Every readiness check.
    public func check() async throws -> ReadinessReport { try await check(ReadinessRequest()) }
}

/// What a procedure would do, from the decision its run would execute.
public struct ProcedurePlan: Sendable, Equatable {
    /// The read-only calls made to decide, then every call the run would make, in order.
    public var actions: [PlannedAction]
    /// The snapshot the procedure would make, reuse, copy or restore from, when the decision
    /// names one (so a later step of a runbook can be planned with it).
    public var snapshot: String?
    public init(_ actions: [PlannedAction], snapshot: String? = nil) {
        self.actions = actions
        self.snapshot = snapshot
    }
}

/// A procedure call, for `plan`.
public enum ProcedureRequest: Sendable, Equatable {
    case snapshot(SnapshotRequest)
    case copy(CopyRequest)
    case restore(RestoreRequest)
    case failover(FailoverRequest)
    case teardown(TeardownRequest)
    case secretRepoint(SecretRepointRequest)
    case cacheRestore(CacheRestoreRequest)
    case secretCopyTeardown(StackTeardownRequest)
    case cacheTeardown(StackTeardownRequest)
    case appScale(AppScaleRequest)
    case appRollback(AppRollbackRequest)
}
