import DRCore
import Foundation

public struct DBInstance: Sendable, Equatable {
    public var identifier: String
    public var arn: String?
    public var resourceId: String?
    public var status: String?
    public var engine: String?
    public var engineVersion: String?
    public var instanceClass: String?
    public var endpointAddress: String?
    public var endpointPort: Int?
    public var subnetGroupName: String?
    public var vpcSecurityGroupIds: [String]
    public var parameterGroupName: String?
    public var availabilityZone: String?
    public var multiAZ: Bool?
    public var storageEncrypted: Bool?
    public var kmsKeyId: String?
    public var latestRestorableTime: Date?
    public var backupRetentionPeriod: Int?
    public var clusterIdentifier: String?
    public var createTime: Date?
    public var tags: [AWSTag]

    static func parse(_ e: XElement) -> DBInstance {
        DBInstance(identifier: e.string("DBInstanceIdentifier") ?? "", arn: e.string("DBInstanceArn"), resourceId: e.string("DbiResourceId"),
                   status: e.string("DBInstanceStatus"), engine: e.string("Engine"), engineVersion: e.string("EngineVersion"),
                   instanceClass: e.string("DBInstanceClass"), endpointAddress: e.string("Endpoint", "Address"),
                   endpointPort: e.int("Endpoint", "Port"), subnetGroupName: e.string("DBSubnetGroup", "DBSubnetGroupName"),
                   vpcSecurityGroupIds: e.list("VpcSecurityGroups", "VpcSecurityGroupMembership").compactMap { $0.string("VpcSecurityGroupId") },
                   parameterGroupName: e.list("DBParameterGroups", "DBParameterGroup").first?.string("DBParameterGroupName"),
                   availabilityZone: e.string("AvailabilityZone"), multiAZ: e.bool("MultiAZ"), storageEncrypted: e.bool("StorageEncrypted"),
                   kmsKeyId: e.string("KmsKeyId"), latestRestorableTime: e.date("LatestRestorableTime"),
                   backupRetentionPeriod: e.int("BackupRetentionPeriod"), clusterIdentifier: e.string("DBClusterIdentifier"),
                   createTime: e.date("InstanceCreateTime"), tags: e.list("TagList", "Tag").map(AWSTag.parse))
    }
}

public struct DBSnapshot: Sendable, Equatable {
    public var identifier: String
    public var arn: String?
    public var instanceIdentifier: String?
    public var status: String?
    public var snapshotType: String?
    public var createTime: Date?
    public var encrypted: Bool?
    public var kmsKeyId: String?
    public var percentProgress: Int?
    public var engine: String?
    public var sourceRegion: String?
    public var sourceSnapshotIdentifier: String?
    public var tags: [AWSTag]

    static func parse(_ e: XElement) -> DBSnapshot {
        DBSnapshot(identifier: e.string("DBSnapshotIdentifier") ?? "", arn: e.string("DBSnapshotArn"),
                   instanceIdentifier: e.string("DBInstanceIdentifier"), status: e.string("Status"),
                   snapshotType: e.string("SnapshotType"), createTime: e.date("SnapshotCreateTime"),
                   encrypted: e.bool("Encrypted"), kmsKeyId: e.string("KmsKeyId"), percentProgress: e.int("PercentProgress"),
                   engine: e.string("Engine"), sourceRegion: e.string("SourceRegion"),
                   sourceSnapshotIdentifier: e.string("SourceDBSnapshotIdentifier"), tags: e.list("TagList", "Tag").map(AWSTag.parse))
    }
}

public struct DBCluster: Sendable, Equatable {
    public var identifier: String
    public var arn: String?
    public var resourceId: String?
    public var createTime: Date?
    public var status: String?
    public var engine: String?
    public var engineVersion: String?
    public var endpoint: String?
    public var readerEndpoint: String?
    public var port: Int?
    public var subnetGroupName: String?
    public var vpcSecurityGroupIds: [String]
    public var parameterGroupName: String?
    public var multiAZ: Bool?
    public var storageEncrypted: Bool?
    public var kmsKeyId: String?
    public var earliestRestorableTime: Date?
    public var latestRestorableTime: Date?
    public var memberInstanceIdentifiers: [String]
    /// The member that is the cluster's writer (`IsClusterWriter`), if any.
    public var writerInstanceIdentifier: String?
    public var tags: [AWSTag]
    public var backupRetentionPeriod: Int?

