import DRAWS
import DRCore
import Foundation

/// `dr app rollback TARGET [--to REVISION]`: puts the target's ECS service back on an earlier
/// revision of the task definition family it runs — the one given, or the newest ACTIVE revision
/// before the current one — with `UpdateService`, waits until the new deployment is stable, and
/// checks ECS kept it (a deployment circuit breaker may roll it back). Refused before any change
/// (bad input): a revision of another family, one that is not ACTIVE, and no earlier revision.
///
/// Every rollback is kept in the service's history in dr's state directory (what it replaced,
/// for undo). A re-run is harmless: with `--to`, the service already runs it; without, a service
/// that runs the revision dr last rolled it back to is left alone (give `--to` to go further
/// back), and "the previous revision" never means one dr rolled back from.
struct ECSRollbackProcedure {
    let tier: AppTier

    init(provider: RDSProvider) throws { tier = try AppTier(provider: provider) }

    struct Decision {
        var location: AppTier.Location
        var service: ECSService
        var current: TaskDefinitionRevision
        var target: TaskDefinitionRevision
        /// Revisions between the two that were passed over, and why (`web:6 (INACTIVE)`).
        var passedOver: [String]
        /// The rollback dr made earlier that this re-run finds already done.
        var earlier: FailoverChange?
        var reads: [PlannedAction]
        var waitAction: PlannedAction?

        var change: Bool { target != current }

        var plan: [PlannedAction] {
            var out = reads
            if change {
                let skipped = passedOver.isEmpty ? "" : " (passing over \(passedOver.joined(separator: ", ")))"
                out.append(.change("roll back \(location.service) (cluster \(location.cluster), \(location.region)): currently \(current) → will be \(target)\(skipped)",
                                   call: "ecs:UpdateService", current: current.description))
            } else if let earlier {
                out.append(.read("nothing to do: dr rolled \(location.service) back from \(earlier.from ?? "?") to \(current) at \(RFC3339.format(earlier.at)); name an earlier revision to go further back"))
            } else {
                out.append(.read("nothing to do: \(location.service) already runs \(current)"))
            }
            if let waitAction { out.append(waitAction) }
            return out
        }
    }

    func decide(_ request: AppRollbackRequest) async throws -> Decision {
        let location = try tier.location(request.region ?? tier.provider.settings.region)
        let ecs = try tier.ecs(location)
        let service = try await tier.read(location)
        if let controller = service.deploymentController?.type, controller != "ECS" {
            throw DRError(.invalidParameter, "The \(location.described) is deployed by \(controller) (its deployment controller), which owns its task definition; ECS refuses to change it directly. Roll it back through \(controller == "CODE_DEPLOY" ? "CodeDeploy" : "the controller that deploys it"). Nothing was changed.")
        }
        var reads: [PlannedAction] = [.read("read \(location.described)", call: "ecs:DescribeServices")]
        let current = try await currentRevision(service, ecs: ecs, location: location)
        let history = tier.history(location, "task-definition").entries()

        if let text = request.to {
            let wanted = try Self.revision(text, family: current.family)
            guard wanted.family == current.family else {
                throw DRError(.invalidParameter, "\(wanted) (\(param: .to)) is a revision of the family \(wanted.family), but the \(location.described) runs \(current): a rollback goes back within the same family. Give a revision of \(current.family), e.g. \(current.family):\(max(1, current.revision - 1)). Nothing was changed.")
            }
            reads.append(.read("read the task definition \(wanted)", call: "ecs:DescribeTaskDefinition"))
            if wanted != current {
                let definition = try await describe(wanted, ecs: ecs, location: location)
                guard definition.status == nil || definition.status == "ACTIVE" else {
                    throw DRError(.invalidParameter, "The task definition \(wanted) (\(param: .to)) is \(definition.status ?? "?") (deregistered): ECS starts no new tasks from it. Give an ACTIVE revision of \(current.family), or register it again. Nothing was changed.")
                }
            }
            return Decision(location: location, service: service, current: current, target: wanted,
                            passedOver: [], earlier: nil, reads: reads,
                            waitAction: tier.waitAction(location, until: "\(service.desiredCount)/\(service.desiredCount) running \(wanted)"))
        }

        reads.append(.read("list the ACTIVE revisions of the task definition family \(current.family)", call: "ecs:ListTaskDefinitions"))
        if let last = history.first, last.to == current.description,
           let from = last.from.flatMap(TaskDefinitionRevision.init), from.family == current.family, from.revision > current.revision {
            // A re-run of the rollback that already happened: nothing more to roll back.
            return Decision(location: location, service: service, current: current, target: current, passedOver: [], earlier: last,
                            reads: reads, waitAction: tier.waitAction(location, until: "\(service.desiredCount)/\(service.desiredCount) running \(current)"))
        }
        let active = try await ecs.revisions(of: current.family, status: "ACTIVE")
        // Never roll back onto a revision dr rolled back from: it was bad once already.
        let rolledBackFrom = Set(history.compactMap { change -> TaskDefinitionRevision? in
            guard let from = change.from.flatMap(TaskDefinitionRevision.init), let to = TaskDefinitionRevision(change.to),
                  from.family == to.family, to.revision < from.revision else { return nil }
            return from
        })
        guard let target = active.filter({ $0.revision < current.revision && !rolledBackFrom.contains($0) }).max() else {
            let why = active.contains { $0.revision < current.revision }
                ? "every earlier ACTIVE revision is one dr already rolled back from (\(rolledBackFrom.sorted().map(\.description).joined(separator: ", ")))"
                : "\(current) is the oldest ACTIVE revision of \(current.family)"
            throw DRError(.invalidParameter, "There is no previous revision to roll the \(location.described) back to: \(why). Give the revision with \(param: .to), or register a fixed one and deploy it. Nothing was changed.")
        }
        let activeSet = Set(active)
        let passedOver = ((target.revision + 1)..<current.revision).map { TaskDefinitionRevision(family: current.family, revision: $0) }.map {
            rolledBackFrom.contains($0) ? "\($0) (dr rolled back from it)" : activeSet.contains($0) ? "\($0)" : "\($0) (not ACTIVE)"
        }
        return Decision(location: location, service: service, current: current, target: target, passedOver: passedOver, earlier: nil,
                        reads: reads, waitAction: tier.waitAction(location, until: "\(service.desiredCount)/\(service.desiredCount) running \(target)"))
    }

