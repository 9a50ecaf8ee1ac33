import DRAWS
import DRCore
import DRTestSupport
import Foundation
import XCTest

/// Issue 10 on rds, through the built binary against moto (auth on; Route 53 on the no-auth
/// instance): a target repointed at another instance, teardown of a failed-over instance and of
/// instances with forged tags, a re-run with another point, failover twice then undone,
/// teardown in the DR region without --region, ad-hoc snapshots in one second.
final class SafetyRDSTests: XCTestCase {
    var m: MotoCLI!
    var config = ""

    override func setUp() async throws {
        m = try MotoCLI.make()
        try await m.createInstance("\(m.id)-a")
        config = try writeConfig(instance: "\(m.id)-a")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: m.dir) }

    func writeConfig(instance: String, dns: Bool = false) throws -> String {
        let file = m.dir + "/dr.yml"
        try """
        targets:
          prod:
            provider: rds
            region: us-east-1
            instance: \(instance)
            dr_region: us-west-2
            retention: { weekly: 2, dr_region: 2 }
        \(dns ? "    dns: { zone: \(m.id).example.com, record: db.\(m.id).example.com }" : "")
        """.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func dr(_ arguments: [String]) throws -> ProcessResult {
        try DRBinary.run(arguments + ["--config", config], environment: m.env)
    }

    func json(_ r: ProcessResult) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout + r.stderr)
    }

    func instances(_ client: String = "rds") throws -> [String] {
        let out = try m.boto("print(json.dumps(sorted(i['DBInstanceIdentifier'] for i in \(client).describe_db_instances()['DBInstances'] if ID in i['DBInstanceIdentifier'])))")
        return try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String] ?? []
    }

    // MARK: Finding 1: a repointed target starts a new series and never uses the other database's snapshots

    func testARepointedTargetStartsANewSeriesAndNeverRestoresTheOtherDatabase() async throws {
        let first = try json(try dr(["snapshot", "prod", "--weekly", "--output", "json"]))
        let ofA = try XCTUnwrap(first["id"] as? String)
        XCTAssertEqual(first["created"] as? Bool, true)

        // A blue/green switch: the target's instance is now another database. (moto gives every
        // instance the same DbiResourceId; their creation times tell them apart.)
        try await m.createInstance("\(m.id)-b")
        config = try writeConfig(instance: "\(m.id)-b")
        let weekly = try dr(["snapshot", "prod", "--weekly", "--output", "json"])
        XCTAssertEqual(weekly.status, 0, weekly.stderr)
        let second = try json(weekly)
        let ofB = try XCTUnwrap(second["id"] as? String)
        XCTAssertEqual(second["created"] as? Bool, true, "this week's snapshot of the old instance is not this database's: \(weekly.stdout)")
        XCTAssertNotEqual(ofA, ofB)
        XCTAssertTrue(weekly.stdout.contains("new series"), weekly.stdout)
        let again = try json(try dr(["snapshot", "prod", "--weekly", "--output", "json"]))
        XCTAssertEqual(again["created"] as? Bool, false)
        XCTAssertEqual(again["id"] as? String, ofB, "the new series is idempotent too")

        let refused = try dr(["restore", "prod", "--from-snapshot", ofA, "--as", "\(m.id)-wrong"])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("is of another database") && refused.stderr.contains("\(m.id)-b"), refused.stderr)
        XCTAssertFalse(try instances().contains("\(m.id)-wrong"))

        let latest = try dr(["restore", "prod", "--from-snapshot", "latest", "--as", "\(m.id)-right", "--timeout", "60", "--output", "json"])
        XCTAssertEqual(latest.status, 0, latest.stderr)
        XCTAssertEqual(try json(latest)["snapshot"] as? String, ofB)
        let status = try json(try dr(["status", "prod", "--output", "json"]))
        let listed = (status["snapshots"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        XCTAssertTrue(listed.contains(ofB) && !listed.contains(ofA), "only the database's own (its automated ones too): \(listed)")
        XCTAssertEqual(try dr(["teardown", "\(m.id)-right"]).status, 0)
    }

    // MARK: Findings 2, 4, 5: failover history; teardown of the failed-over instance and of forged tags

    func testFailoverTwiceThenUndoAndTeardownRefusesWhatServesProduction() async throws {
        config = try writeConfig(instance: "\(m.id)-a", dns: true)
        _ = try m.boto("r53.create_hosted_zone(Name=f'{ID}.example.com.', CallerReference=ID)")
        let source = try m.boto("print(rds.describe_db_instances(DBInstanceIdentifier=f'{ID}-a')['DBInstances'][0]['Endpoint']['Address'])")
        let create = try DRBinary.run(["failover", "--zone", "\(m.id).example.com", "--record", "db.\(m.id).example.com", "--to", source, "--create"], environment: m.env)
        XCTAssertEqual(create.status, 0, create.stderr)
        XCTAssertEqual(try dr(["snapshot", "prod"]).status, 0)
        let restore = try json(try dr(["restore", "prod", "--from-snapshot", "latest", "--as", "\(m.id)-r", "--timeout", "60", "--output", "json"]))
        let host = try XCTUnwrap(restore["failover_to"] as? String)

        XCTAssertEqual(try dr(["failover", "prod", "--to", host]).status, 0)
        let twice = try dr(["failover", "prod", "--to", host, "--output", "json"])
        XCTAssertEqual(twice.status, 0, twice.stderr)
        XCTAssertEqual(try json(twice)["changed"] as? Bool, false)
        let history = try dr(["failover", "prod", "--history"])
        XCTAssertTrue(history.stdout.contains(source) && history.stdout.contains(host), history.stdout)

        let refused = try dr(["teardown", "--instance", "\(m.id)-r"])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("points at it now"), refused.stderr)
        XCTAssertTrue(try instances().contains("\(m.id)-r"))

        XCTAssertEqual(try dr(["failover", "prod", "--undo"]).status, 0)
        let record = try m.boto("""
        zone = r53.list_hosted_zones_by_name(DNSName=f'{ID}.example.com.')['HostedZones'][0]['Id']
        rr = [r for r in r53.list_resource_record_sets(HostedZoneId=zone)['ResourceRecordSets'] if r['Name'].startswith('db.')][0]
        print(rr['ResourceRecords'][0]['Value'])
        """)
        XCTAssertEqual(record.trimmingCharacters(in: CharacterSet(charactersIn: ".")), source.trimmingCharacters(in: CharacterSet(charactersIn: ".")),
                       "back to the source after two runs and one undo")
        XCTAssertEqual(try dr(["teardown", "--instance", "\(m.id)-r"]).status, 0)
    }

    func testTeardownRefusesForgedTagsAndTheTargetsOwnInstance() async throws {
        // dr's restore tags put by hand on databases dr did not make.
        _ = try m.boto("""
        import datetime
        def make(name, extra):
            tags = {"dr:managed": "true", "dr:kind": "restore", "dr:target": "prod", "dr:restored-from": "x", "dr:restore-point": "latest", **extra}
            rds.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres", AllocatedStorage=20,
                                   MasterUsername="app", MasterUserPassword="pw-12345678", Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        make(f"{ID}-no-source", {})
        make(f"{ID}-own-source", {})
        own = rds.describe_db_instances(DBInstanceIdentifier=f"{ID}-own-source")['DBInstances'][0]
        t = own['InstanceCreateTime'].astimezone(datetime.timezone.utc)
        created = t.strftime('%Y-%m-%dT%H:%M:%S.') + f'{t.microsecond // 1000:03d}Z'
        rds.add_tags_to_resource(ResourceName=own['DBInstanceArn'], Tags=[{"Key": "dr:source-id", "Value": own['DbiResourceId'] + "@" + created}])
        a = rds.describe_db_instances(DBInstanceIdentifier=f"{ID}-a")['DBInstances'][0]
        rds.add_tags_to_resource(ResourceName=a['DBInstanceArn'], Tags=[{"Key": k, "Value": v} for k, v in
            {"dr:managed": "true", "dr:kind": "restore", "dr:target": "prod", "dr:restored-from": "x", "dr:restore-point": "latest", "dr:source-id": "db-OTHER@2026-01-01T00:00:00Z"}.items()])
        """)
        let noSource = try dr(["teardown", "--instance", "\(m.id)-no-source"])
        XCTAssertEqual(noSource.status, 2, noSource.stderr)
        XCTAssertTrue(noSource.stderr.contains("dr:source-id"), noSource.stderr)
        let ownSource = try dr(["teardown", "--instance", "\(m.id)-own-source"])
        XCTAssertEqual(ownSource.status, 2, ownSource.stderr)
        XCTAssertTrue(ownSource.stderr.contains("restored from itself"), ownSource.stderr)
        let target = try dr(["teardown", "--instance", "\(m.id)-a"])
        XCTAssertEqual(target.status, 2, target.stderr)
        XCTAssertTrue(target.stderr.contains("it is the database of target prod"), target.stderr)
        XCTAssertEqual(try instances(), ["\(m.id)-a", "\(m.id)-no-source", "\(m.id)-own-source"])
    }

    // MARK: Finding 3: a re-run with another point

    func testARestoreReRunWithAnotherPointIsRefusedAndItsTagsKept() async throws {
        let snapshot = try json(try dr(["snapshot", "prod", "--output", "json"]))
        let id = try XCTUnwrap(snapshot["id"] as? String)
        let first = try dr(["restore", "prod", "--from-snapshot", id, "--as", "\(m.id)-x", "--timeout", "60"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let tags = { try self.m.boto("""
            i = rds.describe_db_instances(DBInstanceIdentifier=f'{ID}-x')['DBInstances'][0]
            print(json.dumps(sorted((t['Key'], t['Value']) for t in rds.list_tags_for_resource(ResourceName=i['DBInstanceArn'])['TagList'] if t['Key'].startswith('dr:'))))
            """) }
        let before = try tags()
        XCTAssertTrue(before.contains("dr:source-id"), before)
        let other = try dr(["restore", "prod", "--latest-restorable", "--as", "\(m.id)-x"])
        XCTAssertEqual(other.status, 2, other.stderr)
        XCTAssertTrue(other.stderr.contains("already"), other.stderr)
        XCTAssertEqual(try tags(), before, "the restore's tags are not rewritten")
        let same = try json(try dr(["restore", "prod", "--from-snapshot", id, "--as", "\(m.id)-x", "--timeout", "60", "--output", "json"]))
        XCTAssertEqual(same["adopted"] as? Bool, true)
        XCTAssertEqual(try dr(["teardown", "\(m.id)-x"]).status, 0)
    }

    // MARK: Findings 7, 8: ad-hoc snapshots in one second; teardown in the DR region without --region

    func testAdhocSnapshotsInOneSecondAndTeardownInTheDRRegionWithoutARegion() async throws {
        let first = try json(try dr(["snapshot", "prod", "--output", "json"]))
        let second = try json(try dr(["snapshot", "prod", "--output", "json"]))
        XCTAssertEqual(first["created"] as? Bool, true)
        XCTAssertEqual(second["created"] as? Bool, true, "never skipped as 'already exists'")
        XCTAssertNotEqual(first["id"] as? String, second["id"] as? String)

        XCTAssertEqual(try dr(["copy", "prod", "--snapshot", second["id"] as? String ?? ""]).status, 0)
        let restore = try dr(["restore", "prod", "--from-snapshot", "latest", "--from-dr", "--as", "\(m.id)-dr", "--timeout", "60"])
        XCTAssertEqual(restore.status, 0, restore.stderr)
        XCTAssertEqual(try instances("rds_dr"), ["\(m.id)-dr"])
        // By instance id, no --region: found in the DR region.
        let down = try dr(["teardown", "--instance", "\(m.id)-dr"])
        XCTAssertEqual(down.status, 0, down.stderr)
        XCTAssertTrue(down.stdout.contains("Deleted DB instance \(m.id)-dr in us-west-2"), down.stdout)
        XCTAssertEqual(try instances("rds_dr"), [])
    }
}
