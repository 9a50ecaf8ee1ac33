import DRCore
import Foundation

/// A server `dr restore` started: its marker file `dr-restored.json` in its folder under the
/// restore root is how `teardown`, `failover` and `status` find it, and the proof that dr made it.
struct RestoredServer: Codable, Equatable {
    static let markerName = "dr-restored.json"
    static let createdBy = "dr"

    /// `failed`: recovery did not finish; the folder keeps the marker and the server's log until teardown.
    enum State: String, Codable { case restoring, running, stopped, failed }

    var name: String
    var target: String
    var createdBy: String = RestoredServer.createdBy
    var state: State
    var port: Int
    var folder: String
    var dataDirectory: String
    var socketDirectory: String
    var logFile: String
    var pid: Int32?
    /// Conninfo without a password.
    var conninfo: String
    var backup: String
    var repository: String
    var requestedTime: Date?
    var recoveredTo: Date?
    var createdAt: Date
    /// The restore request's extra tags (e.g. `dr:drill=RUN`); absent in markers from before tags.
    var tags: [String: String]? = nil

    func save() throws {
        try FileOps.writeAtomically(try DRJSON.encode(self), to: folder + "/" + Self.markerName)
    }
}

/// The restored servers under one restore root.
struct RestoredServers {
    let root: String

    func folder(_ name: String) -> String { root + "/" + name }

    func load(_ name: String) -> RestoredServer? {
        guard let data = FileManager.default.contents(atPath: folder(name) + "/" + RestoredServer.markerName),
              let server = try? DRJSON.decode(RestoredServer.self, from: data),
              server.createdBy == RestoredServer.createdBy else { return nil }
        return server
    }

    /// What holds `name` under the root, in words; nil when a restore as `name` may go ahead:
    /// nothing is there, a restore of ours that was killed midway or failed (the restore clears it), or,
    /// with `adopt`, a running server dr restored from `target` (the restore adopts it).
    func holder(of name: String, target: String, adopt: Bool) -> String? {
        let path = folder(name)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let existing = load(name) else { return "\(path), which dr did not make" }
        let running = ServerControl.runningPID(dataDirectory: existing.dataDirectory) != nil
        if existing.state == .restoring || existing.state == .failed, !running { return nil }
        if adopt, existing.target == target, running { return nil }
        return "restored server \"\(name)\" at \(path) (\(running ? "running" : existing.state.rawValue), restored from \(existing.target))"
    }

    func list() -> [RestoredServer] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().compactMap(load)
    }

    static func checkName(_ name: String) throws {
        let ok = !name.isEmpty && name.count <= 63 && name.first!.isLetter
            && name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "_" }
        guard ok else {
            throw DRError.badInput("\"\(name)\" is not a usable name for a restored server: use 1-63 letters, digits, - or _, starting with a letter. Nothing was changed.")
        }
    }
}
