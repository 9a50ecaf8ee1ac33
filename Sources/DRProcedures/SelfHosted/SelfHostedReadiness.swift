import DRCore
import DRPostgres
import Foundation

/// `dr check` for self-hosted PostgreSQL: archiving works (`pg_stat_archiver`), WAL is
/// continuous from the oldest kept backup to now, the DR copy's lag, room under `restore_root`
/// for the newest backup, and the PostgreSQL binaries for the backup's major version. Each check
/// is a function of its own; they run at once. Read-only.
struct SelfHostedReadiness {
    let provider: SelfHostedProvider
    let scope: ReadinessRequest.Scope

    var settings: PostgresTargetSettings { provider.settings }
    var name: String { provider.target.name }

    static let weeklyLimit: Double = 8 * 86400
    /// The DR copy's WAL may trail the repository's by this much before the check warns.
    static let drWalLagLimit: Double = 3600
    /// Free space a restore needs, per byte of the newest backup (it also stages WAL).
    static let spaceFactor = 1.2

    func run() async throws -> ReadinessReport {
        let now = provider.context.clock.now()
        var checks: [ReadinessChecks.Check] = []
        if scope == .all {
            checks += [{ [self] in [try await offloadBlocking { archiving(now: now) }] },
                       { [self] in [try await offloadBlocking { walContinuity(now: now) }] }]
        }
        checks += [{ [self] in [try await offloadBlocking { drCopy(now: now) }] },
                   { [self] in [try await offloadBlocking { restoreSpace() }] },
                   { [self] in [try await offloadBlocking { binaries() }] }]
        return ReadinessReport(target: name, provider: "postgres", checkedAt: now, checks: try await ReadinessChecks.gather(checks))
    }

    // MARK: Archiving

    /// What `pg_stat_archiver` and the settings say: a failure newer than the last success
    /// fails the check; a last success older than the RPO warns.
    func archiving(now: Date) -> ReadinessCheck {
        let sql = """
            SELECT current_setting('archive_mode'), current_setting('archive_command'), a.archived_count, a.last_archived_wal,
                   extract(epoch FROM a.last_archived_time), a.failed_count, a.last_failed_wal, extract(epoch FROM a.last_failed_time),
                   extract(epoch FROM now()),
                   CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END
            FROM pg_stat_archiver a
            """
        let row: [String?]
        do {
            let connection = try PGConnection(conninfo: settings.conninfo, connectTimeout: 10, applicationName: "dr check")
            defer { connection.close() }
            row = try connection.query(sql, timeout: 10).rows.first ?? []
        } catch let error as PostgresError {
            return ReadinessCheck("archiving", .failed, found: "cannot read pg_stat_archiver of the source: \(Redact.conninfo(error.message))",
                                  fix: "check the target's conninfo and that the server is up (the password comes from PGPASSWORD or pgpass)")
        } catch {
            return ReadinessCheck("archiving", .failed, found: "cannot read pg_stat_archiver of the source: \(error)", fix: "check the target's conninfo")
        }
        guard row.count == 10 else { return ReadinessCheck("archiving", .failed, found: "pg_stat_archiver returned no row", fix: "check the server") }
        let mode = row[0] ?? "off", command = row[1] ?? ""
        let lastWal = row[3], failedWal = row[6], currentWal = row[9]
        let lastOK = row[4].flatMap(Double.init).map(Date.init(timeIntervalSince1970:))
        let lastFailed = row[7].flatMap(Double.init).map(Date.init(timeIntervalSince1970:))
        let serverNow = row[8].flatMap(Double.init).map(Date.init(timeIntervalSince1970:)) ?? now
        let setup = "`dr archive setup \(name) --apply`"
        if mode == "off" || command.isEmpty || command == "(disabled)" {
            return ReadinessCheck("archiving", .failed, found: "archiving is off (archive_mode \(mode))", fix: "turn it on with \(setup), then restart the server if it says so")
        }
        let age = lastOK.map { serverNow.timeIntervalSince($0) }
        if let lastFailed, lastOK.map({ lastFailed > $0 }) ?? true {
            let since = lastOK.map { "last success \(lastWal ?? "?") \(DurationText.format(serverNow.timeIntervalSince($0))) ago" } ?? "nothing archived yet"
            return ReadinessCheck("archiving", .failed,
                                  found: "archive_command is failing: \(failedWal ?? "?") failed \(DurationText.format(serverNow.timeIntervalSince(lastFailed))) ago (\(since); \(row[5] ?? "?") failures)",
                                  fix: "read the server log for archive_command's error and fix it; \(setup) shows the command it should be",
                                  ageSeconds: age)
        }
        guard let age else {
            return ReadinessCheck("archiving", .warning, found: "nothing archived yet (archive_mode \(mode))",
                                  fix: "force a segment out with SELECT pg_switch_wal() and check that it reaches \(settings.repository)")
        }
        var waiting = 0
        if let lastWal, let currentWal, let done = WalFileName(lastWal), let open = WalFileName(currentWal),
           open.timeline == done.timeline, open.segment > done.segment {
            waiting = Int(open.segment - done.segment) - 1
        }
        let found = "last segment \(lastWal ?? "?") archived \(DurationText.format(age)) ago" + (waiting > 0 ? ", \(waiting) completed segment(s) not archived yet" : "")
        if age > settings.rpo + 60 || waiting > 1 {
            return ReadinessCheck("archiving", .warning, found: found + " (RPO \(DurationText.format(settings.rpo)))",
                                  fix: "check archive_timeout (\(setup)) and the archiver's speed", ageSeconds: age)
        }
        return ReadinessCheck("archiving", .ok, found: found, ageSeconds: age)
    }

