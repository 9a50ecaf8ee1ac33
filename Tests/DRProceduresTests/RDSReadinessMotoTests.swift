import DRAWS
import DRCore
@testable import DRProcedures
import DRTestSupport
import Foundation
import XCTest

/// `check()` of an rds target against moto (auth on): it passes on a prepared platform and, after
/// each kind of drift, fails naming the check that found it.
final class RDSReadinessMotoTests: XCTestCase {
    /// A source with a weekly snapshot and its DR copy, the DR key, a DR subnet group, security
    /// group, parameter group and cache subnet group, the secret replicated to the DR region,
    /// a Route 53 record, and a cache with daily snapshots kept 7 days.
    struct Prepared {
        let fixture: RDSMotoFixture
        let settings: RDSTargetSettings
        let copyID: String
        let zone: String

        func provider(clock: DRClock = SystemClock()) throws -> RDSProvider {
            let target = Target(name: fixture.target.name, provider: .rds(settings))
            var context = fixture.context()
            context.clock = clock
            return try RDSProvider(target: target, settings: settings, context: context)
        }
    }

    static func prepare() async throws -> Prepared {
        let f = try await RDSMotoFixture.make(cache: false)
        try await f.createPlatform()
        let dr = RDSMotoFixture.dr
        // The DR region's network: a VPC, two subnets, a security group, and the groups on them.
        let ec2 = try f.session.ec2(dr)
        var vpc = QueryParams()
        vpc.add("CidrBlock", "10.42.0.0/16")
        let vpcXML = try await ec2.client.send(vpc.request("CreateVpc")).xml()
        let vpcID = try XCTUnwrap(vpcXML.string("vpc", "vpcId"))
        var subnets: [String] = []
        for (i, az) in ["us-west-2a", "us-west-2b"].enumerated() {
            var s = QueryParams()
            s.add("VpcId", vpcID)
            s.add("CidrBlock", "10.42.\(i).0/24")
            s.add("AvailabilityZone", az)
            let subnetXML = try await ec2.client.send(s.request("CreateSubnet")).xml()
            subnets.append(try XCTUnwrap(subnetXML.string("subnet", "subnetId")))
        }
        var sg = QueryParams()
        sg.add("GroupName", "db-\(f.id)")
        sg.add("GroupDescription", "database")
        sg.add("VpcId", vpcID)
        let sgXML = try await ec2.client.send(sg.request("CreateSecurityGroup")).xml()
        let sgID = try XCTUnwrap(sgXML.string("groupId"))
        let rdsDR = try f.session.rds(dr)
        var group = QueryParams()
        group.add("DBSubnetGroupName", "db-\(f.id)")
        group.add("DBSubnetGroupDescription", "DR")
        group.addList("SubnetIds", member: "SubnetIdentifier", subnets)
        _ = try await rdsDR.client.send(group.request("CreateDBSubnetGroup"))
        var params = QueryParams()
        params.add("DBParameterGroupName", "pg-\(f.id)")
        params.add("DBParameterGroupFamily", "postgres15")
        params.add("Description", "DR")
        _ = try await rdsDR.client.send(params.request("CreateDBParameterGroup"))
        var cacheGroup = QueryParams()
        cacheGroup.add("CacheSubnetGroupName", "cache-\(f.id)")
        cacheGroup.add("CacheSubnetGroupDescription", "DR")
        cacheGroup.addList("SubnetIds", member: "SubnetIdentifier", subnets)
        _ = try await f.session.elastiCache(dr).client.send(cacheGroup.request("CreateCacheSubnetGroup"))

        // The cache at home: daily snapshots kept 7 days, and one taken.
        let cache = try f.session.elastiCache(RDSMotoFixture.primary)
        var rg = QueryParams()
        for (k, v) in [("ReplicationGroupId", "\(f.id)-redis"), ("ReplicationGroupDescription", "cache"), ("CacheNodeType", "cache.t3.micro"), ("Engine", "redis")] { rg.add(k, v) }
        rg.add("NumCacheClusters", 1)
        rg.add("SnapshotRetentionLimit", 7)
        _ = try await cache.client.send(rg.request("CreateReplicationGroup"))

        // The secret, replicated to the DR region.
        let secrets = try f.session.secretsManager(RDSMotoFixture.primary)
        _ = try await secrets.client.send(try AWSRequest.json("ReplicateSecretToRegions", ReplicateInput(SecretId: "production/\(f.id)/database/main", AddReplicaRegions: [.init(Region: dr)])))

        var settings = f.settings
        settings.cacheReplicationGroup = "\(f.id)-redis"
        settings.drRestore = DRRestoreSettings(subnetGroup: "db-\(f.id)", securityGroups: [sgID], parameterGroup: "pg-\(f.id)",
                                               cacheSubnetGroup: "cache-\(f.id)")
        let zone = "\(f.id).example.com"
        settings.dns = DNSSettings(zone: zone, record: "db.\(zone)")
        let prepared = Prepared(fixture: f, settings: settings, copyID: "", zone: zone)
        let provider = try prepared.provider()
        _ = try await provider.snapshot(SnapshotRequest(weekly: true))
        let copy = try await provider.copy(CopyRequest(snapshot: "latest"))
        let r53 = try f.session.route53()
        let body = "<CreateHostedZoneRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Name>\(zone).</Name><CallerReference>\(f.id)</CallerReference></CreateHostedZoneRequest>"
        _ = try await r53.client.send(AWSRequest(operation: "CreateHostedZone", input: .rest(method: "POST", path: "/2013-04-01/hostedzone", body: Data(body.utf8))))
        _ = try await Providers.dns(context: f.context()).run(.init(zone: zone, record: "db.\(zone)", to: "primary.\(zone)", ttl: 60, create: true))
        return Prepared(fixture: f, settings: settings, copyID: try XCTUnwrap(copy.copy), zone: zone)
    }

