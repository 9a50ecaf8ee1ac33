import DRCore
import DRAWS
import DRPostgres
import Foundation
import Logging

/// The self-hosted PostgreSQL backend (`provider: postgres`): base backups and a WAL archive in
/// a repository on this machine, restores to a point in time as new local servers. Like every
/// backend, each procedure decides first (read-only) and then executes that decision; `plan`
/// lists the same decision.
public struct SelfHostedProvider: RecoveryProvider {
    public let target: Target
    public let settings: PostgresTargetSettings
    let context: ProviderContext

    public init(target: Target, settings: PostgresTargetSettings, context: ProviderContext) {
        self.target = target
        self.settings = settings
        self.context = context
    }

    var logger: Logger { context.logger }

    /// Beside the repository (so anything using that repository sees it), else machine-wide.
    public var lockPath: String {
        let repository = URL(fileURLWithPath: settings.repository).standardizedFileURL.path
        let parent = (repository as NSString).deletingLastPathComponent
        if FileManager.default.fileExists(atPath: parent) { return repository + ".lock" }
        return context.lockDirectory + "/postgres-" + SHA256Hasher.hex(of: Data(repository.utf8)).prefix(16) + ".lock"
    }
    var drExecutable: String { context.drExecutable }
    var repository: Repository { Repository(root: settings.repository) }
    var control: ServerControl { ServerControl(bindir: ServerControl.resolveBindir(settings.bindir)) }
    var servers: RestoredServers { RestoredServers(root: settings.restoreRoot) }

    func drRepository() throws -> Repository {
        guard let dr = settings.drRepository else {
            throw DRError(.invalidConfig, "Target \(target.name) has no `dr_repository:`, so there is no DR copy. Add one to dr.yml and run `dr copy \(target.name)`. Nothing was changed.")
        }
        return Repository(root: dr)
    }

    // MARK: Plans

    public func plan(_ request: ProcedureRequest) async throws -> ProcedurePlan {
        try await offloadBlocking { [self] in
            switch request {
            case .snapshot(let r):
                let d = try snapshotDecision(r)
                return ProcedurePlan(d.plan, snapshot: d.id)
            case .copy(let r):
                let d = try copyDecision(r)
                return ProcedurePlan(d.plan, snapshot: r.snapshot ?? d.pending.backups.last)
            case .restore(let r):
                let d = try restoreProcedure(r).decide(r)
                return ProcedurePlan(d.plan, snapshot: d.choice.span.backup.id)
            case .failover(let r): return ProcedurePlan(try serviceFailover(r).decide().plan)
            case .teardown(let r): return ProcedurePlan(try teardownProcedure.decide(name: r.name, upcoming: r.upcoming).plan)
            case .secretRepoint, .cacheRestore, .secretCopyTeardown, .cacheTeardown: throw noStack()
            case .appScale, .appRollback: throw AppTier.noApplication(target)
            }
        }
    }

    // MARK: Snapshot

    struct SnapshotDecision {
        var id: String
        var weekly: Bool
        var existing: BackupInfo?
        var system: SourceSystem
        var retention: [String]
        var repository: String
        var plan: [PlannedAction] {
            var out: [PlannedAction] = [.read("read the backups in \(repository)", call: "read \(repository)/backups")]
            if let existing {
                out.append(.read("reuse this ISO week's backup \(existing.id) (taken \(RFC3339.format(existing.stoppedAt)))"))
            } else {
                out.append(.read("connect to the source and check its archiving settings", call: "libpq: SHOW, pg_stat_archiver"))
                out.append(.change("take a\(weekly ? " weekly" : "n ad-hoc") base backup \(id) into \(repository)",
                                   call: "pg_backup_start, copy the data directory, pg_backup_stop"))
            }
            for doomed in retention {
                out.append(.change("retention: delete backup \(doomed)", call: "remove \(repository)/backups/\(doomed)"))
            }
            out.append(.change("drop archived WAL no kept backup needs", call: "remove \(repository)/wal/…", when: "only if there is such WAL"))
            return out
        }
    }