    // MARK: The repository

    /// From the oldest kept backup to the newest archived segment without a gap.
    func walContinuity(now: Date) -> ReadinessCheck {
        let repo = provider.repository
        let fix = "take a new base backup (`dr snapshot \(name)`) so a restore does not need the missing WAL, and check archiving"
        do { try repo.checkUsable(writableBy: nil) } catch {
            return ReadinessCheck("wal_continuity", .failed, found: (error as? DRError)?.message ?? "\(error)", fix: "create the repository and take a backup")
        }
        let backups = repo.backups.list()
        guard let oldest = backups.min(by: { $0.startedAt < $1.startedAt }) else {
            return ReadinessCheck("wal_continuity", .failed, found: "no base backup in \(repo.root)", fix: "take one: `dr snapshot \(name)`")
        }
        let windows = RestoreWindows(backups: backups, wal: repo.wal)
        guard windows.spans.contains(where: { $0.backup.id == oldest.id }) else {
            return ReadinessCheck("wal_continuity", .failed, found: "the oldest kept backup \(oldest.id) cannot be restored: WAL it needs is missing", fix: fix)
        }
        let merged = windows.merged
        guard merged.count == 1, let window = merged.first else {
            return ReadinessCheck("wal_continuity", .failed, found: "the archive has a gap: restorable \(windows.text)", fix: fix)
        }
        let segments = repo.wal.files().filter { $0.kind == .segment }
        if let newest = segments.last, let record = try? repo.wal.record(newest.text), record.endedAt.timeIntervalSince(window.latest) > 1 {
            return ReadinessCheck("wal_continuity", .failed,
                                  found: "WAL archived after \(RFC3339.format(window.latest)) (up to \(newest.text)) is not reachable from any kept backup: a segment is missing",
                                  fix: fix, ageSeconds: now.timeIntervalSince(window.latest))
        }
        return ReadinessCheck("wal_continuity", .ok,
                              found: "continuous from the oldest kept backup \(oldest.id) to \(RFC3339.format(window.latest)) (\(segments.count) segments)",
                              ageSeconds: now.timeIntervalSince(window.latest))
    }

    /// The DR repository: its newest backup's age and how far its WAL trails the repository's.
    /// For a DR restore: also that it can restore something on its own.
    func drCopy(now: Date) -> ReadinessCheck {
        guard let drRoot = settings.drRepository else {
            return ReadinessCheck("dr_copy", .failed, found: "no dr_repository configured", fix: "add `dr_repository:` to \(name) in dr.yml and run `dr copy \(name)`")
        }
        let dr = Repository(root: drRoot)
        let copyFix = "run `dr copy \(name)` (weekly-snapshot.yml does it after each backup)"
        guard FileManager.default.fileExists(atPath: dr.backupsDirectory), let newest = dr.backups.list().max(by: { $0.stoppedAt < $1.stoppedAt }) else {
            return ReadinessCheck("dr_copy", .failed, found: "the DR repository \(drRoot) holds no backup", fix: copyFix)
        }
        let age = now.timeIntervalSince(newest.stoppedAt)
        if scope == .drRestore, RestoreWindows(backups: dr.backups.list(), wal: dr.wal).spans.isEmpty {
            return ReadinessCheck("dr_copy", .failed, found: "the DR repository \(drRoot) holds backups but not the WAL to restore any of them", fix: copyFix, ageSeconds: age)
        }
        var found = "newest DR backup \(newest.id), \(DurationText.format(age)) old"
        var lag: Double = 0
        if scope == .all {
            let primary = provider.repository.wal
            let drNames = Set(dr.wal.files().map(\.text))
            let missing = primary.files().filter { $0.kind == .segment && !drNames.contains($0.text) }
            if let oldestMissing = missing.first, let record = try? primary.record(oldestMissing.text) {
                lag = now.timeIntervalSince(record.endedAt)
                found += "; \(missing.count) WAL segment(s) not copied yet, the oldest \(DurationText.format(lag)) old"
            } else {
                found += "; its WAL is up to date with the repository"
            }
        }
        if age > Self.weeklyLimit {
            return ReadinessCheck("dr_copy", .failed, found: found + " (policy: weekly, at most 8d)", fix: copyFix, ageSeconds: age)
        }
        if lag > Self.drWalLagLimit {
            return ReadinessCheck("dr_copy", .warning, found: found, fix: copyFix + "; schedule it more often to keep the DR copy's data loss small", ageSeconds: age)
        }
        return ReadinessCheck("dr_copy", .ok, found: found, ageSeconds: age)
    }

