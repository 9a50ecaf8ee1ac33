import DRCore
import DRTestSupport
import Foundation
import XCTest

/// `dr drill` of a `provider: rds` target against the moto emulator (auth on, real SigV4): a
/// real `dr snapshot`, the restore of the newest snapshot into a tagged temporary instance, the
/// verification against a real PostgreSQL standing in for the restored database (through
/// `--verify-db`, as through a tunnel) and a manifest captured at snapshot time, the teardown;
/// and `--cleanup` removing only drill leftovers among other instances.
final class DrillRDSTests: XCTestCase {
    var id: String!
    var home: String!
    var env: [String: String]!
    var database: TestDatabase!

    override func setUpWithError() throws {
        id = "d" + UUID().uuidString.prefix(8).lowercased()
        home = try TestCluster.makeFolder(in: try TestEnvironment.require("DR_TEST_WORK"), prefix: "drill-rds")
        let key = try Moto.accessKey()
        env = ["AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret, "AWS_REGION": "us-east-1",
               "AWS_ENDPOINT_URL": try Moto.url().absoluteString, "HOME": home,
               "AWS_CONFIG_FILE": home + "/none", "AWS_SHARED_CREDENTIALS_FILE": home + "/none", "DR_CONFIG": home + "/dr.yml"]
        database = try TestDatabase(prefix: "drill")
        try database.psql("""
            CREATE TABLE events (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, payload text);
            INSERT INTO events (created_at, payload) SELECT now() - interval '1 hour' + g * interval '1 second', md5(g::text) FROM generate_series(1, 300) g;
            """)
        try """
        targets:
          prod-\(id!):
            provider: rds
            region: us-east-1
            instance: \(id!)-db
            database: { conninfo: "\(Self.withoutPassword(database.conninfo))" }
            verify: { rows: exact, freshness_query: "SELECT max(created_at) FROM events" }
            drill: { max_age: 7d }
        """.write(toFile: home + "/dr.yml", atomically: true, encoding: .utf8)
        try boto("""
        rds.create_db_instance(DBInstanceIdentifier=f"{ID}-db", DBInstanceClass="db.t3.micro", Engine="postgres",
                               AllocatedStorage=20, MasterUsername="app", MasterUserPassword="source-password-123",
                               BackupRetentionPeriod=7, Port=5432, Tags=[{"Key": "app", "Value": "social-analytics"}])
        """)
    }

    override func tearDown() { database?.drop() }

    static func withoutPassword(_ conninfo: String) -> String {
        conninfo.replacingOccurrences(of: #"password=\S+"#, with: "", options: .regularExpression)
            .split(separator: " ").joined(separator: " ")
    }

    /// Runs boto3 against moto with `rds` bound to a client; prints what the script prints.
    @discardableResult
    func boto(_ script: String) throws -> String {
        let program = "import boto3, json, os\nID = os.environ['ID']\nrds = boto3.client('rds', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1')\n" + script
        var environment = env!
        environment["ID"] = id
        let r = try SystemProcessRunner.runBlocking("python3", ["-c", program], ProcessInfo.processInfo.environment.merging(environment) { $1 })
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout
    }

    func instances() throws -> [String] {
        let out = try boto("print(json.dumps(sorted(i['DBInstanceIdentifier'] for i in rds.describe_db_instances()['DBInstances'] if ID in i['DBInstanceIdentifier'])))")
        return try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String] ?? []
    }

    func dr(_ args: [String]) throws -> ProcessResult {
        var environment = env!
        environment["PGPASSWORD"] = database.conninfo.components(separatedBy: "password=").last?.split(separator: " ").first.map(String.init)
        return try DRBinary.run(args, environment: environment)
    }