    func snapshotDecision(_ request: SnapshotRequest) throws -> SnapshotDecision {
        try request.refusingBackupType(target.name, provider: "postgres")
        try repository.checkUsable(writableBy: nil)
        let system = try SourceSystem.read(conninfo: settings.conninfo, purpose: "take a base backup")
        try system.checkRepository(repository, target: target.name)
        let now = context.clock.now()
        let id = request.weekly ? BaseBackup.weeklyID(now) : BaseBackup.adhocID(now, catalog: repository.backups)
        let existing = request.weekly ? repository.backups.load(id) : nil
        let retention = Retention(repository: repository, weekly: settings.retentionWeekly, system: system)
            .doomed(keeping: id, adding: existing == nil && request.weekly ? id : nil)
        return SnapshotDecision(id: id, weekly: request.weekly, existing: existing, system: system,
                                retention: retention, repository: repository.root)
    }

    public func snapshot(_ request: SnapshotRequest) async throws -> SnapshotResult {
        try await offloadBlocking { [self] in
            let decision = try snapshotDecision(request)
            let outcome: BaseBackup.Outcome
            if let existing = decision.existing {
                logger.info("weekly backup already taken this week", metadata: ["id": "\(existing.id)"])
                outcome = BaseBackup.Outcome(info: existing, created: false)
            } else {
                do {
                    outcome = try BaseBackup(targetName: target.name, settings: settings, repository: repository, logger: logger)
                        .run(id: decision.id, weekly: request.weekly)
                } catch let error as DRError where error.category == .interrupted {
                    throw DRError(.interrupted, "Interrupted: the partial backup \(decision.id) was removed and the server's backup mode ended; the repository is as it was. Run the snapshot again.")
                }
            }
            let retention = try Retention(repository: repository, weekly: settings.retentionWeekly, system: decision.system)
                .apply(deleting: decision.retention)
            let info = outcome.info
            return SnapshotResult(
                target: target.name, id: info.id, kind: info.kind, created: outcome.created,
                startedAt: info.startedAt, finishedAt: info.stoppedAt, sizeBytes: info.sizeBytes, deleted: retention.backups,
                location: repository.root, cacheSnapshot: nil, waited: true,
                display: ["start_lsn": info.startLsn, "stop_lsn": info.stopLsn, "timeline": String(info.timeline),
                          "start_wal": info.startWal, "stop_wal": info.stopWal, "files": String(info.files.count),
                          "wal_dropped": String(retention.walFiles.count)])
        }
    }

    // MARK: Copy

    struct CopyDecision {
        var destination: String
        var pending: RepositoryCopy.Pending
        var retention: [String]
        /// An earlier step makes the backup to copy (so it brings WAL of its own).
        var upcoming: Bool
        var plan: [PlannedAction] {
            var out: [PlannedAction] = [.read("compare the repository with the DR repository \(destination)", call: "read both repositories")]
            if !pending.wal.isEmpty || upcoming {
                out.append(.change("copy \(pending.wal.count) WAL file\(pending.wal.count == 1 ? "" : "s")\(upcoming ? " and the WAL of the backup an earlier step takes" : "") to \(destination), checksums verified",
                                   call: "copy into \(destination)/wal"))
            } else {
                out.append(.change("copy the WAL archived since (the archive keeps growing)", call: "copy into \(destination)/wal",
                                   when: "only if WAL was archived after this plan"))
            }
            for backup in pending.backups {
                out.append(.change("copy backup \(backup) to \(destination), checksums verified", call: "copy into \(destination)/backups/\(backup)"))
            }
            if pending.isEmpty { out.append(.read("nothing to copy: the DR repository has everything")) }
            for doomed in retention {
                out.append(.change("DR retention: delete backup \(doomed) in \(destination)", call: "remove \(destination)/backups/\(doomed)"))
            }
            out.append(.change("drop WAL in \(destination) no kept backup needs", call: "remove \(destination)/wal/…", when: "only if there is such WAL"))
            return out
        }
    }

