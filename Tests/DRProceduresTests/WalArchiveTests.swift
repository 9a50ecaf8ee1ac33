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

    func testPushFetchRoundTripAndIdempotence() throws {
        let archive = WalArchive(directory: dir + "/repo/wal")
        let name = "000000010000000000000003"
        let path = try segment(name, "segment three")
        XCTAssertEqual(try archive.push(source: path), .archived)
        XCTAssertEqual(try archive.push(source: path), .alreadyArchived, "an identical push succeeds")
        XCTAssertEqual(try archive.record(name).sha256, SHA256Hasher.hex(of: Data("segment three".utf8)))
        XCTAssertEqual(try archive.fetch(name: name, to: dir + "/RECOVERYXLOG"), .restored)
        XCTAssertEqual(try String(contentsOfFile: dir + "/RECOVERYXLOG", encoding: .utf8), "segment three")
        XCTAssertEqual(try archive.fetch(name: "000000010000000000000004", to: dir + "/x"), .notInArchive)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x"))
        // History and backup history files travel the same way.
        XCTAssertEqual(try archive.push(source: try segment("00000002.history", "1\t0/3000000\tno recovery target")), .archived)
        XCTAssertEqual(try archive.push(source: try segment("000000010000000000000002.00000028.backup", "label")), .archived)
        XCTAssertEqual(archive.files().map(\.kind), [.backupLabel, .segment, .history])
        // No temp files left behind.
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: dir + "/repo/wal").allSatisfy { !$0.hasPrefix(".") })
    }

    func testDifferentContentIsNeverOverwritten() throws {
        let archive = WalArchive(directory: dir + "/repo/wal")
        let name = "000000010000000000000005"
        XCTAssertEqual(try archive.push(source: try segment(name, "first")), .archived)
        XCTAssertThrowsError(try archive.push(source: try segment(name, "second"))) { error in
            XCTAssertEqual((error as? DRError)?.category, .problemFound)
            XCTAssertTrue("\(error)".contains("different content"))
        }
        XCTAssertEqual(try String(contentsOfFile: archive.path(name), encoding: .utf8), "first")
    }

    func testDamagedSegmentIsDetectedOnFetch() throws {
        let archive = WalArchive(directory: dir + "/repo/wal")
        let name = "000000010000000000000006"
        _ = try archive.push(source: try segment(name, "good bytes"))
        try Data("evil bytes".utf8).write(to: URL(fileURLWithPath: archive.path(name)))
        XCTAssertThrowsError(try archive.fetch(name: name, to: dir + "/out")) { error in
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
        XCTAssertThrowsError(try archive.push(source: try segment("postgresql.conf", "x"))) { error in
            XCTAssertEqual((error as? DRError)?.category, .badInput)
        }
        XCTAssertThrowsError(try archive.fetch(name: "../../etc/passwd", to: dir + "/out"))
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
