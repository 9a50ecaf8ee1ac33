import DRCore
import DRPostgres
import DRVerify
import Foundation
import Logging

/// `dr restore` for self-hosted PostgreSQL: a base backup copied into a new data directory,
/// recovery configured to replay the archived WAL (through `dr wal-fetch`) up to the target time
/// and promote, and the server started on a free port on 127.0.0.1.
struct PointInTimeRestore {
    let targetName: String
    let settings: PostgresTargetSettings
    let repository: Repository
    let drExecutable: String
    let control: ServerControl
    let logger: Logger
    var clock: DRClock = SystemClock()
    /// How long the server may take to recover and promote (seconds).
    var timeout: Double = WaitSettings.Operation.restore.defaultDeadline
    /// Replay progress, a few times a minute; without it progress goes to the log.
    var progress: (@Sendable (ReplayProgress) -> Void)?
    /// The database this target's backups are of: only its backups are chosen, and a restore
    /// is adopted only when it is of the same one. Nil: no backup and no answer to tell by.
    var system: SourceSystem?

    private var servers: RestoredServers { RestoredServers(root: settings.restoreRoot) }

    /// What a restore of `point` would use, decided before anything changes (read-only). The run
    /// and the read-only plan both come from here.
    struct Choice {
        var span: RestoreWindows.Span
        var targetTime: Date?
        var backupEndOnly: Bool
        /// WAL to stage: (the name recovery asks for, the archived file holding it).
        var wal: [(name: String, archived: String)]
    }

    func choose(_ point: RestorePoint) throws -> Choice {
        try repository.checkUsable(writableBy: nil)
        let all = repository.backups.list()
        if let system, !all.isEmpty, system.filter(all).isEmpty {
            throw system.noneOfOwn(all, repository: repository.root, target: targetName)
        }
        let windows = RestoreWindows(backups: system.map { $0.filter(all) } ?? all, wal: repository.wal)
        let span: RestoreWindows.Span
        var targetTime: Date?
        switch point {
        case .pointInTime(let t): span = try windows.choose(for: t, repository: repository.root); targetTime = t
        case .latestRestorable: span = try windows.chooseLatest(repository: repository.root)
        case .snapshot(let id):
            let chosen = id == "latest" ? try windows.chooseLatest(repository: repository.root) : windows.spans.first { $0.backup.id == id }
            guard let chosen else {
                if let system, let other = all.first(where: { $0.id == id }), !system.owns(other) {
                    throw system.refuse(other, target: targetName)
                }
                throw DRError(.notFound, "There is no complete backup \"\(id)\" (\(param: .snapshot)) with its WAL in \(repository.root). `dr status TARGET` lists them. Nothing was changed.")
            }
            span = chosen
        }
        let backupEndOnly: Bool = { if case .snapshot = point { return true }; return false }()
        return Choice(span: span, targetTime: targetTime, backupEndOnly: backupEndOnly,
                      wal: neededWal(span, until: targetTime, backupEndOnly: backupEndOnly))
    }

    /// Everything decided before the first change.
    struct Decision {
        var name: String
        /// What the restore is for, resolved (`time …`, `latest restorable`, `snapshot <backup>`).
        var point: String
        var choice: Choice
        var key: RepositoryKey?
        var tags: [String: String]
        /// A restore of ours for the same point, to finish or report instead of a new one.
        var adopt: RestoredServer?
        /// A restore of ours that was killed midway, or failed: its folder is removed before starting over.
        var clearAbandoned: Bool
        var repository: String
        var restoreRoot: String

