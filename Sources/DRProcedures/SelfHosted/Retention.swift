import Foundation

/// Keeps the newest `weekly` weekly backups (never the one just made), then drops archived WAL
/// older than the start of the oldest backup still kept. Only dr-made backups are considered.
/// Decided first (`doomed`), applied after (`apply`), so a plan lists exactly what a run deletes.
struct Retention {
    let repository: Repository
    let weekly: Int?
    /// The database whose weekly series retention trims; other databases' backups (a target
    /// repointed at another server) are never counted or deleted.
    var system: SourceSystem? = nil

    struct Outcome: Equatable {
        var backups: [String] = []
        var walFiles: [String] = []
    }

    /// The weekly backups retention deletes: beyond the newest `weekly`, never `justMade`.
    /// `adding` is a weekly backup about to be made (it counts as the newest); `arriving` are
    /// backups about to be copied in.
    func doomed(keeping justMade: String?, adding: String? = nil, arriving: [BackupInfo] = []) -> [String] {
        guard let weekly else { return [] }
        let listed = repository.backups.list()
        let present = listed + arriving.filter { b in !listed.contains { $0.id == b.id } }
        let weeklies = present.filter { $0.kind == "weekly" && $0.managedBy == BackupInfo.managedBy && system?.owns($0) != false }
        var newestFirst = weeklies.sorted { $0.stoppedAt > $1.stoppedAt }.map(\.id)
        if let adding, !newestFirst.contains(adding) { newestFirst.insert(adding, at: 0) }
        return newestFirst.dropFirst(weekly).filter { $0 != justMade && $0 != adding }
    }

    @discardableResult
    func apply(deleting doomed: [String]) throws -> Outcome {
        var deleted: [String] = []
        for id in doomed {
            guard let info = repository.backups.load(id) else { continue }
            try repository.backups.remove(info)
            deleted.append(id)
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
