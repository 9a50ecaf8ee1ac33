import DRCore
import DRProcedures
import DRRunbookEngine
import Foundation

/// `snapshot`: a manual snapshot (RDS DB snapshot, or a base backup for postgres) with the
/// target's retention. The plan is the backend's own decision; a re-entered step first looks
/// for the ad-hoc snapshot it had started.
struct SnapshotProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func request(_ call: ResolvedCall) -> SnapshotRequest { SnapshotRequest(weekly: call.bool("weekly") ?? false) }

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome {
        try await call.worded {
            let plan = try await providers.provider(call).plan(.snapshot(request(call)))
            return PlanOutcome(plan.actions, outputs: plan.snapshot.map { ["snapshot_id": .string($0)] } ?? [:])
        }
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        try await call.worded {
            let provider = try providers.provider(call)
            let request = request(call)
            // Weekly snapshots are named for the week, so the backend finds them; an ad-hoc one that
            // this step had finished before the crash is found by kind and time.
            if context.isReentry && !request.weekly,
               let made = try await provider.status().snapshots.first(where: { $0.kind == "adhoc" && $0.createdAt >= context.attemptStartedAt.addingTimeInterval(-1) }) {
                return Self.outputs(id: made.id, createdAt: made.createdAt, location: "", created: false, deleted: [])
            }
            let result = try await provider.snapshot(request)
            return Self.outputs(id: result.id, createdAt: result.startedAt, location: result.location, created: result.created, deleted: result.deleted)
        }
    }

    static func outputs(id: String, createdAt: Date, location: String, created: Bool, deleted: [String]) -> [String: Value] {
        ["snapshot_id": .string(id), "created_at": .time(createdAt), "location": .string(location),
         "created": .bool(created), "deleted": .string(deleted.joined(separator: ","))]
    }
}

/// `cache.snapshot`: this ISO week's snapshot of the target's ElastiCache group. The RDS backend
/// takes cache snapshots together with the week's DB snapshot (same name, same tags, same
/// retention), so this step is the weekly snapshot procedure and reports the cache's part. A
/// target without a cache has nothing to snapshot: the plan says so and the step does nothing.
struct CacheSnapshotProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome {
        try await call.worded {
            let target = try providers.target(call)
            guard target.cacheReplicationGroup != nil else {
                return PlanOutcome([.read("nothing to do: target \(target.name) (provider \(target.providerName)) has no cache configured")],
                                   outputs: ["snapshot_id": .string(""), "taken": .bool(false)])
            }
            let plan = try await providers.provider(for: target).plan(.snapshot(SnapshotRequest(weekly: true)))
            return PlanOutcome(plan.actions, outputs: plan.snapshot.map { ["snapshot_id": .string($0), "taken": .bool(true)] } ?? [:])
        }
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        try await call.worded {
            let target = try providers.target(call)
            guard target.cacheReplicationGroup != nil else { return ["snapshot_id": .string(""), "taken": .bool(false)] }
            let result = try await providers.provider(for: target).snapshot(SnapshotRequest(weekly: true))
            return ["snapshot_id": .string(result.cacheSnapshot ?? result.id), "taken": .bool(result.cacheSnapshot != nil)]
        }
    }
}

/// `copy`: copies a snapshot (postgres: backups and WAL) to the DR region or repository, with the
/// target's DR retention. The backends make this idempotent (same copy name; already-copied files skipped).
struct CopyProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func request(_ call: ResolvedCall) -> CopyRequest {
        CopyRequest(snapshot: call.nonEmpty("snapshot").flatMap { $0 == "latest" ? nil : $0 }, toRegion: call.nonEmpty("to_region"))
    }

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome {
        try await call.worded {
            var request = request(call)
            // A snapshot named by an earlier step's planned output does not exist yet.
            request.upcoming = call.predicted.contains("snapshot")
            let plan = try await providers.provider(call).plan(.copy(request))
            return PlanOutcome(plan.actions, outputs: plan.snapshot.map { ["snapshot_id": .string($0)] } ?? [:])
        }
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        try await call.worded {
            let result = try await providers.provider(call).copy(request(call))
            return ["snapshot_id": .string(result.copy ?? ""), "location": .string(result.destination),
                    "copied": .int(result.copied.count), "deleted": .string(result.deleted.joined(separator: ","))]
        }
    }
}
