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
    var timeout: Double = 600
    var workers = max(2, ProcessInfo.processInfo.activeProcessorCount)

    private var servers: RestoredServers { RestoredServers(root: settings.restoreRoot) }

    /// Everything decided before the first change.
    struct Decision {
        var name: String
        /// What the restore is for, resolved (`time …`, `latest restorable`, `snapshot <backup>`).
        var point: String
        var span: RestoreWindows.Span
        var targetTime: Date?
        var backupEndOnly: Bool
        var needed: [WalFileName]
        var tags: [String: String]
        /// A restore of ours for the same point, to finish or report instead of a new one.
        var adopt: RestoredServer?
        /// A restore of ours that was killed midway: its folder is removed before starting over.
        var clearAbandoned: Bool
        var repository: String
        var restoreRoot: String

        var plan: [PlannedAction] {
            var out: [PlannedAction] = [.read("read the backups and WAL in \(repository): restore \(point) from backup \(span.backup.id) (window \(span.window))",
                                              call: "read \(repository)")]
            if let adopt {
                out.append(.read("finish the restore \(name) dr started earlier for the same point (\(adopt.effectiveState.rawValue))"))
                return out
            }
            if clearAbandoned {
                out.append(.change("remove the abandoned restore \(name) (a restore of this target that was killed midway)",
                                   call: "remove \(restoreRoot)/\(name)"))
            }
            out.append(.change("stage \(needed.count) WAL segment\(needed.count == 1 ? "" : "s"), checksums verified",
                               call: "copy into \(restoreRoot)/\(name)/wal-staged"))
            out.append(.change("lay down backup \(span.backup.id) as \(restoreRoot)/\(name)/data, checksums verified",
                               call: "copy into \(restoreRoot)/\(name)/data"))
            out.append(.change("start the restored server on a free port on 127.0.0.1 and replay WAL until it promotes",
                               call: "pg_ctl start"))
            return out
        }
    }

    func decide(_ request: RestoreRequest) throws -> Decision {
        let name = request.name
        try RestoredServers.checkName(name)
        try repository.checkUsable(writableBy: nil)
        let windows = RestoreWindows(backups: repository.backups.list(), wal: repository.wal)
        let span: RestoreWindows.Span
        let targetTime: Date?
        switch request.point {
        case .pointInTime(let t): span = try windows.choose(for: t, repository: repository.root); targetTime = t
        case .latestRestorable: span = try windows.chooseLatest(repository: repository.root); targetTime = nil
        case .snapshot(let id):
            let chosen = id == "latest" ? try windows.chooseLatest(repository: repository.root) : windows.spans.first { $0.backup.id == id }
            guard let chosen else {
                throw DRError(.notFound, "There is no complete backup \"\(id)\" with its WAL in \(repository.root). `dr status TARGET` lists them. Nothing was changed.")
            }
            span = chosen; targetTime = nil
        }
        let backupEndOnly: Bool = { if case .snapshot = request.point { return true }; return false }()
        let point: String = backupEndOnly ? RestorePoint.snapshot(span.backup.id).description : request.point.description
        var decision = Decision(name: name, point: point, span: span, targetTime: targetTime, backupEndOnly: backupEndOnly,
                                needed: neededWal(span, until: targetTime, backupEndOnly: backupEndOnly), tags: request.tags,
                                adopt: nil, clearAbandoned: false, repository: repository.root, restoreRoot: settings.restoreRoot)
        let folder = servers.folder(name)
        guard FileManager.default.fileExists(atPath: folder) else { return decision }
        guard let existing = servers.load(name) else {
            throw DRError(.nameTaken, "The name \(name) (\(param: .name)) is already taken by \(folder), which dr did not make: the name is already in use. Choose another \(param: .name). Nothing was changed.")
        }
        let state = existing.effectiveState
        if state == .abandoned, existing.target == targetName {
            decision.clearAbandoned = true
        } else if state == .running || state == .recovering, existing.target == targetName, existing.point == point {
            decision.adopt = existing
        } else {
            throw DRError(.nameTaken, "The name \(name) (\(param: .name)) is already taken by a restore of \(existing.target) made for \(existing.point ?? "an earlier point") (\(state.rawValue), \(folder)), not for \(point) of \(targetName): the name is already in use. Choose another \(param: .name), or remove the old one with `dr teardown \(name)`. Nothing was changed.")
        }
        return decision
    }

    func execute(_ decision: Decision) throws -> RestoreResult {
        var phases = PhaseTimer(clock: clock)
        let name = decision.name, span = decision.span, targetTime = decision.targetTime, needed = decision.needed
        if let started = decision.adopt { return try finishAdopted(started, phases: phases) }
        if decision.clearAbandoned {
            logger.info("removing an interrupted restore", metadata: ["name": "\(name)"])
            CallLog.record("remove \(settings.restoreRoot)/\(name)")
            try FileManager.default.removeItem(atPath: servers.folder(name))
        }
        let port = try ServerControl.freePort()
        phases.end("check")

        // 2. Lay down the data directory.
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
            point: decision.point, ownerPID: getpid())
        try server.save()
        do {
            try stageWal(needed, into: stagingFolder(dataDirectory))
            phases.end("stage wal")
            try layDown(span.backup, into: dataDirectory)
            try writeRecoveryConfig(dataDirectory: dataDirectory, port: port, socketDirectory: folder,
                                    targetTime: targetTime, backupEndOnly: decision.backupEndOnly)
            if OSUser.isRoot, let serverUser { try giveTree(folder, to: serverUser) }
            phases.end("lay down")

            // 3. Recover: start, replay, promote.
            try startAndRecover(server: server, targetTime: targetTime, dataDirectory: dataDirectory)
            phases.end("recover")
        } catch {
            // Nothing half-made stays behind: the folder is ours (the marker says so).
            _ = try? control.stop(dataDirectory: dataDirectory, mode: "immediate")
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }

        // 4. Record it.
        server.state = .running
        server.ownerPID = nil
        server.pid = ServerControl.runningPID(dataDirectory: dataDirectory)
        server.recoveredTo = try? lastReplayedCommit(port: port)
        try server.save()
        phases.end("record")
        return result(server, phases: phases, adopted: false, staged: needed.count)
    }

    func result(_ server: RestoredServer, phases: PhaseTimer, adopted: Bool, staged: Int?) -> RestoreResult {
        var display: DisplayFacts = ["port": String(server.port), "data_directory": server.dataDirectory, "repository": server.repository,
                                     "log": server.logFile]
        display["wal_segments_staged"] = staged.map(String.init)
        return RestoreResult(
            target: targetName, name: server.name, region: nil, endpoint: Endpoint(host: "127.0.0.1", port: server.port),
            conninfo: server.conninfo, snapshot: server.backup, point: server.point ?? "",
            requestedTime: server.requestedTime, recoveredTo: server.recoveredTo, phases: phases.phases,
            adopted: adopted, waited: true, writerInstance: nil, writerCreated: nil, failoverTo: server.name, display: display)
    }

    /// A restore of ours whose server is up (the caller was killed while it recovered, or just
    /// after): wait until it has promoted, record it, and report it like a fresh one.
    private func finishAdopted(_ started: RestoredServer, phases: PhaseTimer) throws -> RestoreResult {
        var phases = phases, server = started
        logger.info("adopting a restore dr started earlier", metadata: ["name": "\(server.name)"])
        phases.end("check")
        if server.state != .running {
            do { try waitUntilPromoted(server: server, dataDirectory: server.dataDirectory) } catch let failure as StartFailure { throw failure.drError }
            server.state = .running
            server.ownerPID = nil
            server.pid = ServerControl.runningPID(dataDirectory: server.dataDirectory)
            server.recoveredTo = try? lastReplayedCommit(port: server.port)
            try server.save()
        }
        phases.end("recover")
        return result(server, phases: phases, adopted: true, staged: nil)
    }

    /// The segments the restore will replay: from the backup's start to the first one archived
    /// after the target time (all of the unbroken chain for the latest restorable time).
    private func neededWal(_ span: RestoreWindows.Span, until time: Date?, backupEndOnly: Bool) -> [WalFileName] {
        var needed: [WalFileName] = []
        for segment in span.segments {
            needed.append(segment)
            guard segment.text >= span.backup.stopWal else { continue }
            if backupEndOnly { break }
            if let time, let record = try? repository.wal.record(segment.text), record.archivedAt >= time { break }
        }
        return needed
    }

    /// Where staged segments wait for restore_command, beside the data directory.
    private func stagingFolder(_ dataDirectory: String) -> String {
        URL(fileURLWithPath: dataDirectory).deletingLastPathComponent().appendingPathComponent("wal-staged").path
    }

    /// Copies the needed WAL out of the archive, checking every checksum, before the server
    /// starts: damage is reported before recovery begins, and replay then costs a rename per
    /// segment instead of a `dr` process (the same read-ahead pgBackRest's async archive-get does).
    private func stageWal(_ segments: [WalFileName], into folder: String) throws {
        try FileOps.makeDirectory(folder, mode: 0o700)
        CallLog.record("copy into \(folder)")
        let wal = repository.wal
        let stager = ParallelMap<Bool>(count: segments.count, workers: workers)
        try stager.run { i in
            let name = segments[i].text
            do {
                guard try wal.fetch(name: name, to: folder + "/" + name) == .restored else {
                    throw DRError.problem("The archived WAL file \(name) disappeared from \(wal.directory) during the restore.")
                }
            } catch let corrupt as WalArchive.Corrupt {
                throw DRError.problem(corrupt.description + " Nothing was changed.")
            }
            return true
        }
    }

    private func layDown(_ backup: BackupInfo, into dataDirectory: String) throws {
        let source = repository.backups.dataPath(backup.id)
        CallLog.record("copy into \(dataDirectory)")
        try FileOps.makeDirectory(dataDirectory, mode: 0o700)
        for dir in try DataDirectoryWalker(root: source).list().directories {
            try FileOps.makeDirectory(dataDirectory + "/" + dir, mode: 0o700)
        }
        let files = backup.files
        let copier = ParallelMap<Bool>(count: files.count, workers: workers)
        try copier.run { i in
            let entry = files[i]
            let copied = try FileOps.copy(from: source + "/" + entry.path, to: dataDirectory + "/" + entry.path, sync: false)
            guard copied.sha256 == entry.sha256, copied.size == entry.size else {
                throw DRError.problem("The backup \(backup.id) is damaged: \(entry.path) does not match its checksum. Restore from another backup or from the DR copy (--from-dr).")
            }
            return true
        }
        try FileOps.writeAtomically(Data(backup.backupLabel.utf8), to: dataDirectory + "/backup_label", mode: 0o600)
        if let map = backup.tablespaceMap {
            try FileOps.writeAtomically(Data(map.utf8), to: dataDirectory + "/tablespace_map", mode: 0o600)
        }
        try FileOps.writeAtomically(Data(), to: dataDirectory + "/recovery.signal", mode: 0o600)
        // No fsync here: a server starting from a backup label syncs its whole data directory
        // before recovery (recovery_init_sync_method), so syncing twice would only cost time.
    }

    /// Appends dr's settings to postgresql.auto.conf; later lines win over the source's own.
    private func writeRecoveryConfig(dataDirectory: String, port: Int, socketDirectory: String,
                                     targetTime: Date?, backupEndOnly: Bool) throws {
        // Segments staged (and checked) by this restore are a rename away; anything else — history
        // files, segments past the staged range — comes through `dr wal-fetch`, which checks it too.
        let staged = ShellQuote.quote(stagingFolder(dataDirectory)) + "/%f"
        let restoreCommand = "if [ -f \(staged) ]; then mv \(staged) %p; else \(ShellQuote.quote(drExecutable)) wal-fetch --repository \(ShellQuote.quote(repository.root)) %f %p; fi"
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

    private func confQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    static let targetNotReached = "recovery ended before configured recovery target was reached"

    private func startAndRecover(server: RestoredServer, targetTime: Date?, dataDirectory: String) throws {
        do {
            try startOnce(server: server, dataDirectory: dataDirectory)
        } catch let error as StartFailure where error.targetNotReached && targetTime != nil {
            // Every archived commit is older than the target time, so the end of the archive is
            // exactly the state at that time: replay all of it (the server stopped still in recovery).
            logger.info("no commit after the target time in the archive; recovering to the end of the archive")
            try dropRecoveryTarget(dataDirectory: dataDirectory)
            try startOnce(server: server, dataDirectory: dataDirectory)
        } catch let error as StartFailure {
            throw error.drError
        }
    }

    struct StartFailure: Error {
        var drError: DRError
        var targetNotReached: Bool
    }

    /// Starts the server and waits until it has promoted and accepts connections. A server that
    /// exits on the way (recovery failed) is reported with the end of its log.
    private func startOnce(server: RestoredServer, dataDirectory: String) throws {
        let started = try control.start(dataDirectory: dataDirectory, logFile: server.logFile, timeout: Int(timeout))
        guard started.succeeded else { throw recoveryFailure(server) }
        try waitUntilPromoted(server: server, dataDirectory: dataDirectory)
    }

    /// Waits until the server accepts connections out of recovery; throws `StartFailure` when it exits on the way.
    private func waitUntilPromoted(server: RestoredServer, dataDirectory: String) throws {
        let deadline = clock.now().addingTimeInterval(timeout)
        var last = "not accepting connections"
        while clock.now() < deadline {
            if let c = try? PGConnection(conninfo: connectConninfo(port: server.port), connectTimeout: 5) {
                let inRecovery = (try? c.query("SELECT pg_is_in_recovery()").scalar) ?? "t"
                c.close()
                if inRecovery == "f" { return }
                last = "still replaying WAL"
            }
            if ServerControl.runningPID(dataDirectory: dataDirectory) == nil {
                usleep(100_000)  // let the log catch up with the exit
                throw recoveryFailure(server)
            }
            usleep(50_000)
        }
        throw StartFailure(drError: .timedOut("The restored server on port \(server.port) did not finish recovery within \(Int(timeout)) seconds (last seen: \(last)). Its log: \(server.logFile)."), targetNotReached: false)
    }

    private func recoveryFailure(_ server: RestoredServer) -> StartFailure {
        let log = ServerControl.logTail(server.logFile, lines: 12)
        return StartFailure(
            drError: .problem("The restored server \(server.name) did not finish recovery. The end of its log (\(server.logFile)):\n\(log)\nThe half-made restore was removed."),
            targetNotReached: log.contains(Self.targetNotReached))
    }

    private func dropRecoveryTarget(dataDirectory: String) throws {
        let path = dataDirectory + "/postgresql.auto.conf"
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let kept = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("recovery_target_time") }
        try FileOps.writeAtomically(Data(kept.joined(separator: "\n").utf8), to: path, mode: 0o600)
        if OSUser.isRoot { OSUser.serverUser?.give(path) }
    }

    private func lastReplayedCommit(port: Int) throws -> Date? {
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
