import DRCore
import DRProcedures
import DRRunbookEngine
import Foundation

/// `restore.point-in-time` and `restore.snapshot`: a new server (postgres) or instance (RDS)
/// named `as`. Plan and run build the same request and the backend answers both from one
/// decision: the window and the name are checked before anything runs, and a restore of the
/// same point dr started earlier (a re-entered step, a re-run) is finished instead of repeated.
struct RestoreProcedure: ProcedureExecutor {
    enum Mode { case pointInTime, snapshot }
    var mode: Mode
    var providers: TargetProviders

    /// The request a step's parameters make; the same for its plan and its run.
    func request(_ call: ResolvedCall) throws -> RestoreRequest {
        guard let name = call.string("as") else {
            throw DRError(.invalidParameter, "a restore needs `as`, the new server's name.")
        }
        let point: RestorePoint = mode == .snapshot ? .snapshot(call.nonEmpty("snapshot") ?? "latest") : try Self.point(call)
        return RestoreRequest(point: point, name: name, fromDR: call.bool("from_dr") ?? false, region: call.nonEmpty("region"),
                              rds: try Self.overrides(call))
    }

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome {
        try await call.worded {
            let provider = try providers.provider(call)
            guard call.pending["as"] == nil, call.pending["time"] == nil, call.pending["snapshot"] == nil else {
                let known = call.pending.keys.sorted().map { "`\($0)`" }.joined(separator: ", ")
                return PlanOutcome([.change("restore \(provider.target.name) (\(known) known at run time)", call: nil)])
            }
            let request = try request(call)
            let plan = try await provider.plan(.restore(request))
            var outputs: [String: Value] = ["instance_id": .string(request.name)]
            if let snapshot = plan.snapshot { outputs["snapshot_id"] = .string(snapshot) }
            return PlanOutcome(plan.actions, outputs: outputs)
        }
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        try await call.worded {
            let result = try await providers.provider(call).restore(try request(call))
            return ["instance_id": .string(result.name), "endpoint_host": .string(result.endpoint?.host ?? ""),
                    "endpoint_port": .int(result.endpoint?.port ?? 0), "conninfo": .string(result.conninfo),
                    "snapshot_id": .string(result.snapshot),
                    "restored_to": .string((result.recoveredTo ?? result.requestedTime).map { RFC3339.format($0, fractional: true) } ?? ""),
                    "adopted": .bool(result.adopted), "failover_to": .string(result.failoverTo)]
        }
    }

    /// `time`: an RFC 3339 time, or `latest` for the latest restorable time.
    static func point(_ call: ResolvedCall) throws -> RestorePoint {
        let text = call.string("time") ?? ""
        if text == "latest" { return .latestRestorable }
        guard let time = RFC3339.parse(text) else {
            throw DRError(.invalidParameter, "time '\(text)' is neither an RFC 3339 time (2026-11-20T12:00:00Z) nor `latest`. Nothing was changed.")
        }
        return .pointInTime(time)
    }

    /// The RDS overrides a step may give (every one the CLI has).
    static func overrides(_ call: ResolvedCall) throws -> RDSRestoreOverrides {
        var o = RDSRestoreOverrides(instanceClass: call.nonEmpty("instance_class"), subnetGroup: call.nonEmpty("subnet_group"),
                                    parameterGroup: call.nonEmpty("parameter_group"), port: call.int("port"),
                                    multiAZ: call.bool("multi_az"), kmsKeyID: call.nonEmpty("kms_key_id"))
        if let groups = call.nonEmpty("security_groups") {
            o.securityGroups = groups.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return o
    }
}

/// `teardown`: removes a restored server or instance that dr made; anything else is refused by
/// the backend. One that is already gone is reported as not deleted, so a re-entered step is safe.
struct TeardownProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome {
        try await call.worded {
            let provider = try providers.provider(call)
            // A name known only at run time is planned as the restore an earlier step makes.
            let name = call.string("instance") ?? "(at run time: \(call.pending["instance"] ?? "?"))"
            let request = TeardownRequest(name: name, region: call.nonEmpty("region"),
                                          upcoming: call.string("instance") == nil || call.predicted.contains("instance")
                                              || call.isPlanned(output: "instance_id", .string(name)))
            return PlanOutcome(try await provider.plan(.teardown(request)).actions)
        }
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        try await call.worded {
            guard let name = call.string("instance") else { throw DRError(.invalidParameter, "teardown needs `instance`.") }
            let result = try await providers.provider(call).teardown(TeardownRequest(name: name, region: call.nonEmpty("region")))
            return ["deleted": .bool(result.removed)]
        }
    }
}

/// `status`: the target's state, newest snapshot and restorable window. Reads only.
struct StatusProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome {
        try await call.worded {
            let target = try providers.target(call)
            return PlanOutcome([.read("read \(target.name)'s state, snapshots and restorable window")])
        }
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        try await call.worded {
            let status = try await providers.provider(call).status()
            return ["provider": .string(status.provider), "state": .string(status.state),
                    "latest_snapshot": .string(status.newestSnapshot?.id ?? ""),
                    "restorable": .bool(status.restorableWindow != nil),
                    "latest_restorable_time": .string(status.restorableWindow.map { RFC3339.format($0.latest, fractional: true) } ?? ""),
                    "warnings": .int(status.warnings.count)]
        }
    }
}
