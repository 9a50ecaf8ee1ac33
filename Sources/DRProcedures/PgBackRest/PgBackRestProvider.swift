import DRAWS
import DRCore
import DRPostgres
import Foundation
import Logging

/// The pgBackRest backend (`provider: pgbackrest`): drives an existing stanza. Snapshots are
/// `pgbackrest backup` sets annotated by dr, restores are `pgbackrest restore` into a new local
/// server that the shared self-hosted pieces (marker, recovery watch, failover, teardown) run.
/// Like every backend, each procedure decides first (read-only) and then executes that
/// decision; `plan` lists the same decision.
public struct PgBackRestProvider: RecoveryProvider {
    public let target: Target
    public let settings: PgBackRestTargetSettings
    let context: ProviderContext

    public init(target: Target, settings: PgBackRestTargetSettings, context: ProviderContext) {
        self.target = target
        self.settings = settings
        self.context = context
    }

    var logger: Logger { context.logger }
    var servers: RestoredServers { RestoredServers(root: settings.restoreRoot) }

    /// Machine-wide, per stanza (what pgBackRest itself locks by): every target naming the stanza shares it.
    public var lockPath: String { context.lockDirectory + "/pgbackrest-" + settings.stanza + ".lock" }
    var control: ServerControl { ServerControl(bindir: ServerControl.resolveBindir(settings.bindir)) }
    func command() throws -> PgBackRestCommand { try PgBackRestCommand(settings: settings, targetName: target.name) }

    func drRepo() throws -> Int {
        guard let dr = settings.drRepo else {
            throw DRError(.invalidConfig, "Target \(target.name) has no `dr_repo:` (the pgBackRest repository of the DR copy), so there is no DR copy. Add one to dr.yml and run `dr copy \(target.name)`. Nothing was changed.")
        }
        return dr
    }

    static let infoCall = PlannedAction.read("read the stanza's backup sets and WAL archive", call: "pgbackrest info --output=json")

    // MARK: Plans

    public func plan(_ request: ProcedureRequest) async throws -> ProcedurePlan {
        try await offloadBlocking { [self] in
            switch request {
            case .snapshot(let r):
                let d = try snapshotDecision(r)
                // pgBackRest names a set when it takes it: a later step of a runbook plans with this stand-in.
                return ProcedurePlan(d.plan, snapshot: d.existing?.label ?? "the \(d.type) set this backup makes in repo \(d.repo)")
            case .copy(let r):
                let d = try copyDecision(r)
                return ProcedurePlan(d.plan, snapshot: d.newest?.label)
            case .restore(let r):
                let d = try restoreProcedure().decide(r)
                return ProcedurePlan(d.plan, snapshot: d.set.label)
            case .failover(let r): return ProcedurePlan(try serviceFailover(r).decide().plan)
            case .teardown(let r): return ProcedurePlan(try teardownProcedure.decide(name: r.name, upcoming: r.upcoming).plan)
            case .secretRepoint, .cacheRestore, .secretCopyTeardown, .cacheTeardown: throw noStack()
            case .appScale, .appRollback: throw AppTier.noApplication(target)
            }
        }
    }

    // MARK: Snapshot

    struct SnapshotDecision {
        var repo: Int
        var week: String?
        var type: String
        var options: [String]
        var existing: PgBackRestInfo.Backup?
        var retention: [String]
        var plan: [PlannedAction] {
            var out: [PlannedAction] = [PgBackRestProvider.infoCall]
            if let existing {
                out.append(.read("reuse this ISO week's full backup \(existing.label) (taken \(RFC3339.format(existing.stoppedAt)))"))
            } else {
                out.append(.change("take a\(week == nil ? "n ad-hoc \(type)" : " weekly full") backup into repo \(repo)\(week.map { " annotated dr-week=\($0)" } ?? "")",
                                   call: PgBackRestCommand.call("backup", options)))
            }
            for doomed in retention {
                out.append(.change("retention: expire dr's weekly set \(doomed) in repo \(repo)", call: PgBackRestCommand.call("expire", ["--repo=\(repo)", "--set=\(doomed)"])))
            }
            return out
        }
    }