        var plan: [PlannedAction] {
            let span = choice.span
            var out: [PlannedAction] = [.read("read the backups and WAL in \(repository): restore \(point) from backup \(span.backup.id) (window \(span.window))",
                                              call: "read \(repository)")]
            if let adopt {
                out.append(.read("finish the restore \(name) dr started earlier for the same point (\(adopt.effectiveState.rawValue))"))
                return out
            }
            if clearAbandoned {
                out.append(.change("remove the abandoned restore \(name) (a restore of this target that was killed midway or failed)",
                                   call: "remove \(restoreRoot)/\(name)"))
            }
            out.append(.change("stage \(choice.wal.count) WAL file\(choice.wal.count == 1 ? "" : "s") and lay down backup \(span.backup.id) as \(restoreRoot)/\(name)/data, every file checked",
                               call: "copy into \(restoreRoot)/\(name)/data"))
            out.append(.change("start the restored server on a free port on 127.0.0.1 and replay WAL until it promotes", call: "pg_ctl start"))
            return out
        }
    }

    func decide(_ request: RestoreRequest) throws -> Decision {
        let name = request.name
        try RestoredServers.checkName(name)
        let choice = try choose(request.point)
        let key = try settings.encryption.map { try RepositoryKey.load($0) }
        try checkKey(key, for: choice)
        let point: String = choice.backupEndOnly ? RestorePoint.snapshot(choice.span.backup.id).description : request.point.description
        var decision = Decision(name: name, point: point, choice: choice, key: key, tags: request.tags, adopt: nil, clearAbandoned: false,
                                repository: repository.root, restoreRoot: settings.restoreRoot)
        (decision.adopt, decision.clearAbandoned) = try Self.existing(name, point: point, targetName: targetName, system: system?.identifier, servers: servers)
        return decision
    }

    /// What is already under the name: a restore of ours for the same point to finish (adopt),
    /// one killed midway or failed to clear first, nothing — or a taken name (bad input).
    /// The adoption rules every provider that restores to a local server shares.
    /// `system`: the source's system identifier; a restore recorded for another one is not adopted.
    static func existing(_ name: String, point: String, targetName: String, system: String?, servers: RestoredServers) throws -> (adopt: RestoredServer?, clearAbandoned: Bool) {
        let folder = servers.folder(name)
        guard FileManager.default.fileExists(atPath: folder) else { return (nil, false) }
        guard let existing = servers.load(name) else {
            throw DRError(.nameTaken, "The name \(name) (\(param: .name)) is already taken by \(folder), which dr did not make: the name is already in use. Choose another \(param: .name). Nothing was changed.")
        }
        let state = existing.effectiveState
        if state == .abandoned || state == .failed, existing.target == targetName {
            return (nil, true)
        } else if state == .running || state == .recovering, existing.target == targetName, existing.point == point,
                  existing.sourceSystem == nil || existing.sourceSystem == system {
            return (existing, false)
        } else if existing.target == targetName, existing.point == point, let theirs = existing.sourceSystem, theirs != system {
            throw DRError(.nameTaken, "The name \(name) (\(param: .name)) is already taken by a restore of \(existing.target)'s earlier database (system identifier \(theirs); the source is now \(system ?? "unknown")) (\(state.rawValue), \(folder)): the name is already in use. Choose another \(param: .name), or remove the old one with `dr teardown \(name)`. Nothing was changed.")
        }
        throw DRError(.nameTaken, "The name \(name) (\(param: .name)) is already taken by a restore of \(existing.target) made for \(existing.point ?? "an earlier point") (\(state.rawValue), \(folder)), not for \(point) of \(targetName): the name is already in use. Choose another \(param: .name), or remove the old one with `dr teardown \(name)`. Nothing was changed.")
    }