    static func parse(_ e: XElement) -> DBCluster {
        DBCluster(identifier: e.string("DBClusterIdentifier") ?? "", arn: e.string("DBClusterArn"),
                  resourceId: e.string("DbClusterResourceId"), createTime: e.date("ClusterCreateTime"), status: e.string("Status"),
                  engine: e.string("Engine"), engineVersion: e.string("EngineVersion"), endpoint: e.string("Endpoint"),
                  readerEndpoint: e.string("ReaderEndpoint"), port: e.int("Port"), subnetGroupName: e.string("DBSubnetGroup"),
                  vpcSecurityGroupIds: e.list("VpcSecurityGroups", "VpcSecurityGroupMembership").compactMap { $0.string("VpcSecurityGroupId") },
                  parameterGroupName: e.string("DBClusterParameterGroup"), multiAZ: e.bool("MultiAZ"),
                  storageEncrypted: e.bool("StorageEncrypted"), kmsKeyId: e.string("KmsKeyId"),
                  earliestRestorableTime: e.date("EarliestRestorableTime"), latestRestorableTime: e.date("LatestRestorableTime"),
                  memberInstanceIdentifiers: e.list("DBClusterMembers", "DBClusterMember").compactMap { $0.string("DBInstanceIdentifier") },
                  writerInstanceIdentifier: e.list("DBClusterMembers", "DBClusterMember")
                      .first { $0.bool("IsClusterWriter") == true }?.string("DBInstanceIdentifier"),
                  tags: e.list("TagList", "Tag").map(AWSTag.parse), backupRetentionPeriod: e.int("BackupRetentionPeriod"))
    }
}

public struct DBClusterSnapshot: Sendable, Equatable {
    public var identifier: String
    public var arn: String?
    public var clusterIdentifier: String?
    public var status: String?
    public var snapshotType: String?
    public var createTime: Date?
    public var encrypted: Bool?
    public var kmsKeyId: String?
    public var percentProgress: Int?
    public var engine: String?
    public var tags: [AWSTag]

    static func parse(_ e: XElement) -> DBClusterSnapshot {
        DBClusterSnapshot(identifier: e.string("DBClusterSnapshotIdentifier") ?? "", arn: e.string("DBClusterSnapshotArn"),
                          clusterIdentifier: e.string("DBClusterIdentifier"), status: e.string("Status"),
                          snapshotType: e.string("SnapshotType"), createTime: e.date("SnapshotCreateTime"),
                          encrypted: e.bool("StorageEncrypted"), kmsKeyId: e.string("KmsKeyId"),
                          percentProgress: e.int("PercentProgress"), engine: e.string("Engine"),
                          tags: e.list("TagList", "Tag").map(AWSTag.parse))
    }
}

/// An instance's automated backups: where point-in-time restore can go (`RestoreWindow`).
public struct DBInstanceAutomatedBackup: Sendable, Equatable {
    public var instanceIdentifier: String?
    public var arn: String?
    public var resourceId: String?
    public var status: String?
    public var region: String?
    public var earliestTime: Date?
    public var latestTime: Date?
    public var encrypted: Bool?
    public var kmsKeyId: String?

    static func parse(_ e: XElement) -> DBInstanceAutomatedBackup {
        DBInstanceAutomatedBackup(instanceIdentifier: e.string("DBInstanceIdentifier"), arn: e.string("DBInstanceAutomatedBackupsArn"),
                                  resourceId: e.string("DbiResourceId"), status: e.string("Status"), region: e.string("Region"),
                                  earliestTime: e.date("RestoreWindow", "EarliestTime"), latestTime: e.date("RestoreWindow", "LatestTime"),
                                  encrypted: e.bool("Encrypted"), kmsKeyId: e.string("KmsKeyId"))
    }
}

/// A new DB instance: for Aurora, the instance that serves a cluster (it takes storage,
/// credentials, subnet group and security groups from the cluster).
public struct CreateDBInstanceInput: Sendable, Equatable {
    public var identifier: String
    public var instanceClass: String
    public var engine: String
    public var clusterIdentifier: String?
    public var parameterGroupName: String?
    public var availabilityZone: String?
    public var publiclyAccessible: Bool?
    public var tags: [AWSTag]
    /// Any other API parameter, by its Query name.
    public var extra: [String: String]

    public init(identifier: String, instanceClass: String, engine: String, clusterIdentifier: String? = nil,
                parameterGroupName: String? = nil, availabilityZone: String? = nil, publiclyAccessible: Bool? = nil,
                tags: [AWSTag] = [], extra: [String: String] = [:]) {
        self.identifier = identifier
        self.instanceClass = instanceClass
        self.engine = engine
        self.clusterIdentifier = clusterIdentifier
        self.parameterGroupName = parameterGroupName
        self.availabilityZone = availabilityZone
        self.publiclyAccessible = publiclyAccessible
        self.tags = tags
        self.extra = extra
    }
}

