import DRAWS
import DRCore
import Foundation

/// An Aurora cluster serves nothing until it has an instance: a restored cluster `NAME` gets
/// its writer `NAME-1`, tagged as the cluster is (so a re-run finds it and teardown may delete
/// it), in the cluster's engine, of the source writer's class unless `--instance-class` says.
struct AuroraWriter: Sendable {
    let cluster: String
    let instanceClass: String
    let engine: String

    /// `NAME-1`; deterministic, so a re-run after a crash finds the instance an earlier run made,
    /// and fitted to 63 characters (a cluster name of 62 or 63 gets a shortened, hashed writer name).
    static func identifier(ofCluster cluster: String) -> String {
        RDSNames.fitted(cluster, tail: "-1", maxLength: RDSNames.maxIdentifierLength)
    }

    var identifier: String { Self.identifier(ofCluster: cluster) }

    /// The class of `source`'s writer instance (bad input when the cluster has none to copy).
    static func instanceClass(of source: DBCluster, rds: RDSClient) async throws -> String {
        let writer = source.writerInstanceIdentifier ?? source.memberInstanceIdentifiers.first
        guard let writer, let instanceClass = try await rds.dbInstance(writer)?.instanceClass else {
            throw DRError.badInput("DB cluster \(source.identifier) has no writer instance whose class the restored cluster's writer could take. Pass --instance-class (e.g. db.r6g.large). Nothing was changed.")
        }
        return instanceClass
    }

    /// Before any mutating call: an existing `NAME-1` must be the writer dr made for this
    /// restore (then a re-run reuses it); anything else is bad input.
    static func checkExisting(cluster: String, target: String, rds: RDSClient) async throws {
        let id = identifier(ofCluster: cluster)
        guard let instance = try await rds.dbInstance(id) else { return }
        let tags = try await rds.tags(described: instance.tags, arn: instance.arn)
        guard instance.clusterIdentifier == cluster, DRTags.value(DRTags.managed, in: tags) == "true",
              DRTags.value(DRTags.target, in: tags) == target, DRTags.value(DRTags.restoredFrom, in: tags) != nil else {
            throw DRError.badInput("A DB instance named \(id) already exists in \(rds.client.config.region) and is not the writer dr made for a restore of \(target) as \(cluster); dr names the restored cluster's writer instance NAME-1. Choose another --as name. Nothing was changed.")
        }
    }

    /// Creates the writer unless an earlier run did. Returns true when this call made it.
    func ensure(tags: [AWSTag], rds: RDSClient) async throws -> Bool {
        if try await rds.dbInstance(identifier) != nil { return false }
        do {
            _ = try await rds.createDBInstance(CreateDBInstanceInput(identifier: identifier, instanceClass: instanceClass, engine: engine,
                                                                     clusterIdentifier: cluster, tags: tags))
        } catch let e as AWSError where e.code.contains("AlreadyExists") {
            // An earlier attempt of this call went through before its answer was lost.
            return false
        }
        return true
    }
}
