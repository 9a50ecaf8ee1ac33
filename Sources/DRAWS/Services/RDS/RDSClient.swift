import DRCore
import Foundation

/// RDS operations the recovery procedures use (AWS Query, API 2014-10-31).
public struct RDSClient: Sendable {
    public let client: AWSClient

    public init(config: AWSClientConfig) { client = AWSClient(service: .rds, config: config) }

    // MARK: Instances

    public func describeDBInstances(identifier: String? = nil, filters: [AWSFilter] = [], marker: String? = nil,
                                    maxRecords: Int? = nil) async throws -> MarkerPage<DBInstance> {
        var p = QueryParams()
        p.add("DBInstanceIdentifier", identifier)
        p.addFilters(filters)
        p.add("Marker", marker)
        p.add("MaxRecords", maxRecords)
        let r = try await client.send(p.request("DescribeDBInstances")).xml()
        return MarkerPage(items: r.list("DBInstances", "DBInstance").map(DBInstance.parse), next: r.string("Marker"))
    }

    /// Every instance, across pages.
    public func describeAllDBInstances(filters: [AWSFilter] = [], pageSize: Int? = nil) async throws -> [DBInstance] {
        try await Paginator.collect { try await describeDBInstances(filters: filters, marker: $0, maxRecords: pageSize) }
    }

    /// One instance, or nil when it does not exist.
    public func dbInstance(_ identifier: String) async throws -> DBInstance? {
        do { return try await describeDBInstances(identifier: identifier).items.first } catch let e as AWSError where e.code == "DBInstanceNotFound" { return nil }
    }

    /// The instances of one DB cluster (Aurora), across pages.
    public func dbInstances(inCluster cluster: String) async throws -> [DBInstance] {
        try await describeAllDBInstances(filters: [AWSFilter("db-cluster-id", [cluster])])
    }

    /// Creates a DB instance; for Aurora, an instance in an existing cluster (`CreateDBInstanceInput.clusterIdentifier`).
    public func createDBInstance(_ input: CreateDBInstanceInput) async throws -> DBInstance {
        var p = QueryParams()
        p.add("DBInstanceIdentifier", input.identifier)
        p.add("DBInstanceClass", input.instanceClass)
        p.add("Engine", input.engine)
        p.add("DBClusterIdentifier", input.clusterIdentifier)
        p.add("DBParameterGroupName", input.parameterGroupName)
        p.add("AvailabilityZone", input.availabilityZone)
        p.add("PubliclyAccessible", input.publiclyAccessible)
        p.addTags(input.tags)
        return try await instanceResult(p.request("CreateDBInstance", extra: input.extra))
    }

    public func describeDBInstanceAutomatedBackups(instanceIdentifier: String? = nil, resourceId: String? = nil,
                                                   marker: String? = nil) async throws -> MarkerPage<DBInstanceAutomatedBackup> {
        var p = QueryParams()
        p.add("DBInstanceIdentifier", instanceIdentifier)
        p.add("DbiResourceId", resourceId)
        p.add("Marker", marker)
        let r = try await client.send(p.request("DescribeDBInstanceAutomatedBackups")).xml()
        return MarkerPage(items: r.list("DBInstanceAutomatedBackups", "DBInstanceAutomatedBackup").map(DBInstanceAutomatedBackup.parse),
                          next: r.string("Marker"))
    }

    public func deleteDBInstance(_ identifier: String, skipFinalSnapshot: Bool, finalSnapshotIdentifier: String? = nil,
                                 deleteAutomatedBackups: Bool? = nil) async throws -> DBInstance {
        var p = QueryParams()
        p.add("DBInstanceIdentifier", identifier)
        p.add("SkipFinalSnapshot", skipFinalSnapshot)
        p.add("FinalDBSnapshotIdentifier", finalSnapshotIdentifier)
        p.add("DeleteAutomatedBackups", deleteAutomatedBackups)
        return DBInstance.parse(try await client.send(p.request("DeleteDBInstance")).xml().child("DBInstance") ?? XElement(name: "DBInstance"))
    }

