import Foundation

/// Keeps the newest `weekly` weekly backups (never the one just made), then drops archived WAL
/// older than the start of the oldest backup still kept. Only dr-made backups are considered.
struct Retention {
    let repository: Repository
    let weekly: Int?

    struct Outcome: Equatable {
        var backups: [String] = []
        var walFiles: [String] = []
    }

    @discardableResult
    func apply(keeping justMade: String?) throws -> Outcome {
        var deleted: [String] = []
        if let weekly {
            let weeklies = repository.backups.list().filter { $0.kind == "weekly" && $0.managedBy == BackupInfo.managedBy }
            let newestFirst = weeklies.sorted { $0.stoppedAt > $1.stoppedAt }
            for old in newestFirst.dropFirst(weekly) where old.id != justMade {
                try repository.backups.remove(old)
                deleted.append(old.id)
            }
        }
        return Outcome(backups: deleted, walFiles: dropUnneededWal())
    }

    /// WAL older than every kept backup's start is needed by none of them. History files stay.
    private func dropUnneededWal() -> [String] {
        guard let oldestStart = repository.backups.list().map(\.startWal).min() else { return [] }
        var dropped: [String] = []
        for file in repository.wal.files() where file.kind != .history && file.text < oldestStart {
            repository.wal.remove(file.text)
            dropped.append(file.text)
        }
        return dropped
    }
}
