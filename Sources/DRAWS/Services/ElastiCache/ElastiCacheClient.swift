import Foundation

public struct CacheSnapshot: Sendable, Equatable {
    public var name: String
    public var arn: String?
    public var status: String?
    public var source: String?
    public var replicationGroupId: String?
    public var cacheClusterId: String?
    public var engine: String?
    public var engineVersion: String?
    public var nodeType: String?
    public var kmsKeyId: String?
    public var createTime: Date?

    static func parse(_ e: XElement) -> CacheSnapshot {
        CacheSnapshot(name: e.string("SnapshotName") ?? "", arn: e.string("ARN"), status: e.string("SnapshotStatus"),
                      source: e.string("SnapshotSource"), replicationGroupId: e.string("ReplicationGroupId"),
                      cacheClusterId: e.string("CacheClusterId"), engine: e.string("Engine"), engineVersion: e.string("EngineVersion"),
                      nodeType: e.string("CacheNodeType"), kmsKeyId: e.string("KmsKeyId"),
                      createTime: e.list("NodeSnapshots", "NodeSnapshot").first?.date("SnapshotCreateTime"))
    }
}

public struct ReplicationGroup: Sendable, Equatable {
    public var id: String
    public var arn: String?
    public var status: String?
    public var description: String?
    public var primaryEndpointAddress: String?
    public var primaryEndpointPort: Int?
    public var readerEndpointAddress: String?
    public var configurationEndpointAddress: String?
    public var memberClusters: [String]
    public var nodeType: String?
    public var atRestEncryption: Bool?
    public var transitEncryption: Bool?
    public var snapshotRetentionLimit: Int?
    public var multiAZ: String?
    public var automaticFailover: String?
    public var engine: String?
    public var kmsKeyId: String?
    /// Shards: 1 unless cluster mode is on.
    public var nodeGroupCount: Int
    public var clusterEnabled: Bool?

    static func parse(_ e: XElement) -> ReplicationGroup {
        let groups = e.list("NodeGroups", "NodeGroup")
        let group = groups.first
        return ReplicationGroup(id: e.string("ReplicationGroupId") ?? "", arn: e.string("ARN"), status: e.string("Status"),
                                description: e.string("Description"), primaryEndpointAddress: group?.string("PrimaryEndpoint", "Address"),
                                primaryEndpointPort: group?.int("PrimaryEndpoint", "Port"),
                                readerEndpointAddress: group?.string("ReaderEndpoint", "Address"),
                                configurationEndpointAddress: e.string("ConfigurationEndpoint", "Address"),
                                memberClusters: e.list("MemberClusters", "ClusterId").map(\.text), nodeType: e.string("CacheNodeType"),
                                atRestEncryption: e.bool("AtRestEncryptionEnabled"), transitEncryption: e.bool("TransitEncryptionEnabled"),
                                snapshotRetentionLimit: e.int("SnapshotRetentionLimit"), multiAZ: e.string("MultiAZ"),
                                automaticFailover: e.string("AutomaticFailover"), engine: e.string("Engine"), kmsKeyId: e.string("KmsKeyId"),
                                nodeGroupCount: max(1, groups.count), clusterEnabled: e.bool("ClusterEnabled"))
    }
}

/// A new replication group; `snapshotName` seeds it from a snapshot (restore).
public struct CreateReplicationGroupInput: Sendable, Equatable {
    public var id: String
    public var description: String
    public var snapshotName: String?
    public var nodeType: String?
    public var engine: String?
    public var engineVersion: String?
    public var numCacheClusters: Int?
    public var subnetGroupName: String?
    public var securityGroupIds: [String]
    public var parameterGroupName: String?
    public var automaticFailover: Bool?
    public var multiAZ: Bool?
    public var atRestEncryption: Bool?
    public var transitEncryption: Bool?
    public var kmsKeyId: String?
    public var snapshotRetentionLimit: Int?
    public var tags: [AWSTag]
    public var extra: [String: String]

