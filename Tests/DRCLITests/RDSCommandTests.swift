import DRAWS
import DRCore
import DRTestSupport
import Foundation
import XCTest

/// The rds commands through the built binary against moto (auth on), credentials and
/// endpoints from the environment as a user would set them.
final class RDSCommandTests: XCTestCase {
    func testSnapshotRestoreStatusAndRefusalsThroughTheBinary() async throws {
        let key = try Moto.accessKey()
        let id = "c" + UUID().uuidString.prefix(8).lowercased()
        let dir = NSTemporaryDirectory() + "dr-rdscli-\(id)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let env = ["AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret, "AWS_REGION": "us-east-1",
                   "AWS_ENDPOINT_URL": try Moto.url().absoluteString, "AWS_ENDPOINT_URL_ROUTE_53": try Moto.noAuthURL().absoluteString,
                   "HOME": dir, "DR_STATE_DIR": dir + "/state"]
        let rds = RDSClient(config: AWSClientConfig(region: "us-east-1", endpoint: try Moto.url(),
                                                    credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: key.id, secretAccessKey: key.secret)),
                                                    transport: CurlTransport()))
        var p = QueryParams()
        for (k, v) in [("DBInstanceIdentifier", "\(id)-db"), ("DBInstanceClass", "db.t3.micro"), ("Engine", "postgres"),
                       ("MasterUsername", "app"), ("MasterUserPassword", "pw-123456789")] { p.add(k, v) }
        p.add("AllocatedStorage", 20)
        p.add("BackupRetentionPeriod", 7)
        _ = try await rds.client.send(p.request("CreateDBInstance"))
        let config = dir + "/dr.yml"
        try """
        targets:
          prod:
            provider: rds
            region: us-east-1
            instance: \(id)-db
            dr_region: us-west-2
            retention: { weekly: 2, dr_region: 2 }
        """.write(toFile: config, atomically: true, encoding: .utf8)

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
}
