import DRAWS
import DRCore
import DRTestSupport
import Foundation
import XCTest

/// The rds commands through the built binary against moto (auth on), credentials and
/// endpoints from the environment as a user would set them.
final class RDSCommandTests: XCTestCase {
    func testSnapshotRestoreStatusAndRefusalsThroughTheBinary() async throws {
        let m = try MotoCLI.make()
        let (id, env, rds, key) = (m.id, m.env, m.rds, m.key)
        try await m.createInstance("\(id)-db")
        let config = try m.writeConfig("instance: \(id)-db")

        let first = try DRBinary.run(["snapshot", "prod", "--weekly", "--config", config, "--output", "json"], environment: env)
        XCTAssertEqual(first.status, 0, first.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(json?["created"] as? Bool, true)
        let second = try DRBinary.run(["snapshot", "prod", "--weekly", "--config", config, "--output", "json"], environment: env)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("\"created\" : false"), second.stdout)

        let restored = try DRBinary.run(["restore", "prod", "--latest-restorable", "--as", "\(id)-r", "--config", config, "--timeout", "60"], environment: env)
        XCTAssertEqual(restored.status, 0, restored.stderr)
        XCTAssertTrue(restored.stdout.contains("endpoint:"), restored.stdout)

        let window = try DRBinary.run(["restore", "prod", "--point-in-time", "2020-01-01T00:00:00Z", "--as", "\(id)-old", "--config", config], environment: env)
        XCTAssertEqual(window.status, 2)
        XCTAssertTrue(window.stderr.contains("outside the restorable window"), window.stderr)
        let region = try DRBinary.run(["teardown", "--instance", "\(id)-r", "--region", "us-moon-1"], environment: env)
        XCTAssertEqual(region.status, 2)
        let refuse = try DRBinary.run(["teardown", "--instance", "\(id)-db"], environment: env)
        XCTAssertEqual(refuse.status, 2, refuse.stderr)
        let zone = try DRBinary.run(["failover", "--zone", "none-\(id).example.com", "--record", "db.none-\(id).example.com", "--to", "x.example.com"], environment: env)
        XCTAssertEqual(zone.status, 2, zone.stderr)
        let status = try DRBinary.run(["status", "prod", "--config", config, "--output", "json"], environment: env)
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertFalse(status.stdout.contains(key.secret) || status.stderr.contains(key.secret))
        let down = try DRBinary.run(["teardown", "--instance", "\(id)-r"], environment: env)
        XCTAssertEqual(down.status, 0, down.stderr)
        XCTAssertTrue(down.stdout.contains("Deleted DB instance"), down.stdout)
        let instances = try await rds.describeAllDBInstances().filter { $0.identifier.hasPrefix(id) }.map(\.identifier)
        XCTAssertEqual(instances, ["\(id)-db"])
    }

    func testAuroraClusterSnapshotRestoresTeardownAndStatusThroughTheBinary() async throws {
        let m = try MotoCLI.make()
        let (id, env, rds) = (m.id, m.env, m.rds)
        var p = QueryParams()
        for (k, v) in [("DBClusterIdentifier", "\(id)-aurora"), ("Engine", "aurora-postgresql"), ("MasterUsername", "app"),
                       ("MasterUserPassword", "pw-123456789")] { p.add(k, v) }
        p.add("BackupRetentionPeriod", 7)
        _ = try await rds.client.send(p.request("CreateDBCluster"))
        _ = try await rds.createDBInstance(CreateDBInstanceInput(identifier: "\(id)-aurora-w", instanceClass: "db.r6g.xlarge",
                                                                 engine: "aurora-postgresql", clusterIdentifier: "\(id)-aurora"))
        let config = try m.writeConfig("cluster: \(id)-aurora")
        func dr(_ args: [String]) throws -> ProcessResult { try DRBinary.run(args + ["--config", config], environment: env) }

        let snap = try dr(["snapshot", "prod", "--output", "json"])
        XCTAssertEqual(snap.status, 0, snap.stderr)
        let snapId = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(snap.stdout.utf8)) as? [String: Any])?["id"] as? String)
        let fromSnap = try dr(["restore", "prod", "--from-snapshot", snapId, "--as", "\(id)-s", "--timeout", "60"])
        XCTAssertEqual(fromSnap.status, 0, fromSnap.stderr)
        let cluster = try await rds.dbCluster("\(id)-s")
        let endpoint = "\(try XCTUnwrap(cluster?.endpoint)):\(try XCTUnwrap(cluster?.port))"
        XCTAssertTrue(fromSnap.stdout.contains("endpoint: \(endpoint)"), "the cluster's writer endpoint: \(fromSnap.stdout)")
        XCTAssertTrue(fromSnap.stdout.contains("writer instance: \(id)-s-1"), fromSnap.stdout)
        let rerun = try dr(["restore", "prod", "--from-snapshot", snapId, "--as", "\(id)-s", "--output", "json"])
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertTrue(rerun.stdout.contains("\"adopted\" : true"), rerun.stdout)
        XCTAssertTrue(rerun.stdout.contains("\"writer_created\" : false"), rerun.stdout)

        let pitr = try dr(["restore", "prod", "--latest-restorable", "--as", "\(id)-p", "--instance-class", "db.t3.medium"])
        XCTAssertEqual(pitr.status, 0, pitr.stderr)
        let writers = try await rds.dbInstances(inCluster: "\(id)-p")
        XCTAssertEqual(writers.map(\.identifier), ["\(id)-p-1"])
        XCTAssertEqual(writers.first?.instanceClass, "db.t3.medium")
        let sWriters = try await rds.dbInstances(inCluster: "\(id)-s")
        XCTAssertEqual(sWriters.map(\.instanceClass), ["db.r6g.xlarge"], "the source writer's class")

        let status = try dr(["status", "prod", "--output", "json"])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("\"latest_restorable_time\""), status.stdout)
        XCTAssertTrue(status.stdout.contains(snapId), status.stdout)

        let refuse = try DRBinary.run(["teardown", "--cluster", "\(id)-aurora"], environment: env)
        XCTAssertEqual(refuse.status, 2, refuse.stderr)
        XCTAssertTrue(refuse.stderr.contains("dr:managed=true"), refuse.stderr)
        let both = try DRBinary.run(["teardown", "--cluster", "\(id)-s", "--instance", "\(id)-s-1"], environment: env)
        XCTAssertEqual(both.status, 2, both.stderr)
        for name in ["\(id)-s", "\(id)-p"] {
            let down = try DRBinary.run(["teardown", "--cluster", name], environment: env)
            XCTAssertEqual(down.status, 0, down.stderr)
            XCTAssertTrue(down.stdout.contains("Deleted DB cluster \(name)") && down.stdout.contains("\(name)-1 went first"), down.stdout)
        }
        let again = try DRBinary.run(["teardown", "--cluster", "\(id)-s"], environment: env)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("already gone"), again.stdout)
        let clusters = try await rds.describeDBClusters().items.map(\.identifier).filter { $0.hasPrefix(id) }
        XCTAssertEqual(clusters, ["\(id)-aurora"])
        let instances = try await rds.describeAllDBInstances().map(\.identifier).filter { $0.hasPrefix(id) }
        XCTAssertEqual(instances, ["\(id)-aurora-w"])
    }
}

