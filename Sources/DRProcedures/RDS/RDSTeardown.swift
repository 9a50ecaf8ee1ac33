import DRAWS
import DRCore
import Foundation
import Logging

/// `dr teardown --instance ID | --cluster ID [--region R]`: deletes a DB instance, or an Aurora
/// cluster with its instances, only when `dr` made it (`dr:managed=true` and a
/// `dr:restored-from` tag, on the cluster and on every instance in it), without a final
/// snapshot (a drill or recovery copy has nothing worth keeping that its source does not
/// hold); refuses anything else with exit 2 before deleting anything. A re-run after success
/// finds nothing and says so; a re-run after a crash finishes what is left.
public struct RDSTeardown: Sendable {
    let session: RDSSession
    let wait: WaitSettings
    let logger: Logger

    public init(session: RDSSession, wait: WaitSettings = WaitSettings(), logger: Logger = Logger(label: "dr")) {
        self.session = session
        self.wait = wait
        self.logger = logger
    }

    public func run(instance id: String, region: String) async throws -> TeardownResult {
        try await wait.bounded(clock: session.clock) {
            try RDSNames.checkInstanceIdentifier(id, option: "--instance")
            let rds = try session.rds(region)
            guard let instance = try await rds.dbInstance(id) else {
                return TeardownResult(name: id, removed: false, details: ["region": region, "note": "no such DB instance (already deleted)"])
            }
            let tags = try await rds.tags(described: instance.tags, arn: instance.arn)
            let from = try restoredFrom(tags, what: "DB instance \(id) in \(region)")
            try await delete(instance, rds: rds, restoredFrom: from)
            try await wait.run(.delete) { timeout, progress in try await rds.waitForDBInstanceDeleted(id, timeout: timeout, progress: progress) }
            return result(id, region: region, restoredFrom: from, tags: tags)
        }
    }

    /// An Aurora cluster dr restored: its instances first (AWS refuses to delete a cluster
    /// that still has live instances), then the cluster, all without final snapshots.
    public func run(cluster id: String, region: String) async throws -> TeardownResult {
        try await wait.bounded(clock: session.clock) {
            try RDSNames.checkInstanceIdentifier(id, option: "--cluster")
            let rds = try session.rds(region)
            guard let cluster = try await rds.dbCluster(id) else {
                return TeardownResult(name: id, removed: false, details: ["region": region, "note": "no such DB cluster (already deleted)"])
            }
            let tags = try await rds.tags(described: cluster.tags, arn: cluster.arn)
            let from = try restoredFrom(tags, what: "DB cluster \(id) in \(region)")
            let members = try await rds.dbInstances(inCluster: id)
            for member in members {
                _ = try restoredFrom(try await rds.tags(described: member.tags, arn: member.arn),
                                     what: "DB instance \(member.identifier) of DB cluster \(id) in \(region) (so neither it nor the cluster)")
            }
            for member in members { try await delete(member, rds: rds, restoredFrom: from) }
            if cluster.status != "deleting" {
                logger.info("deleting restored cluster", metadata: ["cluster": "\(id)", "region": "\(region)", "restored_from": "\(from)"])
                do { _ = try await rds.deleteDBCluster(id, skipFinalSnapshot: true) }
                catch let e as AWSError where e.isNotFound {}
                catch let e as AWSError where e.code == "InvalidDBClusterStateFault" && e.message.lowercased().contains("is already being deleted") {}
            }
            try await wait.run(.delete) { timeout, progress in
                for member in members { try await rds.waitForDBInstanceDeleted(member.identifier, timeout: timeout, progress: progress) }
                try await rds.waitForDBClusterDeleted(id, timeout: timeout, progress: progress)
            }
            var out = result(id, region: region, restoredFrom: from, tags: tags)
            out.details["instances"] = members.map(\.identifier).sorted().joined(separator: ",")
            return out
        }
    }

    /// The `dr:restored-from` of something dr restored; bad input for anything else.
    func restoredFrom(_ tags: [AWSTag], what: String) throws -> String {
        guard DRTags.value(DRTags.managed, in: tags) == "true", let from = DRTags.value(DRTags.restoredFrom, in: tags) else {
            throw DRError.badInput("dr will not delete \(what): it does not carry the tags dr puts on what it restores (dr:managed=true and dr:restored-from). dr only tears down what it made. Nothing was changed.")
        }
        return from
    }

    /// Asks for the deletion unless it is under way (a re-run, or a lost answer).
    func delete(_ instance: DBInstance, rds: RDSClient, restoredFrom from: String) async throws {
        guard instance.status != "deleting" else { return }
        logger.info("deleting restored instance", metadata: ["instance": "\(instance.identifier)", "region": "\(rds.client.config.region)",
                                                             "restored_from": "\(from)"])
        // An Aurora instance's backups are the cluster's: the parameter is for instances on their own.
        let standalone = instance.clusterIdentifier == nil
        do { _ = try await rds.deleteDBInstance(instance.identifier, skipFinalSnapshot: true, deleteAutomatedBackups: standalone ? true : nil) }
        catch let e as AWSError where e.isNotFound {}
        catch let e as AWSError where e.code == "InvalidDBInstanceState" && e.message.lowercased().contains("deleting") {}
    }

    func result(_ id: String, region: String, restoredFrom from: String, tags: [AWSTag]) -> TeardownResult {
        var details = ["region": region, "restored_from": from, "final_snapshot": "none"]
        if let target = DRTags.value(DRTags.target, in: tags) { details["target"] = target }
        if wait.noWait { details["waited"] = "false" }
        return TeardownResult(name: id, removed: true, details: details)
    }
}