    func copyDecision(_ request: CopyRequest) throws -> CopyDecision {
        if request.toRegion != nil {
            throw DRError(.invalidParameter, "\(param: .toRegion) is for rds targets; \(target.name) copies to its `dr_repository:`. Nothing was changed.")
        }
        let destination = try drRepository()
        let copy = RepositoryCopy(source: repository, destination: destination, logger: logger)
        let only = request.snapshot.flatMap { $0 == "latest" ? nil : $0 }
        var pending: RepositoryCopy.Pending
        let upcoming = request.upcoming && only.map { repository.backups.load($0) == nil } == true
        if upcoming, let only {
            // Made by an earlier step of the same run: it will be copied with the WAL missing now.
            pending = try copy.pending(only: nil)
            pending.backups = [only]
        } else {
            pending = try copy.pending(only: only)
        }
        let retention = Retention(repository: destination, weekly: settings.retentionWeekly)
            .doomed(keeping: nil, adding: nil, arriving: pending.backups.compactMap(repository.backups.load))
        return CopyDecision(destination: destination.root, pending: pending, retention: retention, upcoming: upcoming)
    }

    public func copy(_ request: CopyRequest) async throws -> CopyResult {
        try await offloadBlocking { [self] in
            let started = context.clock.now()
            let decision = try copyDecision(request)
            let destination = try drRepository()
            let outcome = try RepositoryCopy(source: repository, destination: destination, logger: logger, jobs: settings.jobs).run(decision.pending)
            let retention = try Retention(repository: destination, weekly: settings.retentionWeekly).apply(deleting: decision.retention)
            let requested = request.snapshot.flatMap { $0 == "latest" ? nil : $0 }
            let newest = requested ?? destination.backups.list().max { $0.stoppedAt < $1.stoppedAt }?.id
            return CopyResult(target: target.name, destination: destination.root, copy: newest, copied: outcome.copied,
                              alreadyPresent: outcome.alreadyPresent, bytesCopied: outcome.bytes,
                              seconds: context.clock.now().timeIntervalSince(started), deleted: retention.backups,
                              display: ["wal_dropped": String(retention.walFiles.count)])
        }
    }

    // MARK: Restore

    func restoreProcedure(_ request: RestoreRequest) throws -> PointInTimeRestore {
        if request.region != nil {
            throw DRError(.invalidParameter, "\(param: .region) is for rds targets; a restore of \(target.name) runs on this machine. Nothing was changed.")
        }
        if let set = request.rds.setParameters.first {
            throw DRError(.invalidParameter, "\(param: set) is for rds targets; a restore of \(target.name) is a local PostgreSQL server. Nothing was changed.")
        }
        var restore = PointInTimeRestore(targetName: target.name, settings: settings, repository: request.fromDR ? try drRepository() : repository,
                                         drExecutable: drExecutable, control: control, logger: logger)
        restore.timeout = context.wait.deadline(.restore)
        restore.clock = context.clock
        restore.system = SourceSystem.resolve(conninfo: settings.conninfo, repository: restore.repository)
        if let note = restore.system?.note { logger.notice("\(note)") }
        if let report = context.wait.progress {
            restore.progress = { p in report(WaitProgress(waitingFor: p.waitingFor, elapsed: p.elapsed, state: p.state, attempt: 0)) }
        }
        return restore
    }

    public func restore(_ request: RestoreRequest) async throws -> RestoreResult {
        let restore = try restoreProcedure(request)
        return try await offloadBlocking { try restore.execute(try restore.decide(request)) }
    }

    /// Read-only: what the repository (or the DR copy) can restore, from what its archive truly
    /// holds — the same computation `status` and `restore` use.
    public func restorableWindows(fromDR: Bool = false) async throws -> RestorableWindows {
        let repo = fromDR ? try drRepository() : repository
        return try await offloadBlocking {
            try repo.checkUsable(writableBy: nil)
            let all = repo.backups.list()
            let system = SourceSystem.resolve(conninfo: settings.conninfo, repository: repo)
            let windows = RestoreWindows(backups: system.map { $0.filter(all) } ?? all, wal: repo.wal)
            return RestorableWindows(
                repository: repo.root,
                backups: windows.spans.map { .init(backup: $0.backup.id, timeline: $0.timeline, window: $0.window) },
                merged: windows.merged)
        }
    }

    /// Read-only: what `restore(request)` would use — the backup, timeline and WAL — from the
    /// decision the restore makes; throws the same bad input (outside the window, no such backup,
    /// wrong key, a taken name) without changing anything.
    public func restoreChoice(_ request: RestoreRequest) async throws -> RestoreChoice {
        let restore = try restoreProcedure(request)
        return try await offloadBlocking {
            let d = try restore.decide(request)
            return RestoreChoice(repository: d.repository, backup: d.choice.span.backup.id, timeline: d.choice.span.timeline,
                                 window: d.choice.span.window, targetTime: d.choice.targetTime, walFiles: d.choice.wal.count)
        }
    }

