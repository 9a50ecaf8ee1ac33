import DRAWS
import Foundation

/// The target's ElastiCache snapshots (taken alongside the DB snapshot, same name, same tags).
struct CacheSnapshots: Sendable {
    let elastiCache: ElastiCacheClient
    let replicationGroup: String

    func find(_ name: String) async throws -> CacheSnapshot? {
        do { return try await elastiCache.describeSnapshots(name: name).items.first } catch let e as AWSError where e.isNotFound { return nil }
    }

    /// Takes (or finds) the snapshot `name`, waits for it and makes sure it carries `tags`.
    /// Returns whether this call created it.
    func take(_ name: String, tags: [AWSTag], wait: WaitSettings) async throws -> Bool {
        var created = false
        if try await find(name) == nil {
            do {
                _ = try await elastiCache.createSnapshot(name: name, replicationGroupId: replicationGroup, tags: tags)
                created = true
            } catch let e as AWSError where e.code == "SnapshotAlreadyExistsFault" {
                created = true // an earlier attempt of this call went through before its answer was lost
            }
        }
        try await wait.run(.cacheSnapshot) { timeout, progress in
            try await elastiCache.waitForSnapshotAvailable(name, timeout: timeout, progress: progress)
        }
        if let arn = try await find(name)?.arn {
            let present = try await self.tags(of: arn)
            let missing = tags.filter { !present.contains($0) }
            if !missing.isEmpty { try await addTags(arn: arn, missing) }
        }
        return created
    }

    /// The group's snapshots, newest first, with their tags.
    func list() async throws -> [(snapshot: CacheSnapshot, tags: [AWSTag])] {
        var out: [(CacheSnapshot, [AWSTag])] = []
        for s in try await elastiCache.describeAllSnapshots(replicationGroupId: replicationGroup) {
            out.append((s, s.arn == nil ? [] : try await tags(of: s.arn!)))
        }
        return out.sorted { ($0.0.createTime ?? .distantPast, $0.0.name) > ($1.0.createTime ?? .distantPast, $1.0.name) }
    }

    func delete(_ name: String) async throws {
        do { _ = try await elastiCache.deleteSnapshot(name: name) } catch let e as AWSError where e.isNotFound {}
    }

    // ElastiCache keeps tags apart from the snapshot description.
    func tags(of arn: String) async throws -> [AWSTag] {
        var p = QueryParams()
        p.add("ResourceName", arn)
        return try await elastiCache.client.send(p.request("ListTagsForResource")).xml().list("TagList", "Tag")
            .compactMap { t in t.string("Key").map { AWSTag($0, t.string("Value") ?? "") } }
    }

    func addTags(arn: String, _ tags: [AWSTag]) async throws {
        var p = QueryParams()
        p.add("ResourceName", arn)
        p.addTags(tags)
        _ = try await elastiCache.client.send(p.request("AddTagsToResource"))
    }
}