    func testDrillOfAnRDSTargetRestoresTheNewestSnapshotVerifiesAndTearsDown() throws {
        XCTAssertEqual(try dr(["snapshot", "prod-\(id!)"]).status, 0)
        let manifest = home + "/manifest.json"
        XCTAssertEqual(try dr(["verify", "capture", "--db", database.conninfo, "--out", manifest]).status, 0)
        let reports = home + "/reports"
        let r = try dr(["drill", "prod-\(id!)", "--verify-db", Self.withoutPassword(database.conninfo), "--manifest", manifest,
                        "--report-dir", reports, "--state-dir", home + "/state", "--runbook", DrillCommandTests.runbook, "--output", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout + r.stderr)
        XCTAssertEqual(report["verdict"] as? String, "passed", r.stdout)
        XCTAssertEqual(report["provider"] as? String, "rds")
        let point = report["point"] as? [String: Any] ?? [:]
        XCTAssertEqual(point["spec"] as? String, "latest-snapshot", "the default point for rds")
        XCTAssertTrue((point["snapshot"] as? String ?? "").contains(id), "\(point)")
        let phases = report["phases"] as? [[String: Any]] ?? []
        XCTAssertEqual(phases.filter { $0["completed"] as? Bool == true }.count, 3, "\(phases)")
        XCTAssertEqual((report["verification"] as? [String: Any])?["reference"] as? String ?? "", "manifest captured " + ((try? String(contentsOfFile: manifest, encoding: .utf8)).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }?["captured_at"] as? String ?? "?"))
        XCTAssertEqual((report["freshness"] as? [String: Any])?["source"] as? String, "freshness_query")
        XCTAssertNotNil((report["freshness"] as? [String: Any])?["seconds"] as? Double)
        XCTAssertEqual((report["teardown"] as? [String: Any])?["removed"] as? Bool, true)
        XCTAssertEqual(try instances(), ["\(id!)-db"], "the drill's instance is gone, the source untouched")
        XCTAssertFalse(r.stdout.contains("source-password-123") || r.stderr.contains("source-password-123"))
    }

