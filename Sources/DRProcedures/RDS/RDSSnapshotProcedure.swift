import DRAWS
import DRCore
import Foundation

/// `dr snapshot TARGET [--weekly] [--tag k=v]`: a manual DB snapshot (instance or cluster) and,
/// when the target has a cache, an ElastiCache snapshot of the same name; then, for weekly
/// snapshots, retention in the primary region.
struct RDSSnapshotProcedure {
    let provider: RDSProvider

    func run(_ request: SnapshotRequest) async throws -> SnapshotResult {
        let settings = provider.settings, name = provider.target.name
        let startedAt = provider.session.clock.now()
        let kind = request.weekly ? "weekly" : "adhoc"
        for key in request.tags.keys where key.hasPrefix("aws:") || key.hasPrefix("dr:") || key.isEmpty {
            throw DRError.badInput("--tag \(key)=… is not allowed: keys starting with aws: are AWS's and dr: keys are dr's own. Choose another key. Nothing was changed.")
        }
        var extraTags: [String: String] = settings.tags
        for (k, v) in request.tags { extraTags[k] = v }
        let week = ISOWeek.name(of: startedAt)
        let tags = DRTags.make(kind: kind, target: name, extra: extraTags, more: request.weekly ? [DRTags.week: week] : [:])
        let store = try provider.store(settings.region)

        var id = request.weekly ? RDSNames.weeklySnapshot(target: name, at: startedAt, cluster: provider.isCluster)
                                : RDSNames.adhocSnapshot(target: name, at: startedAt, cluster: provider.isCluster)
        var existing = try await store.find(id)
        if existing == nil, !request.weekly, let unfinished = try await unfinishedAdhoc(store) {
            // A run killed while its snapshot was being made: finish that one, make no second.
            id = unfinished.id
            existing = unfinished
        }
        if let existing, !DRTags.isManaged(existing.tags, target: name, kind: kind) {
            throw DRError.badInput("A \(store.noun) named \(id) already exists in \(settings.region) but dr did not make it for \(name) (it lacks the dr:managed/dr:target/dr:kind tags). dr will not adopt or overwrite it; rename or delete it. Nothing was changed.")
        }
        var created = false
        if existing == nil {
            provider.logger.info("creating snapshot", metadata: ["snapshot": "\(id)", "region": "\(settings.region)"])
            do {
                try await store.create(id, of: provider.resource, tags: tags)
                created = true
            } catch let e as AWSError where e.code.contains("AlreadyExists") {
                created = true // an earlier attempt of this call went through before its answer was lost
            } catch let e as AWSError where e.isNotFound {
                throw DRError.badInput("The \(provider.resourceNoun) \(provider.resource) of target \(name) does not exist in \(settings.region) (\(e.code)). Check `instance:`/`cluster:` and `region:` in dr.yml. Nothing was changed.")
            }
        }
        try await store.waitAvailable(id, provider.wait)
        let snapshot = try await store.find(id)
        if let snapshot { try await store.ensureTags(snapshot, tags) }

        var details: [String: String] = ["region": settings.region, "resource": provider.resource]
        if let arn = snapshot?.arn { details["arn"] = arn }
        details["status"] = provider.wait.noWait ? (snapshot?.status ?? "unknown") : "available"
        var deleted: [String] = []
        if let group = settings.cacheReplicationGroup {
            let cache = CacheSnapshots(elastiCache: try provider.session.elastiCache(settings.region), replicationGroup: group)
            let cacheCreated = try await cache.take(id, tags: tags, wait: provider.wait)
            details["cache_snapshot"] = id
            details["cache_snapshot_created"] = String(cacheCreated)
            if request.weekly, let keep = settings.retentionWeekly {
                deleted += try await cacheRetention(cache, keep: keep, justMade: id)
            }
        }
        if request.weekly, let keep = settings.retentionWeekly {
            let doomed = RDSRetention.toDelete(try await store.list(of: provider.resource), target: name, kind: kind, keep: keep, justMade: id)
            for s in doomed {
                provider.logger.info("retention: deleting snapshot", metadata: ["snapshot": "\(s.id)", "region": "\(settings.region)"])
                try await store.delete(s.id)
            }
            deleted = doomed.map(\.id) + deleted
        }
        return SnapshotResult(target: name, id: id, kind: kind, created: created, startedAt: startedAt,
                              finishedAt: provider.session.clock.now(), sizeBytes: nil, deleted: deleted, details: details)
    }

    /// A dr-made ad-hoc snapshot of this target still being created.
    func unfinishedAdhoc(_ store: SnapshotStore) async throws -> RDSSnapshotInfo? {
        try await store.list(of: provider.resource).first {
            DRTags.isManaged($0.tags, target: provider.target.name, kind: "adhoc") && ($0.status == "creating" || $0.status == nil)
        }
    }

    /// The same retention rule for the cache's snapshots (named like the DB snapshots).
    func cacheRetention(_ cache: CacheSnapshots, keep: Int, justMade: String) async throws -> [String] {
        let infos = try await cache.list().map {
            RDSSnapshotInfo(id: $0.snapshot.name, arn: $0.snapshot.arn, status: $0.snapshot.status, createdAt: $0.snapshot.createTime,
                            encrypted: false, kmsKeyId: nil, source: $0.snapshot.replicationGroupId, tags: $0.tags)
        }
        let doomed = RDSRetention.toDelete(infos, target: provider.target.name, kind: "weekly", keep: keep, justMade: justMade)
        for s in doomed { try await cache.delete(s.id) }
        return doomed.map { "cache:\($0.id)" }
    }
}