    public init(id: String, description: String, snapshotName: String? = nil, nodeType: String? = nil, engine: String? = "redis",
                engineVersion: String? = nil, numCacheClusters: Int? = nil, subnetGroupName: String? = nil,
                securityGroupIds: [String] = [], parameterGroupName: String? = nil, automaticFailover: Bool? = nil,
                multiAZ: Bool? = nil, atRestEncryption: Bool? = nil, transitEncryption: Bool? = nil, kmsKeyId: String? = nil,
                snapshotRetentionLimit: Int? = nil, tags: [AWSTag] = [], extra: [String: String] = [:]) {
        self.id = id
        self.description = description
        self.snapshotName = snapshotName
        self.nodeType = nodeType
        self.engine = engine
        self.engineVersion = engineVersion
        self.numCacheClusters = numCacheClusters
        self.subnetGroupName = subnetGroupName
        self.securityGroupIds = securityGroupIds
        self.parameterGroupName = parameterGroupName
        self.automaticFailover = automaticFailover
        self.multiAZ = multiAZ
        self.atRestEncryption = atRestEncryption
        self.transitEncryption = transitEncryption
        self.kmsKeyId = kmsKeyId
        self.snapshotRetentionLimit = snapshotRetentionLimit
        self.tags = tags
        self.extra = extra
    }
}

/// ElastiCache operations (AWS Query, API 2015-02-02).
public struct ElastiCacheClient: Sendable {
    public let client: AWSClient

    public init(config: AWSClientConfig) { client = AWSClient(service: .elastiCache, config: config) }

    public func createSnapshot(name: String, replicationGroupId: String? = nil, cacheClusterId: String? = nil,
                               kmsKeyId: String? = nil, tags: [AWSTag] = []) async throws -> CacheSnapshot {
        var p = QueryParams()
        p.add("SnapshotName", name)
        p.add("ReplicationGroupId", replicationGroupId)
        p.add("CacheClusterId", cacheClusterId)
        p.add("KmsKeyId", kmsKeyId)
        p.addTags(tags)
        return CacheSnapshot.parse(try await client.send(p.request("CreateSnapshot")).xml().child("Snapshot") ?? XElement(name: "Snapshot"))
    }

    public func describeSnapshots(name: String? = nil, replicationGroupId: String? = nil, cacheClusterId: String? = nil,
                                  source: String? = nil, marker: String? = nil, maxRecords: Int? = nil) async throws -> MarkerPage<CacheSnapshot> {
        var p = QueryParams()
        p.add("SnapshotName", name)
        p.add("ReplicationGroupId", replicationGroupId)
        p.add("CacheClusterId", cacheClusterId)
        p.add("SnapshotSource", source)
        p.add("Marker", marker)
        p.add("MaxRecords", maxRecords)
        let r = try await client.send(p.request("DescribeSnapshots")).xml()
        return MarkerPage(items: r.list("Snapshots", "Snapshot").map(CacheSnapshot.parse), next: r.string("Marker"))
    }

    public func describeAllSnapshots(replicationGroupId: String? = nil, pageSize: Int? = nil) async throws -> [CacheSnapshot] {
        try await Paginator.collect { try await describeSnapshots(replicationGroupId: replicationGroupId, marker: $0, maxRecords: pageSize) }
    }

    public func deleteSnapshot(name: String) async throws -> CacheSnapshot {
        var p = QueryParams()
        p.add("SnapshotName", name)
        return CacheSnapshot.parse(try await client.send(p.request("DeleteSnapshot")).xml().child("Snapshot") ?? XElement(name: "Snapshot"))
    }

    public func describeReplicationGroups(id: String? = nil, marker: String? = nil, maxRecords: Int? = nil) async throws -> MarkerPage<ReplicationGroup> {
        var p = QueryParams()
        p.add("ReplicationGroupId", id)
        p.add("Marker", marker)
        p.add("MaxRecords", maxRecords)
        let r = try await client.send(p.request("DescribeReplicationGroups")).xml()
        return MarkerPage(items: r.list("ReplicationGroups", "ReplicationGroup").map(ReplicationGroup.parse), next: r.string("Marker"))
    }

