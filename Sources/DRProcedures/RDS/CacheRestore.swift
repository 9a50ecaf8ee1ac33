import DRAWS
import DRCore
import Foundation

/// `cache.restore`: a new ElastiCache replication group with the shape of the target's cache
/// (node type, number of nodes or shards and replicas, automatic failover, Multi-AZ, encryption
/// in transit and at rest), seeded from a snapshot of it, or empty (in the DR region, where
/// ElastiCache cannot copy snapshots from another region). It waits until the group is
/// available and returns its primary endpoint; it is tagged like database restores
/// (`dr:managed`, `dr:kind=cache-restore`, `dr:target`, `dr:restored-from`) and torn down the
/// same way. A re-run finds the group it made for the same seed and finishes the job.
struct CacheRestore {
    let provider: RDSProvider

    static let kind = "cache-restore"

    /// The source group's shape, as a new group is created with it.
    struct Shape: Equatable {
        var nodeType: String
        /// Nodes per shard: the primary and its replicas.
        var nodes: Int
        /// Shards (cluster mode); 1 without cluster mode.
        var shards: Int
        var engine: String?
        var automaticFailover: Bool
        var multiAZ: Bool
        var transitEncryption: Bool
        var atRestEncryption: Bool
        /// The source's key, for a restore in its own region only (keys are regional).
        var kmsKeyId: String?

        var text: String {
            (shards > 1 ? "\(shards) shards of \(nodes) \(nodeType) nodes" : "\(nodes) \(nodeType) node\(nodes == 1 ? "" : "s")")
                + ", encryption in transit \(transitEncryption ? "on" : "off"), at rest \(atRestEncryption ? "on" : "off")"
        }
    }

    struct Decision {
        var name: String
        var region: String
        var source: String
        var shape: Shape
        /// The snapshot to seed from, or nil for an empty group.
        var snapshot: String?
        var seededFrom: String
        var subnetGroup: String?
        var tags: [AWSTag]
        var adopt: Bool
        var reads: [PlannedAction]
        var noWait: Bool

        var plan: [PlannedAction] {
            var out = reads
            if adopt {
                out.append(.read("finish the cache restore \(name) dr started earlier in \(region) from \(seededFrom)", call: "elasticache:DescribeReplicationGroups"))
            } else {
                out.append(.change("create the replication group \(name) in \(region) from \(seededFrom) with \(source)'s shape (\(shape.text))\(subnetGroup.map { " in the cache subnet group \($0)" } ?? "")",
                                   call: "elasticache:CreateReplicationGroup"))
            }
            guard !noWait else { return out + [.read("return without waiting (--no-wait)")] }
            out.append(.read("wait until \(name) is available", call: "elasticache:DescribeReplicationGroups"))
            out.append(.change("tag \(name) with dr's tags", call: "elasticache:AddTagsToResource", when: "only if a tag is missing"))
            return out
        }
    }

    // MARK: Deciding