    // MARK: Failover

    func serviceFailover(_ request: FailoverRequest) throws -> ServiceFailover {
        if request.zone != nil {
            throw DRError(.invalidParameter, "\(param: .zone) is for Route 53 (rds targets); \(target.name) fails over its pg_service.conf entry. Nothing was changed.")
        }
        guard let path = settings.serviceFile else {
            throw DRError(.invalidConfig, "Target \(target.name) has no `service_file:` (the pg_service.conf that clients use). Add it to dr.yml. Nothing was changed.")
        }
        return ServiceFailover(file: ServiceFile(path: path), service: request.entry ?? settings.service ?? target.name,
                               to: request.to, undo: request.undo, upcoming: request.upcoming, servers: servers,
                               targetName: target.name, context: context)
    }

    public func failover(_ request: FailoverRequest) async throws -> FailoverResult {
        let failover = try serviceFailover(request)
        return try failover.execute(try failover.decide())
    }

    public func failoverHistory(_ request: FailoverRequest) async throws -> [FailoverChange] {
        try serviceFailover(request).history()
    }

    // MARK: Teardown, status

    var teardownProcedure: RestoredServerTeardown {
        RestoredServerTeardown(servers: servers, control: control, targetName: target.name, context: context)
    }

    public func teardown(_ request: TeardownRequest) async throws -> TeardownResult {
        if request.region != nil {
            throw DRError(.invalidParameter, "\(param: .region) is for rds targets; \(target.name)'s restores run on this machine. Nothing was changed.")
        }
        return try await offloadBlocking { [self] in
            let procedure = teardownProcedure
            return try procedure.execute(try procedure.decide(name: request.name))
        }
    }

    /// The native engine runs a database only: there is no application tier to scale or roll back.
    public func appScale(_ request: AppScaleRequest) async throws -> AppScaleResult { throw AppTier.noApplication(target) }
    public func appRollback(_ request: AppRollbackRequest) async throws -> AppRollbackResult { throw AppTier.noApplication(target) }

    public func status() async throws -> TargetStatus {
        try await offloadBlocking { [self] in
            var status = try RepositoryStatus(targetName: target.name, settings: settings, clock: context.clock).run()
            status.restores = try restoredResources(blocking: ())
            for restore in status.restores where restore.state == RestoredServer.EffectiveState.abandoned.rawValue {
                status.warnings.append("The restore \(restore.name) was abandoned (killed midway); `dr teardown \(restore.name)` removes it and frees the name.")
            }
            return status
        }
    }

    public func restoredResources() async throws -> [RestoredResource] {
        try restoredResources(blocking: ())
    }

    func restoredResources(blocking: Void) throws -> [RestoredResource] {
        servers.list().filter { $0.target == target.name }.map {
            var tags = $0.tags ?? [:]
            tags["dr:port"] = String($0.port)
            tags["dr:restore-point"] = $0.point
            return RestoredResource(name: $0.name, state: $0.effectiveState.rawValue, tags: tags)
        }
    }

    /// The source's conninfo, with its password when it has one: for verification only, never to print.
    public func sourceConninfo() async throws -> String { settings.conninfo }

    // MARK: Self-hosted only

    /// `dr archive setup`: what archiving needs, applied with ALTER SYSTEM when `apply` is set.
    public func archiveSetup(apply: Bool) async throws -> ArchiveSetupReport {
        try await offloadBlocking { [self] in
            let plan = try ArchiveSetup(settings: settings, repository: repository, drExecutable: drExecutable).run(apply: apply)
            let c = plan.cost
            return ArchiveSetupReport(target: target.name, server: plan.server, repository: repository.root,
                                      changes: plan.changes.map { .init(name: $0.name, current: $0.current, wanted: $0.wanted, needsRestart: $0.needsRestart) },
                                      applied: plan.applied, restartNeeded: plan.restartNeeded, serverUser: plan.serverUser,
                                      quietServerCost: .init(rpoSeconds: c.rpoSeconds, archiveTimeoutSeconds: c.archiveTimeoutSeconds,
                                                             segmentsPerDay: c.segmentsPerDay, segmentBytes: c.segmentBytes,
                                                             storedBytesPerSegment: c.storedBytesPerSegment, storedBytesPerDay: c.storedBytesPerDay,
                                                             compression: settings.compressionName),
                                      notes: plan.notes)
        }
    }

}