    /// The backup a restore would use (the DR copy's for a DR restore).
    func newestBackup() -> BackupInfo? {
        let repo = scope == .drRestore ? settings.drRepository.map { Repository(root: $0) } ?? provider.repository : provider.repository
        return repo.backups.list().max { $0.stoppedAt < $1.stoppedAt }
    }

    /// Free space where restores go, against 1.2× the newest backup.
    func restoreSpace() -> ReadinessCheck {
        var folder = settings.restoreRoot
        while !FileManager.default.fileExists(atPath: folder), folder != "/" { folder = (folder as NSString).deletingLastPathComponent }
        guard let free = (try? FileManager.default.attributesOfFileSystem(forPath: folder))?[.systemFreeSize] as? NSNumber else {
            return ReadinessCheck("restore_space", .failed, found: "cannot read the free space under \(settings.restoreRoot)", fix: "create `restore_root` or fix its permissions")
        }
        let available = free.int64Value
        guard let newest = newestBackup() else {
            return ReadinessCheck("restore_space", .warning, found: "\(Self.bytes(available)) free under \(folder); no backup yet to compare with",
                                  fix: "take one: `dr snapshot \(name)`")
        }
        let needed = Int64(Double(newest.sizeBytes) * Self.spaceFactor)
        let found = "\(Self.bytes(available)) free under \(folder); a restore of \(newest.id) needs \(Self.bytes(needed)) (1.2× its \(Self.bytes(newest.sizeBytes)))"
        guard available >= needed else {
            return ReadinessCheck("restore_space", .failed, found: found, fix: "free space there, or point `restore_root:` at a larger file system")
        }
        return ReadinessCheck("restore_space", .ok, found: found)
    }

    /// `postgres --version` in the bindir against the newest backup's major version.
    func binaries() -> ReadinessCheck {
        let bindir = ServerControl.resolveBindir(settings.bindir)
        let missing = ["postgres", "pg_ctl"].filter { !FileManager.default.isExecutableFile(atPath: bindir + "/" + $0) }
        let installFix = "install the PostgreSQL server for that version (apt install postgresql-NN) or set `bindir:` on the target"
        guard missing.isEmpty else {
            return ReadinessCheck("binaries", .failed, found: "\(missing.joined(separator: " and ")) not found in \(bindir)", fix: installFix)
        }
        let text = (try? SystemProcessRunner.runBlocking(bindir + "/postgres", ["--version"]))?.stdout ?? ""
        // `postgres (PostgreSQL) 15.4 (Debian 15.4-1)`
        let version = text.split(separator: " ").first { $0.first?.isNumber == true }.map(String.init) ?? ""
        let major = Int(version.split(separator: ".").first ?? "")
        guard let major else {
            return ReadinessCheck("binaries", .failed, found: "cannot tell the version of \(bindir)/postgres (\(text.trimmingCharacters(in: .whitespacesAndNewlines)))", fix: installFix)
        }
        guard let newest = newestBackup() else {
            return ReadinessCheck("binaries", .warning, found: "PostgreSQL \(version) in \(bindir); no backup yet to compare with", fix: "take one: `dr snapshot \(name)`")
        }
        let wanted = newest.serverVersion / 10000
        guard wanted == major else {
            return ReadinessCheck("binaries", .failed, found: "\(newest.id) is PostgreSQL \(wanted), but \(bindir) holds PostgreSQL \(version)",
                                  fix: installFix.replacingOccurrences(of: "NN", with: String(wanted)))
        }
        return ReadinessCheck("binaries", .ok, found: "PostgreSQL \(version) in \(bindir), as \(newest.id) needs")
    }

    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n), unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }
}

extension SelfHostedProvider {
    public func check(_ request: ReadinessRequest) async throws -> ReadinessReport {
        try await SelfHostedReadiness(provider: self, scope: request.scope).run()
    }
}