    public func restoreDBInstanceToPointInTime(source: String, target: String, restoreTime: Date? = nil,
                                               useLatestRestorableTime: Bool = false,
                                               options: RDSRestoreOptions = RDSRestoreOptions()) async throws -> DBInstance {
        try options.checkInstanceRestore("RestoreDBInstanceToPointInTime")
        var p = QueryParams()
        p.add("SourceDBInstanceIdentifier", source)
        p.add("TargetDBInstanceIdentifier", target)
        p.add("RestoreTime", restoreTime.map(Self.timestamp))
        p.add("UseLatestRestorableTime", useLatestRestorableTime ? true : nil)
        options.apply(to: &p, cluster: false)
        return try await instanceResult(p.request("RestoreDBInstanceToPointInTime", extra: options.extra))
    }

    public func restoreDBInstanceFromDBSnapshot(snapshot: String, target: String,
                                                options: RDSRestoreOptions = RDSRestoreOptions()) async throws -> DBInstance {
        try options.checkInstanceRestore("RestoreDBInstanceFromDBSnapshot")
        var p = QueryParams()
        p.add("DBSnapshotIdentifier", snapshot)
        p.add("DBInstanceIdentifier", target)
        options.apply(to: &p, cluster: false)
        return try await instanceResult(p.request("RestoreDBInstanceFromDBSnapshot", extra: options.extra))
    }

    // MARK: Instance snapshots

    public func describeDBSnapshots(instanceIdentifier: String? = nil, snapshotIdentifier: String? = nil,
                                    snapshotType: String? = nil, filters: [AWSFilter] = [], marker: String? = nil,
                                    maxRecords: Int? = nil) async throws -> MarkerPage<DBSnapshot> {
        var p = QueryParams()
        p.add("DBInstanceIdentifier", instanceIdentifier)
        p.add("DBSnapshotIdentifier", snapshotIdentifier)
        p.add("SnapshotType", snapshotType)
        p.addFilters(filters)
        p.add("Marker", marker)
        p.add("MaxRecords", maxRecords)
        let r = try await client.send(p.request("DescribeDBSnapshots")).xml()
        return MarkerPage(items: r.list("DBSnapshots", "DBSnapshot").map(DBSnapshot.parse), next: r.string("Marker"))
    }

    public func describeAllDBSnapshots(instanceIdentifier: String? = nil, snapshotType: String? = nil,
                                       pageSize: Int? = nil) async throws -> [DBSnapshot] {
        try await Paginator.collect {
            try await describeDBSnapshots(instanceIdentifier: instanceIdentifier, snapshotType: snapshotType, marker: $0, maxRecords: pageSize)
        }
    }

    public func dbSnapshot(_ identifier: String) async throws -> DBSnapshot? {
        do { return try await describeDBSnapshots(snapshotIdentifier: identifier).items.first } catch let e as AWSError where e.code == "DBSnapshotNotFound" { return nil }
    }

    public func createDBSnapshot(snapshotIdentifier: String, instanceIdentifier: String, tags: [AWSTag] = []) async throws -> DBSnapshot {
        var p = QueryParams()
        p.add("DBSnapshotIdentifier", snapshotIdentifier)
        p.add("DBInstanceIdentifier", instanceIdentifier)
        p.addTags(tags)
        return try await snapshotResult(p.request("CreateDBSnapshot"))
    }

    public func copyDBSnapshot(_ copy: RDSCopySnapshot) async throws -> DBSnapshot {
        try await snapshotResult(copyRequest("CopyDBSnapshot", copy, resource: "DB"))
    }

    public func deleteDBSnapshot(_ identifier: String) async throws -> DBSnapshot {
        var p = QueryParams()
        p.add("DBSnapshotIdentifier", identifier)
        return try await snapshotResult(p.request("DeleteDBSnapshot"))
    }

