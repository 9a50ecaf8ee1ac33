import DRCore
@testable import DRProcedures
import Foundation
import XCTest

/// The pgbackrest provider's pure parts with fixed vectors: dr.yml keys, `pgbackrest info`'s
/// JSON, the weekly and retention decisions, the set a time restores from, the readiness checks.
final class PgBackRestUnitTests: XCTestCase {
    let file = "/etc/dr/dr.yml"

    func parse(_ yaml: String) throws -> TargetsConfig { try ConfigLoader.parse(yaml, file: file) }

    func testConfigKeysDefaultsAndBadInput() throws {
        let config = try parse("""
        targets:
          pg-main:
            provider: pgbackrest
            stanza: main
            conninfo: "host=127.0.0.1 port=5432 dbname=app user=postgres"
            dr_repo: 2
            restore_root: /var/lib/dr/restores
            retention: { weekly: 4 }
        """)
        guard case .pgbackrest(let s) = config.targets[0].provider else { return XCTFail("not a pgbackrest target") }
        XCTAssertEqual(s, PgBackRestTargetSettings(stanza: "main", config: "/etc/pgbackrest/pgbackrest.conf",
                                                   conninfo: "host=127.0.0.1 port=5432 dbname=app user=postgres", repo: 1, drRepo: 2,
                                                   restoreRoot: "/var/lib/dr/restores", retentionWeekly: 4))
        XCTAssertEqual(config.targets[0].providerName, "pgbackrest")
        XCTAssertTrue(config.targets[0].hasDRCopy)

        let bad: [(String, [String])] = [
            ("    repo_path: /x\n", ["\(file):", "repo_path"]),
            ("    dr_repo: 1\n", ["dr_repo", "another pgBackRest repository"]),
            ("    repo: 0\n", ["repo"]),
        ]
        for (extra, parts) in bad {
            let yaml = "targets:\n  t:\n    provider: pgbackrest\n    stanza: main\n    conninfo: x\n    restore_root: /r\n" + extra
            XCTAssertThrowsError(try parse(yaml), extra) { error in
                let e = error as! DRError
                XCTAssertEqual(e.category, .badInput)
                for p in parts { XCTAssertTrue(e.message.contains(p), "\(e.message) lacks \(p)") }
            }
        }
        XCTAssertThrowsError(try parse("targets:\n  t:\n    provider: pgbackrest\n    conninfo: x\n    restore_root: /r\n")) { error in
            XCTAssertTrue((error as! DRError).message.contains("stanza"))
        }
        XCTAssertThrowsError(try parse("targets:\n  t:\n    provider: pgbackrest\n    stanza: \"a b\"\n    conninfo: x\n    restore_root: /r\n")) { error in
            XCTAssertTrue((error as! DRError).message.contains("\(file):4:"), (error as! DRError).message)
        }
    }

    static let infoJSON = """
    [{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000010000000000000009","min":"000000010000000000000001"}],
      "backup":[
        {"annotation":{"dr-target":"t","dr-week":"2026-W01","dr-kind":"weekly"},"archive":{"start":"000000010000000000000002","stop":"000000010000000000000002"},
         "database":{"id":1,"repo-key":1},"error":false,"info":{"size":1000,"repository":{"size":300,"delta":300}},"label":"20260101-000000F",
         "reference":null,"timestamp":{"start":1767225600,"stop":1767225610},"type":"full"},
        {"archive":{"start":"000000010000000000000004","stop":"000000010000000000000004"},"database":{"id":1,"repo-key":1},"error":false,
         "label":"20260105-000000F","reference":null,"timestamp":{"start":1767571200,"stop":1767571210},"type":"full"},
        {"annotation":{"dr-target":"t","dr-week":"2026-W02","dr-kind":"weekly"},"archive":{"start":"000000010000000000000006","stop":"000000010000000000000006"},
         "database":{"id":1,"repo-key":1},"error":false,"label":"20260108-000000F","reference":null,"timestamp":{"start":1767830400,"stop":1767830410},"type":"full"},
        {"database":{"id":1,"repo-key":1},"error":false,"label":"20260108-000000F_20260109-000000I","reference":["20260108-000000F"],
         "timestamp":{"start":1767916800,"stop":1767916810},"type":"incr"},
        {"database":{"id":1,"repo-key":2},"error":false,"label":"20260101-000000F","timestamp":{"start":1767225600,"stop":1767225610},"type":"full"}],
      "cipher":"none","db":[{"id":1,"repo-key":1,"system-id":1,"version":"15"}],"name":"main",
      "repo":[{"cipher":"none","key":1,"status":{"code":0,"message":"ok"}},{"cipher":"none","key":2,"status":{"code":0,"message":"ok"}}],
      "status":{"code":0,"lock":{"backup":{"held":false}},"message":"ok"}}]
    """

