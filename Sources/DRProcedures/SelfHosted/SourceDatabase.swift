import DRCore
import DRPostgres
import Foundation

/// The source server, as the self-hosted backend sees it. Its queries live here, values bound.
final class SourceDatabase {
    let connection: PGConnection
    let safeName: String

    private init(connection: PGConnection, safeName: String) {
        self.connection = connection
        self.safeName = safeName
    }

    /// Connects, turning "cannot connect" into bad input: nothing can have changed yet.
    static func connect(_ conninfo: String, purpose: String) throws -> SourceDatabase {
        do {
            let c = try PGConnection(conninfo: conninfo, connectTimeout: 10, applicationName: "dr")
            // Keep the server's NOTICEs (e.g. from pg_backup_stop) out of dr's output.
            _ = try c.query("SET client_min_messages = warning")
            return SourceDatabase(connection: c, safeName: c.target)
        } catch let error as PostgresError {
            throw DRError.badInput("Could not connect to the source server (\(Redact.conninfo(conninfo))) to \(purpose): \(Prose.sentence(error.description)) Check that it is running and that the target's conninfo is right. Nothing was changed.")
        }
    }

    func run(_ sql: String, _ params: [String?] = [], timeout: Double? = nil) throws -> PGResult {
        do {
            return try connection.query(sql, params, timeout: timeout)
        } catch let error as PostgresError {
            throw DRError.remote("The source server \(safeName) refused a query: \(Prose.sentence(error.description))")
        }
    }

    struct ArchiveSettings: Equatable {
        var walLevel: String
        var archiveMode: String
        var archiveCommand: String
        /// Settings changed in the configuration that only a restart applies.
        var pendingRestart: [String]
    }

    func archiveSettings() throws -> ArchiveSettings {
        let rows = try run("SELECT name, setting, pending_restart FROM pg_settings WHERE name = ANY($1::text[])",
                           ["{wal_level,archive_mode,archive_command}"]).rows
        var values: [String: String] = [:], pending: [String] = []
        for row in rows {
            values[row[0] ?? ""] = row[1] ?? ""
            if row[2] == "t" { pending.append(row[0] ?? "") }
        }
        return ArchiveSettings(walLevel: values["wal_level"] ?? "", archiveMode: values["archive_mode"] ?? "",
                               archiveCommand: values["archive_command"] ?? "", pendingRestart: pending)
    }

    func alterSystem(_ name: String, _ value: String) throws {
        // ALTER SYSTEM takes no bound parameters: the name is one of ours, the value a quoted literal.
        let literal = try connection.quoteLiteral(value)
        _ = try run("ALTER SYSTEM SET \(try connection.quoteIdentifier(name)) = \(literal)")
    }

    func reloadConfiguration() throws { _ = try run("SELECT pg_reload_conf()") }

    func setting(_ name: String) throws -> String {
        guard let value = try run("SELECT setting FROM pg_settings WHERE name = $1", [name]).scalar else {
            throw DRError.remote("The source server \(safeName) has no setting \(name).")
        }
        return value
    }

    var dataDirectory: String {
        get throws {
            do { return try setting("data_directory") } catch {
                throw DRError.badInput("The source server \(safeName) does not show its data_directory to this user. Connect as a superuser (or a member of pg_read_all_settings) in the target's conninfo. Nothing was changed.")
            }
        }
    }

    var isSuperuser: Bool { get throws { try run("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar == "t" } }
    var isInRecovery: Bool { get throws { try run("SELECT pg_is_in_recovery()").scalar == "t" } }
    var serverVersion: Int { connection.serverVersion }

    var systemIdentifier: String { get throws { try run("SELECT system_identifier::text FROM pg_control_system()").scalar ?? "" } }

    var extraTablespaces: [String] {
        get throws { try run("SELECT spcname FROM pg_tablespace WHERE spcname NOT IN ('pg_default', 'pg_global') ORDER BY 1").rows.compactMap { $0[0] } }
    }

    /// Starts a non-exclusive backup on this connection, with a fast checkpoint. Returns the start LSN.
    func backupStart(label: String) throws -> UInt64 {
        let text = try run("SELECT pg_backup_start($1, true)::text", [label]).scalar ?? ""
        guard let lsn = LSN.parse(text) else { throw DRError.remote("pg_backup_start returned \(text), not an LSN.") }
        return lsn
    }

    struct BackupStop {
        var lsn: UInt64
        var label: String
        var tablespaceMap: String
        /// The server's clock once pg_backup_stop returned: the backup is consistent from then on.
        var at: Date?
    }

    /// Ends the backup (and switches to a new segment). It does not wait for archiving: the
    /// server's own wait polls once a second, so the caller watches the repository instead.
    func backupStop() throws -> BackupStop {
        let sql = "SELECT lsn::text, labelfile, spcmapfile, to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM pg_backup_stop(false)"
        let row = try run(sql).rows.first ?? []
        guard row.count == 4, let lsn = row[0].flatMap(LSN.parse) else { throw DRError.remote("pg_backup_stop returned no LSN.") }
        return BackupStop(lsn: lsn, label: row[1] ?? "", tablespaceMap: row[2] ?? "", at: row[3].flatMap(RFC3339.parse))
    }

    /// Ends the current segment so it is archived now; returns the LSN of the switch.
    @discardableResult
    func switchWal() throws -> String { try run("SELECT pg_switch_wal()::text").scalar ?? "" }

    /// pg_stat_archiver's view: the last archived and last failed WAL file.
    func archiver() throws -> (lastArchived: String?, lastFailed: String?, failedAt: String?) {
        let row = try run("SELECT last_archived_wal, last_failed_wal, last_failed_time::text FROM pg_stat_archiver").rows.first ?? []
        return (row.first ?? nil, row.count > 1 ? row[1] : nil, row.count > 2 ? row[2] : nil)
    }

    /// Configuration files that live outside the data directory (Debian keeps them in /etc).
    func configFiles() throws -> [String: String] {
        var files: [String: String] = [:]
        for row in try run("SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[])", ["{config_file,hba_file,ident_file}"]).rows {
            if let n = row[0], let v = row[1] { files[n] = v }
        }
        return files
    }
}
