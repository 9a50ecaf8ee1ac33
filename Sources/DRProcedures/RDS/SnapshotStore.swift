import DRAWS
import Foundation

/// A DB snapshot, instance or cluster, as the procedures see it.
public struct RDSSnapshotInfo: Sendable, Equatable {
    public var id: String
    public var arn: String?
    public var status: String?
    public var createdAt: Date?
    public var encrypted: Bool
    public var kmsKeyId: String?
    /// The instance or cluster it was taken of.
    public var source: String?
    public var engine: String?
    public var tags: [AWSTag]

    public var isAvailable: Bool { status == "available" }
    public func tag(_ key: String) -> String? { DRTags.value(key, in: tags) }
}

/// DB snapshots of one kind of resource in one region: instance snapshots for `instance:`
/// targets, cluster snapshots for Aurora `cluster:` targets. The procedures are written once
/// against this; the two cases differ only in which RDS calls they make.
struct SnapshotStore: Sendable {
    let rds: RDSClient
    let cluster: Bool

    var region: String { rds.client.config.region }
    var noun: String { cluster ? "DB cluster snapshot" : "DB snapshot" }

    func find(_ id: String) async throws -> RDSSnapshotInfo? {
        if cluster {
            do { return try await rds.describeDBClusterSnapshots(snapshotIdentifier: id).items.first.map(Self.info) }
            catch let e as AWSError where e.isNotFound { return nil }
        }
        return try await rds.dbSnapshot(id).map(Self.info)
    }

    /// Every snapshot of `resource` (nil: of every resource) in this region, with tags.
    func list(of resource: String?) async throws -> [RDSSnapshotInfo] {
        var items: [RDSSnapshotInfo]
        if cluster {
            items = try await Paginator.collect { try await rds.describeDBClusterSnapshots(clusterIdentifier: resource, marker: $0) }.map(Self.info)
        } else {
            items = try await rds.describeAllDBSnapshots(instanceIdentifier: resource).map(Self.info)
        }
        // DescribeDB*Snapshots carries TagList on AWS; fetch tags where the answer had none.
        for i in items.indices { items[i].tags = try await rds.tags(described: items[i].tags, arn: items[i].arn) }
        return items
    }

    func create(_ id: String, of resource: String, tags: [AWSTag]) async throws {
        if cluster { _ = try await rds.createDBClusterSnapshot(snapshotIdentifier: id, clusterIdentifier: resource, tags: tags) }
        else { _ = try await rds.createDBSnapshot(snapshotIdentifier: id, instanceIdentifier: resource, tags: tags) }
    }

    func copy(_ copy: RDSCopySnapshot) async throws {
        if cluster { _ = try await rds.copyDBClusterSnapshot(copy) } else { _ = try await rds.copyDBSnapshot(copy) }
    }

    func delete(_ id: String) async throws {
        do {
            if cluster { _ = try await rds.deleteDBClusterSnapshot(id) } else { _ = try await rds.deleteDBSnapshot(id) }
        } catch let e as AWSError where e.isNotFound {
            // Already gone (an earlier, interrupted run deleted it): the job is done.
        }
    }

    /// Adds tags a create or copy may not have applied (idempotent: same keys, same values).
    func ensureTags(_ snapshot: RDSSnapshotInfo, _ tags: [AWSTag]) async throws {
        let missing = tags.filter { !snapshot.tags.contains($0) }
        guard !missing.isEmpty, let arn = snapshot.arn else { return }
        try await rds.addTagsToResource(arn: arn, tags: missing)
    }

    func waitAvailable(_ id: String, _ wait: WaitSettings) async throws {
        try await wait.run(.snapshot) { timeout, progress in
            if cluster { try await rds.waitForDBClusterSnapshotAvailable(id, timeout: timeout, progress: progress) }
            else { try await rds.waitForDBSnapshotAvailable(id, timeout: timeout, progress: progress) }
        }
    }

    static func info(_ s: DBSnapshot) -> RDSSnapshotInfo {
        RDSSnapshotInfo(id: s.identifier, arn: s.arn, status: s.status, createdAt: s.createTime, encrypted: s.encrypted ?? false,
                        kmsKeyId: s.kmsKeyId, source: s.instanceIdentifier, engine: s.engine, tags: s.tags)
    }

    static func info(_ s: DBClusterSnapshot) -> RDSSnapshotInfo {
        RDSSnapshotInfo(id: s.identifier, arn: s.arn, status: s.status, createdAt: s.createTime, encrypted: s.encrypted ?? false,
                        kmsKeyId: s.kmsKeyId, source: s.clusterIdentifier, engine: s.engine, tags: s.tags)
    }
}