/// A user's environment for the binary against moto (auth on), a scratch HOME, and an RDS
/// client for setting up and checking what the commands did.
struct MotoCLI {
    let id: String
    let dir: String
    let env: [String: String]
    let rds: RDSClient
    let key: (id: String, secret: String)

    static func newID() -> String { "c" + UUID().uuidString.prefix(8).lowercased() }

    /// `endpoint`: where the binary sends AWS calls (default moto; a fault proxy's URL instead).
    static func make(id: String = newID(), endpoint: URL? = nil) throws -> MotoCLI {
        let key = try Moto.accessKey()
        let dir = NSTemporaryDirectory() + "dr-rdscli-\(id)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let env = ["AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret, "AWS_REGION": "us-east-1",
                   "AWS_ENDPOINT_URL": try (endpoint ?? Moto.url()).absoluteString, "AWS_ENDPOINT_URL_ROUTE_53": try Moto.noAuthURL().absoluteString,
                   "HOME": dir, "DR_STATE_DIR": dir + "/state"]
        let rds = RDSClient(config: AWSClientConfig(region: "us-east-1", endpoint: try Moto.url(),
                                                    credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: key.id, secretAccessKey: key.secret)),
                                                    transport: CurlTransport()))
        return MotoCLI(id: id, dir: dir, env: env, rds: rds, key: key)
    }

    /// Runs a boto3 script against moto (`rds` for us-east-1, `rds_dr` for us-west-2, `r53` on the
    /// no-auth instance; `ID` is this test's id) and returns what it printed.
    func boto(_ script: String) throws -> String {
        let program = """
        import boto3, json, os
        ID = os.environ['ID']
        rds = boto3.client('rds', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1')
        rds_dr = boto3.client('rds', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-west-2')
        r53 = boto3.client('route53', endpoint_url=os.environ['AWS_ENDPOINT_URL_ROUTE_53'], region_name='us-east-1')

        """ + script
        var environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        environment["ID"] = id
        let r = try SystemProcessRunner.runBlocking("python3", ["-c", program], environment)
        guard r.status == 0 else { throw TestClusterError("boto3 script failed: \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A PostgreSQL instance with 7-day backups.
    func createInstance(_ name: String) async throws {
        var p = QueryParams()
        for (k, v) in [("DBInstanceIdentifier", name), ("DBInstanceClass", "db.t3.micro"), ("Engine", "postgres"),
                       ("MasterUsername", "app"), ("MasterUserPassword", "pw-123456789")] { p.add(k, v) }
        p.add("AllocatedStorage", 20)
        p.add("BackupRetentionPeriod", 7)
        _ = try await rds.client.send(p.request("CreateDBInstance"))
    }

    /// A dr.yml with one rds target `prod` for `resource` (`instance: X` or `cluster: X`).
    func writeConfig(_ resource: String) throws -> String {
        let config = dir + "/dr.yml"
        try """
        targets:
          prod:
            provider: rds
            region: us-east-1
            \(resource)
            dr_region: us-west-2
            retention: { weekly: 2, dr_region: 2 }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }
}
