import DRCore
import Foundation

/// The readiness checks of a pgbackrest target (issue 14's `dr check`), from facts gathered
/// read-only: pg_stat_archiver, `pgbackrest info`, the restore root's free space, the server
/// programs present, the last drill. Pure: `checks(_:)` decides from the facts alone.
public enum PgBackRestReadiness {
    public struct Facts: Sendable {
        public var now: Date
        /// pg_stat_archiver; nil when the source could not be reached.
        public var lastArchivedWal: String?
        public var lastArchivedAt: Date?
        public var lastFailedWal: String?
        public var lastFailedAt: Date?
        public var sourceReachable: Bool
        /// The repository's oldest and newest sets (label, its first WAL, end time, database size).
        public var oldestSet: (label: String, startWal: String?, end: Date)?
        public var newestSet: (label: String, end: Date, sizeBytes: Int64?)?
        /// The WAL range the repository's archive holds.
        public var walRange: (min: String, max: String)?
        /// The DR repository's newest set (nil: none), when the target has a DR repository.
        public var hasDRRepo: Bool
        public var drNewestSet: (label: String, end: Date)?
        public var restoreRoot: String
        public var restoreRootFreeBytes: Int64?
        /// The backup's PostgreSQL major version and whether its pg_ctl is present.
        public var majorVersion: String?
        public var binariesPresent: Bool
        /// The last passed drill's age, and the policy's limit.
        public var lastDrillAge: Double?
        public var drillMaxAge: Double?
        /// Archive lag above this is a warning (the target's accepted data loss).
        public var archiveLagLimit: Double = 3600

    }

    public static func checks(_ f: Facts) -> [ReadinessCheck] {
        [archiving(f), walContinuity(f), drCopy(f), restoreSpace(f), binaries(f), drill(f)].compactMap { $0 }
    }

    static func archiving(_ f: Facts) -> ReadinessCheck {
        guard f.sourceReachable else {
            return ReadinessCheck("archiving", .failed, found: "the source database cannot be reached for pg_stat_archiver",
                                  fix: "Check the target's conninfo and that the server is up.")
        }
        guard let at = f.lastArchivedAt else {
            return ReadinessCheck("archiving", .failed, found: "pg_stat_archiver shows no archived WAL",
                                  fix: "Set archive_command to pgbackrest archive-push (`dr archive setup`) and check `pgbackrest check`.")
        }
        let lag = f.now.timeIntervalSince(at)
        if let failed = f.lastFailedAt, failed > at {
            return ReadinessCheck("archiving", .failed, found: "the last archive attempt failed (\(f.lastFailedWal ?? "?") at \(RFC3339.format(failed))), after the last success \(f.lastArchivedWal ?? "?")",
                                  fix: "Read the server log for archive_command's error and run `pgbackrest check`.", ageSeconds: lag)
        }
        if lag > f.archiveLagLimit {
            return ReadinessCheck("archiving", .warning, found: "the newest archived WAL \(f.lastArchivedWal ?? "?") is \(DurationText.format(lag)) old",
                                  fix: "Set archive_timeout so a quiet server still archives, or check archive_command.", ageSeconds: lag)
        }
        return ReadinessCheck("archiving", .ok, found: "newest archived WAL \(f.lastArchivedWal ?? "?"), \(DurationText.format(lag)) ago", ageSeconds: lag)
    }

    static func walContinuity(_ f: Facts) -> ReadinessCheck {
        guard let oldest = f.oldestSet else {
            return ReadinessCheck("wal_continuous", .failed, found: "the repository has no backup set", fix: "Take one with `dr snapshot`.")
        }
        guard let range = f.walRange else {
            return ReadinessCheck("wal_continuous", .failed, found: "the repository holds no archived WAL", fix: "Check archive_command and `pgbackrest check`.")
        }
        // WAL names sort in order within a timeline: the archive must start at or before the oldest
        // kept set's first segment and reach the newest segment the server archived.
        let segment = { (name: String) in String(name.suffix(16)) }
        if let start = oldest.startWal, segment(range.min) > segment(start) {
            return ReadinessCheck("wal_continuous", .failed, found: "the archive starts at \(range.min), after the oldest kept set \(oldest.label)'s first segment \(start)",
                                  fix: "Expire the sets whose WAL is gone, or take a new full backup.")
        }
        if let last = f.lastArchivedWal, segment(range.max) < segment(last) {
            return ReadinessCheck("wal_continuous", .failed, found: "the archive ends at \(range.max), before the server's last archived segment \(last)",
                                  fix: "Check that archive_command pushes to this repository.")
        }
        return ReadinessCheck("wal_continuous", .ok, found: "WAL \(range.min) to \(range.max), from the oldest kept set \(oldest.label) to the newest archived segment")
    }

    static func drCopy(_ f: Facts) -> ReadinessCheck? {
        guard f.hasDRRepo else { return nil }
        guard let dr = f.drNewestSet else {
            return ReadinessCheck("dr_copy_lag", .failed, found: "the DR repository has no backup set", fix: "Run `dr copy`.")
        }
        let age = f.now.timeIntervalSince(dr.end)
        if let newest = f.newestSet, dr.end < newest.end {
            return ReadinessCheck("dr_copy_lag", .warning, found: "the DR repository's newest set \(dr.label) is older than the repository's \(newest.label)",
                                  fix: "Run `dr copy` (or schedule it after each snapshot).", ageSeconds: age)
        }
        return ReadinessCheck("dr_copy_lag", .ok, found: "the DR repository's newest set \(dr.label) is as new as the repository's", ageSeconds: age)
    }

