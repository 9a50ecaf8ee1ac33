import DRAWS
import DRCore
import Foundation
import Logging

/// `dr teardown`: deletes a DB instance, or an Aurora cluster with its instances, that `dr`
/// restored, without a final snapshot (a drill or recovery copy holds nothing its source does not).
///
/// It refuses, before deleting anything (exit 2, naming why), whatever serves production or is
/// not dr's: a configured target's database (in the loaded dr.yml), the current value of a DNS
/// record dr failed over, anything missing dr's restore tags (or restored from another target
/// than the one named), and an instance that belongs to a cluster (tear down the cluster). A
/// re-run after success finds nothing and says so; a re-run after a crash finishes what is left.
public struct RDSTeardown: Sendable {
    public struct Request: Sendable {
        public var name: String
        public var cluster: Bool
        /// Where to look, in order; the one region that holds `name` is acted on.
        public var regions: [String]
        /// Plans only: an earlier step of the same run restores `name`.
        public var upcoming: Bool
        public init(name: String, cluster: Bool, regions: [String], upcoming: Bool = false) {
            self.name = name
            self.cluster = cluster
            self.regions = regions
            self.upcoming = upcoming
        }
    }

    let session: RDSSession
    let context: ProviderContext
    /// When the teardown is of a target's restore: what it was restored from must be that target.
    let guardTarget: Target?

    public init(session: RDSSession, context: ProviderContext, guardTarget: Target? = nil) {
        self.session = session
        self.context = context
        self.guardTarget = guardTarget
    }

    var noun: (Bool) -> String { { $0 ? "DB cluster" : "DB instance" } }

    /// What the teardown will delete, decided with read-only calls.
    struct Decision {
        var request: Request
        /// Nil when the name exists in none of the regions (already torn down).
        var region: String?
        var instance: DBInstance?
        var cluster: DBCluster?
        var members: [DBInstance]
        var restoredFrom: String?
        var restoredTarget: String?

        func plan(wait: WaitSettings) -> [PlannedAction] {
            let kind = request.cluster ? "DB cluster" : "DB instance"
            var out: [PlannedAction] = [.read("find \(kind) \(request.name) in \(request.regions.joined(separator: " and ")) and check dr's tags, the targets and the failover records",
                                              call: request.cluster ? "rds:DescribeDBClusters" : "rds:DescribeDBInstances")]
            if region == nil, request.upcoming {
                let kind = request.cluster ? "DB cluster (with its instances)" : "DB instance"
                return out + [.change("delete the \(kind) \(request.name) an earlier step restores (no final snapshot)",
                                      call: request.cluster ? "rds:DeleteDBCluster" : "rds:DeleteDBInstance")]
            }
            guard let region else { return out + [.read("nothing to do: \(request.name) does not exist (already torn down)")] }
            for member in members {
                out.append(.change("delete DB instance \(member.identifier) of \(request.name) in \(region) (no final snapshot)", call: "rds:DeleteDBInstance"))
            }
            if request.cluster {
                out.append(.change("delete DB cluster \(request.name) in \(region) (no final snapshot)", call: "rds:DeleteDBCluster"))
            } else {
                out.append(.change("delete DB instance \(request.name) in \(region), restored from \(restoredFrom ?? "?") (no final snapshot, no automated backups)",
                                   call: "rds:DeleteDBInstance"))
            }
            if !wait.noWait { out.append(.read("wait until it is gone", call: request.cluster ? "rds:DescribeDBClusters" : "rds:DescribeDBInstances")) }
            return out
        }
    }

