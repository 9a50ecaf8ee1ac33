import DRCore
import DRPostgres
import Foundation
import Logging

/// The self-hosted PostgreSQL backend (`provider: postgres`): base backups and a WAL archive in
/// a repository on this machine, restores to a point in time as new local servers.
public struct SelfHostedProvider: RecoveryProvider {
    public let target: Target
    public let settings: PostgresTargetSettings
    let logger: Logger
    /// The `dr` executable the server runs for archive_command and restore_command.
    let drExecutable: String
    /// How long a restored server may take to recover and promote (the 4 h `--help` states).
    public var restoreTimeout: Double = SelfHostedProvider.defaultRestoreTimeout
    public static let defaultRestoreTimeout: Double = 4 * 3600
    /// Replay progress of restores; without it, progress goes to the logger.
    public var progress: (@Sendable (ReplayProgress) -> Void)?

    public init(target: Target, settings: PostgresTargetSettings, logger: Logger, drExecutable: String = DRExecutable.path) {
        self.target = target
        self.settings = settings
        self.logger = logger
        self.drExecutable = drExecutable
    }

    var repository: Repository { Repository(root: settings.repository) }
    var control: ServerControl { ServerControl(bindir: ServerControl.resolveBindir(settings.bindir)) }

    func drRepository() throws -> Repository {
        guard let dr = settings.drRepository else {
            throw DRError.badInput("Target \(target.name) has no `dr_repository:`, so there is no DR copy. Add one to dr.yml and run `dr copy \(target.name)`. Nothing was changed.")
        }
        return Repository(root: dr)
    }

    public func snapshot(_ request: SnapshotRequest) async throws -> SnapshotResult {
        try await offloadBlocking { [self] in
            let outcome = try BaseBackup(targetName: target.name, settings: settings, repository: repository, logger: logger).run(weekly: request.weekly)
            let retention = try Retention(repository: repository, weekly: settings.retentionWeekly).apply(keeping: outcome.info.id)
            let info = outcome.info
            return SnapshotResult(
                target: target.name, id: info.id, kind: info.kind, created: outcome.created,
                startedAt: info.startedAt, finishedAt: info.stoppedAt, sizeBytes: info.sizeBytes, deleted: retention.backups,
                details: ["start_lsn": info.startLsn, "stop_lsn": info.stopLsn, "timeline": String(info.timeline),
                          "start_wal": info.startWal, "stop_wal": info.stopWal, "files": String(info.files.count),
                          "repository": repository.root, "wal_dropped": String(retention.walFiles.count)])
        }
    }

    public func copy(_ request: CopyRequest) async throws -> CopyResult {
        let destination = try drRepository()
        return try await offloadBlocking { [self] in
            let started = Date()
            let outcome = try RepositoryCopy(source: repository, destination: destination, logger: logger, jobs: settings.jobs).run(only: request.snapshot)
            try Retention(repository: destination, weekly: settings.retentionWeekly).apply(keeping: nil)
            return CopyResult(target: target.name, destination: destination.root, copied: outcome.copied,
                              alreadyPresent: outcome.alreadyPresent, bytesCopied: outcome.bytes, seconds: Date().timeIntervalSince(started))
        }
    }

    public func restore(_ request: RestoreRequest) async throws -> RestoreResult {
        let repo = request.fromDR ? try drRepository() : repository
        let configured = pointInTimeRestore(repo)
        return try await offloadBlocking { try configured.run(point: request.point, name: request.name, adopt: request.adoptExisting, tags: request.tags) }
    }

    private func pointInTimeRestore(_ repo: Repository) -> PointInTimeRestore {
        var restore = PointInTimeRestore(targetName: target.name, settings: settings, repository: repo,
                                         drExecutable: drExecutable, control: control, logger: logger)
        restore.timeout = restoreTimeout
        restore.progress = progress
        return restore
    }

    /// Read-only: what the repository (or the DR copy) can restore, from what its archive truly
    /// holds — the same computation `status` and `restore` use.
    public func restorableWindows(fromDR: Bool = false) async throws -> RestorableWindows {
        let repo = fromDR ? try drRepository() : repository
        return try await offloadBlocking {
            try repo.checkUsable(writableBy: nil)
            let windows = RestoreWindows(backups: repo.backups.list(), wal: repo.wal)
            return RestorableWindows(
                repository: repo.root,
                backups: windows.spans.map { .init(backup: $0.backup.id, timeline: $0.timeline, window: $0.window) },
                merged: windows.merged)
        }
    }

