import DRCore
import Foundation
import Logging

/// `dr restore` on a pgbackrest target: dr chooses the set for the point, `pgbackrest restore`
/// lays it down as `<restore_root>/NAME/data` with the recovery settings, and the shared
/// self-hosted pieces start it on a free port on 127.0.0.1, watch it recover and promote, and
/// keep the same marker (so adoption, failover and teardown work as for the native provider).
struct PgBackRestRestore {
    let targetName: String
    let settings: PgBackRestTargetSettings
    let command: PgBackRestCommand
    let control: ServerControl
    let logger: Logger
    var clock: DRClock
    var timeout: Double = WaitSettings.Operation.restore.defaultDeadline
    var progress: (@Sendable (ReplayProgress) -> Void)?

    init(targetName: String, settings: PgBackRestTargetSettings, command: PgBackRestCommand, control: ServerControl,
         logger: Logger, clock: DRClock) {
        self.targetName = targetName
        self.settings = settings
        self.command = command
        self.control = control
        self.logger = logger
        self.clock = clock
    }

    var servers: RestoredServers { RestoredServers(root: settings.restoreRoot) }

    struct Decision {
        var name: String
        var repo: Int
        var set: PgBackRestInfo.Backup
        /// `time …`, `latest restorable`, `snapshot <label>`.
        var point: String
        var targetTime: Date?
        var tags: [String: String]
        var adopt: RestoredServer?
        var clearAbandoned: Bool
        var restoreRoot: String
        var options: [String]
        /// The source's system identifier (`unknown` when it does not answer): what the marker
        /// records, so a restore is adopted only for the same database and teardown knows it is dr's.
        var sourceSystem: String
        /// What the plan and the call log name the restore by: the repository and the recovery type
        /// (the set a runbook restores may be made by an earlier step of the same run).
        var callOptions: [String] { options.filter { $0.hasPrefix("--repo=") || $0.hasPrefix("--type=") } }

        var plan: [PlannedAction] {
            var out: [PlannedAction] = [.read("read the sets in repo \(repo): restore \(point) from set \(set.label) (ended \(RFC3339.format(set.stoppedAt)))",
                                              call: "pgbackrest info --output=json")]
            if let adopt {
                out.append(.read("finish the restore \(name) dr started earlier for the same point (\(adopt.effectiveState.rawValue))"))
                return out
            }
            if clearAbandoned {
                out.append(.change("remove the abandoned restore \(name) (a restore of this target that was killed midway or failed)",
                                   call: "remove \(restoreRoot)/\(name)"))
            }
            out.append(.change("pgbackrest restore of set \(set.label) from repo \(repo) into \(restoreRoot)/\(name)/data (\(options.joined(separator: " ")))",
                               call: PgBackRestCommand.call("restore", callOptions)))
            out.append(.change("start the restored server on a free port on 127.0.0.1 and replay WAL until it promotes", call: "pg_ctl start"))
            return out
        }
    }

    func decide(_ request: RestoreRequest) throws -> Decision {
        if request.region != nil {
            throw DRError(.invalidParameter, "\(param: .region) is for rds targets; a restore of \(targetName) runs on this machine. Nothing was changed.")
        }
        if let set = request.rds.setParameters.first {
            throw DRError(.invalidParameter, "\(param: set) is for rds targets; a restore of \(targetName) is a local PostgreSQL server. Nothing was changed.")
        }
        try RestoredServers.checkName(request.name)
        let repo: Int
        if request.fromDR {
            guard let dr = settings.drRepo else {
                throw DRError(.invalidConfig, "Target \(targetName) has no `dr_repo:`, so there is no DR copy to restore from (\(param: .fromDR)). Add one to dr.yml and run `dr copy \(targetName)`. Nothing was changed.")
            }
            repo = dr
        } else {
            repo = settings.repo
        }
        let all = try command.info(targetName: targetName).sets(repo: repo)
        guard let newest = all.last else {
            throw DRError(.notRestorable, "Repo \(repo) of stanza \(settings.stanza) has no complete backup set, so nothing can be restored from it. Take one with `dr snapshot \(targetName)`\(request.fromDR ? " and copy it with `dr copy \(targetName)`" : ""). Nothing was changed.")
        }
        let pgTarget = RestoredServers(root: settings.restoreRoot).folder(request.name) + "/data"
        var options = ["--repo=\(repo)"]
        let set: PgBackRestInfo.Backup
        var targetTime: Date?
        let point: String
        switch request.point {
        case .pointInTime(let t):
            let now = clock.now()
            guard let chosen = PgBackRestSets.set(for: t, in: all), t <= now else {
                let window = TimeWindow(earliest: all.first!.stoppedAt, latest: now)
                throw DRError(.outsideWindow, "\(RFC3339.format(t, fractional: true)) (\(param: .time)) is outside what repo \(repo) of stanza \(settings.stanza) can restore: \(window) (from the end of the oldest set, \(all.first!.label), to now). Choose a time inside it. Nothing was changed.")
            }
            set = chosen
            targetTime = t
            point = request.point.description
            options += ["--set=\(set.label)", "--type=time", "--target=\(PostgresTime.format(t))", "--target-action=promote"]
        case .latestRestorable:
            set = newest
            point = request.point.description
            options += ["--set=\(set.label)", "--type=default"]
        case .snapshot(let id):
            guard let chosen = id == "latest" ? newest : all.first(where: { $0.label == id }) else {
                throw DRError(.notFound, "There is no complete backup set \"\(id)\" (\(param: .snapshot)) in repo \(repo) of stanza \(settings.stanza). `dr status \(targetName)` lists them. Nothing was changed.")
            }
            set = chosen
            point = RestorePoint.snapshot(set.label).description
            options += ["--set=\(set.label)", "--type=immediate", "--target-action=promote"]
        }
        options += ["--archive-mode=off", "--pg1-path=\(pgTarget)"]
        let system = (try? SourceSystem.read(conninfo: settings.conninfo, purpose: "read its system identifier"))?.identifier ?? "unknown"
        let (adopt, clear) = try PointInTimeRestore.existing(request.name, point: point, targetName: targetName, system: system, servers: servers)
        return Decision(name: request.name, repo: repo, set: set, point: point, targetTime: targetTime, tags: request.tags,
                        adopt: adopt, clearAbandoned: clear, restoreRoot: settings.restoreRoot, options: options, sourceSystem: system)
    }

