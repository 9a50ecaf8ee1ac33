import DRCore
import Foundation

/// The journal's first line: what the run is, so `--resume` can rebuild it.
public struct RunHeader: Sendable, Codable, Equatable {
    public var runID: String
    /// Absolute path of the runbook file.
    public var runbook: String
    public var name: String
    /// A digest of the runbook's text: a resume refuses a runbook that changed since.
    public var digest: String
    public var startedAt: Date
    /// Inputs as given or defaulted; secret ones are masked and must be given again on resume.
    public var inputs: [String: Value]
    public var secretInputs: [String]
    /// Targets this run holds locks on.
    public var targets: [String]

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", runbook, name, digest, startedAt = "started_at", inputs, secretInputs = "secret_inputs", targets
    }

    public init(runID: String, runbook: String, name: String, digest: String, startedAt: Date,
                inputs: [String: Value], secretInputs: [String], targets: [String]) {
        self.runID = runID
        self.runbook = runbook
        self.name = name
        self.digest = digest
        self.startedAt = startedAt
        self.inputs = inputs
        self.secretInputs = secretInputs
        self.targets = targets
    }
}

/// One event, when it happened, and what a reader needs to follow it (step id, masked parameters).
public struct JournalEntry: Sendable, Equatable {
    public var at: Date
    public var event: RunEvent
    public var stepID: String?
    /// For a step start: its parameters as shown (secrets masked).
    public var parameters: [String: String]?

    public init(at: Date, event: RunEvent, stepID: String? = nil, parameters: [String: String]? = nil) {
        self.at = at
        self.event = event
        self.stepID = stepID
        self.parameters = parameters
    }
}

/// A journal line: the header, or an event.
enum JournalLine: Codable, Equatable {
    case header(RunHeader)
    case entry(JournalEntry)

    private enum Key: String, CodingKey {
        case type, at, run, index, step, attempt, reentry, value, outputs, error, status, with
    }

    /// `retryable` is written only when it differs from what the category implies (journals
    /// written before it existed read as before).
    private struct ErrorBody: Codable { var category: DRError.Category; var message: String; var retryable: Bool? }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .header(let header):
            try c.encode("run", forKey: .type)
            try c.encode(RFC3339.format(header.startedAt, fractional: true), forKey: .at)
            try c.encode(header, forKey: .run)
        case .entry(let entry):
            try c.encode(RFC3339.format(entry.at, fractional: true), forKey: .at)
            try c.encodeIfPresent(entry.stepID, forKey: .step)
            try c.encodeIfPresent(entry.parameters, forKey: .with)
            switch entry.event {
            case .started: try c.encode("started", forKey: .type)
            case .resumed: try c.encode("resumed", forKey: .type)
            case .cancelRequested: try c.encode("cancel_requested", forKey: .type)
            case .finished(let status):
                try c.encode("finished", forKey: .type)
                try c.encode(status, forKey: .status)
            case .conditionEvaluated(let step, let value):
                try c.encode("condition", forKey: .type)
                try c.encode(step, forKey: .index)
                try c.encode(value, forKey: .value)
            case .stepStarted(let step, let attempt, let reentry):
                try c.encode("step_started", forKey: .type)
                try c.encode(step, forKey: .index)
                try c.encode(attempt, forKey: .attempt)
                try c.encode(reentry, forKey: .reentry)
            case .stepSucceeded(let step, let attempt, let outputs):
                try c.encode("step_succeeded", forKey: .type)
                try c.encode(step, forKey: .index)
                try c.encode(attempt, forKey: .attempt)
                try c.encode(outputs, forKey: .outputs)
            case .stepFailed(let step, let attempt, let failure):
                try c.encode("step_failed", forKey: .type)
                try c.encode(step, forKey: .index)
                try c.encode(attempt, forKey: .attempt)
                let implied = StepFailure(failure.category, failure.message).isRetryable
                try c.encode(ErrorBody(category: failure.category, message: failure.message,
                                       retryable: failure.isRetryable == implied ? nil : failure.isRetryable), forKey: .error)
            }
        }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let type = try c.decode(String.self, forKey: .type)
        if type == "run" {
            self = .header(try c.decode(RunHeader.self, forKey: .run))
            return
        }
        let atText = try c.decode(String.self, forKey: .at)
        guard let at = RFC3339.parse(atText) else {
            throw DecodingError.dataCorruptedError(forKey: .at, in: c, debugDescription: "not an RFC 3339 time")
        }
        func index() throws -> Int { try c.decode(Int.self, forKey: .index) }
        func attempt() throws -> Int { try c.decode(Int.self, forKey: .attempt) }
        let event: RunEvent
        switch type {
        case "started": event = .started
        case "resumed": event = .resumed
        case "cancel_requested": event = .cancelRequested
        case "finished": event = .finished(try c.decode(RunStatus.self, forKey: .status))
        case "condition": event = .conditionEvaluated(step: try index(), value: try c.decode(Bool.self, forKey: .value))
        case "step_started": event = .stepStarted(step: try index(), attempt: try attempt(), reentry: try c.decode(Bool.self, forKey: .reentry))
        case "step_succeeded": event = .stepSucceeded(step: try index(), attempt: try attempt(), outputs: try c.decode([String: Value].self, forKey: .outputs))
        case "step_failed":
            let body = try c.decode(ErrorBody.self, forKey: .error)
            event = .stepFailed(step: try index(), attempt: try attempt(), failure: StepFailure(body.category, body.message, retryable: body.retryable))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown event type '\(type)'")
        }
        self = .entry(JournalEntry(at: at, event: event, stepID: try c.decodeIfPresent(String.self, forKey: .step),
                                   parameters: try c.decodeIfPresent([String: String].self, forKey: .with)))
    }
}
