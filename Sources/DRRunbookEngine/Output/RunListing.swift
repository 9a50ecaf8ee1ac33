import DRCore
import Foundation

/// A line of `dr runs`: a run and the state its journal and locks show.
public struct RunListing: Sendable, Encodable, Equatable {
    public var runID: String
    public var runbook: String
    public var startedAt: String
    /// succeeded, failed, cancelled (stopped by Ctrl-C; resumable), running (its process holds
    /// the run lock) or interrupted (killed; resumable).
    public var state: String
    public var lastEventAt: String
    public var currentStep: String?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", runbook, startedAt = "started_at", state, lastEventAt = "last_event_at", currentStep = "current_step"
    }

    public static func list(_ state: StateDirectory) -> [RunListing] {
        state.runIDs().compactMap { id in
            guard let (header, entries) = try? Journal.read(path: state.journalPath(id)) else { return nil }
            let unfinished = LockFile.holder(state.runLockPath(id)) != nil ? "running" : "interrupted"
            var status = unfinished
            var current: String?
            for entry in entries {
                switch entry.event {
                case .finished(let s): status = s.rawValue
                case .resumed: status = unfinished
                case .stepStarted: current = entry.stepID
                default: break
                }
            }
            let last = entries.last?.at ?? header.startedAt
            return RunListing(runID: id, runbook: header.runbook, startedAt: RFC3339.format(header.startedAt), state: status,
                              lastEventAt: RFC3339.format(last), currentStep: ["running", "interrupted"].contains(status) ? current : nil)
        }
    }
}
