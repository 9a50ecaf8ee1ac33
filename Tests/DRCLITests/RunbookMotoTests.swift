import DRAWS
import DRCore
import DRTestSupport
import Foundation
import XCTest

/// The shipped runbooks against moto (auth on; Route 53 on the no-auth instance), once cleanly
/// and once through the fault-injecting proxy, with a real PostgreSQL standing in for the
/// restored databases' verification (`verify_db`). Plans change nothing in moto.
final class RunbookMotoTests: XCTestCase {
    var id = "", dir = "", config = "", manifest = ""
    var env: [String: String] = [:]
    var rds: RDSClient!
    var database: TestDatabase!

    override func setUp() async throws {
        let key = try Moto.accessKey()
        id = "rb" + UUID().uuidString.prefix(6).lowercased()
        dir = NSTemporaryDirectory() + "dr-rbmoto-\(id)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        env = ["AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret, "AWS_REGION": "us-east-1",
               "AWS_ENDPOINT_URL": try Moto.url().absoluteString, "AWS_ENDPOINT_URL_ROUTE_53": try Moto.noAuthURL().absoluteString,
               "HOME": dir, "DR_STATE_DIR": dir + "/state", "AWS_MAX_ATTEMPTS": "8"]
        rds = RDSClient(config: AWSClientConfig(region: "us-east-1", endpoint: try Moto.url(),
                                                credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: key.id, secretAccessKey: key.secret)),
                                                transport: CurlTransport()))
        var p = QueryParams()
        for (k, v) in [("DBInstanceIdentifier", "\(id)-db"), ("DBInstanceClass", "db.t3.micro"), ("Engine", "postgres"),
                       ("MasterUsername", "app"), ("MasterUserPassword", "pw-123456789")] { p.add(k, v) }
        p.add("AllocatedStorage", 20)
        p.add("BackupRetentionPeriod", 7)
        _ = try await rds.client.send(p.request("CreateDBInstance"))
        config = dir + "/dr.yml"
        try """
        targets:
          \(id):
            provider: rds
            region: us-east-1
            instance: \(id)-db
            dr_region: us-west-2
            retention: { weekly: 2, dr_region: 2 }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        env["DR_CONFIG"] = config
        // The stand-in for restored databases, and its manifest.
        database = try TestDatabase(prefix: "rbmoto")
        try database.psql("CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 200) g;")
        manifest = dir + "/manifest.json"
        let capture = try DRBinary.run(["verify", "capture", "--db", database.conninfo, "--out", manifest])
        XCTAssertEqual(capture.status, 0, capture.stderr)
        try await createZone("\(id).example.com")
        let record = try DRBinary.run(["failover", "--zone", "\(id).example.com", "--record", "db.\(id).example.com",
                                       "--to", "old-primary.example.com", "--create"], environment: env)
        XCTAssertEqual(record.status, 0, record.stderr)
    }

    override func tearDown() {
        database?.drop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func runbook(_ name: String) -> String { TestDatabase.repositoryRoot.appendingPathComponent("runbooks/" + name).path }

    func createZone(_ name: String) async throws {
        let r53 = Route53Client(config: AWSClientConfig(region: "us-east-1", endpoint: try Moto.noAuthURL(),
                                                        credentials: rds.client.config.credentials, transport: CurlTransport()))
        let body = "<CreateHostedZoneRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Name>\(name).</Name><CallerReference>\(id)</CallerReference></CreateHostedZoneRequest>"
        _ = try await r53.client.send(AWSRequest(operation: "CreateHostedZone", input: .rest(method: "POST", path: "/2013-04-01/hostedzone", body: Data(body.utf8))))
    }

    /// Every instance and snapshot of this test in both regions, and the record's value.
    func resources() async throws -> [String] {
        var out: [String] = []
        for region in ["us-east-1", "us-west-2"] {
            let client = RDSClient(config: AWSClientConfig(region: region, endpoint: rds.client.config.endpoint,
                                                           credentials: rds.client.config.credentials, transport: CurlTransport()))
            out += try await client.describeAllDBInstances().map(\.identifier).filter { $0.hasPrefix(id) }.map { "\(region) instance \($0)" }
            out += try await client.describeAllDBSnapshots().filter { $0.instanceIdentifier == "\(id)-db" || $0.identifier.contains(id) }
                .map { "\(region) snapshot \($0.identifier)" }
        }
        return out.sorted()
    }

    func run(_ arguments: [String], endpoint: URL? = nil) throws -> (ProcessResult, [String: [String: Any]]) {
        var environment = env
        if let endpoint { environment["AWS_ENDPOINT_URL"] = endpoint.absoluteString }
        let result = try DRBinary.run(["run"] + arguments + ["--output", "json"], environment: environment)
        let report = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
        let steps = Dictionary(uniqueKeysWithValues: (report["steps"] as? [[String: Any]] ?? []).map { ($0["id"] as! String, $0) })
        return (result, steps)
    }

    var weekly: [String] { [Self.runbook("weekly-snapshot.yml"), "--input", "target=\(id)"] }
    func drill(_ name: String) -> [String] {
        [Self.runbook("restore-drill.yml"), "--input", "target=\(id)", "--input", "name=\(name)", "--input", "manifest=\(manifest)",
         "--input", "verify_db=\(database.conninfo)"]
    }
    func pitr(_ name: String) -> [String] {
        [Self.runbook("point-in-time-restore.yml"), "--input", "target=\(id)", "--input", "time=latest", "--input", "name=\(name)",
         "--input", "manifest=\(manifest)", "--input", "verify_db=\(database.conninfo)"]
    }
    func failover(_ name: String) -> [String] {
        [Self.runbook("region-failover.yml"), "--input", "target=\(id)", "--input", "name=\(name)", "--input", "zone=\(id).example.com",
         "--input", "record=db.\(id).example.com", "--input", "manifest=\(manifest)", "--input", "verify_db=\(database.conninfo)"]
    }

    func testPlansChangeNothingAndEveryRunbookRunsCleanlyAndUnderFaults() async throws {
        // Plans: read-only calls only; moto's resources are the same afterwards.
        let before = try await resources()
        for plan in [weekly, drill("\(id)-drill"), pitr("\(id)-pitr")] {
            let (result, _) = try run(plan + ["--plan"])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        let refused = try run([Self.runbook("region-failover.yml"), "--input", "target=\(id)", "--input", "name=\(id)-dr",
                               "--input", "zone=z.example.com", "--input", "record=db.z.example.com", "--plan"])
        XCTAssertEqual(refused.0.status, 2, "no DR copy yet: the plan refuses to restore one")
        XCTAssertTrue(refused.0.stderr.contains("no snapshot in its DR copy"), refused.0.stderr)
        let afterPlans = try await resources()
        XCTAssertEqual(afterPlans, before)

        for proxy in [nil, try FaultProxy(upstream: try Moto.url(), ratio: 0.3, seed: 7)] {
            defer { proxy?.stop() }
            let suffix = proxy == nil ? "a" : "b"
            let endpoint = proxy?.url
            // weekly-snapshot: snapshot (once a week), no cache, copy to us-west-2.
            let (snap, snapSteps) = try run(weekly, endpoint: endpoint)
            XCTAssertEqual(snap.status, 0, snap.stderr)
            XCTAssertEqual((snapSteps["cache"]?["outputs"] as? [String: String])?["taken"], "false")
            let copyID = (snapSteps["copy"]?["outputs"] as? [String: String])?["snapshot_id"] ?? ""
            XCTAssertFalse(copyID.isEmpty)
            // point-in-time-restore to the latest restorable time, verified; then removed.
            let (restored, restoredSteps) = try run(pitr("\(id)-pitr\(suffix)"), endpoint: endpoint)
            XCTAssertEqual(restored.status, 0, restored.stderr)
            XCTAssertEqual(restoredSteps["verify"]?["outcome"] as? String, "success")
            XCTAssertEqual(try DRBinary.run(["teardown", "--instance", "\(id)-pitr\(suffix)"], environment: env).status, 0)
            // restore-drill: restore, verify, always tear down.
            let (drilled, drillSteps) = try run(drill("\(id)-drill\(suffix)"), endpoint: endpoint)
            XCTAssertEqual(drilled.status, 0, drilled.stderr)
            XCTAssertEqual((drillSteps["teardown"]?["outputs"] as? [String: String])?["deleted"], "true")
            // region-failover: the newest DR copy restored in us-west-2, verified, DNS repointed.
            let (failed, failSteps) = try run(failover("\(id)-dr\(suffix)"), endpoint: endpoint)
            XCTAssertEqual(failed.status, 0, failed.stderr)
            let restore = failSteps["restore"]?["outputs"] as? [String: String] ?? [:]
            XCTAssertEqual(restore["snapshot_id"], copyID)
            let dns = failSteps["dns"]?["outputs"] as? [String: String] ?? [:]
            XCTAssertEqual(dns["now"]?.contains(restore["endpoint_host"] ?? "?"), true, "\(dns)")
            if let proxy { XCTAssertGreaterThan(try proxy.stats()["faults"] ?? 0, 0, "the proxy injected faults") }
            XCTAssertFalse((snap.stdout + snap.stderr + drilled.stdout + drilled.stderr).contains("pw-123456789"))
        }
        // Same resources after the clean and the faulty pass: one weekly snapshot, one copy, the two DR instances.
        let end = try await resources()
        XCTAssertEqual(end.filter { $0.contains("instance") }, ["us-east-1 instance \(id)-db", "us-west-2 instance \(id)-dra", "us-west-2 instance \(id)-drb"])
        XCTAssertEqual(end.filter { $0.hasPrefix("us-east-1 snapshot") && $0.contains("weekly") }.count, 1, "\(end)")
        XCTAssertEqual(end.filter { $0.hasPrefix("us-west-2 snapshot") && !$0.contains("rds:") }.count, 1, "\(end)")
    }

    /// The plan reads whether a restore's name is taken (DescribeDBInstances) and refuses it,
    /// changing nothing; a failover's plan reads the record (ListResourceRecordSets) and shows it.
    func testPlanRefusesATakenNameAndShowsTheCurrentRecord() async throws {
        var p = QueryParams()
        for (k, v) in [("DBInstanceIdentifier", "\(id)-other"), ("DBInstanceClass", "db.t3.micro"), ("Engine", "postgres"),
                       ("MasterUsername", "app"), ("MasterUserPassword", "pw-123456789")] { p.add(k, v) }
        p.add("AllocatedStorage", 20)
        _ = try await rds.client.send(p.request("CreateDBInstance"))
        let before = try await resources()
        let (taken, _) = try run(pitr("\(id)-other") + ["--plan"])
        XCTAssertEqual(taken.status, 2, taken.stderr)
        XCTAssertTrue(taken.stderr.contains("The name \(id)-other (`as`) is already taken by a DB instance in us-east-1 that dr did not restore from \(id)"), taken.stderr)
        let (source, _) = try run(pitr("\(id)-db") + ["--plan"])
        XCTAssertEqual(source.status, 2, source.stderr)
        XCTAssertTrue(source.stderr.contains("already taken by the source DB instance"), source.stderr)
        let (free, _) = try run(pitr("\(id)-free") + ["--plan"])
        XCTAssertEqual(free.status, 0, free.stderr)

        let path = dir + "/dns.yml"
        try """
        name: dns
        steps:
          - id: dns
            uses: failover
            with: { zone: \(id).example.com, record: db.\(id).example.com, to: new-primary.example.com }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let (plan, planSteps) = try run([path, "--plan"])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        let actions = planSteps["dns"]?["actions"] as? [[String: Any]] ?? []
        let change = actions.first { $0["mutates"] as? Bool == true } ?? [:]
        XCTAssertEqual(change["current"] as? String, "old-primary.example.com", "\(actions)")
        XCTAssertTrue((change["summary"] as? String ?? "").contains("currently old-primary.example.com → will be new-primary.example.com"), "\(change)")
        XCTAssertEqual(actions.first?["call"] as? String, "route53:ListResourceRecordSets")
        let after = try await resources()
        XCTAssertEqual(after, before)
        // The record is unchanged.
        let again = try run([path, "--plan"]).1["dns"]?["actions"] as? [[String: Any]] ?? []
        XCTAssertEqual(again.first { $0["mutates"] as? Bool == true }?["current"] as? String, "old-primary.example.com")
    }

    func testKilledAtEveryStepBoundaryResumesToTheSameResources() async throws {
        let runbook = dir + "/crash.yml"
        try """
        name: crash-aws
        inputs:
          name: {}
        steps:
          - id: snapshot
            uses: snapshot
            with: { target: \(id), weekly: true }
          - id: copy
            uses: copy
            with: { target: \(id), snapshot: "${{ steps.snapshot.outputs.snapshot_id }}" }
          - id: pause
            uses: wait
            with: { duration: 2s }
          - id: restore
            uses: restore.snapshot
            with: { target: \(id), from_dr: true, as: "${{ inputs.name }}" }
          - id: dns
            uses: failover
            with: { zone: \(id).example.com, record: db.\(id).example.com, to: "${{ steps.restore.outputs.endpoint_host }}" }
        """.write(toFile: runbook, atomically: true, encoding: .utf8)
        let (clean, _) = try run([runbook, "--input", "name=\(id)-clean"])
        XCTAssertEqual(clean.status, 0, clean.stderr)
        let afterClean = try await resources()

        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        let crash = try CrashLoop(journalDir: dir + "/state/runs", environment: environment, midStep: ["pause": 1, "restore": 0.2])
            .run(["run", runbook, "--input", "name=\(id)-crashed"])
        XCTAssertEqual(crash.status, 0, "the resumed run must finish cleanly; journal:\n\(crash.journal)")
        // moto answers at once, so a short step may end before the kill lands: at least once per step.
        XCTAssertGreaterThanOrEqual(crash.kills, 5, "killed at every boundary")
        XCTAssertTrue(crash.killedMidStep.contains("pause"), "killed mid-wait")

        // The same snapshots and copies (this week's, reused), one more instance, the record on it.
        let end = try await resources()
        XCTAssertEqual(end.filter { !$0.contains("rds:") && !$0.contains("instance") }, afterClean.filter { !$0.contains("rds:") && !$0.contains("instance") })
        XCTAssertEqual(end.filter { $0.contains("instance") }, (afterClean.filter { $0.contains("instance") } + ["us-west-2 instance \(id)-crashed"]).sorted())
        let status = try DRBinary.run(["failover", "--zone", "\(id).example.com", "--record", "db.\(id).example.com",
                                       "--to", "\(id)-crashed.placeholder", "--output", "json"], environment: env)
        XCTAssertTrue(status.stdout.contains("\(id)-crashed"), "the record pointed at the crashed run's instance: \(status.stdout)")
    }
}