/// Where a restored instance or cluster goes and how it is shaped. Nil fields keep the source's.
public struct RDSRestoreOptions: Sendable, Equatable {
    public var instanceClass: String?
    public var subnetGroupName: String?
    public var vpcSecurityGroupIds: [String]
    public var parameterGroupName: String?
    public var availabilityZone: String?
    public var multiAZ: Bool?
    public var publiclyAccessible: Bool?
    public var port: Int?
    /// Aurora cluster restores only (RestoreDBCluster*): an instance restore keeps the
    /// snapshot's key, and its API has no such member (asking for one is refused).
    public var kmsKeyId: String?
    public var copyTagsToSnapshot: Bool?
    public var deletionProtection: Bool?
    public var tags: [AWSTag]
    /// Any other API parameter, by its Query name.
    public var extra: [String: String]

    public init(instanceClass: String? = nil, subnetGroupName: String? = nil, vpcSecurityGroupIds: [String] = [],
                parameterGroupName: String? = nil, availabilityZone: String? = nil, multiAZ: Bool? = nil,
                publiclyAccessible: Bool? = nil, port: Int? = nil, kmsKeyId: String? = nil, copyTagsToSnapshot: Bool? = nil,
                deletionProtection: Bool? = nil, tags: [AWSTag] = [], extra: [String: String] = [:]) {
        self.instanceClass = instanceClass
        self.subnetGroupName = subnetGroupName
        self.vpcSecurityGroupIds = vpcSecurityGroupIds
        self.parameterGroupName = parameterGroupName
        self.availabilityZone = availabilityZone
        self.multiAZ = multiAZ
        self.publiclyAccessible = publiclyAccessible
        self.port = port
        self.kmsKeyId = kmsKeyId
        self.copyTagsToSnapshot = copyTagsToSnapshot
        self.deletionProtection = deletionProtection
        self.tags = tags
        self.extra = extra
    }

    /// An instance restore cannot choose a key; say so instead of dropping it.
    func checkInstanceRestore(_ operation: String) throws {
        guard kmsKeyId == nil else {
            throw DRError(.invalidParameter, "\(operation) takes no KMS key: a restored DB instance keeps the key of its snapshot or source (\(param: .kmsKeyID) applies to Aurora cluster restores). Nothing was changed.")
        }
    }

    func apply(to p: inout QueryParams, cluster: Bool) {
        if cluster {
            p.add("DBSubnetGroupName", subnetGroupName)
            p.addList("VpcSecurityGroupIds", member: "VpcSecurityGroupId", vpcSecurityGroupIds)
            p.add("DBClusterParameterGroupName", parameterGroupName)
            p.add("DBClusterInstanceClass", instanceClass)
        } else {
            p.add("DBInstanceClass", instanceClass)
            p.add("DBSubnetGroupName", subnetGroupName)
            p.addList("VpcSecurityGroupIds", member: "VpcSecurityGroupId", vpcSecurityGroupIds)
            p.add("DBParameterGroupName", parameterGroupName)
            p.add("AvailabilityZone", availabilityZone)
            p.add("MultiAZ", multiAZ)
            p.add("PubliclyAccessible", publiclyAccessible)
            p.add("CopyTagsToSnapshot", copyTagsToSnapshot)
        }
        p.add("Port", port)
        // Only cluster restores take a key: a restored instance keeps its snapshot's.
        if cluster { p.add("KmsKeyId", kmsKeyId) }
        p.add("DeletionProtection", deletionProtection)
        p.addTags(tags)
    }
}

/// A cross-region (or same-region) snapshot copy. For an encrypted cross-region copy, set
/// `sourceRegion`: the client then sends a `PreSignedUrl` signed for the source region, as the SDKs do.
public struct RDSCopySnapshot: Sendable, Equatable {
    /// Identifier, or the ARN when the source is in another region.
    public var source: String
    public var target: String
    public var kmsKeyId: String?
    public var copyTags: Bool?
    public var tags: [AWSTag]
    public var sourceRegion: String?
    /// The source region's RDS endpoint, for the presigned URL (default: the public AWS endpoint).
    public var sourceEndpoint: URL?
    public var extra: [String: String]

    public init(source: String, target: String, kmsKeyId: String? = nil, copyTags: Bool? = nil, tags: [AWSTag] = [],
                sourceRegion: String? = nil, sourceEndpoint: URL? = nil, extra: [String: String] = [:]) {
        self.source = source
        self.target = target
        self.kmsKeyId = kmsKeyId
        self.copyTags = copyTags
        self.tags = tags
        self.sourceRegion = sourceRegion
        self.sourceEndpoint = sourceEndpoint
        self.extra = extra
    }
}
