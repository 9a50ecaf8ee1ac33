import DRAWS
import DRCore
import Foundation

/// `dr snapshot TARGET [--weekly] [--tag k=v]`: a manual DB snapshot (instance or cluster) and,
/// when the target has a cache, an ElastiCache snapshot of the same name; then, for weekly
/// snapshots, retention in the primary region.
struct RDSSnapshotProcedure {
    let provider: RDSProvider

    /// Everything decided before the first change, and the changes themselves.
    struct Decision {
        var id: String
        var kind: String
        var tags: [AWSTag]
        /// Nil when the snapshot exists (this week's, a re-run, or one an interrupted run started).
        var create: Bool
        var existing: RDSSnapshotInfo?
        var cache: CacheSnapshots?
        var cacheExists: Bool
        var retention: [RDSSnapshotInfo]
        var cacheRetention: [String]
        var startedAt: Date
        /// Why a new series started, when it did.
        var note: String?

        func plan(_ provider: RDSProvider) -> [PlannedAction] {
            let store = provider.isCluster ? "rds:DescribeDBClusterSnapshots" : "rds:DescribeDBSnapshots"
            var out: [PlannedAction] = [.read("read \(provider.target.name)'s \(provider.resourceNoun) and its snapshots in \(provider.settings.region)", call: store)]
            if let note { out.append(.read("new series: \(note)")) }
            if create {
                out.append(.change("create \(kind) snapshot \(id) of \(provider.resourceNoun) \(provider.resource)",
                                   call: provider.isCluster ? "rds:CreateDBClusterSnapshot" : "rds:CreateDBSnapshot"))
            } else {
                out.append(.read("reuse snapshot \(id) (\(existing?.status ?? "available"), taken \(existing?.createdAt.map { RFC3339.format($0) } ?? "just now"))"))
            }
            out.append(.read("wait until \(id) is available", call: store))
            out.append(.change("tag \(id) with dr's tags", call: "rds:AddTagsToResource", when: "only if a tag is missing"))
            if let cache {
                if cacheExists {
                    out.append(.read("reuse cache snapshot \(id) of \(cache.replicationGroup)", call: "elasticache:DescribeSnapshots"))
                } else {
                    out.append(.change("snapshot cache \(cache.replicationGroup) as \(id)", call: "elasticache:CreateSnapshot"))
                }
                out.append(.change("tag cache snapshot \(id)", call: "elasticache:AddTagsToResource", when: "only if a tag is missing"))
            }
            for doomed in retention {
                out.append(.change("retention (keep \(provider.settings.retentionWeekly ?? 0) weekly): delete \(doomed.id)",
                                   call: provider.isCluster ? "rds:DeleteDBClusterSnapshot" : "rds:DeleteDBSnapshot"))
            }
            for doomed in cacheRetention {
                out.append(.change("retention: delete cache snapshot \(doomed)", call: "elasticache:DeleteSnapshot"))
            }
            return out
        }
    }

