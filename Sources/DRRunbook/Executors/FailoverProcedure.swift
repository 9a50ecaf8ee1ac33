import DRCore
import DRProcedures
import Foundation
import DRRunbookEngine

/// `failover`: points clients at a restored server. With `zone` it upserts a Route 53 record
/// (RDS); with a postgres `target` it rewrites the target's pg_service.conf entry (`record`, default
/// the target's service) to the restored server named `to`. Both record the previous value.
/// Re-running it is harmless: the record already points where it should.
struct FailoverProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func plan(_ call: ResolvedCall) async throws -> [PlannedAction] {
        let to = call.string("to") ?? call.pending["to"].map { "(at run time: \($0))" } ?? "?"
        switch try route(call) {
        case .route53(let zone, let record):
            var actions: [PlannedAction] = []
            var current: String?
            var change = "upsert DNS record \(record) in zone \(zone) → \(to)"
            if let zoneName = call.string("zone"), let recordName = call.string("record") {
                let session = try providers.makeSession(providers.logger)
                current = try await Route53Failover(session: session, logger: providers.logger).currentValue(zone: zoneName, record: recordName)
                actions.append(PlannedAction("read DNS record \(record) in zone \(zone)", call: "route53:ListResourceRecordSets", mutates: false))
                change = "upsert DNS record \(record) in zone \(zone): currently \(current ?? "(no such record)") → will be \(to)"
            }
            return actions + [PlannedAction(change + (call.int("ttl").map { " (TTL \($0)s)" } ?? ""),
                                            call: "route53:ChangeResourceRecordSets", mutates: true, current: current),
                              PlannedAction("wait until the change is INSYNC", call: "route53:GetChange", mutates: false)]
        case .serviceFile(let target):
            let file = target.postgresSettings?.serviceFile ?? "(no service_file set)"
            let entry = call.string("record") ?? target.postgresSettings?.service ?? target.name
            let current = try await providers.makeProvider(target, providers.logger).currentFailoverValue(FailoverRequest(entry: entry))
            return [PlannedAction("read [\(entry)] in \(file)", call: "read \(file)", mutates: false),
                    PlannedAction("rewrite [\(entry)] in \(file): currently \(current ?? "(no such entry)") → will be restored server \(to)",
                                  call: "write \(file) atomically", mutates: true, current: current)]
        }
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        guard let to = call.string("to") else { throw DRError.badInput("Step '\(call.stepID)': failover needs `to`.") }
        let result: FailoverResult
        switch try route(call) {
        case .route53(let zone, let record):
            let session = try providers.makeSession(providers.logger)
            result = try await Route53Failover(session: session, logger: providers.logger)
                .run(.init(zone: zone, record: record, to: to, ttl: call.int("ttl")))
        case .serviceFile(let target):
            result = try await providers.makeProvider(target, providers.logger).failover(FailoverRequest(to: to, entry: call.string("record")))
        }
        return ["entry": .string(result.entry), "now": .string(result.now), "previous": .string(result.previous ?? "")]
    }

    enum Route { case route53(zone: String, record: String), serviceFile(Target) }

    func route(_ call: ResolvedCall) throws -> Route {
        if let zone = call.string("zone") ?? call.pending["zone"] {
            guard let record = call.string("record") ?? call.pending["record"] else {
                throw DRError.badInput("Step '\(call.stepID)': a Route 53 failover needs `record` with `zone`.")
            }
            return .route53(zone: zone, record: record)
        }
        guard call.string("target") != nil else {
            throw DRError.badInput("Step '\(call.stepID)': failover needs `zone` and `record` (a Route 53 record), or `target` (a postgres target's service file).")
        }
        let target = try providers.target(call)
        guard target.postgresSettings != nil else {
            throw DRError.badInput("Step '\(call.stepID)': target \(target.name) is provider \(target.providerName); its failover repoints a Route 53 record: give `zone` and `record`.")
        }
        return .serviceFile(target)
    }
}
