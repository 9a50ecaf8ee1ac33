import DRCore
import DRPostgres
import Foundation

/// What a postgres target's database *is*, whatever the target is called: the cluster's system
/// identifier (pg_control). A cluster made again (initdb), or a conninfo repointed at another
/// server, has another one. Every backup and restore records it; a snapshot into a repository
/// holding another database's backups is refused (their WAL would collide), and retention,
/// `latest`, named restores, the DR copy, adoption and status match on it, never on the name.
struct SourceSystem: Equatable {
    var identifier: String
    /// Set when the identifier was not read from the server (it did not answer) but taken from
    /// the newest backup: what a restore says about its choice.
    var note: String?

    /// Reads the source's identifier; the source must answer (a snapshot needs it anyway).
    static func read(conninfo: String, purpose: String) throws -> SourceSystem {
        let source = try SourceDatabase.connect(conninfo, purpose: purpose)
        defer { source.connection.close() }
        return SourceSystem(identifier: try source.systemIdentifier)
    }

    /// The source's identifier, or — when the source does not answer, as in a disaster — the one
    /// the newest backup in `repository` records, with a note saying so; nil when neither is known.
    static func resolve(conninfo: String, repository: Repository) -> SourceSystem? {
        if let read = try? read(conninfo: conninfo, purpose: "read its system identifier") { return read }
        guard let newest = repository.backups.list().max(by: { $0.stoppedAt < $1.stoppedAt }) else { return nil }
        return SourceSystem(identifier: newest.systemIdentifier,
                            note: "the source server did not answer; its backups are taken to be those of the newest backup's database (system identifier \(newest.systemIdentifier))")
    }

    func owns(_ backup: BackupInfo) -> Bool { backup.systemIdentifier == identifier }

    /// The part of `backups` that is this database's.
    func filter(_ backups: [BackupInfo]) -> [BackupInfo] { backups.filter(owns) }

    /// A backup named for a restore or copy that is of another database: bad input naming both.
    func refuse(_ backup: BackupInfo, target: String) -> DRError {
        DRError(.identityMismatch, "The backup \(backup.id) is of another database (system identifier \(backup.systemIdentifier)) than target \(target)'s source (system identifier \(identifier)). dr will not restore or copy another database's backup for this target. Name one of its own backups (`dr status \(target)` lists them). Nothing was changed.")
    }

    /// A repository serves one database: its WAL archive is named by segment, so a second
    /// database archiving into it collides, and its backups are no use to this one. Refuses a
    /// backup into `repository` when its newest backup is of another database.
    func checkRepository(_ repository: Repository, target: String) throws {
        guard let newest = repository.backups.list().max(by: { $0.stoppedAt < $1.stoppedAt }), !owns(newest) else { return }
        throw DRError(.identityMismatch, "Target \(target)'s source is now another database (system identifier \(identifier)) than the one whose backups and WAL \(repository.root) holds (system identifier \(newest.systemIdentifier), newest backup \(newest.id)): the target's conninfo was repointed, or the cluster was made again. A repository serves one database, so dr will not back this one up into it. Give this database its own `repository:` (and `dr_repository:`), run `dr archive setup \(target) --apply`, then snapshot; or point conninfo back. Nothing was changed.")
    }

    /// No backup of this database among `all` (which has some): bad input naming both.
    func noneOfOwn(_ all: [BackupInfo], repository: String, target: String) -> DRError {
        let theirs = Set(all.map(\.systemIdentifier)).sorted().joined(separator: ", ")
        return DRError(.identityMismatch, "\(repository) holds no backup of target \(target)'s source (system identifier \(identifier)); its backups are of another database (system identifier \(theirs)). dr will not restore another database for this target. Point the target's conninfo back at its database, or take a backup of this one into its own repository. Nothing was changed.")
    }
}
