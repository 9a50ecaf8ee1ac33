import DRCore
import Foundation

/// A repository on disk: base backups and the WAL archive (the layout pgBackRest calls a repo).
///
/// ```
/// <root>/wal/<walfile>            archived WAL, written atomically
/// <root>/wal/<walfile>.json       its checksum, size and archive time (written first)
/// <root>/backups/<id>/backup.json the backup's metadata; present only once the backup is complete
/// <root>/backups/<id>/data/...    the data directory's files
/// <root>/backups/.<id>.tmp/       a backup or copy in progress (never looks complete)
/// ```
struct Repository {
    let root: String

    var walDirectory: String { root + "/wal" }
    var backupsDirectory: String { root + "/backups" }
    var wal: WalArchive { WalArchive(directory: walDirectory) }
    var backups: BackupCatalog { BackupCatalog(directory: backupsDirectory) }

    /// Refuses a repository that does not exist or that `user` cannot write, before anything changes.
    func checkUsable(writableBy user: OSUser?, role: String = "repository", subdirectory: String? = nil) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw DRError.badInput("The \(role) \(root) does not exist or is not a folder. Create it (e.g. `mkdir -p \(root)`, owned by the user that runs PostgreSQL) and run the command again. Nothing was changed.")
        }
        guard let user else { return }
        let dir = subdirectory.map { root + "/" + $0 } ?? root
        let checked = FileManager.default.fileExists(atPath: dir) ? dir : root
        guard user.canWrite(checked) else {
            throw DRError.badInput("The \(role) folder \(checked) is not writable by the OS user \(user.name). Give it to that user (e.g. `chown -R \(user.name) \(root)`) and run the command again. Nothing was changed.")
        }
    }

    /// Creates `wal/` and `backups/` when missing, owned by `owner` (the server's user for `wal/`).
    func prepare(walOwner: OSUser?) throws {
        try FileOps.makeDirectory(backupsDirectory)
        if !FileManager.default.fileExists(atPath: walDirectory) {
            try FileOps.makeDirectory(walDirectory)
            if OSUser.isRoot, let walOwner { walOwner.give(walDirectory) }
        }
    }
}
