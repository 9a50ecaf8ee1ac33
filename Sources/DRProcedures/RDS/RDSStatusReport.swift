import DRAWS
import DRCore
import Foundation

/// `dr status TARGET`: the newest snapshots in the primary and DR regions with their ages, the
/// latest restorable time and so the data-loss exposure, the cache's newest snapshot, and
/// warnings where any is older than the target's policy expects. Read-only.
struct RDSStatusReport {
    let provider: RDSProvider
    /// A weekly policy tolerates a day of slack; the cache is snapshotted daily.
    static let weeklyLimit: Double = 8 * 86400
    static let cacheLimit: Double = 2 * 86400
    static let exposureLimit: Double = 15 * 60

    func run() async throws -> TargetStatus {
        let settings = provider.settings, name = provider.target.name
        let now = provider.context.clock.now()
        let identity = try await provider.identity(try provider.session.rds(settings.region))
        let primary = try await provider.store(settings.region).list(of: provider.resource)
        // Only this database's snapshots: a target whose instance changed starts a new series.
        let snapshots = summaries(primary.filter { $0.isAvailable && provider.belongs($0, to: identity) }, now: now)
        let others = primary.filter { $0.isAvailable && !provider.belongs($0, to: identity) && DRTags.value(DRTags.target, in: $0.tags) == name }
        var drSnapshots: [SnapshotSummary] = []
        if let drRegion = settings.drRegion {
            let copies = try await provider.store(drRegion).list(of: nil).filter {
                $0.isAvailable && $0.tag(DRTags.target) == name && provider.belongs($0, to: identity)
            }
            drSnapshots = summaries(copies, now: now)
        }
        var window: TimeWindow?
        var details: DisplayFacts = ["region": settings.region, provider.isCluster ? "cluster" : "instance": provider.resource]
        let rds = try provider.session.rds(settings.region)
        if provider.isCluster {
            if let cluster = try await rds.dbCluster(provider.resource) { window = RDSRestoreWindow.of(cluster: cluster); details["state"] = cluster.status }
            else { details["state"] = "not found" }
        } else if let instance = try await rds.dbInstance(provider.resource) {
            window = try await RDSRestoreWindow.of(instance: instance, rds: rds)
            details["state"] = instance.status
        } else {
            details["state"] = "not found"
        }
        let exposure = window.map { max(0, now.timeIntervalSince($0.latest)) }
        if let latest = window?.latest { details["latest_restorable_time"] = RFC3339.format(latest) }
        if let drRegion = settings.drRegion { details["dr_region"] = drRegion }

        var warnings: [String] = []
        if !others.isEmpty {
            warnings.append("\(others.count) snapshot(s) dr took for \(name) are of another database than \(provider.resource) is now (\(identity?.tag ?? "not found")): \(others.map(\.id).sorted().joined(separator: ", ")). dr does not use them for this target; delete them when they are no longer needed.")
        }
        if details["state"] == "not found" { warnings.append("\(provider.resourceNoun) \(provider.resource) was not found in \(settings.region).") }
        if let exposure, exposure > Self.exposureLimit {
            warnings.append("latest restorable time is \(DurationText.format(exposure)) old: that much data would be lost now (expected under \(DurationText.format(Self.exposureLimit))).")
        } else if window == nil, details["state"] != "not found" {
            warnings.append("no restorable window: automated backups are off, so point-in-time recovery is impossible.")
        }
        if settings.retentionWeekly != nil {
            let weekly = snapshots.filter { $0.kind == "weekly" }.map(\.ageSeconds).min()
            if weekly.map({ $0 > Self.weeklyLimit }) ?? true {
                warnings.append("no weekly snapshot in 8 days\(weekly.map { " (newest is \(DurationText.format($0)) old)" } ?? " (none found)"); run `dr snapshot \(name) --weekly`.")
            }
        }
        if settings.drRegion != nil {
            let newestCopy = drSnapshots.map(\.ageSeconds).min()
            if newestCopy.map({ $0 > Self.weeklyLimit }) ?? true {
                warnings.append("no DR copy in 8 days\(newestCopy.map { " (newest is \(DurationText.format($0)) old)" } ?? " (none found)"); run `dr copy \(name)`.")
            }
        }
        var cacheStatus: CacheStatus?
        if let group = settings.cacheReplicationGroup {
            let cache = CacheSnapshots(elastiCache: try provider.session.elastiCache(settings.region), replicationGroup: group)
            let newest = try await cache.elastiCache.describeAllSnapshots(replicationGroupId: group)
                .max { ($0.createTime ?? .distantPast, $0.name) < ($1.createTime ?? .distantPast, $1.name) }
            cacheStatus = CacheStatus(replicationGroup: group, newestSnapshot: newest?.name, newestSnapshotAt: newest?.createTime)
            if let newest {
                if let created = newest.createTime {
                    let age = now.timeIntervalSince(created)
                    details["cache_newest_snapshot_age"] = DurationText.format(age)
                    if age > Self.cacheLimit { warnings.append("the cache's newest snapshot is \(DurationText.format(age)) old (daily snapshots expected).") }
                }
            } else {
                warnings.append("the cache \(group) has no snapshot.")
            }
        }
        let state = details.removeValue(forKey: "state") ?? "unknown"
        return TargetStatus(target: name, provider: "rds", checkedAt: now, snapshots: snapshots, drSnapshots: drSnapshots,
                            restorableWindow: window, exposureSeconds: exposure, archivedUntil: window?.latest, state: state, cache: cacheStatus,
                            restores: try await provider.restoredResources(), display: details, warnings: warnings)
    }

    /// Newest first; kind is dr's tag (`weekly`, `adhoc`, `dr-copy`) or `automated`/`manual`.
    func summaries(_ snapshots: [RDSSnapshotInfo], now: Date) -> [SnapshotSummary] {
        snapshots.sorted { ($0.createdAt ?? .distantPast) > ($1.createdAt ?? .distantPast) }.map {
            let created = $0.createdAt ?? now
            return SnapshotSummary(id: $0.id, kind: $0.tag(DRTags.kind) ?? ($0.id.hasPrefix("rds:") ? "automated" : "manual"),
                                   createdAt: created, ageSeconds: now.timeIntervalSince(created), sizeBytes: nil)
        }
    }
}