    func execute(_ decision: Decision) throws -> RestoreResult {
        var phases = PhaseTimer(clock: clock)
        let name = decision.name, choice = decision.choice, key = decision.key
        if let started = decision.adopt { return try finishAdopted(started, phases: phases) }
        if decision.clearAbandoned {
            logger.info("removing an interrupted or failed restore", metadata: ["name": "\(name)"])
            CallLog.record("remove \(settings.restoreRoot)/\(name)")
            try FileManager.default.removeItem(atPath: servers.folder(name))
        }
        let (span, targetTime) = (choice.span, choice.targetTime)
        let port = try ServerControl.freePort()
        phases.end("check")

        // 2. Lay down the data directory and stage the WAL, on the copy threads.
        let folder = servers.folder(name)
        let dataDirectory = folder + "/data"
        let serverUser = OSUser.serverUser
        try FileOps.makeDirectory(settings.restoreRoot)
        try FileOps.makeDirectory(folder, mode: 0o700)
        var server = RestoredServer(
            name: name, target: targetName, state: .restoring, port: port, folder: folder, dataDirectory: dataDirectory,
            socketDirectory: folder, logFile: folder + "/server.log", pid: nil,
            conninfo: printableConninfo(port: port), backup: span.backup.id, repository: repository.root,
            requestedTime: targetTime, recoveredTo: nil, createdAt: clock.now(), tags: decision.tags.isEmpty ? nil : decision.tags,
            point: decision.point, ownerPID: getpid(), sourceSystem: system?.identifier)
        try server.save()
        do {
            try layDown(span.backup, wal: choice.wal, key: key, into: dataDirectory)
            try writeRecoveryConfig(dataDirectory: dataDirectory, port: port, socketDirectory: folder, timeline: span.timeline,
                                    targetTime: targetTime, backupEndOnly: choice.backupEndOnly)
            if OSUser.isRoot, let serverUser { try giveTree(folder, to: serverUser) }
            phases.end("lay down")
        } catch {
            // Nothing was started and nothing half-made stays behind: the folder is ours (the marker says so).
            try? FileManager.default.removeItem(atPath: folder)
            throw Self.interrupted(error, "the half-laid restore \(name) was removed (\(folder))")
        }
        do {
            // 3. Recover: start, replay, promote.
            try Interruption.check()
            try startAndRecover(server: server, targetTime: targetTime, dataDirectory: dataDirectory, staged: choice.wal.count)
            phases.end("recover")
        } catch let error as DRError where error.category == .interrupted {
            // Ctrl-C: stop the server and remove all of it, so the name is free again.
            _ = try? control.stop(dataDirectory: dataDirectory, mode: "immediate")
            try? FileManager.default.removeItem(atPath: folder)
            throw Self.interrupted(error, "the restored server \(name) was stopped and its folder removed (\(folder))")
        } catch {
            throw keepLog(of: &server, after: error)
        }

        // 4. Record it.
        server.state = .running
        server.ownerPID = nil
        server.pid = ServerControl.runningPID(dataDirectory: dataDirectory)
        server.recoveredTo = try? lastReplayedCommit(port: port)
        try server.save()
        phases.end("record")
        return result(server, phases: phases, adopted: false, display: ["wal_segments_staged": String(choice.wal.count), "timeline": String(span.timeline)])
    }

    func result(_ server: RestoredServer, phases: PhaseTimer, adopted: Bool, display extra: DisplayFacts = [:]) -> RestoreResult {
        let display: DisplayFacts = ["port": String(server.port), "data_directory": server.dataDirectory, "repository": server.repository,
                                     "log": server.logFile].merging(extra) { $1 }
        return RestoreResult(
            target: targetName, name: server.name, region: nil, endpoint: Endpoint(host: "127.0.0.1", port: server.port),
            conninfo: server.conninfo, snapshot: server.backup, point: server.point ?? "",
            requestedTime: server.requestedTime, recoveredTo: server.recoveredTo, phases: phases.phases,
            adopted: adopted, waited: true, writerInstance: nil, writerCreated: nil, failoverTo: server.name, display: display)
    }

    /// An interruption, saying what was undone; any other error as it is.
    static func interrupted(_ error: Error, _ undone: String) -> Error {
        guard let e = error as? DRError, e.category == .interrupted else { return error }
        return DRError(.interrupted, "Interrupted: \(undone). Nothing of it is left; the name can be used again.")
    }

