@testable import DRAWS
import DRCore
import DRTestSupport
import Foundation
import XCTest

/// Every typed operation end to end against moto, over libcurl, with real SigV4 checked by moto.
final class MotoIntegrationTests: XCTestCase {
    static let transport = CurlTransport(options: .init(proxy: ProxySettings()))

    func config(region: String = "us-east-1", endpoint: URL? = nil, secret: String? = nil,
                retry: RetryPolicy = .standard(environment: [:])) throws -> AWSClientConfig {
        let key = try Moto.accessKey()
        return AWSClientConfig(region: region, endpoint: try endpoint ?? Moto.url(),
                               credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: key.id, secretAccessKey: secret ?? key.secret)),
                               transport: Self.transport, retry: retry)
    }

    static func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

    /// moto needs a source instance; creating one is not an operation `dr` needs, so it goes through the generic core.
    func createInstance(_ rds: RDSClient, _ id: String) async throws {
        var p = QueryParams()
        p.add("DBInstanceIdentifier", id)
        p.add("DBInstanceClass", "db.t3.micro")
        p.add("Engine", "postgres")
        p.add("AllocatedStorage", 20)
        p.add("MasterUsername", "dr")
        p.add("MasterUserPassword", "not-a-real-password")
        p.add("BackupRetentionPeriod", 7)
        _ = try await rds.client.send(p.request("CreateDBInstance"))
    }

    func createKMSKey(region: String) async throws -> String {
        let kms = KMSClient(config: try config(region: region))
        let response = try await kms.client.send(try AWSRequest.json("CreateKey", ["Description": "dr test key"]))
        struct Out: Decodable { struct M: Decodable { var KeyId: String; var Arn: String }; var KeyMetadata: M }
        return try response.decode(Out.self).KeyMetadata.Arn
    }

    func testRDSInstanceSnapshotLifecycleWithCrossRegionEncryptedCopyTagsAndRestore() async throws {
        let rds = RDSClient(config: try config())
        let id = Self.unique("db")
        try await createInstance(rds, id)

        let instance = try await rds.describeDBInstances(identifier: id).items.first
        XCTAssertEqual(instance?.identifier, id)
        XCTAssertEqual(instance?.status, "available")
        XCTAssertEqual(instance?.engine, "postgres")
        XCTAssertEqual(instance?.instanceClass, "db.t3.micro")
        XCTAssertNotNil(instance?.endpointAddress)
        XCTAssertNotNil(instance?.endpointPort)
        try await rds.waitForDBInstanceAvailable(id, timeout: 30)
        let backups = try await rds.describeDBInstanceAutomatedBackups(instanceIdentifier: id)
        XCTAssertNotNil(backups.items) // moto may list none; the call and decoding must work

        let snapId = Self.unique("snap")
        let snap = try await rds.createDBSnapshot(snapshotIdentifier: snapId, instanceIdentifier: id, tags: [AWSTag("dr:created-by", "dr")])
        XCTAssertEqual(snap.identifier, snapId)
        XCTAssertEqual(snap.instanceIdentifier, id)
        try await rds.waitForDBSnapshotAvailable(snapId, timeout: 30)
        let described = try await rds.describeDBSnapshots(snapshotIdentifier: snapId).items.first
        XCTAssertEqual(described?.status, "available")
        XCTAssertNotNil(described?.createTime)
        let arn = try XCTUnwrap(described?.arn)

        // Tags.
        try await rds.addTagsToResource(arn: arn, tags: [AWSTag("dr:week", "2026-W47")])
        let tags = try await rds.listTagsForResource(arn: arn)
        XCTAssertTrue(tags.contains(AWSTag("dr:created-by", "dr")), "\(tags)")
        XCTAssertTrue(tags.contains(AWSTag("dr:week", "2026-W47")), "\(tags)")

        // Encrypted copy to the DR region, with a PreSignedUrl for the source region.
        let keyArn = try await createKMSKey(region: "us-west-2")
        let west = RDSClient(config: try config(region: "us-west-2"))
        let copyId = Self.unique("copy")
        let copy = try await west.copyDBSnapshot(RDSCopySnapshot(source: arn, target: copyId, kmsKeyId: keyArn, copyTags: true,
                                                                 sourceRegion: "us-east-1", sourceEndpoint: try Moto.url()))
        XCTAssertEqual(copy.identifier, copyId)
        let maybeCopied = try await west.dbSnapshot(copyId)
        let copied = try XCTUnwrap(maybeCopied)
        XCTAssertEqual(copied.kmsKeyId, keyArn)
        XCTAssertTrue(copied.arn?.contains(":us-west-2:") ?? false, copied.arn ?? "")

        // Restores.
        let fromSnap = Self.unique("restored")
        let restored = try await rds.restoreDBInstanceFromDBSnapshot(snapshot: snapId, target: fromSnap,
                                                                     options: RDSRestoreOptions(instanceClass: "db.t3.small", multiAZ: false,
                                                                                                tags: [AWSTag("dr:created-by", "dr")]))
        XCTAssertEqual(restored.identifier, fromSnap)
        let pitr = Self.unique("pitr")
        let pitrInstance = try await rds.restoreDBInstanceToPointInTime(source: id, target: pitr, useLatestRestorableTime: true)
        XCTAssertEqual(pitrInstance.identifier, pitr)

        // Pagination over many snapshots with a small page size.
        for i in 0..<7 { _ = try await rds.createDBSnapshot(snapshotIdentifier: "\(snapId)-p\(i)", instanceIdentifier: id) }
        let all = try await rds.describeAllDBSnapshots(instanceIdentifier: id, pageSize: 20)
        let manual = all.filter { $0.identifier.hasPrefix(snapId) }
        XCTAssertEqual(manual.count, 8)
        XCTAssertEqual(Set(manual.map(\.identifier)).count, 8)
        let pagesOf3 = try await countPages { marker in try await rds.describeDBSnapshots(instanceIdentifier: id, marker: marker, maxRecords: 20) }
        XCTAssertGreaterThanOrEqual(pagesOf3, 1)

        // Deletes.
        for i in 0..<7 { _ = try await rds.deleteDBSnapshot("\(snapId)-p\(i)") }
        _ = try await rds.deleteDBSnapshot(snapId)
        try await rds.waitForDBSnapshotDeleted(snapId, timeout: 30)
        _ = try await west.deleteDBSnapshot(copyId)
        for target in [fromSnap, pitr, id] {
            _ = try await rds.deleteDBInstance(target, skipFinalSnapshot: true)
        }
        try await rds.waitForDBInstanceDeleted(id, timeout: 30)
        let gone = try await rds.dbInstance(id)
        XCTAssertNil(gone)
    }

    func countPages<T>(_ fetch: (String?) async throws -> MarkerPage<T>) async throws -> Int {
        var pages = 0
        _ = try await Paginator.collect { (marker: String?) in pages += 1; return try await fetch(marker) }
        return pages
    }

    func testPaginationWithMarkerAcrossManyInstances() async throws {
        let rds = RDSClient(config: try config(region: "eu-west-1"))
        let prefix = Self.unique("pg")
        for i in 0..<25 { try await createInstance(rds, "\(prefix)-\(i)") }
        let all = try await rds.describeAllDBInstances(pageSize: 20)
        let mine = all.filter { $0.identifier.hasPrefix(prefix) }
        XCTAssertEqual(mine.count, 25)
        let first = try await rds.describeDBInstances(maxRecords: 20)
        XCTAssertEqual(first.items.count, 20)
        XCTAssertNotNil(first.next, "a second page must be announced with a Marker")
        for i in 0..<25 { _ = try await rds.deleteDBInstance("\(prefix)-\(i)", skipFinalSnapshot: true) }
    }

    func testRDSClusterSnapshotsAndRestores() async throws {
        let rds = RDSClient(config: try config())
        let cluster = Self.unique("cl")
        var p = QueryParams()
        p.add("DBClusterIdentifier", cluster)
        p.add("Engine", "aurora-postgresql")
        p.add("MasterUsername", "dr")
        p.add("MasterUserPassword", "not-a-real-password")
        _ = try await rds.client.send(p.request("CreateDBCluster"))
        let clusters = try await rds.describeDBClusters(identifier: cluster).items
        let described = try XCTUnwrap(clusters.first)
        XCTAssertEqual(described.engine, "aurora-postgresql")
        try await rds.waitForDBClusterAvailable(cluster, timeout: 30)

        let snap = Self.unique("clsnap")
        let created = try await rds.createDBClusterSnapshot(snapshotIdentifier: snap, clusterIdentifier: cluster)
        XCTAssertEqual(created.identifier, snap)
        try await rds.waitForDBClusterSnapshotAvailable(snap, timeout: 30)
        let listed = try await rds.describeDBClusterSnapshots(clusterIdentifier: cluster).items.map(\.identifier)
        XCTAssertTrue(listed.contains(snap))
        let copy = try await rds.copyDBClusterSnapshot(RDSCopySnapshot(source: snap, target: snap + "-copy"))
        XCTAssertEqual(copy.identifier, snap + "-copy")

        let fromSnap = try await rds.restoreDBClusterFromSnapshot(snapshot: snap, target: cluster + "-r", engine: "aurora-postgresql")
        XCTAssertEqual(fromSnap.identifier, cluster + "-r")
        let pitr = try await rds.restoreDBClusterToPointInTime(source: cluster, target: cluster + "-p", useLatestRestorableTime: true)
        XCTAssertEqual(pitr.identifier, cluster + "-p")

        _ = try await rds.deleteDBClusterSnapshot(snap + "-copy")
        _ = try await rds.deleteDBClusterSnapshot(snap)
        for c in [cluster + "-r", cluster + "-p", cluster] { _ = try await rds.deleteDBCluster(c, skipFinalSnapshot: true) }
        let missing = try await rds.dbCluster(cluster)
        XCTAssertNil(missing)
    }

    func testElastiCacheSnapshotsAndReplicationGroups() async throws {
        let ec = ElastiCacheClient(config: try config())
        let group = Self.unique("rg")
        let created = try await ec.createReplicationGroup(CreateReplicationGroupInput(id: group, description: "dr test", nodeType: "cache.t3.micro",
                                                                                     numCacheClusters: 1, snapshotRetentionLimit: 7))
        XCTAssertEqual(created.id, group)
        try await ec.waitForReplicationGroupAvailable(group, timeout: 30)
        let groups = try await ec.describeReplicationGroups(id: group).items
        let described = try XCTUnwrap(groups.first)
        XCTAssertEqual(described.description, "dr test")

        let snap = Self.unique("ecsnap")
        let s = try await ec.createSnapshot(name: snap, replicationGroupId: group)
        XCTAssertEqual(s.name, snap)
        try await ec.waitForSnapshotAvailable(snap, timeout: 30)
        let listed = try await ec.describeSnapshots(name: snap).items
        XCTAssertEqual(listed.first?.name, snap)
        let restored = try await ec.createReplicationGroup(CreateReplicationGroupInput(id: group + "-r", description: "restored",
                                                                                      snapshotName: snap, nodeType: "cache.t3.micro",
                                                                                      numCacheClusters: 1))
        XCTAssertEqual(restored.id, group + "-r")
        _ = try await ec.deleteSnapshot(name: snap)
        let after = try await ec.describeAllSnapshots().map(\.name)
        XCTAssertFalse(after.contains(snap))
    }

    func testRoute53ChangesAndRecordPagination() async throws {
        let r53 = Route53Client(config: try config(region: "eu-west-1", endpoint: try Moto.noAuthURL()))
        let zoneName = "\(Self.unique("z")).example.com."
        let body = "<CreateHostedZoneRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Name>\(zoneName)</Name><CallerReference>\(UUID().uuidString)</CallerReference></CreateHostedZoneRequest>"
        _ = try await r53.client.send(AWSRequest(operation: "CreateHostedZone", input: .rest(method: "POST", path: "/2013-04-01/hostedzone", body: Data(body.utf8))))
        let maybeZone = try await r53.hostedZone(named: zoneName)
        let zone = try XCTUnwrap(maybeZone)
        XCTAssertFalse(zone.id.contains("/"))

        let change = try await r53.changeResourceRecordSets(zoneId: zone.id, changes: [
            RecordChange(.upsert, ResourceRecordSet(name: "db.\(zoneName)", type: "CNAME", ttl: 60, values: ["primary.example.net"])),
        ], comment: "dr failover")
        XCTAssertFalse(change.id.isEmpty)
        try await r53.waitForChangeInsync(id: change.id, timeout: 60)
        let status = try await r53.getChange(id: change.id)
        XCTAssertEqual(status.status, "INSYNC")

        var changes: [RecordChange] = []
        for i in 0..<12 { changes.append(RecordChange(.create, ResourceRecordSet(name: "h\(i).\(zoneName)", type: "A", ttl: 300, values: ["10.0.0.\(i)"]))) }
        _ = try await r53.changeResourceRecordSets(zoneId: zone.id, changes: changes)
        let first = try await r53.listResourceRecordSets(zoneId: zone.id, maxItems: 5)
        XCTAssertEqual(first.items.count, 5)
        XCTAssertNotNil(first.next)
        let all = try await r53.listAllResourceRecordSets(zoneId: zone.id, pageSize: 5)
        XCTAssertEqual(Set(all.map { "\($0.name) \($0.type)" }).count, all.count, "no record twice")
        XCTAssertEqual(all.filter { $0.type == "A" }.count, 12)
        XCTAssertEqual(all.first { $0.type == "CNAME" }?.values, ["primary.example.net"])

        // Health check status (moto reports every health check healthy).
        let hcBody = "<CreateHealthCheckRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><CallerReference>\(UUID().uuidString)</CallerReference><HealthCheckConfig><IPAddress>10.0.0.1</IPAddress><Port>5432</Port><Type>TCP</Type></HealthCheckConfig></CreateHealthCheckRequest>"
        let hc = try await r53.client.send(AWSRequest(operation: "CreateHealthCheck", input: .rest(method: "POST", path: "/2013-04-01/healthcheck", body: Data(hcBody.utf8)))).xml()
        let hcId = try XCTUnwrap(hc.string("HealthCheck", "Id"))
        let observations = try await r53.getHealthCheckStatus(id: hcId)
        XCTAssertNotNil(observations)

        do {
            _ = try await r53.listResourceRecordSets(zoneId: "ZNOSUCHZONE")
            XCTFail("expected NoSuchHostedZone")
        } catch let error as AWSError {
            XCTAssertEqual(error.code, "NoSuchHostedZone")
            XCTAssertEqual(error.service, "Route 53")
        }
    }

    func testSecretsManagerValueIsFetchedAndNeverPrinted() async throws {
        let sm = SecretsManagerClient(config: try config())
        let name = "production/\(Self.unique("app"))/database/main"
        let value = #"{"host":"db.internal","port":5432,"username":"app","password":"s3cr3t-pw","database":"app"}"#
        _ = try await sm.client.send(try AWSRequest.json("CreateSecret", ["Name": name, "SecretString": value]))
        let secret = try await sm.getSecretValue(secretId: name)
        XCTAssertEqual(secret.secretString, value)
        XCTAssertEqual(try secret.jsonFields()["port"], "5432")
        XCTAssertFalse("\(secret)".contains("s3cr3t"))
        do {
            _ = try await sm.getSecretValue(secretId: "no/such/secret")
            XCTFail("expected ResourceNotFoundException")
        } catch let error as AWSError {
            XCTAssertEqual(error.code, "ResourceNotFoundException")
            XCTAssertTrue(error.isNotFound)
        }
    }

    func testSTSIdentityAndAssumeRole() async throws {
        let sts = STSClient(config: try config())
        let me = try await sts.getCallerIdentity()
        XCTAssertEqual(me.account.count, 12)
        XCTAssertTrue(me.arn.hasSuffix(":user/dr-test"), me.arn)

        let assumer = STSRoleAssumer(endpoint: { ResolvedEndpoint(url: try! Moto.url(), signingRegion: $0, source: "test") }, transport: Self.transport)
        let key = try Moto.accessKey()
        let role = "arn:aws:iam::\(me.account):role/dr-restore"
        let creds = try await assumer.assumeRole(using: AWSCredentials(accessKeyId: key.id, secretAccessKey: key.secret), roleArn: role,
                                                 sessionName: "dr", externalId: nil, durationSeconds: 900, region: "us-east-1")
        XCTAssertNotNil(creds.sessionToken)
        XCTAssertNotNil(creds.expiration)
        XCTAssertFalse("\(creds)".contains(creds.secretAccessKey))

        let noAuth = STSRoleAssumer(endpoint: { ResolvedEndpoint(url: try! Moto.noAuthURL(), signingRegion: $0, source: "test") }, transport: Self.transport)
        let web = try await noAuth.assumeRoleWithWebIdentity(roleArn: role, sessionName: "dr-web", webIdentityToken: "token-from-oidc",
                                                             durationSeconds: nil, region: "us-east-1")
        XCTAssertFalse(web.accessKeyId.isEmpty)
    }

    func testKMSDescribeKey() async throws {
        let arn = try await createKMSKey(region: "us-east-1")
        let kms = KMSClient(config: try config())
        let key = try await kms.describeKey(arn)
        XCTAssertEqual(key.arn, arn)
        XCTAssertEqual(key.enabled, true)
        XCTAssertEqual(key.keyState, "Enabled")
        do {
            _ = try await kms.describeKey("alias/none")
            XCTFail("expected NotFoundException")
        } catch let error as AWSError {
            XCTAssertEqual(error.code, "NotFoundException")
        }
    }

    func testWrongSecretKeyIsAClearAuthenticationErrorWithoutRetries() async throws {
        final class Counting: HTTPTransport, @unchecked Sendable {
            let inner: any HTTPTransport
            let lock = NSLock()
            var count = 0
            init(_ inner: any HTTPTransport) { self.inner = inner }
            func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
                lock.withLock { count += 1 }
                return try await inner.send(request, timeout: timeout)
            }
        }
        let counting = Counting(Self.transport)
        var cfg = try config(secret: "definitely-not-the-secret-key")
        cfg.transport = counting
        cfg.retry = RetryPolicy(maxAttempts: 5)
        for (name, call) in [("RDS", { _ = try await RDSClient(config: cfg).describeDBInstances() }),
                             ("Secrets Manager", { _ = try await SecretsManagerClient(config: cfg).getSecretValue(secretId: "x") })] as [(String, () async throws -> Void)] {
            counting.lock.withLock { counting.count = 0 }
            do {
                try await call()
                XCTFail("\(name): a wrong secret key must fail")
            } catch let error as AWSError {
                XCTAssertTrue(["SignatureDoesNotMatch", "InvalidSignatureException"].contains(error.code), "\(name): \(error)")
                XCTAssertEqual(error.status, 403, "\(name)")
                XCTAssertFalse(error.description.contains("definitely-not"), error.description)
                XCTAssertEqual(error.drError.exitStatus, .remote)
            }
            XCTAssertEqual(counting.lock.withLock { counting.count }, 1, "\(name): no retry loop on an authentication error")
        }
    }
}