    func snapshotDecision(_ request: SnapshotRequest) throws -> SnapshotDecision {
        let type = try Self.backupType(request)
        let info = try command().info(targetName: target.name)
        let sets = info.sets(repo: settings.repo)
        let week = request.weekly ? ISOWeek.name(of: context.clock.now()) : nil
        let existing = week.flatMap { PgBackRestSets.weekly(sets, target: target.name, week: $0) }
        let options = ["--repo=\(settings.repo)", "--type=\(type)"]
        let retention = request.weekly ? PgBackRestSets.doomed(sets, target: target.name, keep: settings.retentionWeekly, adding: existing == nil) : []
        return SnapshotDecision(repo: settings.repo, week: week, type: type, options: options, existing: existing, retention: retention)
    }

    /// full, diff or incr (default incr; pgBackRest takes a full one when there is none yet); weekly is always full.
    static func backupType(_ request: SnapshotRequest) throws -> String {
        guard let type = request.backupType else { return request.weekly ? "full" : "incr" }
        guard ["full", "diff", "incr"].contains(type) else {
            throw DRError(.invalidParameter, "The backup type \"\(type)\" (\(param: .backupType)) is not one pgBackRest takes: use full, diff or incr. Nothing was changed.")
        }
        if request.weekly, type != "full" {
            throw DRError(.invalidParameter, "A weekly snapshot is a full backup; \(param: .backupType) \(type) cannot be weekly. Drop one of the two. Nothing was changed.")
        }
        return type
    }

    public func snapshot(_ request: SnapshotRequest) async throws -> SnapshotResult {
        try await offloadBlocking { [self] in
            let d = try snapshotDecision(request)
            let cmd = try command()
            var set = d.existing
            if set == nil {
                let before = Set(try cmd.info(targetName: target.name).sets(repo: d.repo).map(\.label))
                let notes = request.tags.sorted { $0.key < $1.key }.map { "--annotation=\($0.key)=\($0.value)" }
                try cmd.run("backup", d.options, mutating: true,
                            extra: ["--start-fast"] + PgBackRestSets.annotations(target: target.name, week: d.week) + notes)
                set = try cmd.info(targetName: target.name).sets(repo: d.repo).last { !before.contains($0.label) }
            } else {
                logger.info("weekly backup already taken this week", metadata: ["label": "\(d.existing!.label)"])
            }
            guard let set else { throw DRError(PgBackRestCommand.failed, "pgbackrest backup finished but no new set is listed in repo \(d.repo).") }
            for doomed in d.retention {
                try cmd.run("expire", ["--repo=\(d.repo)", "--set=\(doomed)"], mutating: true)
            }
            return SnapshotResult(
                target: target.name, id: set.label, kind: d.week == nil ? "adhoc" : "weekly", created: d.existing == nil,
                startedAt: set.startedAt, finishedAt: set.stoppedAt, sizeBytes: set.info?.repository?.size ?? set.info?.size,
                deleted: d.retention, location: "pgbackrest stanza \(settings.stanza) repo \(d.repo)", cacheSnapshot: nil, waited: true,
                display: ["type": set.type, "wal_start": set.archive?.start ?? "", "wal_stop": set.archive?.stop ?? "",
                          "database_size": set.info?.size.map(String.init) ?? ""])
        }
    }

    // MARK: Copy

    struct CopyDecision {
        var repo: Int
        var drRepo: Int
        /// The newest set in `repo`, and the DR repository's newest.
        var newest: PgBackRestInfo.Backup?
        var drNewest: PgBackRestInfo.Backup?
        /// Plans only: an earlier step of the same run takes the backup to copy.
        var upcoming = false
        var needsBackup: Bool { upcoming || (newest != nil && (drNewest?.timestamp.stop ?? 0) < newest!.timestamp.stop) }
        var plan: [PlannedAction] {
            var out: [PlannedAction] = [PgBackRestProvider.infoCall]
            if needsBackup {
                out.append(.change("take a full backup into the DR repository repo \(drRepo) (its newest, \(drNewest?.label ?? "none"), is older than repo \(repo)'s \(newest?.label ?? "backup an earlier step takes"))",
                                   call: PgBackRestCommand.call("backup", ["--repo=\(drRepo)", "--type=full"])))
            } else {
                out.append(.read("the DR repository repo \(drRepo) has a backup no older than repo \(repo)'s newest (\(drNewest?.label ?? "none"))"))
            }
            out.append(.change("switch WAL and check the archive reaches the present in every repository", call: PgBackRestCommand.call("check", [])))
            return out
        }
    }