    func execute(_ d: Decision) async throws -> AppRollbackResult {
        let started = tier.provider.context.clock.now()
        let log = tier.history(d.location, "task-definition")
        var service = d.service
        var replaced: String? = d.earlier?.from
        if d.change {
            // Kept before the change, so a crash right after it still leaves what to go back to.
            try log.push(FailoverChange(at: started, from: d.current.description, to: d.target.description))
            tier.provider.logger.info("rolling back ECS service", metadata: ["service": "\(d.location.service)", "cluster": "\(d.location.cluster)",
                                                                            "region": "\(d.location.region)", "from": "\(d.current)", "to": "\(d.target)"])
            service = try await tier.ecs(d.location).updateService(.init(cluster: d.location.cluster, service: d.location.service,
                                                                         taskDefinition: d.target.description))
            replaced = d.current.description
        } else if replaced == nil, let last = log.entries().first, last.to == d.current.description {
            replaced = last.from
        }
        let stable = try await tier.waitStable(d.location)
        if let stable {
            service = stable
            // A deployment circuit breaker with rollback puts the service back on what it ran before.
            if let now = stable.taskDefinitionRevision, now != d.target {
                throw DRError(.remote, "The \(d.location.described) became stable on \(now), not \(d.target): ECS rolled the new deployment back (its deployment circuit breaker, or another deploy). See the service's events; \(d.target)'s tasks may be failing their health checks.")
            }
        }
        return AppRollbackResult(target: tier.provider.target.name, region: d.location.region, cluster: d.location.cluster,
                                 service: d.location.service, taskDefinition: d.target.description, replaced: replaced, changed: d.change,
                                 desired: service.desiredCount, running: service.runningCount, waited: stable != nil,
                                 seconds: tier.provider.context.clock.now().timeIntervalSince(started))
    }

    /// The revision the service runs, from its task definition's name (or, when that does not
    /// say, from the definition itself).
    func currentRevision(_ service: ECSService, ecs: ECSClient, location: AppTier.Location) async throws -> TaskDefinitionRevision {
        if let revision = service.taskDefinitionRevision { return revision }
        guard let name = service.taskDefinition else {
            throw DRError(.invalidParameter, "The \(location.described) names no task definition, so there is nothing to roll back from. Nothing was changed.")
        }
        return try await describe(name, ecs: ecs, location: location).name
    }

    func describe(_ name: CustomStringConvertible, ecs: ECSClient, location: AppTier.Location) async throws -> ECSTaskDefinition {
        do {
            return try await ecs.describeTaskDefinition(name.description)
        } catch let error as AWSError where error.code == "ClientException" {
            throw DRError(.notFound, "There is no task definition \(name) in \(location.region) (ECS: \(error.message)). Check \(param: .to): a revision number, family:revision or a task definition ARN of the family the service runs. Nothing was changed.")
        }
    }

    /// `7`, `family:7` or an ARN, as a revision; a bare number is of `family`.
    static func revision(_ text: String, family: String) throws -> TaskDefinitionRevision {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let number = Int(trimmed), number >= 1 { return TaskDefinitionRevision(family: family, revision: number) }
        if let revision = TaskDefinitionRevision(trimmed) { return revision }
        throw DRError(.invalidParameter, "\(param: .to) \"\(text)\" is not a task definition revision: give a revision number (6), family:revision (\(family):6) or a task definition ARN. Nothing was changed.")
    }
}
