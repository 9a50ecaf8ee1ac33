import DRCore
import DRProcedures
@testable import DRDrill
import DRRunbook
import DRRunbookEngine
import Foundation
import XCTest

/// `dr status --output prometheus` from a fixed status: every figure, its name and unit, +Inf
/// for a configured DR location with no copy, and a target that could not be read.
final class StatusMetricsTests: XCTestCase {
    func testEveryFigureFromAFixedStatus() throws {
        let status = try DRJSON.decode(TargetStatus.self, from: Data("""
        {"target": "local-db", "provider": "postgres", "checked_at": "2026-11-26T12:00:00Z",
         "snapshots": [{"id": "a", "kind": "weekly", "created_at": "2026-11-20T12:00:00Z", "age_seconds": 518400},
                       {"id": "b", "kind": "adhoc", "created_at": "2026-11-26T11:00:00Z", "age_seconds": 3600}],
         "dr_snapshots": [],
         "restorable_window": {"earliest": "2026-11-20T12:00:00Z", "latest": "2026-11-26T11:58:00Z"},
         "exposure_seconds": 120, "archived_until": "2026-11-26T11:59:30Z", "state": "ok", "restores": [], "display": {}, "warnings": []}
        """.utf8))
        let target = Target(name: "local-db", provider: .postgres(PostgresTargetSettings(conninfo: "host=127.0.0.1", repository: "/r", drRepository: "/d")),
                            drill: DrillPolicy(maxAge: 86_400))
        let reading = StatusReading(status: status, target: target, lastDrillSuccess: RFC3339.parse("2026-11-26T03:00:00Z"))
        let text = StatusMetrics.text([.read(reading), .failed(target: "prod \"db\"", provider: "rds")])
        let samples = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
        XCTAssertEqual(samples, [
            #"dr_status_up{target="local-db",provider="postgres"} 1"#,
            #"dr_status_up{target="prod \"db\"",provider="rds"} 0"#,
            #"dr_status_timestamp_seconds{target="local-db"} 1795694400"#,
            #"dr_snapshot_newest_age_seconds{target="local-db"} 3600"#,
            #"dr_dr_copy_newest_age_seconds{target="local-db"} +Inf"#,
            #"dr_restorable_window_start_timestamp_seconds{target="local-db"} 1795176000"#,
            #"dr_restorable_window_end_timestamp_seconds{target="local-db"} 1795694280"#,
            #"dr_data_loss_exposure_seconds{target="local-db"} 120"#,
            #"dr_wal_archive_lag_seconds{target="local-db"} 30"#,
            #"dr_drill_history_last_success_timestamp_seconds{target="local-db"} 1795662000"#,
            #"dr_drill_max_age_seconds{target="local-db"} 86400"#,
        ])
        // No cache configured: no cache series. HELP and TYPE once per family, before its samples.
        XCTAssertFalse(text.contains("dr_cache_snapshot_newest_age_seconds{"))
        XCTAssertEqual(text.components(separatedBy: "# TYPE dr_status_up gauge\n").count - 1, 1)
        XCTAssertTrue(text.hasPrefix("# HELP dr_status_up "))
        // Every name is in the dr_ namespace and ends with its unit (or is a 0/1 flag).
        for family in StatusMetrics.families {
            XCTAssertTrue(family.name.hasPrefix("dr_") && (family.name.hasSuffix("_seconds") || family.name == "dr_status_up"), family.name)
        }
    }

    func testRDSCacheAndCopyAges() throws {
        let status = try DRJSON.decode(TargetStatus.self, from: Data("""
        {"target": "prod-db", "provider": "rds", "checked_at": "2026-11-26T12:00:00Z", "snapshots": [],
         "dr_snapshots": [{"id": "c", "kind": "dr-copy", "created_at": "2026-11-25T12:00:00Z", "age_seconds": 86400}],
         "archived_until": "2026-11-26T11:55:00Z", "state": "available", "restores": [], "display": {},
         "cache": {"replication_group": "redis", "newest_snapshot": "s", "newest_snapshot_at": "2026-11-26T02:00:00Z"}, "warnings": []}
        """.utf8))
        let target = Target(name: "prod-db", provider: .rds(RDSTargetSettings(region: "us-east-1", resource: .instance("db"), drRegion: "us-west-2", cacheReplicationGroup: "redis")))
        let r = StatusReading(status: status, target: target, lastDrillSuccess: nil)
        XCTAssertEqual(r.newestSnapshotAge, .infinity)
        XCTAssertEqual(r.newestDRCopyAge, 86400)
        XCTAssertEqual(r.walArchiveLag, 300)
        XCTAssertEqual(r.cacheSnapshotAge, 36000)
        XCTAssertEqual(r.drillMaxAge, DrillHistorySummary.defaultMaxAge)
        let text = StatusMetrics.text([.read(r)])
        XCTAssertTrue(text.contains("dr_snapshot_newest_age_seconds{target=\"prod-db\"} +Inf\n"))
        XCTAssertFalse(text.contains("dr_drill_history_last_success_timestamp_seconds{"), "absent when no drill passed")
    }
}