    // MARK: Clusters

    public func describeDBClusters(identifier: String? = nil, filters: [AWSFilter] = [], marker: String? = nil,
                                   maxRecords: Int? = nil) async throws -> MarkerPage<DBCluster> {
        var p = QueryParams()
        p.add("DBClusterIdentifier", identifier)
        p.addFilters(filters)
        p.add("Marker", marker)
        p.add("MaxRecords", maxRecords)
        let r = try await client.send(p.request("DescribeDBClusters")).xml()
        return MarkerPage(items: r.list("DBClusters", "DBCluster").map(DBCluster.parse), next: r.string("Marker"))
    }

    public func dbCluster(_ identifier: String) async throws -> DBCluster? {
        do { return try await describeDBClusters(identifier: identifier).items.first } catch let e as AWSError where e.code == "DBClusterNotFoundFault" { return nil }
    }

    public func deleteDBCluster(_ identifier: String, skipFinalSnapshot: Bool, finalSnapshotIdentifier: String? = nil) async throws -> DBCluster {
        var p = QueryParams()
        p.add("DBClusterIdentifier", identifier)
        p.add("SkipFinalSnapshot", skipFinalSnapshot)
        p.add("FinalDBSnapshotIdentifier", finalSnapshotIdentifier)
        return try await clusterResult(p.request("DeleteDBCluster"))
    }

    public func restoreDBClusterToPointInTime(source: String, target: String, restoreTime: Date? = nil,
                                              useLatestRestorableTime: Bool = false,
                                              options: RDSRestoreOptions = RDSRestoreOptions()) async throws -> DBCluster {
        var p = QueryParams()
        p.add("SourceDBClusterIdentifier", source)
        p.add("DBClusterIdentifier", target)
        p.add("RestoreToTime", restoreTime.map(Self.timestamp))
        p.add("UseLatestRestorableTime", useLatestRestorableTime ? true : nil)
        options.apply(to: &p, cluster: true)
        return try await clusterResult(p.request("RestoreDBClusterToPointInTime", extra: options.extra))
    }

    public func restoreDBClusterFromSnapshot(snapshot: String, target: String, engine: String,
                                             options: RDSRestoreOptions = RDSRestoreOptions()) async throws -> DBCluster {
        var p = QueryParams()
        p.add("SnapshotIdentifier", snapshot)
        p.add("DBClusterIdentifier", target)
        p.add("Engine", engine)
        options.apply(to: &p, cluster: true)
        return try await clusterResult(p.request("RestoreDBClusterFromSnapshot", extra: options.extra))
    }

    // MARK: Cluster snapshots

    public func describeDBClusterSnapshots(clusterIdentifier: String? = nil, snapshotIdentifier: String? = nil,
                                           snapshotType: String? = nil, marker: String? = nil,
                                           maxRecords: Int? = nil) async throws -> MarkerPage<DBClusterSnapshot> {
        var p = QueryParams()
        p.add("DBClusterIdentifier", clusterIdentifier)
        p.add("DBClusterSnapshotIdentifier", snapshotIdentifier)
        p.add("SnapshotType", snapshotType)
        p.add("Marker", marker)
        p.add("MaxRecords", maxRecords)
        let r = try await client.send(p.request("DescribeDBClusterSnapshots")).xml()
        return MarkerPage(items: r.list("DBClusterSnapshots", "DBClusterSnapshot").map(DBClusterSnapshot.parse), next: r.string("Marker"))
    }

    public func createDBClusterSnapshot(snapshotIdentifier: String, clusterIdentifier: String,
                                        tags: [AWSTag] = []) async throws -> DBClusterSnapshot {
        var p = QueryParams()
        p.add("DBClusterSnapshotIdentifier", snapshotIdentifier)
        p.add("DBClusterIdentifier", clusterIdentifier)
        p.addTags(tags)
        return try await clusterSnapshotResult(p.request("CreateDBClusterSnapshot"))
    }

