import DRCore
import Foundation

/// `dr teardown` for self-hosted PostgreSQL: stops and removes a server `dr restore` started.
/// Anything without dr's marker is refused.
struct RestoredServerTeardown {
    let servers: RestoredServers
    let control: ServerControl

    func run(name: String) throws -> TeardownResult {
        try RestoredServers.checkName(name)
        let folder = servers.folder(name)
        guard let server = servers.load(name) else {
            if FileManager.default.fileExists(atPath: folder) {
                throw DRError.badInput("\(folder) was not made by `dr restore` (it has no \(RestoredServer.markerName)); dr only tears down servers it started. Nothing was changed.")
            }
            // Already gone (a re-run after success, or after a teardown killed midway): nothing to do.
            try? FileManager.default.removeItem(atPath: trashFolder(name))
            return TeardownResult(name: name, removed: false, details: ["note": "no restored server named \(name) under \(servers.root) (already torn down)"])
        }
        // The data directory must be the one inside dr's folder, whatever the marker says.
        guard server.dataDirectory == folder + "/data" else {
            throw DRError.badInput("The marker in \(folder) names a data directory outside it (\(server.dataDirectory)); dr will not remove it. Nothing was changed.")
        }
        var stopped = false
        if ServerControl.runningPID(dataDirectory: server.dataDirectory) != nil {
            let fast = try control.stop(dataDirectory: server.dataDirectory, mode: "fast")
            if !fast.succeeded { _ = try control.stop(dataDirectory: server.dataDirectory, mode: "immediate") }
            guard ServerControl.runningPID(dataDirectory: server.dataDirectory) == nil else {
                throw DRError.problem("The restored server \(name) (pid \(server.pid.map(String.init) ?? "?")) did not stop; its folder was kept. Stop it with pg_ctl -D \(server.dataDirectory) stop and run teardown again.")
            }
            stopped = true
        }
        // Renamed first, so a teardown killed midway never leaves a folder that looks like a live restore.
        let trash = trashFolder(name)
        try? FileManager.default.removeItem(atPath: trash)
        try FileOps.rename(folder, trash)
        try FileManager.default.removeItem(atPath: trash)
        return TeardownResult(name: name, removed: true, details: ["stopped": String(stopped), "folder": folder, "port": String(server.port)])
    }

    private func trashFolder(_ name: String) -> String { servers.root + "/.\(name).deleting.tmp" }
}