    /// A wrong or missing key is bad input, found before anything is written.
    func checkKey(_ key: RepositoryKey?, for choice: Choice) throws {
        try repository.checkKey(key, recording: false)
        var needed = Set<String>()
        if let id = choice.span.backup.keyId { needed.insert(id) }
        for wal in choice.wal { if let id = (try? repository.wal.record(wal.archived))?.stored?.keyId { needed.insert(id) } }
        for id in needed.sorted() where key?.id != id {
            let have = key.map { "the configured key (\($0.source.place)) has the key id \($0.id)" } ?? "the target has no `encryption:` key"
            throw DRError(RepositoryKey.wrongKey, "The backup \(choice.span.backup.id) and its WAL in \(repository.root) are encrypted with the key \(id), but \(have). Configure that key in the target's `encryption:`. Nothing was changed.")
        }
    }

    /// A restore that failed after its server started keeps its folder's log and marker (state
    /// failed) until `dr teardown`; its data directory goes. The error's text says so (`keptLog`).
    func keepLog(of server: inout RestoredServer, after error: Error) -> Error {
        _ = try? control.stop(dataDirectory: server.dataDirectory, mode: "immediate")
        try? FileManager.default.removeItem(atPath: server.dataDirectory)
        try? FileManager.default.removeItem(atPath: stagingFolder(server.dataDirectory))
        server.state = .failed
        server.pid = nil
        if (try? server.save()) == nil { try? FileManager.default.removeItem(atPath: server.folder) }
        return error
    }

    private func keptLog(_ server: RestoredServer) -> String {
        "The server was stopped and its data removed; its log is kept at \(server.logFile) until `dr teardown \(server.name)`."
    }

    /// A restore of ours whose server is up (the caller was killed while it recovered, or just
    /// after): wait until it has promoted, record it, and report it like a fresh one.
    func finishAdopted(_ started: RestoredServer, phases: PhaseTimer) throws -> RestoreResult {
        var phases = phases, server = started
        logger.info("adopting a restore dr started earlier", metadata: ["name": "\(server.name)"])
        phases.end("check")
        if server.state != .running {
            do { try waitUntilPromoted(server: server, dataDirectory: server.dataDirectory, staged: 0, logStart: Self.logSize(server.logFile)) } catch let failure as StartFailure {
                throw keepLog(of: &server, after: failure.drError)
            }
            server.state = .running
            server.ownerPID = nil
            server.pid = ServerControl.runningPID(dataDirectory: server.dataDirectory)
            server.recoveredTo = try? lastReplayedCommit(port: server.port)
            try server.save()
        }
        phases.end("recover")
        return result(server, phases: phases, adopted: true)
    }

    /// The WAL the restore will replay: the timeline's history files, and the segments from the
    /// backup's start to one past the first that ended after the target time (all of the
    /// unbroken chain for the latest restorable time).
    private func neededWal(_ span: RestoreWindows.Span, until time: Date?, backupEndOnly: Bool) -> [(name: String, archived: String)] {
        var needed = span.historyFiles.map { (name: $0, archived: $0) }
        let stop = WalFileName(span.backup.stopWal)!.ordinal(segmentSize: span.backup.segmentSize)
        var reached = false
        for link in span.links {
            needed.append((link.name.text, link.archived))
            if reached { break }
            guard link.name.ordinal(segmentSize: span.backup.segmentSize) >= stop else { continue }
            if backupEndOnly { break }
            if let time, link.endedAt >= time { reached = true }
        }
        return needed
    }

    /// Where staged segments wait for restore_command, beside the data directory.
    private func stagingFolder(_ dataDirectory: String) -> String {
        URL(fileURLWithPath: dataDirectory).deletingLastPathComponent().appendingPathComponent("wal-staged").path
    }

