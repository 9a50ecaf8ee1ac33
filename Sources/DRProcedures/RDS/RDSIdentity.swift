import DRAWS
import DRCore
import Foundation

/// What an RDS target's database *is*, as opposed to what it is called: its resource id
/// (`DbiResourceId` / `DbClusterResourceId`) and when it was created. A blue/green switch, or an
/// instance deleted and made again under the same name, is another database with another
/// identity. Everything dr makes records it (`dr:source-id`), and every lookup — this week's
/// snapshot, retention, `latest`, DR copies, status, a restore's adoption — matches on it.
struct RDSIdentity: Equatable, Sendable, CustomStringConvertible {
    var resourceId: String
    var createdAt: Date?

    /// The tag value: `db-ABC…@2026-11-20T12:00:00.123Z` (to the millisecond AWS reports).
    var tag: String { resourceId + "@" + (createdAt.map { RFC3339.format($0, fractional: true) } ?? "?") }
    var description: String { tag }

    init(resourceId: String, createdAt: Date?) {
        self.resourceId = resourceId
        self.createdAt = createdAt
    }

    init?(instance: DBInstance) {
        self.init(resourceId: instance.resourceId ?? instance.identifier, createdAt: instance.createTime)
    }

    init?(cluster: DBCluster) {
        self.init(resourceId: cluster.resourceId ?? cluster.identifier, createdAt: cluster.createTime)
    }

    /// The same database: the same resource id, made at the same moment (to the millisecond the
    /// tag keeps). AWS's resource ids are unique on their own; the time also tells apart a
    /// database made again under an emulator that reuses ids.
    func same(as other: RDSIdentity) -> Bool {
        guard resourceId == other.resourceId else { return false }
        switch (createdAt, other.createdAt) {
        case let (a?, b?): return abs(a.timeIntervalSince(b)) < 0.002
        case (nil, nil): return true
        default: return false
        }
    }

    /// The identity a tag holds.
    init?(tag: String) {
        let parts = tag.split(separator: "@", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        self.init(resourceId: parts[0], createdAt: RFC3339.parse(parts[1]))
    }
}

extension RDSProvider {
    /// The source's identity in `rds` (its region); nil when the source does not exist there.
    func identity(_ rds: RDSClient) async throws -> RDSIdentity? {
        if isCluster { return try await rds.dbCluster(resource).flatMap(RDSIdentity.init(cluster:)) }
        return try await rds.dbInstance(resource).flatMap(RDSIdentity.init(instance:))
    }

    /// The source's identity, read in its home region; when that region does not answer (the
    /// region failover case), the identity the newest DR copy of this target records.
    func identityForDR(copies: [RDSSnapshotInfo]) async throws -> (identity: RDSIdentity?, note: String?) {
        do {
            return (try await identity(try session.rds(settings.region)), nil)
        } catch let error as AWSError where error.retryable {
            let newest = copies.filter { $0.tag(DRTags.target) == target.name && $0.tag(DRTags.sourceID) != nil }
                .max { ($0.createdAt ?? .distantPast) < ($1.createdAt ?? .distantPast) }
            let identity = newest.flatMap { $0.tag(DRTags.sourceID) }.flatMap(RDSIdentity.init(tag:))
            return (identity, "\(settings.region) did not answer (\(error.summary)); the database is taken to be the one the newest DR copy records (\(identity?.tag ?? "none"))")
        }
    }

    /// Whether `snapshot` is of the database `identity` names: by dr's tag when it has one, else
    /// (AWS's automated snapshots) by source name and a creation after the database's own.
    func belongs(_ snapshot: RDSSnapshotInfo, to identity: RDSIdentity?) -> Bool {
        guard let identity else { return false }
        if let tagged = snapshot.tag(DRTags.sourceID) { return RDSIdentity(tag: tagged).map { $0.same(as: identity) } ?? false }
        guard snapshot.source == resource else { return false }
        return (snapshot.createdAt ?? .distantPast) >= (identity.createdAt ?? .distantPast)
    }

    /// Refuses a named snapshot of another database than the target's.
    func checkBelongs(_ snapshot: RDSSnapshotInfo, to identity: RDSIdentity?, region: String) throws {
        guard !belongs(snapshot, to: identity) else { return }
        let its = snapshot.tag(DRTags.sourceID) ?? "\(snapshot.source ?? "?") (no dr:source-id)"
        throw DRError(.identityMismatch, "The snapshot \(snapshot.id) in \(region) is of another database (\(its)) than target \(target.name)'s \(resourceNoun) \(resource) (\(identity?.tag ?? "not found")). dr will not restore or copy another database's snapshot for this target. Name one of its own snapshots (`dr status \(target.name)` lists them). Nothing was changed.")
    }
}
