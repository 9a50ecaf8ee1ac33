import DRCore
import Foundation

/// `dr status` for self-hosted PostgreSQL: backups and their ages, the archived WAL range, the
/// restorable window and the data-loss exposure (how long ago the newest archived WAL was).
struct RepositoryStatus {
    let targetName: String
    let settings: PostgresTargetSettings
    var clock: DRClock = SystemClock()

    static let staleBackup: Double = 8 * 86400
    static let staleWal: Double = 3600

    func run() throws -> TargetStatus {
        let now = clock.now()
        let primary = Repository(root: settings.repository)
        try primary.checkUsable(writableBy: nil)
        // Only this database's backups count; another database's (the target was repointed)
        // are named in a warning, never used.
        let all = primary.backups.list()
        let system = SourceSystem.resolve(conninfo: settings.conninfo, repository: primary)
        let backups = system.map { $0.filter(all) } ?? all
        let windows = RestoreWindows(backups: backups, wal: primary.wal)
        let wal = primary.wal.files().filter { $0.kind == .segment }
        var details: [String: String] = ["repository": primary.root, "restore_root": settings.restoreRoot]
        var warnings: [String] = []
        details["wal_segments"] = String(wal.count)
        if let first = wal.first, let last = wal.last {
            details["wal_first"] = first.text
            details["wal_last"] = last.text
            if let record = try? primary.wal.record(last.text) { details["wal_last_archived_at"] = RFC3339.format(record.archivedAt) }
        }
        let merged = windows.merged
        if merged.count > 1 { warnings.append("The archive has a gap: restorable windows are \(windows.text).") }
        let exposure = windows.latest.map { now.timeIntervalSince($0) }
        if let exposure, exposure > Self.staleWal { warnings.append("No WAL archived in \(DurationText.format(exposure)): check archive_command and pg_stat_archiver.") }
        else if let exposure, exposure > settings.rpo {
            warnings.append("The data-loss exposure (\(DurationText.format(exposure))) is above the target's RPO (\(DurationText.format(settings.rpo))): check archive_timeout (`dr archive setup \(targetName)`) and pg_stat_archiver.")
        }
        if let newest = backups.last {
            details["newest_backup_stored_as"] = [newest.compression ?? "uncompressed", newest.keyId.map { "encrypted (key id \($0))" } ?? "not encrypted"]
                .joined(separator: ", ")
            if let stored = newest.storedBytes { details["newest_backup_stored_bytes"] = String(stored) }
        }
        if let newest = backups.last?.stoppedAt, now.timeIntervalSince(newest) > Self.staleBackup {
            warnings.append("The newest base backup is \(DurationText.format(now.timeIntervalSince(newest))) old (more than 8 days).")
        }
        if backups.isEmpty { warnings.append("No base backup yet: run `dr snapshot \(targetName)`.") }
        if let system {
            let others = all.filter { !system.owns($0) }
            if !others.isEmpty {
                warnings.append("\(others.count) backup\(others.count == 1 ? " is" : "s are") of another database than the source's (system identifier \(system.identifier)): \(others.map { "\($0.id) (\($0.systemIdentifier))" }.joined(separator: ", ")). The target's database changed; dr never restores them for it, and retention leaves them: remove them by hand once they are not needed.")
            }
            if let note = system.note { warnings.append("Backups shown are those of the newest backup's database: \(note).") }
        }
        for stale in primary.backups.abandonedWork() {
            warnings.append("An abandoned backup (killed midway) is left at \(stale): the next `dr snapshot \(targetName)` removes it.")
        }
        var drSummaries: [SnapshotSummary] = []
        if let dr = settings.drRepository {
            let drRepo = Repository(root: dr)
            let drBackups = drRepo.backups.list().filter { system?.owns($0) != false }
            drSummaries = drBackups.map { summary($0, now) }
            if FileManager.default.fileExists(atPath: dr), let newest = drBackups.last?.stoppedAt,
               now.timeIntervalSince(newest) > Self.staleBackup {
                warnings.append("The newest DR copy is \(DurationText.format(now.timeIntervalSince(newest))) old (more than 8 days): run `dr copy \(targetName)`.")
            }
        }
        return TargetStatus(
            target: targetName, provider: "postgres", checkedAt: now,
            snapshots: backups.map { summary($0, now) }.sorted { $0.createdAt > $1.createdAt },
            drSnapshots: drSummaries.sorted { $0.createdAt > $1.createdAt }, restorableWindow: merged.last, exposureSeconds: exposure,
            archivedUntil: details["wal_last_archived_at"].flatMap(RFC3339.parse),
            state: warnings.isEmpty ? "ok" : "warnings", cache: nil, restores: [], display: details, warnings: warnings)
    }

    private func summary(_ b: BackupInfo, _ now: Date) -> SnapshotSummary {
        SnapshotSummary(id: b.id, kind: b.kind, createdAt: b.stoppedAt, ageSeconds: now.timeIntervalSince(b.stoppedAt), sizeBytes: b.sizeBytes)
    }
}