    /// Copies the backup's files into the data directory and the needed WAL beside it, decoding
    /// and checking each on the copy threads (one job list, largest files first), before the
    /// server starts: damage is reported before recovery begins, and replay then costs a rename
    /// per segment instead of a `dr` process (the read-ahead pgBackRest's async archive-get does).
    private func layDown(_ backup: BackupInfo, wal: [(name: String, archived: String)], key: RepositoryKey?, into dataDirectory: String) throws {
        let source = repository.backups.dataPath(backup.id)
        CallLog.record("copy into \(dataDirectory)")
        let staging = stagingFolder(dataDirectory)
        try FileOps.makeDirectory(dataDirectory, mode: 0o700)
        try FileOps.makeDirectory(staging, mode: 0o700)
        for dir in try DataDirectoryWalker(root: source).list().directories {
            try FileOps.makeDirectory(dataDirectory + "/" + dir, mode: 0o700)
        }
        // Largest first over both kinds, so the copy threads finish together.
        let files = backup.files
        let order = (files.indices.map { (i: $0, size: files[$0].size) } + wal.indices.map { (i: files.count + $0, size: Int64(backup.segmentSize)) })
            .sorted { $0.size > $1.size }.map(\.i)
        let archive = repository.wal
        // Large files go to disk in the background while the threads decode, so the sync
        // PostgreSQL makes of the data directory before recovery finds them written; it syncs
        // the small ones itself.
        let writeback = Writeback()
        defer { try? writeback.wait() }
        let jobs = ParallelMap<Bool>(count: order.count, workers: settings.jobs)
        try jobs.run { k in
            let i = order[k]
            if i >= files.count {
                let (name, archived) = wal[i - files.count]
                do {
                    guard try archive.fetch(name: archived, to: staging + "/" + name, key: key) == .restored else {
                        throw DRError(.damaged, "The archived WAL file \(archived) disappeared from \(archive.directory) during the restore. Nothing was started.")
                    }
                } catch let corrupt as WalArchive.Corrupt {
                    throw DRError(.damaged, "\(corrupt.description) Nothing was started.")
                }
                return true
            }
            let entry = files[i]
            do {
                try StoredFile.read(from: source + "/" + entry.storedPath, form: entry.stored, original: entry.original, key: key,
                                    identity: BackupInfo.identity(backup: backup.id, path: entry.path), to: dataDirectory + "/" + entry.path,
                                    sync: entry.size >= 1 << 20 ? .background(writeback) : .none)
            } catch let damage as StoredFile.Damage {
                throw Self.damaged(backup, entry, damage.description)
            } catch FileOps.CopyError.sourceVanished {
                throw Self.damaged(backup, entry, "it is missing from the repository")
            }
            return true
        }
        try writeback.wait()
        try FileOps.writeAtomically(Data(backup.backupLabel.utf8), to: dataDirectory + "/backup_label", mode: 0o600)
        if let map = backup.tablespaceMap {
            try FileOps.writeAtomically(Data(map.utf8), to: dataDirectory + "/tablespace_map", mode: 0o600)
        }
        try FileOps.writeAtomically(Data(), to: dataDirectory + "/recovery.signal", mode: 0o600)
    }

    static func damaged(_ backup: BackupInfo, _ entry: BackupInfo.FileEntry, _ detail: String) -> DRError {
        DRError(.damaged, "The backup \(backup.id) is damaged: \(entry.path) (stored as \(entry.storedPath)) \(detail == "it is missing from the repository" ? "is missing from the repository" : "does not pass its check: " + detail). Nothing was started. Restore from another backup or from the DR copy (\(param: .fromDR)).")
            .with(object: "backup \(backup.id)")
    }