    public func createReplicationGroup(_ input: CreateReplicationGroupInput) async throws -> ReplicationGroup {
        var p = QueryParams()
        p.add("ReplicationGroupId", input.id)
        p.add("ReplicationGroupDescription", input.description)
        p.add("SnapshotName", input.snapshotName)
        p.add("CacheNodeType", input.nodeType)
        p.add("Engine", input.engine)
        p.add("EngineVersion", input.engineVersion)
        p.add("NumCacheClusters", input.numCacheClusters)
        p.add("CacheSubnetGroupName", input.subnetGroupName)
        p.addList("SecurityGroupIds", member: "SecurityGroupId", input.securityGroupIds)
        p.add("CacheParameterGroupName", input.parameterGroupName)
        p.add("AutomaticFailoverEnabled", input.automaticFailover)
        p.add("MultiAZEnabled", input.multiAZ)
        p.add("AtRestEncryptionEnabled", input.atRestEncryption)
        p.add("TransitEncryptionEnabled", input.transitEncryption)
        p.add("KmsKeyId", input.kmsKeyId)
        p.add("SnapshotRetentionLimit", input.snapshotRetentionLimit)
        p.addTags(input.tags)
        let r = try await client.send(p.request("CreateReplicationGroup", extra: input.extra)).xml()
        return ReplicationGroup.parse(r.child("ReplicationGroup") ?? XElement(name: "ReplicationGroup"))
    }

    public func deleteReplicationGroup(_ id: String) async throws -> ReplicationGroup {
        var p = QueryParams()
        p.add("ReplicationGroupId", id)
        let r = try await client.send(p.request("DeleteReplicationGroup")).xml()
        return ReplicationGroup.parse(r.child("ReplicationGroup") ?? XElement(name: "ReplicationGroup"))
    }

    /// Whether the region has a cache subnet group of that name.
    public func cacheSubnetGroupExists(_ name: String) async throws -> Bool {
        var p = QueryParams()
        p.add("CacheSubnetGroupName", name)
        do {
            return try await !client.send(p.request("DescribeCacheSubnetGroups")).xml().list("CacheSubnetGroups", "CacheSubnetGroup").isEmpty
        } catch let e as AWSError where e.isNotFound { return false }
    }

    /// One replication group, or nil when the region has none of that id.
    public func replicationGroup(_ id: String) async throws -> ReplicationGroup? {
        do { return try await describeReplicationGroups(id: id).items.first } catch let e as AWSError where e.isNotFound { return nil }
    }

    /// ElastiCache keeps tags apart from the descriptions.
    public func listTags(arn: String) async throws -> [AWSTag] {
        var p = QueryParams()
        p.add("ResourceName", arn)
        return try await client.send(p.request("ListTagsForResource")).xml().list("TagList", "Tag")
            .compactMap { t in t.string("Key").map { AWSTag($0, t.string("Value") ?? "") } }
    }

    public func addTags(arn: String, _ tags: [AWSTag]) async throws {
        var p = QueryParams()
        p.add("ResourceName", arn)
        p.addTags(tags)
        _ = try await client.send(p.request("AddTagsToResource"))
    }

    public func waitForSnapshotAvailable(_ name: String, timeout: Double = 7200, progress: (@Sendable (WaitProgress) -> Void)? = nil) async throws {
        let waiter = Waiter<CacheSnapshot?>.until("ElastiCache snapshot \(name) to be available", success: ["available"],
                                                  state: { $0?.status ?? "not-found" }, timeout: timeout)
        try await waiter.wait(clock: client.config.clock, progress: progress) {
            do { return try await describeSnapshots(name: name).items.first } catch let e as AWSError where e.isNotFound { return nil }
        }
    }

    public func waitForReplicationGroupAvailable(_ id: String, timeout: Double = 7200, progress: (@Sendable (WaitProgress) -> Void)? = nil) async throws {
        let waiter = Waiter<ReplicationGroup?>.until("replication group \(id) to be available", success: ["available"],
                                                     failure: ["create-failed", "deleting", "deleted"],
                                                     state: { $0?.status ?? "not-found" }, timeout: timeout)
        try await waiter.wait(clock: client.config.clock, progress: progress) {
            do { return try await describeReplicationGroups(id: id).items.first } catch let e as AWSError where e.isNotFound { return nil }
        }
    }
}
