import DRCore
import DRPostgres
import DRTestSupport
import Foundation
import XCTest

/// A source cluster archiving through Debian's pgBackRest into two posix repositories
/// (repo1, repo2), a stanza, and a dr.yml with a `provider: pgbackrest` target.
final class PgBackRestSource {
    let cluster: TestCluster
    let folder: String
    let target = "pg-main"
    let stanza = "main"
    var config: String { folder + "/dr.yml" }
    var pgbackrestConfig: String { folder + "/pgbackrest.conf" }
    var restoreRoot: String { folder + "/restores" }
    var serviceFile: String { folder + "/pg_service.conf" }
    func repoPath(_ n: Int) -> String { folder + "/repo\(n)" }

    init(weekly: Int? = nil) throws {
        cluster = try TestCluster()
        folder = try TestCluster.makeFolder(in: try TestEnvironment.require("DR_TEST_WORK"), prefix: "pgbr")
        for dir in [repoPath(1), repoPath(2), folder + "/lock", restoreRoot] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            TestCluster.giveToPostgres(dir)
        }
        let conf = """
        [global]
        repo1-path=\(repoPath(1))
        repo1-retention-full=99
        repo2-path=\(repoPath(2))
        repo2-retention-full=99
        lock-path=\(folder)/lock
        log-level-file=off
        start-fast=y
        compress-type=lz4

        [\(stanza)]
        pg1-path=\(cluster.dataDirectory)
        pg1-port=\(cluster.port)
        pg1-socket-path=\(cluster.folder)

        """
        try Data(conf.utf8).write(to: URL(fileURLWithPath: pgbackrestConfig))
        TestCluster.giveToPostgres(pgbackrestConfig)
        try cluster.execute("ALTER SYSTEM SET archive_mode = 'on'",
                            "ALTER SYSTEM SET archive_command = 'pgbackrest --config=\(pgbackrestConfig) --stanza=\(stanza) archive-push %p'")
        try cluster.restart()
        try pgbackrest(["stanza-create"])
        try writeConfig(weekly: weekly)
    }

    func writeConfig(weekly: Int?, extra: String = "") throws {
        let yaml = """
        targets:
          \(target):
            provider: pgbackrest
            stanza: \(stanza)
            config: \(pgbackrestConfig)
            conninfo: "\(cluster.conninfo)"
            repo: 1
            dr_repo: 2
            restore_root: \(restoreRoot)
            service_file: \(serviceFile)
            bindir: \(cluster.bindir)
        \(weekly.map { "    retention: { weekly: \($0) }" } ?? "")
        \(extra)
        """
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: config))
    }

    /// pgBackRest by hand, as the postgres user (what a test sets up or inspects).
    @discardableResult
    func pgbackrest(_ args: [String]) throws -> String {
        let words = ["--config=\(pgbackrestConfig)", "--stanza=\(stanza)", "--log-level-console=warn"] + args
        let argv = geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", "pgbackrest"] + words : ["pgbackrest"] + words
        let r = try SystemProcessRunner.runBlocking(argv[0], Array(argv.dropFirst()))
        guard r.succeeded else { throw TestClusterError("pgbackrest \(args) failed: \(r.stderr)\(r.stdout)") }
        return r.stdout
    }

    /// The labels of the sets in `repo`, oldest first, with their annotations.
    func sets(repo: Int) throws -> [(label: String, annotation: [String: String])] {
        let json = try JSONSerialization.jsonObject(with: Data(try pgbackrest(["info", "--output=json"]).utf8)) as? [[String: Any]] ?? []
        let backups = json.first?["backup"] as? [[String: Any]] ?? []
        return backups.filter { (($0["database"] as? [String: Any])?["repo-key"] as? Int) == repo }
            .map { ($0["label"] as? String ?? "", $0["annotation"] as? [String: String] ?? [:]) }
    }

    /// Ends the current WAL segment and waits until pgBackRest has archived it.
    func switchWal(timeout: Double = 30) throws {
        let name = try cluster.scalar("SELECT pg_walfile_name(pg_switch_wal())") ?? ""
        let deadline = Date().addingTimeInterval(timeout)
        while (try cluster.scalar("SELECT last_archived_wal FROM pg_stat_archiver")) ?? "" < name {
            guard Date() < deadline else { throw TestClusterError("WAL \(name) was not archived by pgbackrest") }
            usleep(50_000)
        }
    }

    func dr(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        var env = environment
        env["DR_CONFIG"] = config
        return try DRBinary.run(arguments, environment: env)
    }

    func json(_ r: ProcessResult) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
    }

    func stop() {
        let restored = (try? FileManager.default.contentsOfDirectory(atPath: restoreRoot)) ?? []
        for name in restored where FileManager.default.fileExists(atPath: restoreRoot + "/" + name + "/data/postmaster.pid") {
            let argv = ["-D", restoreRoot + "/" + name + "/data", "-m", "immediate", "-w", "stop"]
            _ = try? SystemProcessRunner.runBlocking(geteuid() == 0 ? "/usr/sbin/runuser" : cluster.bindir + "/pg_ctl",
                                                     geteuid() == 0 ? ["-u", "postgres", "--", cluster.bindir + "/pg_ctl"] + argv : argv)
        }
        cluster.stop()
    }
}

