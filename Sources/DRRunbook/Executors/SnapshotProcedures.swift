import DRCore
import DRProcedures
import Foundation
import DRRunbookEngine

/// `snapshot`: a manual snapshot (RDS DB snapshot, or a base backup for postgres) with the
/// target's retention. A re-entered step first looks for the snapshot it had started.
struct SnapshotProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func plan(_ call: ResolvedCall) async throws -> [PlannedAction] {
        let target = try providers.target(call)
        let provider = try providers.makeProvider(target, providers.logger)
        let weekly = call.bool("weekly") ?? false
        let calls = BackendCalls.of(target)
        let status = try await provider.status()
        var actions = [PlannedAction("read \(target.name)'s snapshots", call: calls.statusRead, mutates: false)]
        let thisWeek = weekly ? Self.thisWeeksSnapshot(in: status) : nil
        if let thisWeek {
            actions.append(PlannedAction("reuse this ISO week's snapshot \(thisWeek.id) (no new snapshot)", mutates: false))
        } else {
            actions.append(PlannedAction("take a\(weekly ? " weekly" : "n ad-hoc") snapshot of \(target.name)", call: calls.snapshot, mutates: true))
            if let group = target.rdsSettings?.cacheReplicationGroup {
                actions.append(PlannedAction("snapshot cache \(group) under the same name", call: "elasticache:CreateSnapshot", mutates: true))
            }
        }
        if weekly, let keep = target.weeklyRetention {
            let kept = status.snapshots.filter { $0.kind == "weekly" }.sorted { $0.createdAt > $1.createdAt }
            let doomed = kept.dropFirst(max(0, keep - (thisWeek == nil ? 1 : 0)))
            actions += doomed.map { PlannedAction("retention (keep \(keep) weekly): delete \($0.id)", call: calls.deleteSnapshot, mutates: true) }
        }
        return actions
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        let provider = try providers.provider(call)
        let weekly = call.bool("weekly") ?? false
        // Weekly snapshots are named for the week, so the backend finds them; an ad-hoc one that
        // this step had finished before the crash is found by kind and time.
        if context.isReentry && !weekly,
           let made = try await provider.status().snapshots.first(where: { $0.kind == "adhoc" && $0.createdAt >= context.attemptStartedAt.addingTimeInterval(-1) }) {
            return Self.outputs(id: made.id, createdAt: made.createdAt, location: Self.location(provider.target), created: false, deleted: [])
        }
        let result = try await provider.snapshot(SnapshotRequest(weekly: weekly))
        return Self.outputs(id: result.id, createdAt: result.startedAt,
                            location: result.details["region"] ?? result.details["repository"] ?? Self.location(provider.target),
                            created: result.created, deleted: result.deleted)
    }

    static func thisWeeksSnapshot(in status: TargetStatus) -> SnapshotSummary? {
        let week = ISOWeekOf.key(status.checkedAt)
        return status.snapshots.first { $0.kind == "weekly" && ISOWeekOf.key($0.createdAt) == week }
    }

    static func location(_ target: Target) -> String {
        target.rdsSettings?.region ?? target.postgresSettings?.repository ?? ""
    }

    static func outputs(id: String, createdAt: Date, location: String, created: Bool, deleted: [String]) -> [String: Value] {
        ["snapshot_id": .string(id), "created_at": .time(createdAt), "location": .string(location),
         "created": .bool(created), "deleted": .string(deleted.joined(separator: ","))]
    }
}

