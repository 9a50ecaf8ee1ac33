import DRCore
import DRPostgres
import DRTestSupport
import Foundation
import XCTest

/// End to end against real PostgreSQL 15: archiving through dr, base backups under concurrent
/// writes, point-in-time restores checked row for row, the DR copy, failover, teardown.
final class SelfHostedRestoreTests: XCTestCase {
    var source: ArchivedSource!

    override func setUpWithError() throws {
        source = try ArchivedSource(weekly: 2)
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, batch int NOT NULL, payload text)")
    }

    override func tearDown() { source?.stop() }

    func insert(batch: Int, rows: Int) throws {
        try source.cluster.execute("INSERT INTO events (batch, payload) SELECT \(batch), md5(g::text) FROM generate_series(1, \(rows)) g")
    }

    func count(port: Int) throws -> Int { Int(try source.cluster.scalar("SELECT count(*) FROM events", port: port) ?? "") ?? -1 }

    func restore(_ args: [String]) throws -> (json: [String: Any], port: Int) {
        let r = try source.dr(["restore", source.target] + args + ["--output", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        let endpoint = json["endpoint"] as? [String: Any] ?? [:]
        return (json, endpoint["port"] as? Int ?? 0)
    }

    func testBackupUnderConcurrentWritesAndRestoresToSeveralMoments() throws {
        try insert(batch: 0, rows: 1000)
        // A writer commits rows the whole time the backup runs.
        let writer = ConcurrentWriter(conninfo: source.cluster.conninfo)
        writer.start()
        let snap = try source.dr(["snapshot", source.target, "--output", "json"])
        writer.stop()
        XCTAssertEqual(snap.status, 0, snap.stderr)
        XCTAssertGreaterThan(writer.committed, 0, "the writer must have committed during the backup")
        let snapJSON = try JSONSerialization.jsonObject(with: Data(snap.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(snapJSON["created"] as? Bool, true)
        XCTAssertFalse(snap.stdout.contains(source.cluster.password) || snap.stderr.contains(source.cluster.password))

        // Three moments, each after a committed batch.
        var moments: [(Date, Int)] = []
        for batch in 1...3 {
            try insert(batch: batch, rows: 100 * batch)
            usleep(20_000)
            moments.append((try source.cluster.now(), try count(port: source.cluster.port)))
            usleep(20_000)
        }
        try insert(batch: 9, rows: 5)
        try source.cluster.switchWal(waitingFor: source.repository)

        for (i, (moment, expected)) in moments.enumerated() {
            let (json, port) = try restore(["--point-in-time", RFC3339.format(moment, fractional: true), "--as", "pitr-\(i)"])
            XCTAssertEqual(try count(port: port), expected, "restore to moment \(i) must have exactly the rows committed before it")
            XCTAssertEqual(try source.cluster.scalar("SELECT pg_is_in_recovery()", port: port), "f")
            let conninfo = json["conninfo"] as? String ?? ""
            XCTAssertTrue(conninfo.contains("port=\(port)") && !conninfo.contains("password"), conninfo)
            let down = try source.dr(["teardown", "pitr-\(i)"])
            XCTAssertEqual(down.status, 0, down.stderr)
        }
        // Latest restorable: everything archived.
        let total = try count(port: source.cluster.port)
        let (_, port) = try restore(["--latest-restorable", "--as", "latest"])
        XCTAssertEqual(try count(port: port), total)
        XCTAssertEqual(try source.dr(["teardown", "latest"]).status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: source.restoreRoot).filter { !$0.hasPrefix(".") }, [])
    }

    func testCopyRestoreFromDRStatusFailoverAndTeardown() throws {
        try insert(batch: 1, rows: 300)
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try insert(batch: 2, rows: 200)
        try source.cluster.switchWal(waitingFor: source.repository)

        let copy = try source.dr(["copy", source.target, "--output", "json"])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        let again = try source.dr(["copy", source.target, "--output", "json"])
        let againJSON = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((againJSON["copied"] as? [Any])?.count, 0, "a second copy has nothing left to do")

        // Restore from the DR copy only: the primary repository is moved away meanwhile.
        try FileManager.default.moveItem(atPath: source.repository, toPath: source.repository + ".away")
        let (_, port) = try restore(["--latest-restorable", "--from-dr", "--as", "from-dr"])
        try FileManager.default.moveItem(atPath: source.repository + ".away", toPath: source.repository)
        XCTAssertEqual(try count(port: port), 500)

        let status = try source.dr(["status", source.target, "--output", "json"])
        XCTAssertEqual(status.status, 0, status.stderr)
        let statusJSON = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((statusJSON["snapshots"] as? [Any])?.count, 1)
        XCTAssertEqual((statusJSON["dr_snapshots"] as? [Any])?.count, 1)
        XCTAssertNotNil(statusJSON["restorable_window"] as? [String: Any])
        XCTAssertNotNil(statusJSON["exposure_seconds"] as? Double)

        // Failover: clients using service=local-db follow; the old entry is kept for undo.
        try Data("[local-db]\nhost=127.0.0.1\nport=\(source.cluster.port)\ndbname=postgres\nuser=postgres\n".utf8)
            .write(to: URL(fileURLWithPath: source.serviceFile))
        let fo = try source.dr(["failover", source.target, "--to", "from-dr"])
        XCTAssertEqual(fo.status, 0, fo.stderr)
        setenv("PGSERVICEFILE", source.serviceFile, 1)
        defer { unsetenv("PGSERVICEFILE") }
        let viaService = try PGConnection(conninfo: "service=local-db password=\(source.cluster.password)")
        XCTAssertEqual(try viaService.query("SELECT current_setting('port')").scalar, String(port))
        viaService.close()
        let serviceText = try String(contentsOfFile: source.serviceFile, encoding: .utf8)
        XCTAssertTrue(serviceText.contains("[local-db-previous]\nhost=127.0.0.1\nport=\(source.cluster.port)"), serviceText)
        XCTAssertFalse(serviceText.contains(source.cluster.password))
        XCTAssertEqual(try source.dr(["failover", source.target, "--undo"]).status, 0)
        XCTAssertTrue(try String(contentsOfFile: source.serviceFile, encoding: .utf8).contains("[local-db]\nhost=127.0.0.1\nport=\(source.cluster.port)\n"))

        // Teardown removes only what dr made.
        try FileManager.default.createDirectory(atPath: source.restoreRoot + "/not-ours", withIntermediateDirectories: true)
        let refused = try source.dr(["teardown", "not-ours", "--target", source.target])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: source.restoreRoot + "/not-ours"))
        XCTAssertEqual(try source.dr(["teardown", "from-dr"]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: source.restoreRoot + "/from-dr"))
        XCTAssertThrowsError(try PGConnection(conninfo: "host=127.0.0.1 port=\(port) dbname=postgres user=postgres password=\(source.cluster.password) connect_timeout=2"))
    }

    func testAnInterruptedCopyNeverLooksCompleteAndResumes() throws {
        try insert(batch: 1, rows: 100)
        let snap = try source.dr(["snapshot", source.target, "--output", "json"])
        let id = (try JSONSerialization.jsonObject(with: Data(snap.stdout.utf8)) as! [String: Any])["id"] as! String
        // What a copy killed midway leaves: a work folder with one good file and one half-written one.
        let work = source.drRepository + "/backups/.\(id).tmp/data"
        try FileManager.default.createDirectory(atPath: work + "/global", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source.repository + "/backups/\(id)/data/PG_VERSION.zst", toPath: work + "/PG_VERSION.zst")
        try Data("half".utf8).write(to: URL(fileURLWithPath: work + "/global/pg_control.zst"))
        let status = try source.dr(["status", source.target, "--output", "json"])
        let before = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((before["dr_snapshots"] as? [Any])?.count, 0, "a half-copied backup is not a backup")

        let copy = try source.dr(["copy", source.target])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: source.drRepository + "/backups/.\(id).tmp"))
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source.drRepository + "/backups/\(id)/backup.json"))) as! [String: Any]
        // Every copied file matches the checksum of its stored (compressed) bytes recorded at backup time (one sha256sum for all).
        let files = meta["files"] as! [[String: Any]]
        let paths = files.map { source.drRepository + "/backups/\(id)/data/" + ($0["path"] as! String) + ".zst" }
        let sums = try SystemProcessRunner.runBlocking("sha256sum", paths).stdout.split(separator: "\n").map { String($0.prefix(64)) }
        XCTAssertEqual(sums, files.map { ($0["stored"] as! [String: Any])["sha256"] as! String })
    }

    func testDamagedAndMissingWalAreDetected() throws {
        try insert(batch: 1, rows: 100)
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try insert(batch: 2, rows: 100)
        let early = try source.cluster.now()
        try source.cluster.switchWal(waitingFor: source.repository)
        try insert(batch: 3, rows: 100)
        try source.cluster.switchWal(waitingFor: source.repository)
        try insert(batch: 4, rows: 100)
        let late = try source.cluster.now()
        try source.cluster.switchWal(waitingFor: source.repository)
        let segments = try FileManager.default.contentsOfDirectory(atPath: source.repository + "/wal")
            .filter { $0.count == 28 && $0.hasSuffix(".zst") }.map { String($0.prefix(24)) }.sorted()
        XCTAssertGreaterThanOrEqual(segments.count, 3)

        // Damage the newest segment: restoring to a time that needs it fails, clearly, and changes nothing.
        let victim = source.repository + "/wal/" + segments.last! + ".zst"
        let original = try Data(contentsOf: URL(fileURLWithPath: victim))
        var damaged = original
        damaged[damaged.count / 2] ^= 0xFF
        try damaged.write(to: URL(fileURLWithPath: victim))
        let bad = try source.dr(["restore", source.target, "--point-in-time", RFC3339.format(late, fractional: true), "--as", "damaged"])
        XCTAssertEqual(bad.status, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains(segments.last!) && bad.stderr.contains("damaged"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: source.restoreRoot + "/damaged"))
        // restore_command itself refuses it with the status that makes PostgreSQL stop recovery.
        let fetch = try source.dr(["wal-fetch", "--repository", source.repository, segments.last!, source.folder + "/x"])
        XCTAssertEqual(fetch.status, 126, fetch.stderr)
        try original.write(to: URL(fileURLWithPath: victim))

        // A missing segment in the middle ends the window there: later times are refused with the window.
        let middle = segments[segments.count - 2]
        try FileManager.default.moveItem(atPath: source.repository + "/wal/" + middle + ".zst", toPath: source.folder + "/" + middle)
        let gap = try source.dr(["restore", source.target, "--point-in-time", RFC3339.format(late, fractional: true), "--as", "gap"])
        XCTAssertEqual(gap.status, 2, gap.stderr)
        XCTAssertTrue(gap.stderr.contains("outside the restorable window") && gap.stderr.contains(" to "), gap.stderr)
        let missing = try source.dr(["wal-fetch", "--repository", source.repository, middle, source.folder + "/y"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "", "a file missing from the archive is the quiet end of the archive")
        // ...while times before the gap still restore exactly.
        let (_, port) = try restore(["--point-in-time", RFC3339.format(early, fractional: true), "--as", "before-gap"])
        XCTAssertEqual(try count(port: port), 200)
    }

    func testWeeklyIsIdempotentAndRetentionDropsOldBackupsAndTheirWal() throws {
        try insert(batch: 1, rows: 10)
        let first = try source.dr(["snapshot", source.target, "--weekly", "--output", "json"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let second = try source.dr(["snapshot", source.target, "--weekly", "--output", "json"])
        let secondJSON = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(secondJSON["created"] as? Bool, false, "one weekly backup per ISO week")
        let weekID = secondJSON["id"] as! String

        // Two older weeks' backups (as dr made them, dated back) and an ad hoc one.
        let backups = source.repository + "/backups"
        for (n, week) in ["2026-W01", "2026-W02"].enumerated() {
            try FileManager.default.copyItem(atPath: backups + "/" + weekID, toPath: backups + "/weekly-" + week)
            let metaPath = backups + "/weekly-\(week)/backup.json"
            var meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metaPath))) as! [String: Any]
            meta["id"] = "weekly-" + week
            meta["iso_week"] = week
            meta["stopped_at"] = "2026-01-0\(n + 1)T00:00:00Z"
            meta["start_wal"] = "000000010000000000000001"
            try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: metaPath))
        }
        // A WAL file older than every backup that is kept afterwards.
        try Data("old".utf8).write(to: URL(fileURLWithPath: source.repository + "/wal/000000010000000000000001"))
        try insert(batch: 2, rows: 10)
        try source.cluster.switchWal(waitingFor: source.repository)
        // Retention keeps the newest 2 weekly: this week's and W02; W01 goes, and its WAL with it.
        let third = try source.dr(["snapshot", source.target, "--weekly", "--output", "json"])
        let thirdJSON = try JSONSerialization.jsonObject(with: Data(third.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(thirdJSON["deleted"] as? [String], ["weekly-2026-W01"])
        let left = try FileManager.default.contentsOfDirectory(atPath: backups).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertEqual(left, ["weekly-2026-W02", weekID].sorted())
        XCTAssertTrue(FileManager.default.fileExists(atPath: source.repository + "/wal/000000010000000000000001"),
                      "W02 still needs WAL from segment 1")
        // Dropping W02 by retention 1 also drops the WAL only it needed.
        try source.writeConfig(weekly: 1)
        _ = try source.dr(["snapshot", source.target, "--weekly"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: source.repository + "/wal/000000010000000000000001"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: backups).filter { !$0.hasPrefix(".") }, [weekID])
    }
}

/// Commits small transactions on its own connection until stopped.
final class ConcurrentWriter: @unchecked Sendable {
    let conninfo: String
    private let lock = NSLock()
    private var running = true
    private var count = 0
    private let done = DispatchSemaphore(value: 0)

    init(conninfo: String) { self.conninfo = conninfo }

    var committed: Int { lock.withLock { count } }

    func start() {
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            guard let c = try? PGConnection(conninfo: conninfo) else { return }
            while lock.withLock({ running }) {
                if (try? c.query("INSERT INTO events (batch, payload) SELECT -1, repeat('x', 200) FROM generate_series(1, 50)")) != nil {
                    lock.withLock { count += 1 }
                }
            }
            c.close()
        }
    }

    func stop() {
        lock.withLock { running = false }
        done.wait()
    }
}