    func decide(_ request: Request) async throws -> Decision {
        let option: Parameter = request.cluster ? .cluster : .instance
        var decision = Decision(request: request, region: nil, instance: nil, cluster: nil, members: [], restoredFrom: nil, restoredTarget: nil)
        // A plan whose name is known only at run time (an earlier step's output): nothing to look up yet.
        if request.upcoming, (try? RDSNames.checkInstanceIdentifier(request.name, parameter: option)) == nil { return decision }
        try RDSNames.checkInstanceIdentifier(request.name, parameter: option)
        for region in request.regions {
            let rds = try session.rds(region)
            if request.cluster {
                guard let cluster = try await rds.dbCluster(request.name) else { continue }
                let what = "DB cluster \(request.name) in \(region)"
                let tags = try await rds.tags(described: cluster.tags, arn: cluster.arn)
                try checkRestore(tags, what: what, own: RDSIdentity(cluster: cluster))
                try checkNotTarget(request.name, cluster: true, region: region, what: what)
                let members = try await rds.dbInstances(inCluster: request.name)
                for member in members {
                    let memberTags = try await rds.tags(described: member.tags, arn: member.arn)
                    try checkRestore(memberTags, what: "DB instance \(member.identifier) of \(what) (so neither it nor the cluster)")
                    try await checkNotFailedOver(member.endpointAddress, what: what)
                }
                decision.region = region
                decision.cluster = cluster
                decision.members = members
                decision.restoredFrom = DRTags.value(DRTags.restoredFrom, in: tags)
                decision.restoredTarget = DRTags.value(DRTags.target, in: tags)
                try await checkNotFailedOver(cluster.endpoint, what: what)
                return decision
            }
            guard let instance = try await rds.dbInstance(request.name) else { continue }
            let what = "DB instance \(request.name) in \(region)"
            if let cluster = instance.clusterIdentifier {
                throw DRError(.protected, "dr will not delete \(what) on its own: it is a member of DB cluster \(cluster). Tear down the cluster instead (its instances go with it). Nothing was changed.")
            }
            let tags = try await rds.tags(described: instance.tags, arn: instance.arn)
            try checkRestore(tags, what: what, own: RDSIdentity(instance: instance))
            try checkNotTarget(request.name, cluster: false, region: region, what: what)
            try await checkNotFailedOver(instance.endpointAddress, what: what)
            decision.region = region
            decision.instance = instance
            decision.restoredFrom = DRTags.value(DRTags.restoredFrom, in: tags)
            decision.restoredTarget = DRTags.value(DRTags.target, in: tags)
            return decision
        }
        return decision
    }

    /// dr's restore tags, all of them, and (for a target's teardown) that target's; and never
    /// the database the tags name as the source (`own`: the resource's identity).
    func checkRestore(_ tags: [AWSTag], what: String, own: RDSIdentity? = nil) throws {
        let required = [DRTags.managed, DRTags.kind, DRTags.target, DRTags.restoredFrom, DRTags.restorePoint, DRTags.sourceID]
        let missing = required.filter { DRTags.value($0, in: tags) == nil }
        guard DRTags.value(DRTags.managed, in: tags) == "true", DRTags.value(DRTags.kind, in: tags) == "restore", missing.isEmpty else {
            throw DRError(.protected, "dr will not delete \(what): it does not carry the tags dr puts on what it restores (dr:managed=true, dr:kind=restore, dr:target, dr:restored-from, dr:restore-point, dr:source-id; missing or wrong: \(missing.isEmpty ? DRTags.kind : missing.joined(separator: ", "))). dr only tears down what it made; if it truly is a leftover, delete it with the AWS console or CLI. Nothing was changed.")
        }
        if let own, let source = DRTags.value(DRTags.sourceID, in: tags), RDSIdentity(tag: source)?.same(as: own) == true {
            throw DRError(.protected, "dr will not delete \(what): its tags say it was restored from itself (dr:source-id \(source) is its own identity) — these are not tags dr wrote, and it is a source database. Nothing was changed.")
        }
        if let guardTarget, let restoredFor = DRTags.value(DRTags.target, in: tags), restoredFor != guardTarget.name {
            throw DRError(.protected, "dr will not delete \(what) as a restore of \(guardTarget.name): dr restored it from \(restoredFor). Name that target instead. Nothing was changed.")
        }
    }