    func info() throws -> PgBackRestInfo { try JSONDecoder().decode([PgBackRestInfo].self, from: Data(Self.infoJSON.utf8))[0] }

    func testInfoSetsWeeklyRetentionAndTheSetForATime() throws {
        let info = try info()
        let sets = info.sets(repo: 1)
        XCTAssertEqual(sets.map(\.label), ["20260101-000000F", "20260105-000000F", "20260108-000000F", "20260108-000000F_20260109-000000I"])
        XCTAssertEqual(info.sets(repo: 2).count, 1)
        XCTAssertEqual(info.walRange(repo: 1)?.max, "000000010000000000000009")
        XCTAssertNil(info.walRange(repo: 2))
        XCTAssertEqual(PgBackRestSets.weekly(sets, target: "t", week: "2026-W02")?.label, "20260108-000000F")
        XCTAssertNil(PgBackRestSets.weekly(sets, target: "other", week: "2026-W02"))
        XCTAssertNil(PgBackRestSets.weekly(sets, target: "t", week: "2026-W03"))
        // Keep 2 with a new weekly set coming: the oldest of dr's weekly sets goes; the set dr did
        // not annotate stays.
        XCTAssertEqual(PgBackRestSets.doomed(sets, target: "t", keep: 2, adding: true), ["20260101-000000F"])
        XCTAssertEqual(PgBackRestSets.doomed(sets, target: "t", keep: 2, adding: false), [])
        // Keep 1 without a new set: W02 is what the newest (an incr) depends on, so it stays too.
        XCTAssertEqual(PgBackRestSets.doomed(sets, target: "t", keep: 1, adding: false), ["20260101-000000F"])
        XCTAssertEqual(PgBackRestSets.doomed(sets, target: "t", keep: 1, adding: true), ["20260101-000000F"])
        XCTAssertEqual(PgBackRestSets.doomed(sets, target: "t", keep: nil, adding: true), [])
        // The newest set that ended before the time.
        XCTAssertEqual(PgBackRestSets.set(for: Date(timeIntervalSince1970: 1767571211), in: sets)?.label, "20260105-000000F")
        XCTAssertEqual(PgBackRestSets.set(for: Date(timeIntervalSince1970: 1767571210), in: sets)?.label, "20260101-000000F")
        XCTAssertNil(PgBackRestSets.set(for: Date(timeIntervalSince1970: 1767225610), in: sets))
        XCTAssertEqual(PgBackRestSets.annotations(target: "t", week: "2026-W02"),
                       ["--annotation=dr-target=t", "--annotation=dr-kind=weekly", "--annotation=dr-week=2026-W02"])
    }

