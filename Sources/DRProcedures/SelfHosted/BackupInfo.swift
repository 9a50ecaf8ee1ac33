import DRCore
import Foundation

/// A base backup's metadata (`backup.json`), written last: its presence marks the backup complete.
struct BackupInfo: Codable, Equatable {
    static let managedBy = "dr"

    var id: String
    var target: String
    /// `weekly` (named for the ISO week, subject to retention) or `adhoc`.
    var kind: String
    var isoWeek: String?
    var managedBy: String = BackupInfo.managedBy
    var startLsn: String
    var stopLsn: String
    /// First and last WAL segment a restore of this backup needs before it is consistent.
    var startWal: String
    var stopWal: String
    var timeline: UInt32
    var segmentSize: UInt64
    var startedAt: Date
    /// After pg_backup_stop returned and the stop segment was archived.
    var stoppedAt: Date
    /// The server's clock when pg_backup_stop returned: the backup is consistent from then on,
    /// so this is the earliest time it can be restored to. Absent in backups from before it was
    /// kept (the window then starts when the stop segment was archived).
    var consistentAt: Date?
    var serverVersion: Int
    var systemIdentifier: String
    var sizeBytes: Int64
    /// Bytes on disk in the repository (compressed, encrypted); absent when stored as they are.
    var storedBytes: Int64?
    /// `zstd` when the files are compressed; the key id when they are encrypted.
    var compression: String?
    var keyId: String?
    /// Files under `data/`, with their checksums, sorted by path.
    var files: [FileEntry]
    /// Secondary copies of the label PostgreSQL needs to start from this backup.
    var backupLabel: String
    var tablespaceMap: String?

    struct FileEntry: Codable, Equatable {
        var path: String
        /// The original file's size and checksum.
        var size: Int64
        var sha256: String
        /// How it is stored (absent: as it is).
        var stored: StoredForm?

        var original: FileOps.Copied { .init(size: size, sha256: sha256) }
        var storedPath: String { path + (stored?.suffix ?? "") }
        /// The stored bytes' size and checksum, what a copy checks.
        var storedChecksum: FileOps.Copied { stored.map { .init(size: $0.size, sha256: $0.sha256) } ?? original }
    }

    /// The identity an encrypted file of this backup is bound to.
    static func identity(backup id: String, path: String) -> String { "backups/\(id)/\(path)" }

    static let fileName = "backup.json"
}

/// The backups of one repository.
struct BackupCatalog {
    let directory: String

    func path(_ id: String) -> String { directory + "/" + id }
    func dataPath(_ id: String) -> String { path(id) + "/data" }
    func workPath(_ id: String) -> String { directory + "/.\(id).tmp" }

    /// Work folders of backups (and removals) that were killed midway: hidden `.…tmp` entries.
    func abandonedWork() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(".") && $0.hasSuffix(".tmp") }.sorted().map { directory + "/" + $0 }
    }

    /// Complete backups, oldest first.
    func list() -> [BackupInfo] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasPrefix(".") }.compactMap(load).sorted { $0.stoppedAt < $1.stoppedAt }
    }

    func load(_ id: String) -> BackupInfo? {
        guard let data = FileManager.default.contents(atPath: path(id) + "/" + BackupInfo.fileName) else { return nil }
        return try? DRJSON.decode(BackupInfo.self, from: data)
    }

    /// Removes a backup `dr` made (one with dr's metadata), metadata first so it never looks complete half-removed.
    func remove(_ info: BackupInfo) throws {
        guard info.managedBy == BackupInfo.managedBy else { return }
        CallLog.record("remove \(directory)/\(info.id)")
        let trash = directory + "/.\(info.id).deleting.tmp"
        try FileOps.rename(path(info.id), trash)
        try? FileManager.default.removeItem(atPath: trash)
    }
}

/// ISO 8601 week names: `2026-W48`.
enum ISOWeek {
    static func name(of date: Date) -> String {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        return String(format: "%04d-W%02d", c.yearForWeekOfYear!, c.weekOfYear!)
    }
}
