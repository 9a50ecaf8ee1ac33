import DRCore
import Foundation

/// Checks made before anything changes, so bad input exits 2 with nothing half-done.
struct Preflight {
    let settings: PostgresTargetSettings
    let repository: Repository

    /// What a base backup needs: a primary we may back up, archiving into this repository, and a
    /// data directory and repository we can read and write.
    func checkForBackup(_ source: SourceDatabase) throws {
        guard try !source.isInRecovery else {
            throw DRError.badInput("The source server \(source.safeName) is a standby (in recovery). dr takes base backups from the primary; point the target's conninfo at it. Nothing was changed.")
        }
        guard try source.isSuperuser else {
            throw DRError.badInput("The target's conninfo connects as a user that is not a superuser on \(source.safeName). A base backup reads the data directory and calls pg_backup_start/pg_backup_stop; connect as a superuser. Nothing was changed.")
        }
        let spaces = try source.extraTablespaces
        guard spaces.isEmpty else {
            throw DRError.badInput("The source server has tablespaces outside the data directory (\(spaces.joined(separator: ", "))); dr's self-hosted backups do not cover them yet. Nothing was changed.")
        }
        try checkArchiving(source)
        try repository.checkUsable(writableBy: OSUser.current)
        let dataDirectory = try source.dataDirectory
        guard access(dataDirectory, R_OK | X_OK) == 0 else {
            throw DRError.badInput("dr cannot read the source's data directory \(dataDirectory). Run dr on the database host as root or as the user that owns the data directory. Nothing was changed.")
        }
    }

    /// Archiving must be on and must push into this repository, or restores would lack WAL.
    func checkArchiving(_ source: SourceDatabase) throws {
        let current = try source.archiveSettings()
        let levelOK = ["replica", "logical"].contains(current.walLevel)
        let modeOK = ["on", "always"].contains(current.archiveMode)
        let pushesHere = current.archiveCommand.contains("wal-push") && current.archiveCommand.contains(repository.root)
        // The WAL must be stored as the target says (compressed, encrypted with its key) too.
        // (It may run other commands too, e.g. `dr wal-push ... %p && another-tool %p`.)
        let asConfigured = current.archiveCommand.contains(" " + ArchiveSetup.pushArguments(settings))
        guard levelOK, modeOK, pushesHere, asConfigured else {
            let command = current.archiveCommand.isEmpty ? "empty" : !pushesHere ? "does not push here"
                : "pushes here but not with the target's compression and encryption settings"
            throw DRError(.invalidConfig, "Archiving into \(repository.root) is not configured on \(source.safeName) as the target says (wal_level=\(current.walLevel), archive_mode=\(current.archiveMode), archive_command \(command)). Run `dr archive setup TARGET --apply`, restart the server if it says so, and run the command again. Nothing was changed.")
        }
        guard current.pendingRestart.isEmpty else {
            throw DRError.badInput("The source server \(source.safeName) has archiving settings waiting for a restart (\(current.pendingRestart.joined(separator: ", "))). Restart it (e.g. pg_ctl restart) and run the command again. Nothing was changed.")
        }
    }
}
