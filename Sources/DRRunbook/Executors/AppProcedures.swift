import DRCore
import DRProcedures
import DRRunbookEngine
import Foundation

/// `app.scale`: the desired count of the target's ECS service in `region` (its region or its
/// `dr_region`), then a wait until the service is stable. Plan and run build the same request
/// and the backend answers both from one decision. A re-entered step is a re-run: the service
/// already wants that many tasks, so nothing is written, and the wait finishes.
struct AppScaleProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func request(_ call: ResolvedCall) throws -> AppScaleRequest {
        guard let desired = call.int("desired") else {
            throw DRError(.invalidParameter, "app.scale needs `desired`: how many tasks the service should run.")
        }
        return AppScaleRequest(region: call.nonEmpty("region"), fromDR: call.bool("from_dr") ?? false, desired: desired)
    }

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome {
        try await call.worded {
            let provider = try providers.provider(call)
            guard call.pending["region"] == nil, call.pending["from_dr"] == nil, call.pending["desired"] == nil else {
                return PlanOutcome([.change("scale the application of \(provider.target.name) (known at run time)", call: "ecs:UpdateService",
                                            when: "unless the service already wants that many tasks")])
            }
            return PlanOutcome(try await provider.plan(.appScale(try request(call))).actions)
        }
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        try await call.worded {
            let r = try await providers.provider(call).appScale(try request(call))
            return ["service": .string(r.service), "cluster": .string(r.cluster), "region": .string(r.region), "desired": .int(r.desired),
                    "previous_desired": .int(r.previousDesired), "changed": .bool(r.changed), "running": .int(r.running),
                    "task_definition": .string(r.taskDefinition ?? "")]
        }
    }
}

/// `app.rollback`: the target's ECS service back to the previous task definition revision of
/// its family (or `to`), then a wait until it is stable. Refusals (another family, an INACTIVE
/// revision, no previous one) come from the backend's decision, at plan time as at run time. A
/// re-entered step finds the rollback it made (dr keeps it) and does not roll back twice.
struct AppRollbackProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func request(_ call: ResolvedCall) -> AppRollbackRequest {
        AppRollbackRequest(to: call.nonEmpty("to"), region: call.nonEmpty("region"))
    }

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome {
        try await call.worded {
            let provider = try providers.provider(call)
            guard call.pending["to"] == nil, call.pending["region"] == nil else {
                return PlanOutcome([.change("roll back the application of \(provider.target.name) (known at run time)", call: "ecs:UpdateService",
                                            when: "unless the service already runs that revision")])
            }
            return PlanOutcome(try await provider.plan(.appRollback(request(call))).actions)
        }
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        try await call.worded {
            let r = try await providers.provider(call).appRollback(request(call))
            return ["service": .string(r.service), "cluster": .string(r.cluster), "region": .string(r.region),
                    "task_definition": .string(r.taskDefinition), "replaced": .string(r.replaced ?? ""), "changed": .bool(r.changed),
                    "desired": .int(r.desired), "running": .int(r.running)]
        }
    }
}
