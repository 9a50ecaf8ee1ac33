import DRCore
import DRProcedures
import DRRunbookEngine
import Foundation

/// `failover`: points clients at a restored server, through the target's backend: the Route 53
/// record of an rds target (its `dns:`, or `zone` and `record`), or a postgres target's
/// pg_service.conf entry (`record`, default the target's service). Without a target, `zone` and
/// `record` name a Route 53 record that belongs to none. Every change is kept in the entry's
/// history; re-running it is harmless: the entry already points where it should.
struct FailoverProcedure: ProcedureExecutor {
    var providers: TargetProviders

    enum Route {
        case target(RecoveryProvider, FailoverRequest)
        case route53(DNSFailover, Route53Failover.Request)
    }

    func route(_ call: ResolvedCall) throws -> Route {
        let to = call.nonEmpty("to")
        if call.nonEmpty("target") != nil {
            let upcoming = to.map { call.predicted.contains("to") || call.isPlanned(output: "instance_id", .string($0)) } ?? false
            let request = FailoverRequest(to: to, entry: call.nonEmpty("record"), zone: call.nonEmpty("zone"), ttl: call.int("ttl"),
                                          upcoming: upcoming)
            return .target(try providers.provider(call), request)
        }
        guard let zone = call.nonEmpty("zone"), let record = call.nonEmpty("record") else {
            throw DRError(.invalidParameter, "failover needs `target` (whose failover entry to change), or `zone` and `record` (a Route 53 record of no target).")
        }
        return .route53(try Providers.dns(context: providers.context), .init(zone: zone, record: record, to: to, ttl: call.int("ttl")))
    }

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome {
        try await call.worded {
            switch try route(call) {
            case .target(let provider, let request): return PlanOutcome(try await provider.plan(.failover(request)).actions)
            case .route53(let dns, let request): return PlanOutcome(try await dns.plan(request))
            }
        }
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        try await call.worded {
            guard call.nonEmpty("to") != nil else { throw DRError(.invalidParameter, "failover needs `to`.") }
            let result: FailoverResult
            switch try route(call) {
            case .target(let provider, let request): result = try await provider.failover(request)
            case .route53(let dns, let request): result = try await dns.run(request)
            }
            return ["entry": .string(result.entry), "now": .string(result.now), "previous": .string(result.previous ?? ""),
                    "changed": .bool(result.changed)]
        }
    }
}