    /// Appends dr's settings to postgresql.auto.conf; later lines win over the source's own.
    private func writeRecoveryConfig(dataDirectory: String, port: Int, socketDirectory: String, timeline: UInt32,
                                     targetTime: Date?, backupEndOnly: Bool) throws {
        // Segments staged (and checked) by this restore are a rename away; anything else — newer
        // history files, segments past the staged range — comes through `dr wal-fetch`, which checks it too.
        let staged = ShellQuote.quote(stagingFolder(dataDirectory)) + "/%f"
        let restoreCommand = "if [ -f \(staged) ]; then mv \(staged) %p; else \(walFetchCommand()); fi"
        var lines = [
            "", "# Added by dr restore: a restored copy, listening on 127.0.0.1 only, archiving nothing.",
            "port = \(port)",
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = \(confQuote(socketDirectory))",
            "archive_mode = 'off'",
            "archive_command = ''",
            "hot_standby = 'on'",
            "logging_collector = 'off'",
            "restore_command = \(confQuote(restoreCommand))",
            "recovery_target_timeline = '\(timeline)'",
            "recovery_target_action = 'promote'",
        ]
        if let targetTime {
            lines.append("recovery_target_time = \(confQuote(PostgresTime.format(targetTime)))")
        } else if backupEndOnly {
            lines.append("recovery_target = 'immediate'")
        }
        let path = dataDirectory + "/postgresql.auto.conf"
        let existing = FileManager.default.contents(atPath: path) ?? Data()
        try FileOps.writeAtomically(existing + Data((lines.joined(separator: "\n") + "\n").utf8), to: path, mode: 0o600)
    }

    /// `dr wal-fetch` as restore_command runs it, with the target's key source (never the key).
    private func walFetchCommand() -> String {
        var words = [ShellQuote.quote(drExecutable), "wal-fetch", "--repository", ShellQuote.quote(repository.root)]
        switch settings.encryption {
        case .file(let path)?: words += ["--key-file", ShellQuote.quote(path)]
        case .environment(let name)?: words += ["--key-env", ShellQuote.quote(name)]
        case nil: break
        }
        return (words + ["%f", "%p"]).joined(separator: " ")
    }

    private func confQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    static let targetNotReached = "recovery ended before configured recovery target was reached"

    func startAndRecover(server: RestoredServer, targetTime: Date?, dataDirectory: String, staged: Int) throws {
        do {
            try startOnce(server: server, dataDirectory: dataDirectory, staged: staged)
        } catch let error as StartFailure where error.targetNotReached && targetTime != nil {
            // Every archived commit is older than the target time, so the end of the archive is
            // exactly the state at that time: replay all of it (the server stopped still in recovery).
            logger.info("no commit after the target time in the archive; recovering to the end of the archive")
            try dropRecoveryTarget(dataDirectory: dataDirectory)
            do { try startOnce(server: server, dataDirectory: dataDirectory, staged: staged) } catch let error as StartFailure { throw error.drError }
        } catch let error as StartFailure {
            throw error.drError
        }
    }

    struct StartFailure: Error {
        var drError: DRError
        var targetNotReached: Bool
    }

    /// Starts the server (without pg_ctl's wait: we watch it ourselves) and waits until it has
    /// promoted and accepts connections.
    private func startOnce(server: RestoredServer, dataDirectory: String, staged: Int) throws {
        let logStart = Self.logSize(server.logFile)
        let started = try control.start(dataDirectory: dataDirectory, logFile: server.logFile)
        guard started.succeeded else { throw recoveryFailure(server) }
        try waitUntilPromoted(server: server, dataDirectory: dataDirectory, staged: staged, logStart: logStart)
    }

    static func logSize(_ path: String) -> UInt64 {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
    }

