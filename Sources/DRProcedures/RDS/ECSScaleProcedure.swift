import DRAWS
import DRCore
import Foundation

/// `dr app scale TARGET --region R --desired N`: sets the desired count of the target's ECS
/// service in R (the DR region's pilot light scaled up in a failover, or back down after) with
/// `UpdateService`, then waits until the service is stable. Re-running it changes nothing when
/// the service already wants N tasks (and still waits). The count it replaced is recorded for
/// undo, in the result and in the service's history in dr's state directory.
struct ECSScaleProcedure {
    let tier: AppTier

    init(provider: RDSProvider) throws { tier = try AppTier(provider: provider) }

    struct Decision {
        var location: AppTier.Location
        var desired: Int
        var current: Int
        var service: ECSService
        var waitAction: PlannedAction?

        var change: Bool { desired != current }

        var plan: [PlannedAction] {
            var out: [PlannedAction] = [.read("read \(location.described)", call: "ecs:DescribeServices")]
            if change {
                out.append(.change("set the desired count of \(location.service) (cluster \(location.cluster), \(location.region)): currently \(current) → will be \(desired)",
                                   call: "ecs:UpdateService", current: String(current)))
            } else {
                out.append(.read("nothing to change: \(location.service) already wants \(desired) task\(desired == 1 ? "" : "s") (\(service.runningCount) running)"))
            }
            if let waitAction { out.append(waitAction) }
            return out
        }
    }

    func decide(_ request: AppScaleRequest) async throws -> Decision {
        guard request.desired >= 0, request.desired <= 100_000 else {
            throw DRError(.invalidParameter, "The desired count \(request.desired) (\(param: .desired)) must be a whole number from 0 to 100000. Nothing was changed.")
        }
        let location = try tier.location(region: request.region, fromDR: request.fromDR)
        let service = try await tier.read(location)
        return Decision(location: location, desired: request.desired, current: service.desiredCount, service: service,
                        waitAction: tier.waitAction(location, until: "\(request.desired)/\(request.desired) running"))
    }

    func execute(_ d: Decision) async throws -> AppScaleResult {
        let started = tier.provider.context.clock.now()
        let log = tier.history(d.location, "desired")
        var service = d.service
        var previous = d.current
        if d.change {
            // Kept before the change, so a crash right after it still leaves the count to go back to.
            try log.push(FailoverChange(at: started, from: String(d.current), to: String(d.desired)))
            tier.provider.logger.info("scaling ECS service", metadata: ["service": "\(d.location.service)", "cluster": "\(d.location.cluster)",
                                                                       "region": "\(d.location.region)", "from": "\(d.current)", "to": "\(d.desired)"])
            service = try await tier.ecs(d.location).updateService(.init(cluster: d.location.cluster, service: d.location.service, desiredCount: d.desired))
        } else if let last = log.entries().first, last.to == String(d.desired), let from = last.from.flatMap({ Int($0) }) {
            previous = from // a re-run: the count before dr's own earlier change
        }
        let stable = try await tier.waitStable(d.location)
        if let stable { service = stable }
        return AppScaleResult(target: tier.provider.target.name, region: d.location.region, cluster: d.location.cluster,
                              service: d.location.service, desired: d.desired, previousDesired: previous, changed: d.change,
                              running: service.runningCount, taskDefinition: service.taskDefinitionRevision?.description ?? service.taskDefinition,
                              waited: stable != nil, seconds: tier.provider.context.clock.now().timeIntervalSince(started))
    }
}