    func decide(_ request: CacheRestoreRequest) async throws -> Decision {
        let settings = provider.settings
        guard let group = settings.cacheReplicationGroup else {
            throw DRError(.invalidConfig, "Target \(provider.target.name) has no `cache: { replication_group: ... }`, so there is no cache to restore. Nothing was changed.")
        }
        try Self.checkGroupID(request.name)
        if let nodes = request.nodes, !(1...6).contains(nodes) {
            throw DRError(.invalidParameter, "`nodes` \(nodes) is not a replication group's size: 1 to 6 nodes (a primary and up to 5 replicas). Nothing was changed.")
        }
        let region = request.fromDR ? try provider.drRegion(nil, parameter: .fromDR) : settings.region
        if request.name == group && region == settings.region {
            throw DRError(.nameTaken, "The name \(request.name) (\(param: .name)) is the target's own cache: a restore always makes a new replication group. Choose another name. Nothing was changed.")
        }
        let ec = try provider.session.elastiCache(region)
        var reads: [PlannedAction] = [.read("read \(group)'s shape in \(settings.region)", call: "elasticache:DescribeReplicationGroups")]
        let shape = try await sourceShape(group, request: request, sameRegion: region == settings.region)
        let seed = request.seed ?? (request.fromDR ? .empty : .snapshot(nil))
        var snapshot: String?
        switch seed {
        case .empty: break
        case .snapshot(let named):
            reads.append(.read("find \(named ?? "the newest snapshot of \(group)") in \(region)", call: "elasticache:DescribeSnapshots"))
            snapshot = try await chooseSnapshot(named, group: group, ec: ec, region: region)
        }
        let seededFrom = snapshot.map { "snapshot \($0)" } ?? "empty"
        let subnetGroup = request.subnetGroup ?? (request.fromDR ? settings.drRestore?.cacheSubnetGroup : nil)
        let tags = DRTags.make(kind: Self.kind, target: provider.target.name, extra: settings.tags,
                               more: request.tags.merging([DRTags.restoredFrom: "\(group)@\(seededFrom)"]) { _, dr in dr })
        reads.append(.read("check that \(request.name) is free in \(region)", call: "elasticache:DescribeReplicationGroups"))
        var adopt = false
        if let existing = try await ec.replicationGroup(request.name) {
            var present: [AWSTag] = []
            if let arn = existing.arn { present = try await ec.listTags(arn: arn) }
            guard DRTags.isManaged(present, target: provider.target.name, kind: Self.kind),
                  DRTags.value(DRTags.restoredFrom, in: present) == "\(group)@\(seededFrom)" else {
                throw DRError(.nameTaken, "The name \(request.name) (\(param: .name)) is already taken in \(region) by a replication group that is not dr's restore of \(group) from \(seededFrom). Choose another name, or tear that one down first. Nothing was changed.")
            }
            adopt = true
        }
        return Decision(name: request.name, region: region, source: group, shape: shape, snapshot: snapshot, seededFrom: seededFrom,
                        subnetGroup: subnetGroup, tags: tags, adopt: adopt, reads: reads, noWait: provider.wait.noWait)
    }

    /// The source group's shape, read in its region; `nodeType`/`nodes` override it, and stand
    /// in for it when that region cannot answer (the region failover's case).
    func sourceShape(_ group: String, request: CacheRestoreRequest, sameRegion: Bool) async throws -> Shape {
        let home = provider.settings.region
        let source: ReplicationGroup?
        do {
            source = try await provider.session.elastiCache(home).replicationGroup(group)
        } catch let error as AWSError where request.nodeType != nil {
            provider.logger.info("the source cache cannot be read; using the given shape", metadata: ["group": "\(group)", "error": "\(error.summary)"])
            return Shape(nodeType: request.nodeType!, nodes: request.nodes ?? 1, shards: 1, engine: nil, automaticFailover: (request.nodes ?? 1) > 1,
                         multiAZ: false, transitEncryption: true, atRestEncryption: true, kmsKeyId: nil)
        } catch let error as AWSError {
            throw DRError(.invalidParameter, "dr could not read the shape of the cache \(group) in \(home) (\(error.summary)), so it does not know what the new group should be. Give `node_type` (and `nodes`). Nothing was changed.")
        }
        guard let source else {
            throw DRError(.notFound, "The cache \(group) of target \(provider.target.name) does not exist in \(home). Check `cache: { replication_group: }` in dr.yml, or give `node_type` and `nodes`. Nothing was changed.")
        }
        let shards = max(1, source.nodeGroupCount)
        let members = max(1, source.memberClusters.count)
        return Shape(nodeType: request.nodeType ?? source.nodeType ?? "cache.t3.micro", nodes: request.nodes ?? max(1, members / shards),
                     shards: shards, engine: source.engine, automaticFailover: source.automaticFailover == "enabled",
                     multiAZ: source.multiAZ == "enabled", transitEncryption: source.transitEncryption ?? false,
                     atRestEncryption: source.atRestEncryption ?? false, kmsKeyId: sameRegion ? source.kmsKeyId : nil)
    }