    /// Not the database of any target in the loaded config.
    func checkNotTarget(_ name: String, cluster: Bool, region: String, what: String) throws {
        for target in context.config?.targets ?? [] {
            guard case .rds(let s) = target.provider, s.region == region else { continue }
            switch s.resource {
            case .instance(let id) where !cluster && id == name, .cluster(let id) where cluster && id == name:
                throw DRError(.protected, "dr will not delete \(what): it is the database of target \(target.name) in \(context.config?.file ?? "dr.yml"), whatever its tags say. If it truly is a leftover, remove it from dr.yml first. Nothing was changed.")
            default:
                continue
            }
        }
    }

    /// Not where a DNS record dr failed over points now.
    func checkNotFailedOver(_ host: String?, what: String) async throws {
        guard let host else { return }
        let dns = Route53Failover(session: session, context: context)
        for entry in dns.changedEntries() {
            let current = try await dns.currentValue(zone: entry.zone, record: entry.record)
            guard let current, current.split(separator: ",").map({ Route53Failover.normalized(String($0)) }).contains(Route53Failover.normalized(host)) else { continue }
            throw DRError(.protected, "dr will not delete \(what): the DNS record \(entry.record) (zone \(entry.zone)), which dr failed over, points at it now — it is serving production. Fail the record over elsewhere (or undo the failover) first. Nothing was changed.")
        }
    }

    func execute(_ d: Decision) async throws -> TeardownResult {
        guard let region = d.region else {
            return TeardownResult(name: d.request.name, removed: false, region: d.request.regions.joined(separator: ","), restoredFrom: nil,
                                  instances: nil, display: ["note": "no such \(noun(d.request.cluster)) in \(d.request.regions.joined(separator: " or ")) (already deleted)"])
        }
        let rds = try session.rds(region)
        for member in d.members { try await delete(member, rds: rds, restoredFrom: d.restoredFrom ?? "") }
        if let cluster = d.cluster {
            if cluster.status != "deleting" {
                context.logger.info("deleting restored cluster", metadata: ["cluster": "\(cluster.identifier)", "region": "\(region)"])
                do { _ = try await rds.deleteDBCluster(cluster.identifier, skipFinalSnapshot: true) }
                catch let e as AWSError where e.isNotFound {}
                catch let e as AWSError where e.code == "InvalidDBClusterStateFault" && e.message.lowercased().contains("is already being deleted") {}
            }
        } else if let instance = d.instance {
            try await delete(instance, rds: rds, restoredFrom: d.restoredFrom ?? "")
        }
        try await context.wait.run(.delete) { timeout, progress in
            for member in d.members { try await rds.waitForDBInstanceDeleted(member.identifier, timeout: timeout, progress: progress) }
            if d.request.cluster { try await rds.waitForDBClusterDeleted(d.request.name, timeout: timeout, progress: progress) }
            else { try await rds.waitForDBInstanceDeleted(d.request.name, timeout: timeout, progress: progress) }
        }
        var display: DisplayFacts = ["final_snapshot": "none"]
        if let target = d.restoredTarget { display["target"] = target }
        if context.wait.noWait { display["waited"] = "false" }
        return TeardownResult(name: d.request.name, removed: true, region: region, restoredFrom: d.restoredFrom,
                              instances: d.request.cluster ? d.members.map(\.identifier).sorted() : nil, display: display)
    }

    /// Asks for the deletion unless it is under way (a re-run, or a lost answer).
    func delete(_ instance: DBInstance, rds: RDSClient, restoredFrom from: String) async throws {
        guard instance.status != "deleting" else { return }
        context.logger.info("deleting restored instance", metadata: ["instance": "\(instance.identifier)", "region": "\(rds.client.config.region)",
                                                                     "restored_from": "\(from)"])
        // An Aurora instance's backups are the cluster's: the parameter is for instances on their own.
        let standalone = instance.clusterIdentifier == nil
        do { _ = try await rds.deleteDBInstance(instance.identifier, skipFinalSnapshot: true, deleteAutomatedBackups: standalone ? true : nil) }
        catch let e as AWSError where e.isNotFound {}
        catch let e as AWSError where e.code == "InvalidDBInstanceState" && e.message.lowercased().contains("deleting") {}
    }
}