    func testCleanupRemovesOnlyDrillLeftoversByTag() throws {
        // What a drill killed outright leaves (its tags), another dr restore, and a stranger.
        try boto("""
        def make(name, tags):
            rds.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres", AllocatedStorage=20,
                                   MasterUsername="app", MasterUserPassword="pw-12345678", Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        dr = {"dr:managed": "true", "dr:kind": "restore", "dr:target": f"prod-{ID}", "dr:restored-from": f"{ID}-snap",
              "dr:restore-point": f"snapshot {ID}-snap", "dr:source-id": "db-SOURCE@2026-01-01T00:00:00Z"}
        make(f"drill-{ID}-old", {**dr, "dr:drill": "20261126T000000Z-abcd", "dr:drill-started": "2026-11-26T00:00:00Z"})
        make(f"{ID}-pitr", dr)
        make(f"{ID}-stranger", {"dr:drill": "not-ours"})
        """)
        let r = try dr(["drill", "--cleanup", "--older-than", "1h", "--output", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let removed = (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["removed"] as? [[String: Any]] ?? []
        XCTAssertEqual(removed.map { $0["instance"] as? String }, ["drill-\(id!)-old"], r.stdout)
        XCTAssertEqual(try instances(), ["\(id!)-db", "\(id!)-pitr", "\(id!)-stranger"])
    }

    func testAllTargetsAreDrilledABoundedNumberAtATime() throws {
        // A second target on its own instance.
        try boto("""
        rds.create_db_instance(DBInstanceIdentifier=f"{ID}-db2", DBInstanceClass="db.t3.micro", Engine="postgres",
                               AllocatedStorage=20, MasterUsername="app", MasterUserPassword="source-password-123", BackupRetentionPeriod=7)
        """)
        var config = try String(contentsOfFile: home + "/dr.yml", encoding: .utf8)
        config += "\n  second-\(id!):\n    provider: rds\n    region: us-east-1\n    instance: \(id!)-db2\n"
        try config.write(toFile: home + "/dr.yml", atomically: true, encoding: .utf8)
        for target in ["prod-\(id!)", "second-\(id!)"] { XCTAssertEqual(try dr(["snapshot", target]).status, 0) }
        let manifest = home + "/manifest.json"
        XCTAssertEqual(try dr(["verify", "capture", "--db", database.conninfo, "--out", manifest]).status, 0)
        let r = try dr(["drill", "--all", "--parallel", "2", "--verify-db", Self.withoutPassword(database.conninfo), "--manifest", manifest,
                        "--report-dir", home + "/reports", "--state-dir", home + "/state", "--runbook", DrillCommandTests.runbook, "--output", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let drills = (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["drills"] as? [[String: Any]] ?? []
        XCTAssertEqual(drills.map { $0["target"] as? String }, ["prod-\(id!)", "second-\(id!)"])
        XCTAssertEqual(drills.map { $0["verdict"] as? String }, ["passed", "passed"])
        let metrics = try FileManager.default.contentsOfDirectory(atPath: home + "/reports").filter { $0.hasSuffix(".prom") }.sorted()
        XCTAssertEqual(metrics, ["dr_drill_prod-\(id!).prom", "dr_drill_second-\(id!).prom"], "one metrics file per target")
        XCTAssertEqual(try instances(), ["\(id!)-db", "\(id!)-db2"])
    }

    /// `--all --parallel N` through the fault proxy, every AWS request slowed: the span of the
    /// requests naming each drill's instance (restore ... delete) overlaps at most N others at
    /// once, and exactly N when there are more targets than N. Each restore request carries the
    /// drill's tag `dr:drill=<drill id>`, seen on the wire as the instance itself is gone after.
    func testParallelBoundsHowManyDrillsRunAtOnceAndRestoresAreTaggedForTheDrill() throws {
        let targets = ["prod-\(id!)", "second-\(id!)", "third-\(id!)"]
        try boto("""
        for n in ("db2", "db3"):
            rds.create_db_instance(DBInstanceIdentifier=f"{ID}-{n}", DBInstanceClass="db.t3.micro", Engine="postgres",
                                   AllocatedStorage=20, MasterUsername="app", MasterUserPassword="source-password-123", BackupRetentionPeriod=7)
        """)
        var config = try String(contentsOfFile: home + "/dr.yml", encoding: .utf8)
        for (target, instance) in zip(targets.dropFirst(), ["db2", "db3"]) {
            config += "\n  \(target):\n    provider: rds\n    region: us-east-1\n    instance: \(id!)-\(instance)\n"
        }
        try config.write(toFile: home + "/dr.yml", atomically: true, encoding: .utf8)
        for target in targets { XCTAssertEqual(try dr(["snapshot", target]).status, 0) }
        let manifest = home + "/manifest.json"
        XCTAssertEqual(try dr(["verify", "capture", "--db", database.conninfo, "--out", manifest]).status, 0)

        for parallel in [1, 2] {
            let log = home + "/requests-\(parallel).jsonl"
            let proxy = try FaultProxy(upstream: try Moto.url(), ratio: 1, kinds: ["delay"], delay: 0.2, log: log)
            defer { proxy.stop() }
            let saved = env!
            env["AWS_ENDPOINT_URL"] = proxy.url.absoluteString
            defer { env = saved }
            let r = try dr(["drill", "--all", "--parallel", String(parallel), "--verify-db", Self.withoutPassword(database.conninfo),
                            "--manifest", manifest, "--report-dir", home + "/reports-\(parallel)", "--state-dir", home + "/state-\(parallel)",
                            "--runbook", DrillCommandTests.runbook, "--output", "json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let drills = (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["drills"] as? [[String: Any]] ?? []
            XCTAssertEqual(drills.map { $0["verdict"] as? String }, ["passed", "passed", "passed"], r.stdout)

            let requests = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            var spans: [(start: Double, end: Double)] = []
            for drill in drills {
                let instance = try XCTUnwrap(drill["instance"] as? String), drillID = try XCTUnwrap(drill["drill_id"] as? String)
                let naming = requests.filter { ($0["form"] as? [String: String])?["DBInstanceIdentifier"] == instance }
                let actions = naming.compactMap { ($0["form"] as? [String: String])?["Action"] }
                let restore = actions.firstIndex(of: "RestoreDBInstanceFromDBSnapshot"), delete = actions.lastIndex(of: "DeleteDBInstance")
                XCTAssertTrue(restore != nil && delete != nil && restore! < delete!, "restored, then deleted: \(actions)")
                // The restore request's tags, as sent.
                let form = restore.flatMap { naming[$0]["form"] as? [String: String] } ?? [:]
                let tags = Dictionary(form.keys.filter { $0.hasPrefix("Tags.") && $0.hasSuffix(".Key") }.map {
                    (form[$0]!, form[String($0.dropLast(3)) + "Value"] ?? "") }, uniquingKeysWith: { $1 })
                XCTAssertEqual(tags["dr:drill"], drillID, "the restore of \(instance) is tagged for its drill: \(form)")
                XCTAssertTrue(instance.hasSuffix(drillID.lowercased()), instance)
                let starts = naming.compactMap { $0["start"] as? Double }, ends = naming.compactMap { $0["end"] as? Double }
                spans.append((try XCTUnwrap(starts.min()), try XCTUnwrap(ends.max())))
            }
            XCTAssertEqual(Self.maximumOverlap(spans), parallel, "--parallel \(parallel): \(spans)")
        }
        XCTAssertEqual(try instances(), ["\(id!)-db", "\(id!)-db2", "\(id!)-db3"])
    }

    /// The most intervals open at one moment (an interval ending as another starts does not overlap it).
    static func maximumOverlap(_ spans: [(start: Double, end: Double)]) -> Int {
        var events: [(time: Double, change: Int)] = []
        for span in spans {
            events.append((span.start, 1))
            events.append((span.end, -1))
        }
        events.sort { (a: (time: Double, change: Int), b: (time: Double, change: Int)) -> Bool in
            a.time != b.time ? a.time < b.time : a.change < b.change
        }
        var open = 0, most = 0
        for event in events {
            open += event.change
            most = max(most, open)
        }
        return most
    }
}
