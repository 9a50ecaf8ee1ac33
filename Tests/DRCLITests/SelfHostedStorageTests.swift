import DRCore
import DRTestSupport
import Foundation
import XCTest

/// The native repository compressed and encrypted, end to end against real PostgreSQL 15 through
/// the binary (issue 17): backup, copy, point-in-time restore and drill with zstd and with zstd +
/// AES-256-GCM; a repository made raw and continued compressed; damage and a wrong key.
final class SelfHostedStorageTests: XCTestCase {
    var source: ArchivedSource!
    var keyFolder: String!
    var keyHex: String!
    var keyFile: String { keyFolder + "/dr.key" }

    static let runbook = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("runbooks/restore-drill.yml").path

    override func tearDown() { source?.stop() }

    /// A key file readable by the server's user (archive_command runs as it), outside every folder dr writes.
    func makeKey() throws {
        keyFolder = try TestCluster.makeFolder(in: try TestEnvironment.require("DR_TEST_WORK"), prefix: "key")
        keyHex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        try Data((keyHex + "\n").utf8).write(to: URL(fileURLWithPath: keyFile))
        chmod(keyFile, 0o400)
        TestCluster.giveToPostgres(keyFile)
    }

    func encrypted() -> String { "    compression: { type: zstd, level: 3 }\n    encryption: { key_file: \(keyFile) }" }

    func insert(_ rows: Int, batch: Int) throws {
        try source.cluster.execute("INSERT INTO events (batch, payload) SELECT \(batch), md5(g::text) FROM generate_series(1, \(rows)) g")
    }

    func count(port: Int) throws -> Int { Int(try source.cluster.scalar("SELECT count(*) FROM events", port: port) ?? "") ?? -1 }

