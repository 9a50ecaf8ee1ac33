import DRCore
import DRTestSupport
import Foundation
import XCTest

/// Every shipped runbook on rds against moto: its `--plan`, then its run, and the run made
/// exactly the changing AWS calls the plan listed (recorded by the AWS client as
/// `service:Operation`; Describe/List/Get calls read). Also: plans without a manifest skip
/// verify and exit 0; a runbook passes every RDS restore override through to AWS.
final class PlanEqualsRunRDSTests: XCTestCase {
    var m: MotoCLI!
    var config = "", manifest = ""
    var database: TestDatabase!
    var callLog: String { m.dir + "/calls.jsonl" }
    var target: String { m.id }

    override func setUp() async throws {
        m = try MotoCLI.make()
        try await m.createInstance("\(m.id)-db")
        config = m.dir + "/dr.yml"
        try """
        targets:
          \(m.id):
            provider: rds
            region: us-east-1
            instance: \(m.id)-db
            dr_region: us-west-2
            retention: { weekly: 2, dr_region: 2 }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        database = try TestDatabase(prefix: "planrds")
        try database.psql("CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 50) g;")
        manifest = m.dir + "/manifest.json"
        XCTAssertEqual(try DRBinary.run(["verify", "capture", "--db", database.conninfo, "--out", manifest]).status, 0)
        _ = try m.boto("r53.create_hosted_zone(Name=f'{ID}.example.com.', CallerReference=ID)")
        XCTAssertEqual(try dr(["failover", "--zone", "\(m.id).example.com", "--record", "db.\(m.id).example.com", "--to", "old-primary.example.com", "--create"]).status, 0)
    }

    override func tearDown() {
        database?.drop()
        try? FileManager.default.removeItem(atPath: m.dir)
    }

    func dr(_ arguments: [String], log: Bool = false) throws -> ProcessResult {
        var env = m.env
        env["DR_CONFIG"] = config
        if log { env["DR_CALL_LOG"] = callLog }
        return try DRBinary.run(arguments, environment: env)
    }

    static func changes(_ call: String) -> Bool {
        let operation = call.split(separator: ":").last.map(String.init) ?? call
        return !["Describe", "List", "Get"].contains { operation.hasPrefix($0) }
    }

    @discardableResult
    func planThenRun(_ runbook: String, _ inputs: [String: String], file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        try PlanCalls.planThenRun(runbook, inputs, callLog: callLog, mutating: Self.changes, dr: { try self.dr($0, log: true) }, file: file, line: line)
    }

    func outcome(_ report: [String: Any], _ id: String) -> String? {
        (report["steps"] as? [[String: Any]] ?? []).first { $0["id"] as? String == id }?["outcome"] as? String
    }

    func testEveryShippedRunbookMakesExactlyTheAWSChangesItsPlanListed() throws {
        try planThenRun("weekly-snapshot.yml", ["target": target])
        try planThenRun("weekly-snapshot.yml", ["target": target])
        // Without a manifest: verify is skipped in the plan (exit 0) and in the run.
        let pitr = try planThenRun("point-in-time-restore.yml", ["target": target, "time": "latest", "name": "\(m.id)-pitr"])
        XCTAssertEqual(outcome(pitr, "verify"), "skipped")
        XCTAssertEqual(try dr(["teardown", "\(m.id)-pitr"]).status, 0)
        try planThenRun("restore-drill.yml", ["target": target, "name": "\(m.id)-drill", "manifest": manifest, "verify_db": database.conninfo])
        let failover = try planThenRun("region-failover.yml", ["target": target, "name": "\(m.id)-dr", "zone": "\(m.id).example.com",
                                                              "record": "db.\(m.id).example.com"])
        XCTAssertEqual(outcome(failover, "verify"), "skipped")
        XCTAssertEqual(outcome(failover, "dns"), "success")
    }

    func testARunbookPassesEveryRDSRestoreOverride() throws {
        _ = try m.boto("""
        ec2 = boto3.client('ec2', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1')
        vpc = ec2.create_vpc(CidrBlock='10.9.0.0/16')['Vpc']['VpcId']
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f'10.9.{n}.0/24', AvailabilityZone=f'us-east-1{z}')['Subnet']['SubnetId'] for n, z in [(1, 'a'), (2, 'b')]]
        rds.create_db_subnet_group(DBSubnetGroupName=f'{ID}-subnets', DBSubnetGroupDescription='dr test', SubnetIds=subnets)
        rds.create_db_parameter_group(DBParameterGroupName=f'{ID}-params', DBParameterGroupFamily='postgres15', Description='dr test')
        sg = ec2.create_security_group(GroupName=f'{ID}-sg', Description='dr test', VpcId=vpc)['GroupId']
        print(sg)
        """)
        let sg = try m.boto("""
        ec2 = boto3.client('ec2', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1')
        print([g['GroupId'] for g in ec2.describe_security_groups()['SecurityGroups'] if g['GroupName'] == f'{ID}-sg'][0])
        """)
        XCTAssertEqual(try dr(["snapshot", target]).status, 0)
        let runbook = m.dir + "/overrides.yml"
        try """
        name: overrides
        steps:
          - id: restore
            uses: restore.snapshot
            with:
              target: \(target)
              snapshot: latest
              as: \(m.id)-over
              instance_class: db.r6g.large
              subnet_group: \(m.id)-subnets
              security_groups: \(sg)
              parameter_group: \(m.id)-params
              port: 6543
              multi_az: true
        """.write(toFile: runbook, atomically: true, encoding: .utf8)
        let run = try dr(["run", runbook])
        XCTAssertEqual(run.status, 0, run.stderr)
        let shape = try m.boto("""
        i = rds.describe_db_instances(DBInstanceIdentifier=f'{ID}-over')['DBInstances'][0]
        print(json.dumps([i['DBInstanceClass'], i['DBSubnetGroup']['DBSubnetGroupName'], [g['VpcSecurityGroupId'] for g in i['VpcSecurityGroups']],
                          [p['DBParameterGroupName'] for p in i['DBParameterGroups']], i['Endpoint']['Port'], i['MultiAZ']]))
        """)
        XCTAssertEqual(shape, "[\"db.r6g.large\", \"\(m.id)-subnets\", [\"\(sg)\"], [\"\(m.id)-params\"], 6543, true]")
        XCTAssertEqual(try dr(["teardown", "\(m.id)-over"]).status, 0)
    }
}