    struct ReplicateInput: Encodable {
        struct Region: Encodable { var Region: String }
        var SecretId: String
        var AddReplicaRegions: [Region]
    }

    func status(_ report: ReadinessReport, _ name: String) -> ReadinessCheck.Status? { report.checks.first { $0.name == name }?.status }

    func testPassesOnThePreparedPlatformAndFailsNamingEachDrift() async throws {
        let p = try await Self.prepare()
        let f = p.fixture
        let started = Date()
        let ready = try await p.provider().check()
        let seconds = Date().timeIntervalSince(started)
        XCTAssertTrue(ready.passed, ready.checks.filter { $0.status == .failed }.map { "\($0.name): \($0.found)" }.joined(separator: "\n"))
        XCTAssertLessThan(seconds, 2, "every check at once against moto")
        let names = ready.checks.map(\.name)
        for name in ["snapshot_age", "automated_backups", "dr_copy", "dr_kms_key", "dr_subnet_group", "dr_security_groups", "dr_parameter_group",
                     "dr_instance_class", "secret_replication", "dns_record", "cache_snapshot", "cache_retention", "dr_cache_subnet_group"] {
            XCTAssertTrue(names.contains(name), "\(name) in \(names)")
        }
        XCTAssertEqual(ready.checks.first { $0.name == "dns_record" }?.found, "db.\(p.zone) → primary.\(p.zone)")
        XCTAssertFalse(ready.checks.map(\.found).joined().contains("s3cr3t-Pa55"), "no secret value in a check")

        // Older than the policy: the same platform, nine days later.
        let later = try await p.provider(clock: ManualClock(Date().addingTimeInterval(9 * 86400))).check()
        XCTAssertEqual(status(later, "snapshot_age"), .failed)
        XCTAssertEqual(status(later, "dr_copy"), .failed)

        // The DR key disabled.
        let kms = try f.session.kms(RDSMotoFixture.dr)
        let keyID = try await kms.describeKey("alias/dr-backups-\(f.id)").keyId
        _ = try await kms.client.send(try AWSRequest.json("DisableKey", ["KeyId": keyID]))
        var report = try await p.provider().check()
        XCTAssertEqual(status(report, "dr_kms_key"), .failed, "\(report.checks)")
        XCTAssertEqual(report.failures.map(\.name), ["dr_kms_key"])
        XCTAssertTrue(report.failures[0].fix?.contains("enable-key") == true)
        _ = try await kms.client.send(try AWSRequest.json("EnableKey", ["KeyId": keyID]))

        // The DR subnet group deleted.
        var delete = QueryParams()
        delete.add("DBSubnetGroupName", "db-\(f.id)")
        _ = try await f.session.rds(RDSMotoFixture.dr).client.send(delete.request("DeleteDBSubnetGroup"))
        report = try await p.provider().check()
        XCTAssertEqual(report.failures.map(\.name), ["dr_subnet_group"])

        // The secret's replication removed.
        struct Remove: Encodable { var SecretId: String; var RemoveReplicaRegions: [String] }
        _ = try await f.session.secretsManager(RDSMotoFixture.primary).client.send(
            try AWSRequest.json("RemoveRegionsFromReplication", Remove(SecretId: "production/\(f.id)/database/main", RemoveReplicaRegions: [RDSMotoFixture.dr])))
        report = try await p.provider().check()
        XCTAssertEqual(report.failures.map(\.name), ["dr_subnet_group", "secret_replication"])

        // The DR copy deleted.
        var deleteCopy = QueryParams()
        deleteCopy.add("DBSnapshotIdentifier", p.copyID)
        _ = try await f.session.rds(RDSMotoFixture.dr).client.send(deleteCopy.request("DeleteDBSnapshot"))
        report = try await p.provider().check()
        XCTAssertEqual(report.failures.map(\.name), ["dr_copy", "dr_subnet_group", "secret_replication"])
        XCTAssertTrue(report.failures[0].found.contains("no copy"), report.failures[0].found)

        // The DR-restore scope reads the DR region alone and still names what is missing.
        let drOnly = try await p.provider().check(ReadinessRequest(scope: .drRestore))
        XCTAssertFalse(drOnly.checks.contains { $0.name == "snapshot_age" || $0.name == "secret_replication" })
        XCTAssertEqual(drOnly.failures.map(\.name), ["dr_copy", "dr_subnet_group", "dr_secret"], "the replica went with the replication")

        // A class the DR region does not offer.
        var unoffered = p.settings
        unoffered.drRestore?.instanceClass = "db.bogus9.huge"
        let target = Target(name: f.target.name, provider: .rds(unoffered))
        let classCheck = try await RDSProvider(target: target, settings: unoffered, context: f.context()).check(ReadinessRequest(scope: .drRestore))
        XCTAssertEqual(classCheck.checks.first { $0.name == "dr_instance_class" }?.status, .failed)
    }
}