    /// The named snapshot, or the group's newest available one, in the restore's region.
    func chooseSnapshot(_ named: String?, group: String, ec: ElastiCacheClient, region: String) async throws -> String {
        if let named {
            guard let found = try await CacheSnapshots(elastiCache: ec, replicationGroup: group).find(named), found.status == "available" else {
                throw DRError(.notFound, "There is no available cache snapshot \(named) in \(region). Nothing was changed.")
            }
            return found.name
        }
        let newest = try await ec.describeAllSnapshots(replicationGroupId: group).filter { $0.status == "available" }
            .max { ($0.createTime ?? .distantPast, $0.name) < ($1.createTime ?? .distantPast, $1.name) }
        guard let newest else {
            throw DRError(.notRestorable, "The cache \(group) has no snapshot in \(region) to restore from. Take one (`dr snapshot \(provider.target.name)`), or restore it empty (`seed` empty). Nothing was changed.")
        }
        return newest.name
    }

    /// Replication group ids: 1 to 40 lower-case letters, digits and single hyphens, starting with a letter.
    static func checkGroupID(_ id: String) throws {
        let problem: String?
        if id.isEmpty || id.count > 40 { problem = "it must be 1 to 40 characters long" }
        else if !(id.first!.isASCII && id.first!.isLetter) { problem = "it must start with a letter" }
        else if !id.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) { problem = "it may hold only lower-case letters, digits and hyphens" }
        else if id.contains("--") || id.hasSuffix("-") { problem = "it may not hold two hyphens in a row or end with one" }
        else { problem = nil }
        if let problem {
            throw DRError(.invalidParameter, "\(param: .name) \"\(id)\" is not a replication group id ElastiCache would accept: \(problem). Choose a name like prod-cache-dr. Nothing was changed.")
        }
    }

    // MARK: Executing

    func execute(_ d: Decision) async throws -> CacheRestoreResult {
        let ec = try provider.session.elastiCache(d.region)
        if !d.adopt {
            var input = CreateReplicationGroupInput(
                id: d.name, description: "dr restore of \(d.source) (\(d.seededFrom))", snapshotName: d.snapshot, nodeType: d.shape.nodeType,
                engine: d.shape.engine ?? "redis", subnetGroupName: d.subnetGroup, automaticFailover: d.shape.automaticFailover,
                multiAZ: d.shape.multiAZ, atRestEncryption: d.shape.atRestEncryption, transitEncryption: d.shape.transitEncryption,
                kmsKeyId: d.shape.kmsKeyId, tags: d.tags)
            if d.shape.shards > 1 {
                input.extra = ["NumNodeGroups": String(d.shape.shards), "ReplicasPerNodeGroup": String(d.shape.nodes - 1)]
            } else {
                input.numCacheClusters = d.shape.nodes
            }
            provider.logger.info("restoring cache", metadata: ["as": "\(d.name)", "from": "\(d.seededFrom)", "region": "\(d.region)"])
            do { _ = try await ec.createReplicationGroup(input) } catch let e as AWSError where e.code == "ReplicationGroupAlreadyExists" {
                // An earlier attempt of this call went through before its answer was lost.
            }
        }
        try await provider.wait.run(.restore) { timeout, progress in
            try await ec.waitForReplicationGroupAvailable(d.name, timeout: timeout, progress: progress)
        }
        var endpoint: Endpoint?
        if !provider.wait.noWait, let group = try await ec.replicationGroup(d.name) {
            if let arn = group.arn {
                let present = try await ec.listTags(arn: arn)
                let missing = d.tags.filter { !present.contains($0) }
                if !missing.isEmpty { try await ec.addTags(arn: arn, missing) }
            }
            if let host = group.primaryEndpointAddress ?? group.configurationEndpointAddress {
                endpoint = Endpoint(host: host, port: group.primaryEndpointPort ?? 6379)
            }
        }
        return CacheRestoreResult(target: provider.target.name, name: d.name, region: d.region, endpoint: endpoint, seededFrom: d.seededFrom,
                                  nodeType: d.shape.nodeType, nodes: d.shape.nodes * d.shape.shards, transitEncryption: d.shape.transitEncryption,
                                  atRestEncryption: d.shape.atRestEncryption, adopted: d.adopt, waited: !provider.wait.noWait)
    }
}

extension RDSProvider {
    public func restoreCache(_ request: CacheRestoreRequest) async throws -> CacheRestoreResult {
        try await wait.bounded(clock: session.clock) {
            let procedure = CacheRestore(provider: self)
            return try await procedure.execute(try await procedure.decide(request))
        }
    }
}