    /// The native restore's recovery watch, on the same restored-server layout.
    private var recovery: PointInTimeRestore {
        var r = PointInTimeRestore(targetName: targetName, settings: settings.selfHostedView,
                                   repository: Repository(root: settings.selfHostedView.repository),
                                   drExecutable: DRExecutable.path, control: control, logger: logger)
        r.clock = clock
        r.timeout = timeout
        r.progress = progress
        return r
    }

    func execute(_ d: Decision) throws -> RestoreResult {
        let recovery = self.recovery
        var phases = PhaseTimer(clock: clock)
        if let started = d.adopt { return try recovery.finishAdopted(started, phases: phases) }
        let folder = servers.folder(d.name)
        if d.clearAbandoned {
            logger.info("removing an interrupted or failed restore", metadata: ["name": "\(d.name)"])
            CallLog.record("remove \(settings.restoreRoot)/\(d.name)")
            try FileManager.default.removeItem(atPath: folder)
        }
        let port = try ServerControl.freePort()
        phases.end("check")

        let dataDirectory = folder + "/data"
        try FileOps.makeDirectory(settings.restoreRoot)
        try FileOps.makeDirectory(folder, mode: 0o700)
        // pgBackRest runs as the data directory's owner and creates data/ itself.
        if OSUser.isRoot, let user = command.user { user.give(folder) }
        var server = RestoredServer(
            name: d.name, target: targetName, state: .restoring, port: port, folder: folder, dataDirectory: dataDirectory,
            socketDirectory: folder, logFile: folder + "/server.log", pid: nil,
            conninfo: recovery.printableConninfo(port: port), backup: d.set.label,
            repository: "pgbackrest stanza \(settings.stanza) repo \(d.repo)",
            requestedTime: d.targetTime, recoveredTo: nil, createdAt: clock.now(), tags: d.tags.isEmpty ? nil : d.tags,
            point: d.point, ownerPID: getpid(), sourceSystem: d.sourceSystem)
        try server.save()
        do {
            try command.run("restore", d.callOptions, mutating: true, extra: d.options.filter { !d.callOptions.contains($0) })
            try appendServerSettings(dataDirectory: dataDirectory, port: port, socketDirectory: folder)
            phases.end("lay down")
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        do {
            try recovery.startAndRecover(server: server, targetTime: d.targetTime, dataDirectory: dataDirectory, staged: 0)
            phases.end("recover")
        } catch {
            throw recovery.keepLog(of: &server, after: error)
        }
        server.state = .running
        server.ownerPID = nil
        server.pid = ServerControl.runningPID(dataDirectory: dataDirectory)
        server.recoveredTo = try? recovery.lastReplayedCommit(port: port)
        try server.save()
        phases.end("record")
        return recovery.result(server, phases: phases, adopted: false, display: ["repo": String(d.repo), "set": d.set.label])
    }

    /// After pgBackRest's recovery settings: where the restored copy listens, and nothing archived.
    private func appendServerSettings(dataDirectory: String, port: Int, socketDirectory: String) throws {
        let lines = [
            "", "# Added by dr restore: a restored copy, listening on 127.0.0.1 only, archiving nothing.",
            "port = \(port)",
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = '\(socketDirectory.replacingOccurrences(of: "'", with: "''"))'",
            "archive_command = ''",
            "hot_standby = 'on'",
            "logging_collector = 'off'",
        ]
        let path = dataDirectory + "/postgresql.auto.conf"
        let existing = FileManager.default.contents(atPath: path) ?? Data()
        try FileOps.writeAtomically(existing + Data((lines.joined(separator: "\n") + "\n").utf8), to: path, mode: 0o600)
        if OSUser.isRoot, let user = command.user { user.give(path) }
    }
}