public struct ArchiveSetupReport: Codable, Sendable, Equatable {
    public struct Change: Codable, Sendable, Equatable {
        public var name: String
        public var current: String
        public var wanted: String
        public var needsRestart: Bool
    }
    public var target: String
    public var server: String
    public var repository: String
    public var changes: [Change]
    public var applied: Bool
    public var restartNeeded: Bool
    public var serverUser: String?
    /// What the proposed archive_timeout costs on a quiet server.
    public var quietServerCost: QuietServerCost
    public var notes: [String]

    /// A quiet server forces out one segment per archive_timeout: this many a day, this big stored.
    public struct QuietServerCost: Codable, Sendable, Equatable {
        public var rpoSeconds: Double
        public var archiveTimeoutSeconds: Int
        public var segmentsPerDay: Int
        public var segmentBytes: Int64
        public var storedBytesPerSegment: Int64
        public var storedBytesPerDay: Int64
        /// `zstd level 3`, or `none`.
        public var compression: String
    }
}

/// `dr wal-push` and `dr wal-fetch`, as archive_command and restore_command run them.
public enum WalArchiveCommands {
    public enum PushOutcome: String, Sendable { case archived, alreadyArchived = "already-archived" }

    /// Stores `file` in the repository as `compression` and `encryption` say (what `dr archive
    /// setup` writes into archive_command from the target's settings).
    public static func push(repository: String, file: String, compression: PostgresTargetSettings.Compression = .none,
                            encryption: KeySource? = nil) throws -> PushOutcome {
        let repo = Repository(root: repository)
        try repo.checkUsable(writableBy: OSUser.current, subdirectory: "wal")
        let settings = PostgresTargetSettings(conninfo: "", repository: repository, compression: compression, encryption: encryption)
        let codec = try settings.storageCodec()
        try repo.checkKey(codec.key, recording: true)
        if !FileManager.default.fileExists(atPath: repo.walDirectory) { try FileOps.makeDirectory(repo.walDirectory) }
        switch try repo.wal.push(source: file, codec: codec) {
        case .archived: return .archived
        case .alreadyArchived: return .alreadyArchived
        }
    }

    /// Fetch outcomes as restore_command needs them: restored, not in the archive (the end of
    /// the archive, which PostgreSQL expects), or unusable — damaged, or encrypted with another
    /// key — (recovery must stop, not promote early).
    public enum FetchOutcome: Sendable, Equatable { case restored, notInArchive, damaged(String) }

    public static func fetch(repository: String, name: String, destination: String, encryption: KeySource? = nil) throws -> FetchOutcome {
        let repo = Repository(root: repository)
        try repo.checkUsable(writableBy: nil)
        do {
            // A file that is not there is the end of the archive, whatever the key.
            _ = try WalArchive.validName(name)
            guard repo.wal.existingStoredPath(name) != nil else { return .notInArchive }
            let key = try encryption.map { try RepositoryKey.load($0) }
            try repo.checkKey(key, recording: false)
            switch try repo.wal.fetch(name: name, to: destination, key: key) {
            case .restored: return .restored
            case .notInArchive: return .notInArchive
            }
        } catch let corrupt as WalArchive.Corrupt {
            return .damaged(corrupt.description)
        } catch let problem as StoredFile.KeyProblem {
            return .damaged("The archived WAL file \(name) cannot be read: \(Prose.sentence(problem.description)) Give restore_command the repository's key.")
        } catch let error as DRError where error.code == RepositoryKey.wrongKey || error.code == .invalidConfig {
            return .damaged(error.message)
        }
    }
}

/// The path of the running `dr` executable, for archive_command and restore_command.
public enum DRExecutable {
    public static var path: String {
        if let override = ProcessInfo.processInfo.environment["DR_SELF"], !override.isEmpty { return override }
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}