    public func copyDBClusterSnapshot(_ copy: RDSCopySnapshot) async throws -> DBClusterSnapshot {
        try await clusterSnapshotResult(copyRequest("CopyDBClusterSnapshot", copy, resource: "DBCluster"))
    }

    public func deleteDBClusterSnapshot(_ identifier: String) async throws -> DBClusterSnapshot {
        var p = QueryParams()
        p.add("DBClusterSnapshotIdentifier", identifier)
        return try await clusterSnapshotResult(p.request("DeleteDBClusterSnapshot"))
    }

    // MARK: Tags

    public func addTagsToResource(arn: String, tags: [AWSTag]) async throws {
        var p = QueryParams()
        p.add("ResourceName", arn)
        p.addTags(tags)
        _ = try await client.send(p.request("AddTagsToResource"))
    }

    public func listTagsForResource(arn: String) async throws -> [AWSTag] {
        var p = QueryParams()
        p.add("ResourceName", arn)
        return try await client.send(p.request("ListTagsForResource")).xml().list("TagList", "Tag").map(AWSTag.parse)
    }

    // MARK: Helpers

    /// The presigned source-region request the destination region replays (encrypted cross-region copies).
    /// CopyDBSnapshot and CopyDBClusterSnapshot take the same parameters, named for their
    /// resource (`SourceDBSnapshotIdentifier`, `SourceDBClusterSnapshotIdentifier`, ...).
    private func copyRequest(_ action: String, _ copy: RDSCopySnapshot, resource: String) async throws -> AWSRequest {
        let sourceParam = "Source\(resource)SnapshotIdentifier", targetParam = "Target\(resource)SnapshotIdentifier"
        var p = QueryParams()
        p.add(sourceParam, copy.source)
        p.add(targetParam, copy.target)
        p.add("KmsKeyId", copy.kmsKeyId)
        p.add("CopyTags", copy.copyTags)
        p.addTags(copy.tags)
        p.add("PreSignedUrl", try await preSignedURL(action, copy, sourceParam: sourceParam, targetParam: targetParam))
        return p.request(action, extra: copy.extra)
    }

    func preSignedURL(_ action: String, _ copy: RDSCopySnapshot, sourceParam: String, targetParam: String) async throws -> String? {
        guard let sourceRegion = copy.sourceRegion, sourceRegion != client.config.region else { return nil }
        let endpoint = copy.sourceEndpoint ?? URL(string: "https://rds.\(sourceRegion).amazonaws.com")!
        var query: [(String, String)] = [("Action", action), ("Version", AWSService.rds.apiVersion),
                                         (sourceParam, copy.source), (targetParam, copy.target)]
        if let kms = copy.kmsKeyId { query.append(("KmsKeyId", kms)) }
        query.append(("DestinationRegion", client.config.region))
        let url = AWSProtocol.url(endpoint, path: "/", query: query)
        return try await client.presign(url: url, region: sourceRegion).absoluteString
    }

    static func timestamp(_ date: Date) -> String { RFC3339.format(date) }

    private func instanceResult(_ request: AWSRequest) async throws -> DBInstance {
        DBInstance.parse(try await client.send(request).xml().child("DBInstance") ?? XElement(name: "DBInstance"))
    }
    private func snapshotResult(_ request: AWSRequest) async throws -> DBSnapshot {
        DBSnapshot.parse(try await client.send(request).xml().child("DBSnapshot") ?? XElement(name: "DBSnapshot"))
    }
    private func clusterResult(_ request: AWSRequest) async throws -> DBCluster {
        DBCluster.parse(try await client.send(request).xml().child("DBCluster") ?? XElement(name: "DBCluster"))
    }
    private func clusterSnapshotResult(_ request: AWSRequest) async throws -> DBClusterSnapshot {
        DBClusterSnapshot.parse(try await client.send(request).xml().child("DBClusterSnapshot") ?? XElement(name: "DBClusterSnapshot"))
    }
}