/// `provider: pgbackrest` end to end through the binary, against Debian's pgBackRest 2.45 and
/// real PostgreSQL 15: weekly idempotence, retention, point-in-time restores counted with SQL,
/// the DR copy, status, teardown, and bad input that changes nothing.
final class PgBackRestTests: XCTestCase {
    var source: PgBackRestSource!

    override func setUpWithError() throws {
        source = try PgBackRestSource(weekly: 2)
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, batch int NOT NULL, payload text)")
    }

    override func tearDown() { source?.stop() }

    func insert(batch: Int, rows: Int) throws {
        try source.cluster.execute("INSERT INTO events (batch, payload) SELECT \(batch), md5(g::text) FROM generate_series(1, \(rows)) g")
    }

    func count(port: Int) throws -> Int { Int(try source.cluster.scalar("SELECT count(*) FROM events", port: port) ?? "") ?? -1 }

    func restore(_ args: [String]) throws -> (json: [String: Any], port: Int) {
        let r = try source.dr(["restore", source.target] + args + ["--output", "json"])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        let json = try source.json(r)
        return (json, (json["endpoint"] as? [String: Any])?["port"] as? Int ?? 0)
    }

    func testWeeklyTwiceIsOneSetThenRestoresToThreeMomentsLatestAndSnapshot() throws {
        try insert(batch: 0, rows: 500)
        let first = try source.dr(["snapshot", source.target, "--weekly", "--output", "json"])
        XCTAssertEqual(first.status, 0, first.stderr + first.stdout)
        let second = try source.dr(["snapshot", source.target, "--weekly", "--output", "json"])
        XCTAssertEqual(second.status, 0, second.stderr + second.stdout)
        let (a, b) = (try source.json(first), try source.json(second))
        XCTAssertEqual(a["created"] as? Bool, true)
        XCTAssertEqual(b["created"] as? Bool, false)
        XCTAssertEqual(a["id"] as? String, b["id"] as? String)
        let sets = try source.sets(repo: 1)
        XCTAssertEqual(sets.count, 1, "weekly twice in one ISO week must make one set")
        XCTAssertEqual(sets.first?.annotation["dr-target"], source.target)
        XCTAssertNotNil(sets.first?.annotation["dr-week"])
        XCTAssertFalse(first.stdout.contains(source.cluster.password) || first.stderr.contains(source.cluster.password))

        var moments: [(Date, Int)] = []
        for batch in 1...3 {
            usleep(1_100_000)  // pgBackRest's set times are whole seconds: the moments come after the set ended
            try insert(batch: batch, rows: 100 * batch)
            usleep(20_000)
            moments.append((try source.cluster.now(), try count(port: source.cluster.port)))
            usleep(20_000)
        }
        try insert(batch: 9, rows: 7)
        try source.switchWal()

        for (i, (moment, expected)) in moments.enumerated() {
            let (json, port) = try restore(["--point-in-time", RFC3339.format(moment, fractional: true), "--as", "pitr-\(i)"])
            XCTAssertEqual(try count(port: port), expected, "restore to moment \(i) must have exactly the rows committed before it")
            XCTAssertEqual(try source.cluster.scalar("SELECT pg_is_in_recovery()", port: port), "f")
            XCTAssertEqual(json["snapshot"] as? String, a["id"] as? String)
            XCTAssertFalse((json["conninfo"] as? String ?? "").contains("password"))
            let down = try source.dr(["teardown", "pitr-\(i)"])
            XCTAssertEqual(down.status, 0, down.stderr + down.stdout)
        }
        let total = try count(port: source.cluster.port)
        let (_, latestPort) = try restore(["--latest-restorable", "--as", "latest"])
        XCTAssertEqual(try count(port: latestPort), total)
        // A re-run for the same point adopts the running restore instead of making another.
        let again = try restore(["--latest-restorable", "--as", "latest"])
        XCTAssertEqual(again.json["adopted"] as? Bool, true)
        XCTAssertEqual(again.port, latestPort)
        XCTAssertEqual(try source.dr(["teardown", "latest"]).status, 0)

        let (snapJSON, snapPort) = try restore(["--from-snapshot", "latest", "--as", "snap"])
        XCTAssertEqual(try count(port: snapPort), 500, "a restore from the set has exactly the rows at its end")
        XCTAssertEqual(snapJSON["point"] as? String, "snapshot \(a["id"] as? String ?? "")")
        XCTAssertEqual(try source.dr(["teardown", "snap"]).status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: source.restoreRoot).filter { !$0.hasPrefix(".") }, [])
    }

    func testRetentionExpiresOnlyDrsOldWeeklySets() throws {
        // Two older weekly sets of dr's, and one set dr did not take: retention (weekly: 2) with
        // this week's new set must expire the oldest of dr's only.
        try source.pgbackrest(["backup", "--repo=1", "--type=full", "--annotation=dr-target=\(source.target)", "--annotation=dr-week=2026-W01"])
        try source.pgbackrest(["backup", "--repo=1", "--type=full"])
        try source.pgbackrest(["backup", "--repo=1", "--type=full", "--annotation=dr-target=\(source.target)", "--annotation=dr-week=2026-W02"])
        let before = try source.sets(repo: 1).map(\.label)
        XCTAssertEqual(before.count, 3)
        let plan = try source.dr(["snapshot", source.target, "--weekly", "--plan"])
        XCTAssertEqual(plan.status, 0, plan.stderr + plan.stdout)
        XCTAssertTrue(plan.stdout.contains("expire") && plan.stdout.contains(before[0]), plan.stdout)
        XCTAssertEqual(try source.sets(repo: 1).map(\.label), before, "a plan changes nothing")
        let r = try source.dr(["snapshot", source.target, "--weekly", "--output", "json"])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertEqual(try source.json(r)["deleted"] as? [String], [before[0]])
        let after = try source.sets(repo: 1).map(\.label)
        XCTAssertEqual(after.count, 3)
        XCTAssertFalse(after.contains(before[0]))
        XCTAssertTrue(after.contains(before[1]), "a set dr did not annotate is never expired by dr")
        XCTAssertTrue(after.contains(before[2]))
    }

    func testCopyThenRestoreFromDRWithRepo1EmptiedAndStatus() throws {
        try insert(batch: 1, rows: 300)
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        XCTAssertEqual(try source.sets(repo: 2).count, 0)
        let copy = try source.dr(["copy", source.target, "--output", "json"])
        XCTAssertEqual(copy.status, 0, copy.stderr + copy.stdout)
        XCTAssertEqual((try source.json(copy)["copied"] as? [String])?.count, 1)
        XCTAssertEqual(try source.sets(repo: 2).count, 1)
        let again = try source.dr(["copy", source.target, "--output", "json"])
        XCTAssertEqual(again.status, 0, again.stderr + again.stdout)
        XCTAssertEqual((try source.json(again)["copied"] as? [String])?.count, 0, "a second copy finds the DR repository up to date")

        try insert(batch: 2, rows: 200)
        try source.switchWal()
        let status = try source.dr(["status", source.target, "--output", "json"])
        XCTAssertEqual(status.status, 0, status.stderr + status.stdout)
        let s = try source.json(status)
        XCTAssertEqual((s["snapshots"] as? [Any])?.count, 1)
        XCTAssertEqual((s["dr_snapshots"] as? [Any])?.count, 1)
        XCTAssertNotNil(s["restorable_window"])
        XCTAssertNotNil(s["exposure_seconds"])
        XCTAssertFalse(status.stdout.contains(source.cluster.password))

        // repo1 lost: its backups and archive emptied.
        for sub in ["backup", "archive"] {
            let path = source.repoPath(1) + "/" + sub + "/" + source.stanza
            for entry in try FileManager.default.contentsOfDirectory(atPath: path) { try FileManager.default.removeItem(atPath: path + "/" + entry) }
        }
        let (_, port) = try restore(["--latest-restorable", "--from-dr", "--as", "from-dr"])
        XCTAssertEqual(try count(port: port), 500)
        XCTAssertEqual(try source.dr(["teardown", "from-dr"]).status, 0)
    }

    func testBadInputExitsTwoAndChangesNothing() throws {
        try insert(batch: 1, rows: 10)
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        let diff = try source.dr(["snapshot", source.target, "--type", "diff", "--output", "json"])
        XCTAssertEqual(diff.status, 0, diff.stderr + diff.stdout)
        XCTAssertEqual((try source.json(diff)["display"] as? [String: String])?["type"], "diff")
        let sets = try source.sets(repo: 1).map(\.label)

        func refused(_ args: [String], _ needle: String, environment: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws {
            let r = try source.dr(args, environment: environment)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)\(r.stdout)", file: file, line: line)
            XCTAssertTrue(r.stderr.contains(needle), "\(args): \(r.stderr)", file: file, line: line)
            XCTAssertFalse(r.stderr.contains(source.cluster.password), file: file, line: line)
        }
        try refused(["snapshot", source.target, "--type", "bogus"], "full, diff or incr")
        try refused(["snapshot", source.target, "--weekly", "--type", "incr"], "weekly")
        // A time before the end of any set: refused with the window.
        try refused(["restore", source.target, "--point-in-time", "2020-01-01T00:00:00Z", "--as", "early"], "outside")
        try refused(["restore", source.target, "--from-snapshot", "20200101-000000F", "--as", "nosuch"], "no complete backup set")
        // dr.yml mistakes, with line:column.
        try source.writeConfig(weekly: nil, extra: "    repo_path: /x")
        try refused(["snapshot", source.target], "repo_path")
        let yaml = try String(contentsOfFile: source.config, encoding: .utf8)
        try Data(yaml.replacingOccurrences(of: "    stanza: main\n", with: "").utf8).write(to: URL(fileURLWithPath: source.config))
        try refused(["snapshot", source.target], "stanza")
        try source.writeConfig(weekly: nil)
        try Data(try String(contentsOfFile: source.config, encoding: .utf8).replacingOccurrences(of: "stanza: main", with: "stanza: other").utf8)
            .write(to: URL(fileURLWithPath: source.config))
        try refused(["snapshot", source.target], "stanza-create")
        try source.writeConfig(weekly: nil)
        try Data(try String(contentsOfFile: source.config, encoding: .utf8).replacingOccurrences(of: "pgbackrest.conf", with: "missing.conf").utf8)
            .write(to: URL(fileURLWithPath: source.config))
        try refused(["snapshot", source.target], "cannot be read")
        try source.writeConfig(weekly: nil)
        try refused(["snapshot", source.target], "apt-get install pgbackrest", environment: ["PATH": "/nonexistent"])
        XCTAssertEqual(try source.sets(repo: 1).map(\.label), sets, "bad input changes nothing")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: source.restoreRoot), [])
    }
}