    /// Waits until the server accepts connections out of recovery, reporting replay progress.
    /// Throws `StartFailure` when the server exits on the way, when it refuses dr's login (at
    /// once: waiting would not change that), or when the time is up.
    private func waitUntilPromoted(server: RestoredServer, dataDirectory: String, staged: Int, logStart: UInt64 = 0) throws {
        let started = clock.now()
        let deadline = started.addingTimeInterval(timeout)
        var last = "starting"
        var reporter = ProgressThrottle()
        var seenRunning = false
        while clock.now() < deadline {
            if Interruption.isRequested { throw StartFailure(drError: .interrupted, targetNotReached: false) }
            do {
                let c = try PGConnection(conninfo: connectConninfo(port: server.port), connectTimeout: 5)
                defer { c.close() }
                let row = try c.query("SELECT pg_is_in_recovery()::text, pg_last_wal_replay_lsn()::text, to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')").rows.first ?? []
                if row.first == "false" { return }
                let commit = row.count > 2 ? row[2].flatMap(RFC3339.parse) : nil
                last = "replaying WAL: at \(row.count > 1 ? row[1] ?? "?" : "?"), last commit \(commit.map { RFC3339.format($0, fractional: true) } ?? "none yet")"
                    + (server.requestedTime.map { ", target \(RFC3339.format($0, fractional: true))" } ?? "")
            } catch let error as PostgresError where !Self.isTransient(error) {
                throw StartFailure(drError: loginRefused(server, error), targetNotReached: false)
            } catch {
                last = replayState(server: server, staged: staged)
            }
            if ServerControl.runningPID(dataDirectory: dataDirectory) != nil {
                seenRunning = true
            } else if seenRunning || clock.now().timeIntervalSince(started) > 30 || Self.startupFailed(logFile: server.logFile, since: logStart) {
                // Gone after it ran, or never came up (pg_ctl -W returns before postmaster.pid exists).
                usleep(100_000)  // let the log catch up with the exit
                throw recoveryFailure(server)
            }
            if reporter.due(state: last, now: clock.now()) { report(server, last, elapsed: clock.now().timeIntervalSince(started)) }
            usleep(50_000)
        }
        throw StartFailure(drError: DRError(.timedOut, "The restored server \(server.name) on port \(server.port) did not finish recovery within \(DurationText.format(timeout)) (\(param: .timeout); last seen: \(last)). \(keptLog(server))"), targetNotReached: false)
    }

