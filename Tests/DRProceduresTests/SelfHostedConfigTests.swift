@testable import DRProcedures
import DRCore
import XCTest

/// The postgres target's storage keys (issue 17): compression, encryption, rpo, jobs; and the
/// archive_timeout an RPO asks for, with what it costs.
final class SelfHostedConfigTests: XCTestCase {
    let file = "/etc/dr/dr.yml"

    func settings(_ extra: String) throws -> PostgresTargetSettings {
        let config = try ConfigLoader.parse("""
        targets:
          db:
            provider: postgres
            conninfo: "host=127.0.0.1"
            repository: /var/lib/dr/repo
        \(extra)
        """, file: file)
        guard case .postgres(let s) = try config.target(named: "db").provider else { throw DRError.badInput("not postgres") }
        return s
    }

    func testDefaultsAndEveryKey() throws {
        let defaults = try settings("")
        XCTAssertEqual(defaults.compression, .zstd(level: 3))
        XCTAssertNil(defaults.encryption)
        XCTAssertEqual(defaults.rpo, 300)
        XCTAssertEqual(defaults.jobs, ProcessInfo.processInfo.activeProcessorCount)
        let set = try settings("""
            compression: { type: zstd, level: 7 }
            encryption: { key_file: keys/dr.key }
            rpo: 90s
            jobs: 4
        """)
        XCTAssertEqual(set.compression, .zstd(level: 7))
        XCTAssertEqual(set.encryption, .file("/etc/dr/keys/dr.key"), "relative to the config file")
        XCTAssertEqual(set.rpo, 90)
        XCTAssertEqual(set.jobs, 4)
        XCTAssertEqual(try settings("    compression: { type: none }\n    encryption: { key_env: DR_KEY }").compression, PostgresTargetSettings.Compression.none)
        XCTAssertEqual(try settings("    encryption: { key_env: DR_KEY }").encryption, .environment("DR_KEY"))
    }

    func testBadValuesNameLineAndColumn() {
        let cases: [(String, [String])] = [
            ("    compression: { type: lz4 }", ["dr.yml:6:26", "zstd or none"]),
            ("    compression: { type: zstd, level: 30 }", ["dr.yml:6:39", "at most 19"]),
            ("    compression: { type: none, level: 3 }", ["dr.yml:6:39", "zstd only"]),
            ("    compression: { level: 3 }", ["dr.yml:6:18", "type"]),
            ("    encryption: { key_file: /k, key_env: K }", ["dr.yml:6:17", "exactly one"]),
            ("    encryption: { key_env: \"0123abcd 0123\" }", ["dr.yml:6:28", "not the key itself"]),
            ("    encryption: { passphrase: x }", ["dr.yml:6:19", "unknown key \"passphrase\""]),
            ("    rpo: soon", ["dr.yml:6:10", "rpo is \"soon\""]),
            ("    jobs: 0", ["dr.yml:6:11", "at least 1"]),
            ("    jobs: 500", ["dr.yml:6:11", "at most 64"]),
        ]
        for (yaml, parts) in cases {
            XCTAssertThrowsError(try settings(yaml), yaml) { error in
                let e = error as? DRError
                XCTAssertEqual(e?.category, .badInput, yaml)
                for p in parts { XCTAssertTrue(e?.message.contains(p) == true, "\(e?.message ?? "\(error)") lacks \(p)") }
            }
        }
    }

    func testArchiveTimeoutFitsTheRPOAndSaysWhatItCosts() {
        XCTAssertEqual(ArchiveSetup.archiveTimeout(rpo: 300), 270)
        XCTAssertEqual(ArchiveSetup.archiveTimeout(rpo: 60), 54)
        XCTAssertEqual(ArchiveSetup.archiveTimeout(rpo: 20), 15)
        XCTAssertEqual(ArchiveSetup.archiveTimeout(rpo: 3), 1)
        let raw = ArchiveSetup.cost(rpo: 300, segmentSize: 16 << 20, compression: .none)
        XCTAssertEqual(raw.segmentsPerDay, 320)
        XCTAssertEqual(raw.storedBytesPerDay, 320 * (16 << 20))
        let zstd = ArchiveSetup.cost(rpo: 300, segmentSize: 16 << 20, compression: .zstd(level: 3))
        XCTAssertEqual(zstd.segmentsPerDay, 320)
        XCTAssertLessThan(zstd.storedBytesPerSegment, 64 << 10, "an empty segment compresses to kilobytes, not 16 MB")
        XCTAssertGreaterThan(zstd.storedBytesPerSegment, 0)
        XCTAssertEqual(ArchiveSetup.emptySegment(size: 16 << 20).count, 16 << 20)
    }

    func testTheArchiveCommandCarriesTheStorageSettingsButNeverTheKey() throws {
        let s = try settings("    compression: { type: zstd, level: 5 }\n    encryption: { key_file: \"/etc/dr/my key\" }")
        XCTAssertEqual(ArchiveSetup.pushArguments(s),
                       "wal-push --repository /var/lib/dr/repo --compression zstd --compression-level 5 --key-file '/etc/dr/my key' %p")
        XCTAssertEqual(ArchiveSetup.pushArguments(try settings("    compression: { type: none }")),
                       "wal-push --repository /var/lib/dr/repo --compression none %p")
    }
}
