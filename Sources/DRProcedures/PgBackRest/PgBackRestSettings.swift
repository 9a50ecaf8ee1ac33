import DRCore
import Foundation

/// `provider: pgbackrest` — an existing pgBackRest stanza that dr drives (issue 13): its
/// backups are dr's snapshots, its repositories dr's repository and DR copy.
public struct PgBackRestTargetSettings: Sendable, Equatable {
    public static let defaultConfig = "/etc/pgbackrest/pgbackrest.conf"

    /// The stanza dr drives (`--stanza`).
    public var stanza: String
    /// pgBackRest's configuration file (`--config`).
    public var config: String
    /// How to reach the source server (for archiving status, verification and freshness).
    public var conninfo: String
    /// The repository snapshots go to and restores come from (`--repo`).
    public var repo: Int
    /// The second copy (another bucket or region): `dr copy`, `--from-dr`.
    public var drRepo: Int?
    /// Where restored servers live, one folder each.
    public var restoreRoot: String
    /// dr's weekly full backups kept in each repository; others are left to pgBackRest's expire.
    public var retentionWeekly: Int?
    /// The libpq service file `dr failover` rewrites, and the entry in it (default: the target's name).
    public var serviceFile: String?
    public var service: String?
    /// PostgreSQL server programs (pg_ctl). Default: `pg_config --bindir`.
    public var bindir: String?

    public init(stanza: String, config: String = defaultConfig, conninfo: String, repo: Int = 1, drRepo: Int? = nil,
                restoreRoot: String, retentionWeekly: Int? = nil, serviceFile: String? = nil, service: String? = nil, bindir: String? = nil) {
        self.stanza = stanza
        self.config = config
        self.conninfo = conninfo
        self.repo = repo
        self.drRepo = drRepo
        self.restoreRoot = restoreRoot
        self.retentionWeekly = retentionWeekly
        self.serviceFile = serviceFile
        self.service = service
        self.bindir = bindir
    }

    /// The restore settings the shared self-hosted pieces (restored servers, recovery watch,
    /// teardown, failover) read: the same conninfo, restore root, bindir and service file.
    var selfHostedView: PostgresTargetSettings {
        PostgresTargetSettings(conninfo: conninfo, repository: "pgbackrest stanza \(stanza) repo \(repo)", restoreRoot: restoreRoot,
                               serviceFile: serviceFile, service: service, bindir: bindir, compression: .none)
    }
}
