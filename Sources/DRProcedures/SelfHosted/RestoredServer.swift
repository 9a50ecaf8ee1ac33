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
    /// What it was restored for (`time …`, `latest restorable`, `snapshot <backup>`): a re-run
    /// adopts it only for the same point.
    var point: String? = nil
    /// The dr process laying it down, while it is `restoring`: when that process is gone and
    /// no server runs, the restore was abandoned (killed midway).
    var ownerPID: Int32? = nil
    /// The source database's system identifier (absent in markers from before it was kept).
    var sourceSystem: String? = nil

    /// What the marker and the processes say together.
    enum EffectiveState: String, Codable {
        /// Promoted and serving.
        case running
        /// Its server is up and replaying WAL (the dr that started it may be gone).
        case recovering
        /// Being laid down by a dr process that is still alive.
        case inProgress = "in progress"
        /// Killed midway: no dr process and no server. `dr teardown NAME` (or the next restore of the same name) removes it.
        case abandoned
        /// Its recovery failed; the folder keeps the server's log until `dr teardown NAME` (or the next restore of the name).
        case failed
        case stopped
    }

    var effectiveState: EffectiveState {
        let serverUp = ServerControl.runningPID(dataDirectory: dataDirectory) != nil
        switch state {
        case .running: return serverUp ? .running : .stopped
        case .stopped: return .stopped
        case .failed: return serverUp ? .recovering : .failed
        case .restoring:
            if serverUp { return .recovering }
            if let ownerPID, ownerPID != getpid(), kill(ownerPID, 0) == 0 || errno == EPERM { return .inProgress }
            return .abandoned
        }
    }

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