    /// Read-only: what `restore(request)` would do — the backup, timeline and WAL it would use —
    /// from the same decision the restore makes; throws the same bad input (outside the window,
    /// no such backup, wrong key) without changing anything.
    public func restoreChoice(_ request: RestoreRequest) async throws -> RestoreChoice {
        let repo = request.fromDR ? try drRepository() : repository
        let restore = pointInTimeRestore(repo)
        return try await offloadBlocking {
            let choice = try restore.choose(request.point)
            let key = try settings.encryption.map { try RepositoryKey.load($0) }
            try restore.checkKey(key, for: choice)
            return RestoreChoice(repository: repo.root, backup: choice.span.backup.id, timeline: choice.span.timeline,
                                 window: choice.span.window, targetTime: choice.targetTime, walFiles: choice.wal.count)
        }
    }

    func serviceFile() throws -> ServiceFile {
        guard let path = settings.serviceFile else {
            throw DRError.badInput("Target \(target.name) has no `service_file:` (the pg_service.conf that clients use). Add it to dr.yml. Nothing was changed.")
        }
        return ServiceFile(path: path)
    }

    public func currentFailoverValue(_ request: FailoverRequest) async throws -> String? {
        try serviceFile().entry(request.entry ?? settings.service ?? target.name)
    }

    public func nameInUse(_ request: RestoreRequest) async throws -> String? {
        RestoredServers(root: settings.restoreRoot).holder(of: request.name, target: target.name, adopt: request.adoptExisting)
    }

    public func failover(_ request: FailoverRequest) async throws -> FailoverResult {
        let file = try serviceFile()
        let path = file.path
        let service = request.entry ?? settings.service ?? target.name
        if request.undo {
            let (now, replaced) = try file.undo(service)
            return FailoverResult(entry: service, location: path, now: now, previous: replaced)
        }
        guard let name = request.to else {
            throw DRError.badInput("Say where clients should go: \(param: .to) (a restored server's name), or \(param: .undo). Nothing was changed.")
        }
        guard let server = RestoredServers(root: settings.restoreRoot).load(name), server.state == .running else {
            throw DRError.badInput("There is no running restored server named \"\(name)\" under \(settings.restoreRoot). Restore one as \(name) (\(param: .name)) first, e.g. with `dr restore \(target.name)`. Nothing was changed.")
        }
        let pairs = (Conninfo.parse(server.conninfo) ?? []).filter { $0.key != "password" }.map { ($0.key, $0.value) }
        let previous = try file.repoint(service, to: pairs)
        return FailoverResult(entry: service, location: path, now: pairs.map { "\($0.0)=\($0.1)" }.joined(separator: " "), previous: previous)
    }

    public func teardown(_ request: TeardownRequest) async throws -> TeardownResult {
        try await offloadBlocking { [self] in
            try RestoredServerTeardown(servers: RestoredServers(root: settings.restoreRoot), control: control).run(name: request.name)
        }
    }

    public func status() async throws -> TargetStatus {
        try await offloadBlocking { [self] in try RepositoryStatus(targetName: target.name, settings: settings).run() }
    }

    public func restoredResources() async throws -> [RestoredResource] {
        RestoredServers(root: settings.restoreRoot).list().filter { $0.target == target.name }.map {
            RestoredResource(name: $0.name, state: $0.state.rawValue, tags: $0.tags ?? [:])
        }
    }

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

    /// Restored servers of this target, for `dr status` and `dr teardown`.
    public func restoredServers() -> [RestoredServerInfo] {
        RestoredServers(root: settings.restoreRoot).list().filter { $0.target == target.name }.map {
            RestoredServerInfo(name: $0.name, port: $0.port, conninfo: $0.conninfo, state: $0.state.rawValue, backup: $0.backup, dataDirectory: $0.dataDirectory)
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

public struct RestoredServerInfo: Codable, Sendable, Equatable {
    public var name: String
    public var port: Int
    public var conninfo: String
    public var state: String
    public var backup: String
    public var dataDirectory: String
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
            return .damaged("The archived WAL file \(name) cannot be read: \(problem.description). Give restore_command the repository's key.")
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