    static func restoreSpace(_ f: Facts) -> ReadinessCheck {
        guard let size = f.newestSet?.sizeBytes else {
            return ReadinessCheck("restore_space", .warning, found: "the newest set's size is unknown", fix: "Take a snapshot so its size is known.")
        }
        guard let free = f.restoreRootFreeBytes else {
            return ReadinessCheck("restore_space", .failed, found: "\(f.restoreRoot) (restore_root) cannot be read", fix: "Create restore_root, or point it at a readable place.")
        }
        let needed = Int64(Double(size) * 1.2)
        if free < needed {
            return ReadinessCheck("restore_space", .failed, found: "\(free) bytes free under \(f.restoreRoot); a restore of the newest set needs \(needed) (1.2 × \(size))",
                                  fix: "Free space there or point restore_root at a larger file system.")
        }
        return ReadinessCheck("restore_space", .ok, found: "\(free) bytes free under \(f.restoreRoot), at least 1.2 × the newest set (\(size))")
    }

    static func binaries(_ f: Facts) -> ReadinessCheck {
        let version = f.majorVersion ?? "?"
        if f.binariesPresent { return ReadinessCheck("postgres_binaries", .ok, found: "PostgreSQL \(version) server programs present") }
        return ReadinessCheck("postgres_binaries", .failed, found: "no pg_ctl of PostgreSQL \(version), the backup's major version",
                              fix: "Install it (apt-get install postgresql-\(version)) or set `bindir:` on the target.")
    }

    static func drill(_ f: Facts) -> ReadinessCheck {
        guard let age = f.lastDrillAge else {
            return ReadinessCheck("drill_age", .warning, found: "no passed drill recorded", fix: "Run `dr drill`.")
        }
        if let limit = f.drillMaxAge, age > limit {
            return ReadinessCheck("drill_age", .failed, found: "the last passed drill is \(DurationText.format(age)) old, above drill.max_age \(DurationText.format(limit))",
                                  fix: "Run `dr drill`.", ageSeconds: age)
        }
        return ReadinessCheck("drill_age", .ok, found: "the last passed drill is \(DurationText.format(age)) old", ageSeconds: age)
    }
}

extension PgBackRestProvider {
    /// Gathers the facts (read-only) and returns the checks. `lastDrillAge` comes from the drill
    /// history, which lives above this module.
    public func readinessChecks(lastDrillAge: Double?) async throws -> [ReadinessCheck] {
        try await offloadBlocking { [self] in
            let info = try command().info(targetName: target.name)
            let sets = info.sets(repo: settings.repo)
            var f = PgBackRestReadiness.Facts(now: context.clock.now(), sourceReachable: false, hasDRRepo: settings.drRepo != nil,
                                              restoreRoot: settings.restoreRoot, binariesPresent: false)
            if let a = try? archiverState() {
                f.sourceReachable = true
                (f.lastArchivedWal, f.lastArchivedAt, f.lastFailedWal, f.lastFailedAt) = (a.lastArchivedWal, a.lastArchivedAt, a.lastFailedWal, a.lastFailedAt)
            }
            f.oldestSet = sets.first.map { ($0.label, $0.archive?.start, $0.stoppedAt) }
            f.newestSet = sets.last.map { ($0.label, $0.stoppedAt, $0.info?.size) }
            f.walRange = info.walRange(repo: settings.repo)
            f.drNewestSet = settings.drRepo.flatMap { info.sets(repo: $0).last }.map { ($0.label, $0.stoppedAt) }
            if let attrs = try? FileManager.default.attributesOfFileSystem(forPath: settings.restoreRoot),
               let free = (attrs[.systemFreeSize] as? NSNumber)?.int64Value { f.restoreRootFreeBytes = free }
            f.majorVersion = info.db.last?.version
            let bindir = settings.bindir ?? f.majorVersion.map { "/usr/lib/postgresql/\($0)/bin" } ?? ServerControl.resolveBindir(nil)
            f.binariesPresent = FileManager.default.isExecutableFile(atPath: bindir + "/pg_ctl")
            f.lastDrillAge = lastDrillAge
            f.drillMaxAge = target.drill?.maxAge
            return PgBackRestReadiness.checks(f)
        }
    }
}

extension PgBackRestProvider {
    /// `dr check` for a pgbackrest target: the checks above (the command adds the drill's age
    /// from the drill history, so it is left out here). Both scopes read the same facts: the
    /// stanza's repositories are what a restore anywhere would use.
    public func check(_ request: ReadinessRequest) async throws -> ReadinessReport {
        let checks = try await readinessChecks(lastDrillAge: nil).filter { $0.name != "drill_age" }
        return ReadinessReport(target: target.name, provider: "pgbackrest", checkedAt: context.clock.now(), checks: checks)
    }
}