    func copyDecision(_ request: CopyRequest) throws -> CopyDecision {
        if request.toRegion != nil {
            throw DRError(.invalidParameter, "\(param: .toRegion) is for rds targets; \(target.name) copies to its `dr_repo:`. Nothing was changed.")
        }
        let dr = try drRepo()
        let info = try command().info(targetName: target.name)
        let sets = info.sets(repo: settings.repo)
        if request.upcoming, request.snapshot.map({ id in !sets.contains { $0.label == id } }) ?? true {
            return CopyDecision(repo: settings.repo, drRepo: dr, newest: nil, drNewest: info.sets(repo: dr).last, upcoming: true)
        }
        guard let newest = sets.last else {
            throw DRError(.notFound, "Repo \(settings.repo) of stanza \(settings.stanza) has no backup to copy yet. Take one with `dr snapshot \(target.name)`. Nothing was changed.")
        }
        return CopyDecision(repo: settings.repo, drRepo: dr, newest: newest, drNewest: info.sets(repo: dr).last)
    }

    public func copy(_ request: CopyRequest) async throws -> CopyResult {
        try await offloadBlocking { [self] in
            let started = context.clock.now()
            let d = try copyDecision(request)
            let cmd = try command()
            var copied: [String] = []
            if d.needsBackup {
                try cmd.run("backup", ["--repo=\(d.drRepo)", "--type=full"], mutating: true,
                            extra: ["--start-fast"] + PgBackRestSets.annotations(target: target.name, week: nil))
            }
            try cmd.run("check", [], mutating: true)
            let info = try cmd.info(targetName: target.name)
            let drSets = info.sets(repo: d.drRepo)
            if d.needsBackup, let made = drSets.last { copied.append(made.label) }
            var display: DisplayFacts = ["dr_repo": String(d.drRepo)]
            if let wal = info.walRange(repo: d.drRepo) { display["dr_wal_min"] = wal.min; display["dr_wal_max"] = wal.max }
            if let archived = try? archiverState().lastArchivedAt { display["dr_restorable_until"] = RFC3339.format(archived) }
            return CopyResult(target: target.name, destination: "pgbackrest stanza \(settings.stanza) repo \(d.drRepo)", copy: drSets.last?.label,
                              copied: copied, alreadyPresent: d.needsBackup ? 0 : 1, bytesCopied: copied.isEmpty ? 0 : (drSets.last?.info?.repository?.size ?? 0),
                              seconds: context.clock.now().timeIntervalSince(started), deleted: [], display: display)
        }
    }

    // MARK: Restore

    func restoreProcedure() throws -> PgBackRestRestore {
        var restore = PgBackRestRestore(targetName: target.name, settings: settings, command: try command(), control: control,
                                        logger: logger, clock: context.clock)
        restore.timeout = context.wait.deadline(.restore)
        if let report = context.wait.progress {
            restore.progress = { p in report(WaitProgress(waitingFor: p.waitingFor, elapsed: p.elapsed, state: p.state, attempt: 0)) }
        }
        return restore
    }

    public func restore(_ request: RestoreRequest) async throws -> RestoreResult {
        let restore = try restoreProcedure()
        return try await offloadBlocking { try restore.execute(try restore.decide(request)) }
    }

    // MARK: Failover, teardown

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

    // MARK: Status

    struct ArchiverState {
        var lastArchivedWal: String?
        var lastArchivedAt: Date?
        var lastFailedWal: String?
        var lastFailedAt: Date?
    }

    func archiverState() throws -> ArchiverState {
        Redact.registerPassword(inConninfo: settings.conninfo)
        let c = try PGConnection(conninfo: settings.conninfo, connectTimeout: 5)
        defer { c.close() }
        let ts = { (col: String) in "to_char(\(col) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')" }
        let row = try c.query("SELECT last_archived_wal, \(ts("last_archived_time")), last_failed_wal, \(ts("last_failed_time")) FROM pg_stat_archiver").rows.first ?? []
        func at(_ i: Int) -> String? { row.count > i ? row[i] : nil }
        return ArchiverState(lastArchivedWal: at(0), lastArchivedAt: at(1).flatMap(RFC3339.parse),
                             lastFailedWal: at(2), lastFailedAt: at(3).flatMap(RFC3339.parse))
    }