    /// A server that stopped before it wrote postmaster.pid says so in what it logged since `offset`.
    static func startupFailed(logFile: String, since offset: UInt64) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: logFile) else { return false }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        return text.contains("database system is shut down") || text.contains("aborting startup")
    }

    /// Before the server takes connections: how many staged segments it has taken so far.
    private func replayState(server: RestoredServer, staged: Int) -> String {
        guard staged > 0 else { return "starting" }
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: stagingFolder(server.dataDirectory))) ?? []).count
        return "replaying WAL: \(staged - left) of \(staged) staged files restored" + (server.requestedTime.map { ", target \(RFC3339.format($0, fractional: true))" } ?? "")
    }

    private func report(_ server: RestoredServer, _ state: String, elapsed: Double) {
        if let progress {
            progress(ReplayProgress(waitingFor: "restored server \(server.name) to recover", state: state, elapsed: elapsed))
        } else {
            logger.info("waiting for recovery", metadata: ["name": "\(server.name)", "state": "\(state)", "elapsed": "\(DurationText.format(elapsed))"])
        }
    }

    /// Connection failures that waiting may cure (the server is still starting or replaying);
    /// anything else — authentication, a missing role or database, pg_hba.conf — will not change.
    static func isTransient(_ error: PostgresError) -> Bool {
        switch error.code {
        case .badConninfo: return false
        case .queryFailed, .timedOut, .cancelled: return true  // connected: the login itself worked
        case .connectionFailed: break
        }
        let m = error.message.lowercased()
        return ["connection refused", "the database system is starting up", "not yet accepting connections",
                "the database system is in recovery mode", "consistent recovery state has not been yet reached",
                "no such file or directory", "timeout expired", "the database system is shutting down",
                "server closed the connection unexpectedly", "too many clients"].contains { m.contains($0) }
    }

    private func loginRefused(_ server: RestoredServer, _ error: PostgresError) -> DRError {
        let user = (Conninfo.parse(settings.conninfo) ?? []).last { $0.key == "user" }?.value ?? "the default user"
        return DRError(.authentication, "The restored server \(server.name) is up (port \(server.port)) but refused dr's login: \(Prose.sentence(error.description)) It has the source's roles and pg_hba.conf, so dr must log in as the source does: put the password in the target's conninfo (password=...) or its secret, set PGPASSWORD, or add a line for 127.0.0.1 to a pgpass file (e.g. 127.0.0.1:*:*:\(user):PASSWORD in ~/.pgpass, mode 0600). \(keptLog(server))")
            .with(object: "restored server \(server.name)", underlying: error.description)
    }

    private func recoveryFailure(_ server: RestoredServer) -> StartFailure {
        let log = ServerControl.logTail(server.logFile, lines: 12)
        return StartFailure(
            drError: DRError(.problemFound, "The restored server \(server.name) did not finish recovery. The end of its log (\(server.logFile)):\n\(log)\n\(keptLog(server))"),
            targetNotReached: log.contains(Self.targetNotReached))
    }

    private func dropRecoveryTarget(dataDirectory: String) throws {
        let path = dataDirectory + "/postgresql.auto.conf"
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let kept = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("recovery_target_time") }
        try FileOps.writeAtomically(Data(kept.joined(separator: "\n").utf8), to: path, mode: 0o600)
        if OSUser.isRoot { OSUser.serverUser?.give(path) }
    }

    func lastReplayedCommit(port: Int) throws -> Date? {
        let c = try PGConnection(conninfo: connectConninfo(port: port), connectTimeout: 5)
        defer { c.close() }
        return try Freshness.lastReplayedCommit(c)
    }

    /// The source's conninfo pointed at the restored server (keeps the password: used only to connect).
    func connectConninfo(port: Int) -> String {
        Conninfo.replacing(settings.conninfo, with: [("host", "127.0.0.1"), ("port", String(port))], dropping: ["hostaddr", "service"])
            ?? "host=127.0.0.1 port=\(port)"
    }

    /// The same without a password, to print, save and put in service files.
    func printableConninfo(port: Int) -> String {
        Conninfo.replacing(settings.conninfo, with: [("host", "127.0.0.1"), ("port", String(port))],
                           dropping: ["hostaddr", "service", "password", "connect_timeout", "fallback_application_name"])
            ?? "host=127.0.0.1 port=\(port)"
    }

    private func giveTree(_ root: String, to user: OSUser) throws {
        user.give(root)
        guard let e = FileManager.default.enumerator(atPath: root) else { return }
        for case let rel as String in e { user.give(root + "/" + rel) }
    }
}

/// Replay progress of a restore: what it waits for, what it last saw, for how long.
public struct ReplayProgress: Sendable, Equatable {
    public var waitingFor: String
    public var state: String
    public var elapsed: Double
}

/// Reports when the state changes (at most once a second) or every 10 seconds.
struct ProgressThrottle {
    private var lastState: String?
    private var lastReport: Date?

    mutating func due(state: String, now: Date) -> Bool {
        let since = lastReport.map { now.timeIntervalSince($0) } ?? .infinity
        guard since >= 10 || (state != lastState && since >= 1) else { return false }
        lastState = state
        lastReport = now
        return true
    }
}

/// Measures consecutive phases.
struct PhaseTimer {
    let clock: DRClock
    private(set) var phases: [RestoreResult.Phase] = []
    private var mark: Date

    init(clock: DRClock) {
        self.clock = clock
        mark = clock.now()
    }

    mutating func end(_ name: String) {
        let now = clock.now()
        phases.append(.init(name: name, seconds: now.timeIntervalSince(mark)))
        mark = now
    }
}

/// Times as PostgreSQL's recovery_target_time reads them: `2026-11-26 05:22:14.653123+00`, to the microsecond.
enum PostgresTime {
    static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
        let seconds = Date(timeIntervalSince1970: Double(micros / 1_000_000))
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: seconds) + String(format: ".%06d+00", Int(micros % 1_000_000))
    }
}