    func testConfigSecretsAreRegisteredForMasking() {
        let conf = PgBackRestConfig(text: "[global]\nrepo1-cipher-pass=VerySecretPass1\nrepo2-s3-key-secret=AnotherSecret22\nrepo1-path=/r\n[main]\npg1-path=/data\n")
        XCTAssertEqual(conf.value("pg1-path", stanza: "main"), "/data")
        XCTAssertEqual(conf.value("repo1-path", stanza: "main"), "/r")
        conf.registerSecrets(environment: ["PGBACKREST_REPO1_S3_TOKEN": "TokenValue333"])
        let masked = Redact.secrets(in: "a VerySecretPass1 b AnotherSecret22 c TokenValue333 /r")
        XCTAssertFalse(masked.contains("VerySecretPass1") || masked.contains("AnotherSecret22") || masked.contains("TokenValue333"), masked)
        XCTAssertTrue(masked.contains("/r"))
    }

    func facts() -> PgBackRestReadiness.Facts {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var f = PgBackRestReadiness.Facts(now: now, sourceReachable: true, hasDRRepo: true, restoreRoot: "/r", binariesPresent: true)
        f.lastArchivedWal = "000000010000000000000009"
        f.lastArchivedAt = now.addingTimeInterval(-60)
        f.oldestSet = ("A", "000000010000000000000002", now.addingTimeInterval(-86400))
        f.newestSet = ("B", now.addingTimeInterval(-3600), 1000)
        f.walRange = ("000000010000000000000001", "000000010000000000000009")
        f.drNewestSet = ("B", now.addingTimeInterval(-3600))
        f.restoreRootFreeBytes = 1200
        f.majorVersion = "15"
        f.lastDrillAge = 86400
        f.drillMaxAge = 7 * 86400
        return f
    }

    func status(_ f: PgBackRestReadiness.Facts) -> [String: ReadinessCheck.Status] {
        Dictionary(uniqueKeysWithValues: PgBackRestReadiness.checks(f).map { ($0.name, $0.status) })
    }

    func testReadinessChecks() {
        XCTAssertEqual(status(facts()), ["archiving": .ok, "wal_continuous": .ok, "dr_copy_lag": .ok, "restore_space": .ok,
                                         "postgres_binaries": .ok, "drill_age": .ok])
        var f = facts(); f.lastFailedAt = f.now.addingTimeInterval(-10); f.lastFailedWal = "00000001000000000000000A"
        XCTAssertEqual(status(f)["archiving"], .failed)
        f = facts(); f.lastArchivedAt = f.now.addingTimeInterval(-7200)
        XCTAssertEqual(status(f)["archiving"], .warning)
        f = facts(); f.sourceReachable = false
        XCTAssertEqual(status(f)["archiving"], .failed)
        f = facts(); f.walRange = ("000000010000000000000003", "000000010000000000000009")
        XCTAssertEqual(status(f)["wal_continuous"], .failed, "the archive starts after the oldest set's first segment")
        f = facts(); f.lastArchivedWal = "00000001000000000000000B"
        XCTAssertEqual(status(f)["wal_continuous"], .failed, "the archive does not reach the server's last archived segment")
        f = facts(); f.drNewestSet = ("A", f.now.addingTimeInterval(-86400))
        XCTAssertEqual(status(f)["dr_copy_lag"], .warning)
        f = facts(); f.drNewestSet = nil
        XCTAssertEqual(status(f)["dr_copy_lag"], .failed)
        f = facts(); f.hasDRRepo = false
        XCTAssertNil(status(f)["dr_copy_lag"])
        f = facts(); f.restoreRootFreeBytes = 1199
        XCTAssertEqual(status(f)["restore_space"], .failed, "below 1.2 × the newest set")
        f = facts(); f.binariesPresent = false
        XCTAssertEqual(status(f)["postgres_binaries"], .failed)
        XCTAssertTrue(PgBackRestReadiness.checks(f).first { $0.name == "postgres_binaries" }?.fix?.contains("postgresql-15") == true)
        f = facts(); f.lastDrillAge = 8 * 86400
        XCTAssertEqual(status(f)["drill_age"], .failed)
        f = facts(); f.lastDrillAge = nil
        XCTAssertEqual(status(f)["drill_age"], .warning)
    }
}
