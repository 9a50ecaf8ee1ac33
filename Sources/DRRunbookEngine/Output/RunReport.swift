import DRCore
import Foundation

/// What a run did: each step's outcome, duration and outputs, and the recovery time by phase.
public struct RunReport: Sendable, Encodable {
    public struct StepLine: Sendable, Encodable {
        public var id: String
        public var uses: String
        public var phase: String
        public var outcome: String
        public var attempts: Int
        public var startedAt: String?
        public var endedAt: String?
        public var seconds: Double?
        public var outputs: [String: String]
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case id, uses, phase, outcome, attempts, startedAt = "started_at", endedAt = "ended_at", seconds, outputs, error
        }
    }

    public struct PhaseTime: Sendable, Encodable {
        public var phase: String
        public var seconds: Double
    }

    public var runID: String
    public var runbook: String
    public var status: String
    public var startedAt: String
    public var endedAt: String
    public var seconds: Double
    public var inputs: [String: String]
    public var steps: [StepLine]
    public var phases: [PhaseTime]
    public var error: String?
    /// What a run that did not succeed leaves behind: servers or instances its steps made that
    /// still exist (filled in by whoever can look, `LeftResource.made(by:)` says what to look for).
    public var left: [LeftResource] = []

    /// A restored server or instance a run made and did not remove.
    public struct LeftResource: Sendable, Encodable, Equatable {
        public var name: String
        public var target: String
        public var step: String
        public init(name: String, target: String, step: String) {
            self.name = name
            self.target = target
            self.step = step
        }
    }

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", runbook, status, startedAt = "started_at", endedAt = "ended_at", seconds, inputs, steps, phases, error, left
    }

    /// The servers or instances the run's steps made (`instance_id` outputs), by step id.
    public var made: [(step: String, name: String)] {
        steps.compactMap { step in step.outputs["instance_id"].flatMap { $0.isEmpty ? nil : (step.id, $0) } }
    }

    public init(runbook: Runbook, header: RunHeader, machine: RunStateMachine, catalog: ProcedureCatalog, endedAt: Date) {
        runID = header.runID
        self.runbook = runbook.name
        status = machine.status.rawValue
        startedAt = RFC3339.format(header.startedAt)
        self.endedAt = RFC3339.format(endedAt)
        seconds = endedAt.timeIntervalSince(header.startedAt)
        inputs = header.inputs.mapValues(\.description)
        error = machine.failure?.message
        var lines: [StepLine] = []
        var phaseOrder: [String] = []
        var phaseSeconds: [String: Double] = [:]
        for (index, step) in runbook.allSteps.enumerated() {
            let state = machine.states[index]
            let times = machine.times[index]
            let phase = step.phase ?? catalog[step.uses]?.phase ?? "other"
            var duration: Double?
            if let start = times.firstStarted, let end = times.ended {
                duration = end.timeIntervalSince(start)
                if !phaseOrder.contains(phase) { phaseOrder.append(phase) }
                phaseSeconds[phase, default: 0] += duration!
            }
            var outputs: [String: String] = [:]
            var failure: String?
            switch state {
            case .succeeded(let o): outputs = o.mapValues(\.description)
            case .failed(let f, _): failure = f.message
            default: break
            }
            lines.append(StepLine(id: step.id, uses: step.uses, phase: phase, outcome: state.outcome ?? "pending",
                                  attempts: times.attempts, startedAt: times.firstStarted.map { RFC3339.format($0) },
                                  endedAt: times.ended.map { RFC3339.format($0) }, seconds: duration, outputs: outputs, error: failure))
        }
        steps = lines
        phases = phaseOrder.map { PhaseTime(phase: $0, seconds: phaseSeconds[$0]!) }
    }

    public var text: String {
        var out = "Run \(runID) (\(runbook)): \(status) in \(DurationText.format(seconds))\n"
        for step in steps {
            let time = step.seconds.map { DurationText.format($0) } ?? "-"
            let tries = step.attempts > 1 ? " (\(step.attempts) attempts)" : ""
            out += "  \(step.outcome.padding(toLength: 8, withPad: " ", startingAt: 0)) \(step.id) [\(step.uses)] \(time)\(tries)\n"
            // Whole values, never cut: a command's advice is read, and pasted, from here. Lines
            // after the first are indented under it.
            for (key, value) in step.outputs.sorted(by: { $0.key < $1.key }) {
                out += "      \(key): " + value.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n        ") + "\n"
            }
            if let error = step.error { out += "      error: \(error)\n" }
        }
        for l in left {
            out += "Left behind: \(l.name) (target \(l.target), made by step \(l.step)); `dr teardown \(l.name) --target \(l.target)` removes it.\n"
        }
        if status == RunStatus.cancelled.rawValue {
            out += "Stopped by an interrupt: `dr run --resume \(runID)` goes on from where it stopped.\n"
        }
        if !phases.isEmpty {
            out += "Recovery time by phase: " + phases.map { "\($0.phase) \(DurationText.format($0.seconds))" }.joined(separator: ", ") + "\n"
        }
        return out
    }
}
