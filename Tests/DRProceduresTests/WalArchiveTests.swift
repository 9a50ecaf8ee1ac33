@testable import DRProcedures
import DRCore
import XCTest

final class WalArchiveTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "dr-wal-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/repo/wal", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/pg_wal", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func segment(_ name: String, _ content: String) throws -> String {
        let path = dir + "/pg_wal/" + name
        try Data(content.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    let zstd = StorageCodec(compressionLevel: 3, key: nil)

    func testPushFetchRoundTripAndIdempotence() throws {
        let archive = WalArchive(directory: dir + "/repo/wal")
        let name = "000000010000000000000003"
        let path = try segment(name, "segment three")
        let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as! Date
        XCTAssertEqual(try archive.push(source: path, codec: zstd), .archived)
        XCTAssertEqual(try archive.push(source: path, codec: zstd), .alreadyArchived, "an identical push succeeds")
        XCTAssertEqual(try archive.push(source: path, codec: .plain), .alreadyArchived, "whatever form it was stored in")
        let record = try archive.record(name)
        XCTAssertEqual(record.sha256, SHA256Hasher.hex(of: Data("segment three".utf8)))
        XCTAssertEqual(record.stored?.compression, "zstd")
        XCTAssertEqual(record.writtenAt!.timeIntervalSince1970, modified.timeIntervalSince1970, accuracy: 0.001, "when the server finished the file")
        XCTAssertTrue(FileManager.default.fileExists(atPath: archive.directory + "/" + name + ".zst"))
        XCTAssertEqual(try archive.fetch(name: name, to: dir + "/RECOVERYXLOG", key: nil), .restored)
        XCTAssertEqual(try String(contentsOfFile: dir + "/RECOVERYXLOG", encoding: .utf8), "segment three")
        XCTAssertEqual(try archive.fetch(name: "000000010000000000000004", to: dir + "/x", key: nil), .notInArchive)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x"))
        // History and backup history files travel the same way; a history file's switches are kept in its record.
        XCTAssertEqual(try archive.push(source: try segment("00000002.history", "1\t0/3000000\tno recovery target"), codec: zstd), .archived)
        XCTAssertEqual(try archive.record("00000002.history").timelineSwitches, [TimelineSwitch(parent: 1, lsn: "0/3000000")])
        XCTAssertEqual(try archive.push(source: try segment("000000010000000000000002.00000028.backup", "label"), codec: zstd), .archived)
        XCTAssertEqual(archive.files().map(\.kind), [.backupLabel, .segment, .history])
        // No temp files left behind.
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: dir + "/repo/wal").allSatisfy { !$0.hasPrefix(".") })
    }

    func testAnArchiveFromBeforeCompressionReadsAsItIs() throws {
        // A segment and record exactly as dr wrote them before (raw file, record without stored form or end time).
        let archive = WalArchive(directory: dir + "/repo/wal")
        let name = "000000010000000000000007"
        try Data("raw seven".utf8).write(to: URL(fileURLWithPath: archive.directory + "/" + name))
        let legacy = #"{"archived_at":"2026-11-26T05:00:00.000Z","sha256":"\#(SHA256Hasher.hex(of: Data("raw seven".utf8)))","size":9}"#
        try Data(legacy.utf8).write(to: URL(fileURLWithPath: archive.recordPath(name)))
        XCTAssertEqual(try archive.record(name).endedAt, RFC3339.parse("2026-11-26T05:00:00Z"))
        XCTAssertEqual(try archive.fetch(name: name, to: dir + "/out", key: nil), .restored)
        XCTAssertEqual(try String(contentsOfFile: dir + "/out", encoding: .utf8), "raw seven")
        // The next one is compressed: both list, both fetch.
        _ = try archive.push(source: try segment("000000010000000000000008", "eight"), codec: zstd)
        XCTAssertEqual(archive.files().map(\.text), [name, "000000010000000000000008"])
        XCTAssertEqual(try archive.fetch(name: "000000010000000000000008", to: dir + "/out", key: nil), .restored)
        XCTAssertEqual(try String(contentsOfFile: dir + "/out", encoding: .utf8), "eight")
    }

    func testEncryptedPushNeedsTheRepositorysKey() throws {
        let repo = Repository(root: dir + "/repo")
        let key = RepositoryKey(bytes: [UInt8](repeating: 1, count: 32), source: .file("/k1"))
        let other = RepositoryKey(bytes: [UInt8](repeating: 2, count: 32), source: .file("/k2"))
        try repo.checkKey(key, recording: true)
        XCTAssertEqual(repo.info?.keyId, key.id)
        let name = "000000010000000000000009"
        _ = try repo.wal.push(source: try segment(name, "nine"), codec: StorageCodec(compressionLevel: 3, key: key))
        XCTAssertTrue(FileManager.default.fileExists(atPath: repo.walDirectory + "/" + name + ".zst.enc"))
        for (k, recording) in [(other, false), (other, true)] {
            XCTAssertThrowsError(try repo.checkKey(k, recording: recording)) { XCTAssertEqual(($0 as? DRError)?.category, .badInput) }
        }
        XCTAssertThrowsError(try repo.checkKey(nil, recording: true), "new files would be in the clear")
        XCTAssertNoThrow(try repo.checkKey(nil, recording: false), "reading what is not encrypted needs no key")
        XCTAssertThrowsError(try repo.wal.fetch(name: name, to: dir + "/out", key: other)) { XCTAssertTrue($0 is StoredFile.KeyProblem) }
        guard case .damaged(let message) = try WalArchiveCommands.fetch(repository: repo.root, name: name, destination: dir + "/out") else {
            return XCTFail("without the key the file is unusable, not missing: PostgreSQL would promote early")
        }
        XCTAssertTrue(message.contains(name), message)
        XCTAssertEqual(try repo.wal.fetch(name: name, to: dir + "/out", key: key), .restored)
        XCTAssertEqual(try String(contentsOfFile: dir + "/out", encoding: .utf8), "nine")
    }

    func testDifferentContentIsNeverOverwritten() throws {
        let archive = WalArchive(directory: dir + "/repo/wal")
        let name = "000000010000000000000005"
        XCTAssertEqual(try archive.push(source: try segment(name, "first"), codec: zstd), .archived)
        XCTAssertThrowsError(try archive.push(source: try segment(name, "second"), codec: zstd)) { error in
            XCTAssertEqual((error as? DRError)?.category, .problemFound)
            XCTAssertTrue("\(error)".contains("different content"))
        }
        XCTAssertEqual(try archive.fetch(name: name, to: dir + "/out", key: nil), .restored)
        XCTAssertEqual(try String(contentsOfFile: dir + "/out", encoding: .utf8), "first")
    }

    func testDamagedSegmentIsDetectedOnFetch() throws {
        let archive = WalArchive(directory: dir + "/repo/wal")
        let name = "000000010000000000000006"
        _ = try archive.push(source: try segment(name, "good bytes"), codec: .plain)
        try Data("evil bytes".utf8).write(to: URL(fileURLWithPath: archive.directory + "/" + name))
        XCTAssertThrowsError(try archive.fetch(name: name, to: dir + "/out", key: nil)) { error in
            XCTAssertTrue(error is WalArchive.Corrupt)
            XCTAssertTrue("\(error)".contains(name))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out"), "a damaged file is not handed to PostgreSQL")
        guard case .damaged(let message) = try WalArchiveCommands.fetch(repository: dir + "/repo", name: name, destination: dir + "/out") else {
            return XCTFail("a damaged segment must not look missing: PostgreSQL would promote early")
        }
        XCTAssertTrue(message.contains(name), message)
    }

    func testBadNamesAreRefused() throws {
        let archive = WalArchive(directory: dir + "/repo/wal")
        XCTAssertThrowsError(try archive.push(source: try segment("postgresql.conf", "x"), codec: zstd)) { error in
            XCTAssertEqual((error as? DRError)?.category, .badInput)
        }
        XCTAssertThrowsError(try archive.fetch(name: "../../etc/passwd", to: dir + "/out", key: nil))
    }

    func testSegmentNameArithmetic() {
        let size: UInt64 = 16 << 20
        XCTAssertEqual(WalFileName.segment(containing: LSN.parse("0/2000028")!, timeline: 1, segmentSize: size).text, "000000010000000000000002")
        XCTAssertEqual(WalFileName.segment(containing: LSN.parse("1/FF000000")!, timeline: 3, segmentSize: size).text, "0000000300000001000000FF")
        let name = WalFileName("0000000100000001000000FF")!
        XCTAssertEqual(WalFileName.make(number: name.ordinal(segmentSize: size) + 1, timeline: 1, segmentSize: size).text, "000000010000000200000000")
        XCTAssertEqual(LSN.format(LSN.parse("16/B374D848")!), "16/B374D848")
        XCTAssertEqual(WalFileName("00000002.history")?.kind, .history)
        XCTAssertEqual(WalFileName("000000010000000000000002.partial")?.kind, .partial)
        XCTAssertNil(WalFileName("00000001000000000000000G"))
    }

    func testISOWeekNames() {
        XCTAssertEqual(ISOWeek.name(of: RFC3339.parse("2026-11-26T05:00:00Z")!), "2026-W48")
        XCTAssertEqual(ISOWeek.name(of: RFC3339.parse("2027-01-01T00:00:00Z")!), "2026-W53")
    }

    func testPostgresTimeKeepsMicroseconds() {
        XCTAssertEqual(PostgresTime.format(Date(timeIntervalSince1970: 1_764_134_534.5)), "2025-11-26 05:22:14.500000+00")
    }
}
