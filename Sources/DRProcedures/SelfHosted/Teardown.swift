import DRCore
import DRPostgres
import Foundation

/// `dr teardown` for self-hosted PostgreSQL: stops and removes a server `dr restore` started.
///
/// Refused before anything is touched (exit 2, saying why): a folder without dr's marker or with
/// a marker missing its fields, a restore of another target than the one named, and a server
/// that serves production — one a target's conninfo points at, or the current value of a
/// service-file entry (a target's, or one dr failed over).
struct RestoredServerTeardown {
    let servers: RestoredServers
    let control: ServerControl
    let targetName: String
    let context: ProviderContext

    struct Decision {
        var name: String
        var folder: String
        /// Nil when there is nothing left to tear down.
        var server: RestoredServer?
        /// Plans only: an earlier step of the same run restores it.
        var upcoming = false
        var plan: [PlannedAction] {
            var out: [PlannedAction] = [.read("read \(folder)/\(RestoredServer.markerName) and check the targets and service files", call: "read \(folder)")]
            if server == nil, upcoming {
                return out + [.change("stop the restored server \(name) an earlier step starts", call: "pg_ctl stop -m fast"),
                              .change("remove \(folder)", call: "remove \(folder)")]
            }
            guard let server else { return out + [.read("nothing to do: there is no restored server \(name) (already torn down)")] }
            if server.effectiveState == .running || server.effectiveState == .recovering {
                out.append(.change("stop the restored server \(name) (port \(server.port))", call: "pg_ctl stop -m fast"))
            }
            out.append(.change("remove \(folder), restored from \(server.backup) (\(server.point ?? "?"))", call: "remove \(folder)"))
            return out
        }
    }

    func decide(name: String, upcoming: Bool = false) throws -> Decision {
        if upcoming, (try? RestoredServers.checkName(name)) == nil {
            // A plan whose name is known only at run time: nothing to look up yet.
            return Decision(name: name, folder: servers.folder(name), server: nil, upcoming: true)
        }
        try RestoredServers.checkName(name)
        let folder = servers.folder(name)
        guard let server = servers.load(name) else {
            if FileManager.default.fileExists(atPath: folder) {
                throw DRError(.protected, "\(folder) was not made by `dr restore` (it has no \(RestoredServer.markerName)); dr only tears down servers it started. Nothing was changed.")
            }
            return Decision(name: name, folder: folder, server: nil, upcoming: upcoming)
        }
        // The data directory must be the one inside dr's folder, whatever the marker says.
        guard server.dataDirectory == folder + "/data", server.point != nil, !server.backup.isEmpty, server.sourceSystem != nil else {
            throw DRError(.protected, "The marker in \(folder) is not one dr wrote for a restore (its data directory, point, backup or source system identifier is missing or outside the folder); dr will not remove it. If it truly is a leftover, stop its server and remove the folder by hand. Nothing was changed.")
        }
        guard server.target == targetName else {
            throw DRError(.protected, "The restored server \(name) is a restore of \(server.target), not of \(targetName); dr tears it down only as a restore of its own target. Name that target instead. Nothing was changed.")
        }
        try checkNotServing(server)
        return Decision(name: name, folder: folder, server: server)
    }

    /// Not a target's database, and not what a service-file entry points at now.
    func checkNotServing(_ server: RestoredServer) throws {
        for target in context.config?.targets ?? [] {
            let local: (conninfo: String, serviceFile: String?, service: String?)
            switch target.provider {
            case .postgres(let s): local = (s.conninfo, s.serviceFile, s.service)
            case .pgbackrest(let s): local = (s.conninfo, s.serviceFile, s.service)
            case .rds: continue
            }
            if Self.points(at: server.port, local.conninfo) {
                throw DRError(.protected, "dr will not remove the restored server \(server.name): target \(target.name) in \(context.config?.file ?? "dr.yml") connects to it (port \(server.port)) — it serves production now. Point that target elsewhere first. Nothing was changed.")
            }
            if let file = local.serviceFile {
                try checkEntry(ServiceFile(path: file), local.service ?? target.name, server: server)
            }
        }
        for entry in ServiceFailover.changedEntries(stateDirectory: context.stateDirectory) {
            try checkEntry(ServiceFile(path: entry.file), entry.service, server: server)
        }
    }

    func checkEntry(_ file: ServiceFile, _ service: String, server: RestoredServer) throws {
        guard let entry = try? file.entry(service), Self.points(at: server.port, entry) else { return }
        throw DRError(.protected, "dr will not remove the restored server \(server.name): [\(service)] in \(file.path) points at it (port \(server.port)) — clients use it now. Fail over elsewhere or undo the failover (`dr failover … --undo`) first. Nothing was changed.")
    }

    /// True when a conninfo (or service entry) reaches a local server on `port`.
    static func points(at port: Int, _ conninfo: String) -> Bool {
        guard let pairs = Conninfo.parse(conninfo) else { return false }
        let host = pairs.last { $0.key == "host" || $0.key == "hostaddr" }?.value ?? "localhost"
        let entryPort = pairs.last { $0.key == "port" }.flatMap { Int($0.value) } ?? 5432
        let local = host.isEmpty || host.hasPrefix("/") || ["127.0.0.1", "localhost", "::1"].contains(host)
        return local && entryPort == port
    }

    func execute(_ d: Decision) throws -> TeardownResult {
        guard let server = d.server else {
            // Already gone (a re-run after success, or after a teardown killed midway): nothing to do.
            try? FileManager.default.removeItem(atPath: trashFolder(d.name))
            return TeardownResult(name: d.name, removed: false, region: nil, restoredFrom: nil, instances: nil,
                                  display: ["note": "no restored server named \(d.name) under \(servers.root) (already torn down)"])
        }
        var stopped = false
        if ServerControl.runningPID(dataDirectory: server.dataDirectory) != nil {
            let fast = try control.stop(dataDirectory: server.dataDirectory, mode: "fast")
            if !fast.succeeded { _ = try control.stop(dataDirectory: server.dataDirectory, mode: "immediate") }
            guard ServerControl.runningPID(dataDirectory: server.dataDirectory) == nil else {
                throw DRError(.localFailure, "The restored server \(d.name) (pid \(server.pid.map(String.init) ?? "?")) did not stop; its folder was kept. Stop it with pg_ctl -D \(server.dataDirectory) stop and run teardown again.")
            }
            stopped = true
        }
        // Renamed first, so a teardown killed midway never leaves a folder that looks like a live restore.
        let trash = trashFolder(d.name)
        CallLog.record("remove \(d.folder)")
        try? FileManager.default.removeItem(atPath: trash)
        try FileOps.rename(d.folder, trash)
        try FileManager.default.removeItem(atPath: trash)
        return TeardownResult(name: d.name, removed: true, region: nil, restoredFrom: server.backup, instances: nil,
                              display: ["stopped": String(stopped), "folder": d.folder, "port": String(server.port)])
    }

    private func trashFolder(_ name: String) -> String { servers.root + "/.\(name).deleting.tmp" }
}