    func decide(_ request: SnapshotRequest) async throws -> Decision {
        let settings = provider.settings, name = provider.target.name
        let startedAt = provider.context.clock.now()
        let kind = request.weekly ? "weekly" : "adhoc"
        try request.refusingBackupType(name, provider: "rds")
        for key in request.tags.keys where key.hasPrefix("aws:") || key.hasPrefix("dr:") || key.isEmpty {
            throw DRError(.invalidParameter, "The tag \(key)=… is not allowed: keys starting with aws: are AWS's and dr: keys are dr's own. Choose another key. Nothing was changed.")
        }
        var extraTags: [String: String] = settings.tags
        for (k, v) in request.tags { extraTags[k] = v }
        let week = ISOWeek.name(of: startedAt)
        let rds = try provider.session.rds(settings.region)
        guard let identity = try await provider.identity(rds) else {
            throw DRError(.notFound, "The \(provider.resourceNoun) \(provider.resource) of target \(name) does not exist in \(settings.region). Check `instance:`/`cluster:` and `region:` in dr.yml. Nothing was changed.")
        }
        let tags = DRTags.make(kind: kind, target: name, extra: extraTags,
                               more: (request.weekly ? [DRTags.week: week] : [:]).merging([DRTags.sourceID: identity.tag]) { a, _ in a })
        let store = try provider.store(settings.region)
        let listed = try await store.list(of: provider.resource)
        let mine = listed.filter { provider.belongs($0, to: identity) }

        var id = request.weekly ? RDSNames.weeklySnapshot(target: name, at: startedAt, cluster: provider.isCluster)
                                : RDSNames.adhocSnapshot(target: name, at: startedAt, cluster: provider.isCluster, taken: Set(listed.map(\.id)))
        var existing = request.weekly ? try await store.find(id) : nil
        var note: String?
        if let other = existing, DRTags.isManaged(other.tags, target: name, kind: kind), !provider.belongs(other, to: identity) {
            // This week's snapshot is of the database the target named before (a blue/green
            // switch, an instance made again): this database starts a series of its own.
            note = "\(other.id) is of the database the target named before (\(other.tag(DRTags.sourceID) ?? "?")); \(provider.resource) is now \(identity.tag), so a new series starts"
            id = RDSNames.weeklySnapshot(target: name, at: startedAt, cluster: provider.isCluster, series: identity.tag)
            existing = try await store.find(id)
            if let taken = existing, !provider.belongs(taken, to: identity) {
                throw DRError(.nameTaken, "This week's snapshot names for target \(name), \(other.id) and \(taken.id), are both taken by snapshots of other databases (\(taken.tag(DRTags.sourceID) ?? "no dr:source-id")) than \(provider.resourceNoun) \(provider.resource) (\(identity.tag)). Take an ad-hoc snapshot (without weekly) this week, or remove the stray snapshot. Nothing was changed.")
            }
        }
        if existing == nil, !request.weekly,
           let unfinished = mine.first(where: { DRTags.isManaged($0.tags, target: name, kind: "adhoc") && ($0.status == "creating" || $0.status == nil) }) {
            // A run killed while its snapshot was being made: finish that one, make no second.
            id = unfinished.id
            existing = unfinished
        }
        if let existing, !DRTags.isManaged(existing.tags, target: name, kind: kind) {
            throw DRError(.protected, "A \(store.noun) named \(id) already exists in \(settings.region) but dr did not make it for \(name) (it lacks the dr:managed/dr:target/dr:kind tags). dr will not adopt or overwrite it; rename or delete it. Nothing was changed.")
        }

        var cache: CacheSnapshots?, cacheExists = false, cacheRetention: [String] = []
        if let group = settings.cacheReplicationGroup {
            let snapshots = CacheSnapshots(elastiCache: try provider.session.elastiCache(settings.region), replicationGroup: group)
            cache = snapshots
            cacheExists = try await snapshots.find(id) != nil
            if request.weekly, let keep = settings.retentionWeekly {
                let listed = try await snapshots.list().map {
                    RDSSnapshotInfo(id: $0.snapshot.name, arn: $0.snapshot.arn, status: $0.snapshot.status, createdAt: $0.snapshot.createTime,
                                    encrypted: false, kmsKeyId: nil, source: $0.snapshot.replicationGroupId, tags: $0.tags)
                }
                let withNew = cacheExists ? listed : listed + [Self.pending(id, tags: tags)]
                cacheRetention = RDSRetention.toDelete(withNew, target: name, kind: "weekly", keep: keep, justMade: id).map(\.id)
            }
        }
        var retention: [RDSSnapshotInfo] = []
        if request.weekly, let keep = settings.retentionWeekly {
            // The snapshot about to be made counts as the newest, as it will be once made.
            let withNew = existing == nil ? mine + [Self.pending(id, tags: tags)] : mine
            retention = RDSRetention.toDelete(withNew, target: name, kind: kind, keep: keep, justMade: id)
        }
        return Decision(id: id, kind: kind, tags: tags, create: existing == nil, existing: existing, cache: cache, cacheExists: cacheExists,
                        retention: retention, cacheRetention: cacheRetention, startedAt: startedAt, note: note)
    }

    /// A snapshot that does not exist yet, as retention should count it (the newest; not deletable).
    static func pending(_ id: String, tags: [AWSTag]) -> RDSSnapshotInfo {
        RDSSnapshotInfo(id: id, arn: nil, status: nil, createdAt: nil, encrypted: false, kmsKeyId: nil, source: nil, tags: tags)
    }

    func execute(_ d: Decision) async throws -> SnapshotResult {
        let settings = provider.settings
        let store = try provider.store(settings.region)
        var created = false
        if d.create {
            provider.logger.info("creating snapshot", metadata: ["snapshot": "\(d.id)", "region": "\(settings.region)"])
            do {
                try await store.create(d.id, of: provider.resource, tags: d.tags)
                created = true
            } catch let e as AWSError where e.code.contains("AlreadyExists") {
                created = true // an earlier attempt of this call went through before its answer was lost
            } catch let e as AWSError where e.isNotFound {
                throw DRError(.notFound, "The \(provider.resourceNoun) \(provider.resource) of target \(provider.target.name) does not exist in \(settings.region) (\(e.code)). Check `instance:`/`cluster:` and `region:` in dr.yml. Nothing was changed.")
            }
        }
        try await store.waitAvailable(d.id, provider.wait)
        let snapshot = try await store.find(d.id)
        if let snapshot { try await store.ensureTags(snapshot, d.tags) }

        var display: DisplayFacts = ["region": settings.region, "resource": provider.resource]
        display["new_series"] = d.note
        if let arn = snapshot?.arn { display["arn"] = arn }
        display["status"] = provider.wait.noWait ? (snapshot?.status ?? "unknown") : "available"
        if let cache = d.cache {
            let cacheCreated = try await cache.take(d.id, tags: d.tags, wait: provider.wait)
            display["cache_snapshot_created"] = String(cacheCreated)
        }
        for s in d.retention {
            provider.logger.info("retention: deleting snapshot", metadata: ["snapshot": "\(s.id)", "region": "\(settings.region)"])
            try await store.delete(s.id)
        }
        for name in d.cacheRetention { try await d.cache?.delete(name) }
        return SnapshotResult(target: provider.target.name, id: d.id, kind: d.kind, created: created,
                              startedAt: snapshot?.createdAt ?? d.existing?.createdAt ?? d.startedAt,
                              finishedAt: provider.context.clock.now(), sizeBytes: nil,
                              deleted: d.retention.map(\.id) + d.cacheRetention.map { "cache:\($0)" }, location: settings.region,
                              cacheSnapshot: d.cache == nil ? nil : d.id, waited: !provider.wait.noWait, display: display)
    }
}
