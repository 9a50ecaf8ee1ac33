import DRAWS
import DRCore
import Foundation

/// Where a point-in-time restore can go: from the earliest time the automated backups reach
/// (`RestoreWindow.EarliestTime`, else the oldest automated snapshot) to the instance's
/// `LatestRestorableTime`. Checked before any mutating call.
enum RDSRestoreWindow {
    static func of(instance: DBInstance, rds: RDSClient) async throws -> TimeWindow? {
        guard instance.backupRetentionPeriod != 0, let latest = instance.latestRestorableTime else { return nil }
        let backups = try await rds.describeDBInstanceAutomatedBackups(instanceIdentifier: instance.identifier).items
        var earliest = backups.compactMap(\.earliestTime).min()
        if earliest == nil {
            earliest = try await rds.describeAllDBSnapshots(instanceIdentifier: instance.identifier, snapshotType: "automated")
                .compactMap(\.createTime).min()
        }
        guard let earliest, earliest <= latest else { return nil }
        return TimeWindow(earliest: earliest, latest: latest)
    }

    static func of(cluster: DBCluster) -> TimeWindow? {
        guard let earliest = cluster.earliestRestorableTime, let latest = cluster.latestRestorableTime, earliest <= latest else { return nil }
        return TimeWindow(earliest: earliest, latest: latest)
    }

    /// Refuses a time outside `window` (or any point-in-time restore when there is no window).
    static func check(_ point: RestorePoint, window: TimeWindow?, source: String) throws {
        guard let window else {
            throw DRError.badInput("\(source) has no restorable window (automated backups are off or not yet taken), so it cannot be restored to a point in time. Restore from a snapshot with --from-snapshot instead. Nothing was changed.")
        }
        if case .pointInTime(let time) = point, !window.contains(time) {
            throw DRError.badInput("--point-in-time \(RFC3339.format(time)) is outside the restorable window of \(source): \(window). Choose a time within it, or use --latest-restorable. Nothing was changed.")
        }
    }
}