/// `cache.snapshot`: this ISO week's snapshot of the target's ElastiCache group. The RDS backend
/// takes cache snapshots together with the week's DB snapshot (same name, same tags, same
/// retention), so this step makes sure both exist and reuses what is there. A target without a
/// cache (provider postgres, or rds without `cache:`) has nothing to snapshot: the plan says so
/// and the step does nothing (`taken` is false).
struct CacheSnapshotProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func plan(_ call: ResolvedCall) async throws -> [PlannedAction] {
        let target = try providers.target(call)
        guard let group = target.rdsSettings?.cacheReplicationGroup else {
            return [PlannedAction("nothing to do: target \(target.name) (provider \(target.providerName)) has no cache configured", mutates: false)]
        }
        let provider = try providers.makeProvider(target, providers.logger)
        let status = try await provider.status()
        if let thisWeek = SnapshotProcedure.thisWeeksSnapshot(in: status), status.details["cache_newest_snapshot"] == thisWeek.id {
            return [PlannedAction("reuse this ISO week's cache snapshot \(thisWeek.id) of \(group)", call: "elasticache:DescribeSnapshots", mutates: false)]
        }
        var actions: [PlannedAction] = []
        if SnapshotProcedure.thisWeeksSnapshot(in: status) == nil {
            actions.append(PlannedAction("take this ISO week's DB snapshot of \(target.name) (the cache snapshot is named after it)",
                                         call: BackendCalls.of(target).snapshot, mutates: true))
        }
        actions.append(PlannedAction("snapshot cache \(group) for this ISO week", call: "elasticache:CreateSnapshot", mutates: true))
        return actions
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        let target = try providers.target(call)
        guard target.rdsSettings?.cacheReplicationGroup != nil else {
            return ["snapshot_id": .string(""), "taken": .bool(false)]
        }
        let result = try await providers.makeProvider(target, providers.logger).snapshot(SnapshotRequest(weekly: true))
        return ["snapshot_id": .string(result.details["cache_snapshot"] ?? result.id), "taken": .bool(true)]
    }
}

/// `copy`: copies a snapshot (postgres: backups and WAL) to the DR region or repository, with the
/// target's DR retention. The backends make this idempotent (same copy name; already-copied files skipped).
struct CopyProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func plan(_ call: ResolvedCall) async throws -> [PlannedAction] {
        let target = try providers.target(call)
        let provider = try providers.makeProvider(target, providers.logger)
        let status = try await provider.status()
        let requested = call.string("snapshot") ?? call.pending["snapshot"].map { "(at run time: \($0))" } ?? "latest"
        var source = requested
        if requested == "latest" {
            guard let newest = status.snapshots.max(by: { $0.createdAt < $1.createdAt }) else {
                throw DRError.badInput("Step '\(call.stepID)': target \(target.name) has no snapshot to copy yet. Take one first (a `snapshot` step before this one). Nothing was changed.")
            }
            source = "\(newest.id) (the newest)"
        } else if call.pending["snapshot"] == nil, !status.snapshots.contains(where: { $0.id == requested }) {
            throw DRError.badInput("Step '\(call.stepID)': target \(target.name) has no snapshot \(requested). `dr status \(target.name)` lists them. Nothing was changed.")
        }
        let destination = Self.destination(target, call)
        var actions = [PlannedAction("read \(target.name)'s snapshots", call: BackendCalls.of(target).statusRead, mutates: false),
                       PlannedAction("copy \(source) to \(destination)\(Self.encryption(target))", call: BackendCalls.of(target).copy, mutates: true)]
        if let keep = target.rdsSettings?.retentionDRRegion ?? target.postgresSettings?.retentionWeekly {
            actions.append(PlannedAction("retention in \(destination): keep the newest \(keep) copies, delete older dr-made ones",
                                         call: BackendCalls.of(target).deleteSnapshot, mutates: true))
        }
        return actions
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        let provider = try providers.provider(call)
        let requested = call.string("snapshot").flatMap { $0 == "latest" ? nil : $0 }
        let result = try await provider.copy(CopyRequest(snapshot: requested, toRegion: call.string("to_region")))
        var id = result.details["copy"] ?? requested
        if id == nil { id = try await provider.status().drSnapshots.max(by: { $0.createdAt < $1.createdAt })?.id }
        return ["snapshot_id": .string(id ?? ""), "location": .string(result.destination),
                "copied": .int(result.copied.count), "deleted": .string(result.deleted.joined(separator: ","))]
    }

    static func destination(_ target: Target, _ call: ResolvedCall) -> String {
        if let region = call.string("to_region") { return region }
        switch target.provider {
        case .rds(let s): return s.drRegion ?? "(no dr_region set)"
        case .postgres(let s): return s.drRepository ?? "(no dr_repository set)"
        }
    }

    static func encryption(_ target: Target) -> String {
        target.rdsSettings?.drKMSKeyID.map { ", re-encrypted with \($0) when the snapshot is encrypted" } ?? ""
    }
}
