import DRCore

/// How a run ended.
public enum RunStatus: String, Sendable, Codable, Equatable {
    case succeeded, failed, cancelled
}

/// Why a step failed. `category` decides the run's exit code when this failure ends the run.
public struct StepFailure: Error, Sendable, Codable, Equatable {
    public var category: DRError.Category
    public var message: String
    /// Whether another attempt could succeed: never for bad input (a parameter that does not
    /// resolve, a procedure not wired) or an interruption, nor for a refusal that fails the same
    /// way every time (authentication, authorization, validation: `DRError.isRetryable`).
    public var isRetryable: Bool

    public init(_ category: DRError.Category, _ message: String, retryable: Bool? = nil) {
        self.category = category
        self.message = message
        self.isRetryable = retryable ?? (category != .badInput && category != .interrupted)
    }

    public var isInterruption: Bool { category == .interrupted }

    enum CodingKeys: String, CodingKey { case category, message, isRetryable }

    /// A failure written before `isRetryable` existed reads with the value its category implies.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try c.decode(DRError.Category.self, forKey: .category), try c.decode(String.self, forKey: .message),
                  retryable: try c.decodeIfPresent(Bool.self, forKey: .isRetryable))
    }
}

/// What happened, as the state machine hears it. The journal is a list of these. Steps are
/// numbered main steps first, then finally steps (`Runbook.allSteps`).
public enum RunEvent: Sendable, Equatable {
    case started
    case conditionEvaluated(step: Int, value: Bool)
    case stepStarted(step: Int, attempt: Int, reentry: Bool)
    case stepSucceeded(step: Int, attempt: Int, outputs: [String: Value])
    /// Also a timeout (`category == .timedOut`) and a step stopped by Ctrl-C (`.interrupted`).
    case stepFailed(step: Int, attempt: Int, failure: StepFailure)
    case cancelRequested
    case resumed
    case finished(RunStatus)
}

/// What the state machine asks its driver to do next.
public enum RunAction: Sendable, Equatable {
    case evaluateCondition(step: Int)
    case runStep(step: Int, attempt: Int, reentry: Bool)
    case retryStep(step: Int, attempt: Int, afterSeconds: Double)
    /// A step is in flight; wait for it to report.
    case awaitStep(step: Int)
    /// Journal `.finished(status)`; the run is over.
    case finish(RunStatus)
    /// Nothing more: the run has finished.
    case none
}