    func json(_ r: ProcessResult) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout + r.stderr)
    }

    /// Restores to `time` as `name`, checks the row count, tears it down.
    func restore(to time: Date?, as name: String, expect rows: Int, fromDR: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let point = time.map { ["--point-in-time", RFC3339.format($0, fractional: true)] } ?? ["--latest-restorable"]
        let r = try source.dr(["restore", source.target] + point + ["--as", name, "--output", "json"] + (fromDR ? ["--from-dr"] : []))
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        let port = (try json(r)["endpoint"] as? [String: Any])?["port"] as? Int ?? 0
        XCTAssertEqual(try count(port: port), rows, "rows of \(name)", file: file, line: line)
        XCTAssertEqual(try source.dr(["teardown", name]).status, 0, file: file, line: line)
    }

    /// Every file under `folders`, as bytes.
    func everyFile(under folders: [String]) -> [(String, Data)] {
        folders.flatMap { root -> [(String, Data)] in
            guard let e = FileManager.default.enumerator(atPath: root) else { return [] }
            return e.compactMap { rel -> (String, Data)? in
                let path = root + "/" + (rel as! String)
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                      let data = FileManager.default.contents(atPath: path) else { return nil }
                return (path, data)
            }
        }
    }

    func testEncryptedCompressedBackupCopyRestoreAndDrillWithTheKeyNowhere() throws {
        try makeKey()
        source = try ArchivedSource(extra: encrypted())
        let setup = try source.dr(["archive", "setup", source.target])
        XCTAssertTrue(setup.stdout.contains("already configured"), setup.stdout + setup.stderr)
        // The archive_timeout that fits the default 5 min RPO, and what it costs on a quiet server.
        XCTAssertTrue(setup.stdout.contains("archive_timeout = 270 s") && setup.stdout.contains("320 forced WAL segments a day")
                      && setup.stdout.contains("16.0 MiB each uncompressed") && setup.stdout.contains("KiB each as stored here with zstd level 3"), setup.stdout)
        let setupJSON = try json(try source.dr(["archive", "setup", source.target, "--output", "json"]))
        let cost = try XCTUnwrap(setupJSON["quiet_server_cost"] as? [String: Any])
        XCTAssertLessThan(cost["stored_bytes_per_segment"] as? Int ?? .max, 64 << 10)
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, batch int NOT NULL, payload text, created_at timestamptz NOT NULL DEFAULT clock_timestamp())")
        try insert(2000, batch: 1)
        let snap = try source.dr(["snapshot", source.target, "--output", "json"])
        XCTAssertEqual(snap.status, 0, snap.stderr)
        let id = try json(snap)["id"] as! String
        try insert(300, batch: 2)
        let moment = try source.cluster.now()
        try insert(50, batch: 3)
        try source.cluster.switchWal(waitingFor: source.repository)

        // Everything in the repository is stored compressed and encrypted, under the repository's key id.
        let data = source.repository + "/backups/\(id)/data"
        let stored = try FileManager.default.subpathsOfDirectory(atPath: data).filter { !$0.hasPrefix(".") }
            .filter { var d: ObjCBool = false; _ = FileManager.default.fileExists(atPath: data + "/" + $0, isDirectory: &d); return !d.boolValue }
        XCTAssertFalse(stored.isEmpty)
        XCTAssertTrue(stored.allSatisfy { $0.hasSuffix(".zst.enc") }, "\(stored.filter { !$0.hasSuffix(".zst.enc") })")
        let wal = try FileManager.default.contentsOfDirectory(atPath: source.repository + "/wal").filter { !$0.hasSuffix(".json") }
        XCTAssertTrue(!wal.isEmpty && wal.allSatisfy { $0.hasSuffix(".zst.enc") }, "\(wal)")
        let info = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source.repository + "/dr-repository.json"))) as? [String: Any])
        let meta = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source.repository + "/backups/\(id)/backup.json"))) as? [String: Any])
        XCTAssertEqual(meta["key_id"] as? String, info["key_id"] as? String)
        XCTAssertLessThan(meta["stored_bytes"] as! Int, (meta["size_bytes"] as! Int) / 3, "an empty-ish cluster compresses well")
        // Not readable without the key: no row text in any stored byte.
        XCTAssertFalse(everyFile(under: [source.repository]).contains { $0.1.range(of: Data("CREATE TABLE".utf8)) != nil || $0.1.range(of: Data("events_pkey".utf8)) != nil })

        // The DR copy, and a restore from it alone.
        let copy = try source.dr(["copy", source.target, "--output", "json"])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: source.drRepository + "/dr-repository.json")),
                       try Data(contentsOf: URL(fileURLWithPath: source.repository + "/dr-repository.json")))
        try restore(to: moment, as: "enc-pitr", expect: 2300, fromDR: true)

        // A drill (the shipped runbook) restores, verifies and tears down the encrypted backup.
        let work = try TestCluster.makeFolder(in: try TestEnvironment.require("DR_TEST_WORK"), prefix: "encdrill")
        let drill = try source.dr(["drill", source.target, "--runbook", Self.runbook, "--report-dir", work + "/reports",
                                   "--state-dir", work + "/state", "--output", "json"], environment: ["PGPASSWORD": source.cluster.password])
        XCTAssertEqual(drill.status, 0, drill.stdout + drill.stderr)
        XCTAssertEqual(try json(drill)["verdict"] as? String, "passed", drill.stdout)

        // The key is nowhere: not in any output, not in the repositories, restores, journals or reports.
        let base64 = Data(StoredFileKey.bytes(keyHex)).base64EncodedString()
        var outputs = [setup, snap, copy, drill].flatMap { [$0.stdout, $0.stderr] }
        outputs.append(try source.dr(["status", source.target, "--output", "json"]).stdout)
        outputs.append(try source.dr(["targets"]).stdout)
        for text in outputs { XCTAssertFalse(text.contains(keyHex) || text.contains(base64), text) }
        for (path, bytes) in everyFile(under: [source.repository, source.drRepository, source.restoreRoot, work, source.cluster.dataDirectory]) {
            XCTAssertNil(bytes.range(of: Data(keyHex.utf8)), path)
            XCTAssertNil(bytes.range(of: Data(base64.utf8)), path)
            XCTAssertNil(bytes.range(of: Data(StoredFileKey.bytes(keyHex))), path)
        }
    }

    func testAWrongOrMissingKeyExitsTwoBeforeAnythingIsWritten() throws {
        try makeKey()
        source = try ArchivedSource(extra: encrypted())
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, batch int NOT NULL, payload text)")
        try insert(100, batch: 1)
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try source.cluster.switchWal(waitingFor: source.repository)
        // What dr writes; the server's own archiving (a `.backup` file pushed late) goes on meanwhile.
        func written() throws -> [String] {
            try FileManager.default.subpathsOfDirectory(atPath: source.repository).filter { !$0.hasPrefix("wal/") }.sorted()
        }
        let before = try written()

        let right = keyHex!
        let wrong = String(right.reversed())
        try Data(wrong.utf8).write(to: URL(fileURLWithPath: keyFile))
        for args in [["snapshot", source.target], ["restore", source.target, "--latest-restorable", "--as", "wrongkey"], ["copy", source.target]] {
            let r = try source.dr(args)
            if args[0] == "copy" { XCTAssertEqual(r.status, 0, "a copy moves stored bytes and needs no key: \(r.stderr)"); continue }
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("key") && r.stderr.contains("Nothing was changed"), r.stderr)
            XCTAssertFalse(r.stderr.contains(wrong) || r.stderr.contains(right), r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: source.restoreRoot + "/wrongkey"))
        XCTAssertEqual(try written(), before, "nothing was written")
        // restore_command with the wrong key stops recovery (126) instead of looking like the end of the archive.
        let segment = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: source.repository + "/wal").first { $0.hasSuffix(".zst.enc") && $0.count == 32 })
        let fetch = try source.dr(["wal-fetch", "--repository", source.repository, "--key-file", keyFile, String(segment.prefix(24)), source.folder + "/x"])
        XCTAssertEqual(fetch.status, 126, fetch.stderr)
        // No key at all, or one that is not a key.
        try source.writeConfig(weekly: nil, extra: "    encryption: { key_env: DR_TEST_NO_SUCH_KEY }")
        let missing = try source.dr(["restore", source.target, "--latest-restorable", "--as", "nokey"])
        XCTAssertEqual(missing.status, 2, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("DR_TEST_NO_SUCH_KEY") && missing.stderr.contains("is not set"), missing.stderr)
        try source.writeConfig(weekly: nil, extra: "")
        let none = try source.dr(["restore", source.target, "--latest-restorable", "--as", "nokey"])
        XCTAssertEqual(none.status, 2, none.stderr)
        XCTAssertTrue(none.stderr.contains("encrypted with the key"), none.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: source.restoreRoot + "/nokey"))
    }

    func testFlippedTruncatedAndSwappedFilesFailTheCheckAndNothingStarts() throws {
        try makeKey()
        source = try ArchivedSource(extra: encrypted())
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, batch int NOT NULL, payload text)")
        try insert(500, batch: 1)
        let first = try json(try source.dr(["snapshot", source.target, "--output", "json"]))["id"] as! String
        try insert(500, batch: 2)
        let second = try json(try source.dr(["snapshot", source.target, "--output", "json"]))["id"] as! String
        try source.cluster.switchWal(waitingFor: source.repository)
        let backups = source.repository + "/backups/"
        let victim = "global/pg_control.zst.enc"

        func refused(_ name: String, mentions: [String], file: StaticString = #filePath, line: UInt = #line) throws {
            let r = try source.dr(["restore", source.target, "--latest-restorable", "--as", name])
            XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
            for m in mentions + ["damaged", "Nothing was started"] { XCTAssertTrue(r.stderr.contains(m), "\(r.stderr) lacks \(m)", file: file, line: line) }
            XCTAssertFalse(FileManager.default.fileExists(atPath: source.restoreRoot + "/" + name), "no restore folder, no server", file: file, line: line)
        }
        func replacing(_ path: String, with bytes: Data, _ body: () throws -> Void) throws {
            let original = try Data(contentsOf: URL(fileURLWithPath: path))
            try bytes.write(to: URL(fileURLWithPath: path))
            defer { try? original.write(to: URL(fileURLWithPath: path)) }
            try body()
        }

        // A flipped byte in a data file of the backup the restore uses.
        let control = backups + second + "/data/" + victim
        var flipped = try Data(contentsOf: URL(fileURLWithPath: control))
        flipped[flipped.count / 2] ^= 0x20
        try replacing(control, with: flipped) { try refused("flipped", mentions: ["global/pg_control", "checksum"]) }

        // A truncated WAL segment the restore needs.
        let segment = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: source.repository + "/wal")
            .filter { $0.hasSuffix(".zst.enc") && $0.count == 32 }.sorted().last)
        let segmentPath = source.repository + "/wal/" + segment
        try replacing(segmentPath, with: try Data(contentsOf: URL(fileURLWithPath: segmentPath)).prefix(100)) {
            try refused("truncated", mentions: [String(segment.prefix(24))])
        }

        // The same file swapped in from the other backup, with its metadata entry too: the bytes are
        // genuine and match their record, but they belong to another backup, so authentication fails.
        let metaPath = backups + second + "/backup.json"
        let originalMeta = try Data(contentsOf: URL(fileURLWithPath: metaPath))
        var meta = try XCTUnwrap(JSONSerialization.jsonObject(with: originalMeta) as? [String: Any])
        let otherMeta = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: backups + first + "/backup.json"))) as? [String: Any])
        let otherEntry = try XCTUnwrap((otherMeta["files"] as? [[String: Any]])?.first { $0["path"] as? String == "global/pg_control" })
        meta["files"] = (meta["files"] as! [[String: Any]]).map { $0["path"] as? String == "global/pg_control" ? otherEntry : $0 }
        try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: metaPath))
        defer { try? originalMeta.write(to: URL(fileURLWithPath: metaPath)) }
        try replacing(control, with: try Data(contentsOf: URL(fileURLWithPath: backups + first + "/data/" + victim))) {
            try refused("swapped", mentions: ["global/pg_control", "authentication"])
        }
        try originalMeta.write(to: URL(fileURLWithPath: metaPath))
        // Put back as it was, the same restore works.
        try restore(to: nil, as: "intact", expect: 1000)
    }

    func testARepositoryMadeRawThenCompressedRestoresToATimeInEachPart() throws {
        source = try ArchivedSource(extra: "    compression: { type: none }")
        try source.cluster.execute("CREATE TABLE events (id bigserial PRIMARY KEY, batch int NOT NULL, payload text)")
        try insert(400, batch: 1)
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try insert(100, batch: 2)
        let rawMoment = try source.cluster.now()
        try insert(10, batch: 3)
        try source.cluster.switchWal(waitingFor: source.repository)
        // Make the raw part exactly what dr wrote before compression existed: no end times, no consistent time.
        let walDir = source.repository + "/wal/"
        for name in try FileManager.default.contentsOfDirectory(atPath: walDir) where name.hasSuffix(".json") {
            var record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: walDir + name))) as? [String: Any])
            XCTAssertNil(record["stored"], "stored as it is")
            record["written_at"] = nil
            try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: walDir + name))
        }
        for id in try FileManager.default.contentsOfDirectory(atPath: source.repository + "/backups") {
            let path = source.repository + "/backups/\(id)/backup.json"
            var meta = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            meta["consistent_at"] = nil
            try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: path))
        }

        // Now compressed: archive_command follows the target (a reload, no restart).
        try source.writeConfig(weekly: nil, extra: "    compression: { type: zstd, level: 3 }")
        let setup = try source.dr(["archive", "setup", source.target, "--apply"])
        XCTAssertEqual(setup.status, 0, setup.stderr)
        XCTAssertTrue(setup.stdout.contains("--compression zstd") && setup.stdout.contains("No restart is needed"), setup.stdout)
        try insert(200, batch: 4)
        let mixedMoment = try source.cluster.now()
        try insert(10, batch: 5)
        try source.cluster.switchWal(waitingFor: source.repository)
        XCTAssertEqual(try source.dr(["snapshot", source.target]).status, 0)
        try insert(300, batch: 6)
        let compressedMoment = try source.cluster.now()
        try insert(10, batch: 7)
        try source.cluster.switchWal(waitingFor: source.repository)
        let names = try FileManager.default.contentsOfDirectory(atPath: walDir)
        XCTAssertTrue(names.contains { $0.count == 24 } && names.contains { $0.hasSuffix(".zst") }, "a mixed archive: \(names)")

        let status = try json(try source.dr(["status", source.target, "--output", "json"]))
        XCTAssertFalse((status["warnings"] as? [String] ?? []).contains { $0.contains("gap") }, "\(status)")
        try restore(to: rawMoment, as: "raw-part", expect: 500)
        try restore(to: mixedMoment, as: "mixed-part", expect: 710)
        try restore(to: compressedMoment, as: "compressed-part", expect: 1020)
    }
}

/// The key's bytes from its hex, to look for it in raw form too.
enum StoredFileKey {
    static func bytes(_ hex: String) -> [UInt8] {
        stride(from: 0, to: hex.count, by: 2).map { i in
            UInt8(hex[hex.index(hex.startIndex, offsetBy: i)..<hex.index(hex.startIndex, offsetBy: i + 2)], radix: 16)!
        }
    }
}