    public func status() async throws -> TargetStatus {
        try await offloadBlocking { [self] in
            let now = context.clock.now()
            let info = try command().info(targetName: target.name)
            func summaries(_ repo: Int) -> [SnapshotSummary] {
                info.sets(repo: repo).reversed().map {
                    SnapshotSummary(id: $0.label, kind: PgBackRestSets.isWeekly($0, target: target.name) ? "weekly" : $0.type,
                                    createdAt: $0.stoppedAt, ageSeconds: now.timeIntervalSince($0.stoppedAt),
                                    sizeBytes: $0.info?.repository?.size ?? $0.info?.size)
                }
            }
            var warnings: [String] = []
            var display: DisplayFacts = ["stanza": settings.stanza, "repo": String(settings.repo), "restore_root": settings.restoreRoot,
                                         "pgbackrest_status": info.status.message]
            for repo in info.repo where repo.status.code != 0 {
                warnings.append("pgBackRest reports repo \(repo.key): \(repo.status.message).")
            }
            for repo in [settings.repo] + (settings.drRepo.map { [$0] } ?? []) {
                if let wal = info.walRange(repo: repo) { display["repo\(repo)_wal"] = "\(wal.min) to \(wal.max)" }
            }
            var archivedUntil: Date?
            var state = "ok"
            do {
                let a = try archiverState()
                archivedUntil = a.lastArchivedAt
                display["last_archived_wal"] = a.lastArchivedWal ?? ""
                if let failed = a.lastFailedAt, failed > (a.lastArchivedAt ?? .distantPast) {
                    warnings.append("Archiving is failing: pg_stat_archiver's last failure (\(a.lastFailedWal ?? "?") at \(RFC3339.format(failed))) is newer than its last success. Check archive_command and `pgbackrest --stanza=\(settings.stanza) check`.")
                }
            } catch {
                state = "unreachable"
                warnings.append("The source database cannot be reached for pg_stat_archiver (\(error)): the data-loss exposure is unknown.")
            }
            let sets = info.sets(repo: settings.repo)
            let window = sets.first.flatMap { first in archivedUntil.map { TimeWindow(earliest: first.stoppedAt, latest: max(first.stoppedAt, $0)) } }
            if sets.isEmpty { warnings.append("Repo \(settings.repo) has no backup set: nothing can be restored. Take one with `dr snapshot \(target.name)`.") }
            var status = TargetStatus(
                target: target.name, provider: "pgbackrest", checkedAt: now, snapshots: summaries(settings.repo),
                drSnapshots: settings.drRepo.map(summaries) ?? [], restorableWindow: window,
                exposureSeconds: archivedUntil.map { now.timeIntervalSince($0) }, archivedUntil: archivedUntil, state: state,
                cache: nil, restores: [], display: display, warnings: warnings)
            status.restores = restoredResourcesNow()
            return status
        }
    }

    public func restoredResources() async throws -> [RestoredResource] { restoredResourcesNow() }

    func restoredResourcesNow() -> [RestoredResource] {
        servers.list().filter { $0.target == target.name }.map {
            var tags = $0.tags ?? [:]
            tags["dr:port"] = String($0.port)
            tags["dr:restore-point"] = $0.point
            return RestoredResource(name: $0.name, state: $0.effectiveState.rawValue, tags: tags)
        }
    }

    /// The source's conninfo, with its password when it has one: for verification only, never to print.
    public func sourceConninfo() async throws -> String { settings.conninfo }
}

extension Parameter {
    /// The backup type of a pgbackrest snapshot (`--type`).
    public static let backupType = Parameter("type")
}

extension SnapshotRequest {
    /// The other backends take one kind of snapshot: a backup type is bad input there.
    func refusingBackupType(_ targetName: String, provider: String) throws {
        if backupType != nil {
            throw DRError(.invalidParameter, "\(param: .backupType) is for pgbackrest targets; \(targetName) is a provider \(provider) target, whose snapshots have one kind. Drop it. Nothing was changed.")
        }
    }
}
