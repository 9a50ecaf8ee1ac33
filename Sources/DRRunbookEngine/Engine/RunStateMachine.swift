import Foundation

/// The runbook engine's logic, with no I/O: events in, actions out.
///
/// Main steps run in order; a failure (after its retries, unless `continue_on_error`) or a
/// cancellation skips the remaining main steps; finally steps always run, each whatever the
/// others did. Replaying a journal's events rebuilds the state exactly, and `.resumed` then
/// says what to do next: a step that was in flight is re-entered, a finished step is not redone.
public struct RunStateMachine: Sendable, Equatable {
    /// What the machine needs to know about a step.
    public struct StepShape: Sendable, Equatable {
        public var id: String
        public var hasCondition: Bool
        public var retries: Int
        public var continueOnError: Bool
        public var isFinally: Bool

        public init(id: String, hasCondition: Bool = false, retries: Int = 0, continueOnError: Bool = false, isFinally: Bool = false) {
            self.id = id
            self.hasCondition = hasCondition
            self.retries = retries
            self.continueOnError = continueOnError
            self.isFinally = isFinally
        }
    }

    public enum StepState: Sendable, Equatable {
        case pending
        /// Its condition held; it has not started.
        case ready
        case running(attempt: Int)
        case awaitingRetry(attempt: Int)
        case succeeded(outputs: [String: Value])
        /// `continued` when `continue_on_error` let the run go on.
        case failed(StepFailure, continued: Bool)
        /// Its `if` was false.
        case skipped
        /// Never reached: an earlier main step failed or the run was cancelled.
        case notRun

        public var outcome: String? {
            switch self {
            case .succeeded: return "success"
            case .failed: return "failure"
            case .skipped: return "skipped"
            case .notRun: return "not_run"
            default: return nil
            }
        }
    }

    /// When each step started and ended, for the report (the clock is an input, like the events).
    public struct StepTimes: Sendable, Equatable {
        public var firstStarted: Date?
        public var attemptStarted: Date?
        public var ended: Date?
        public var attempts = 0
    }

    public enum Phase: Sendable, Equatable { case notStarted, running, finished(RunStatus) }

    public let shapes: [StepShape]
    public private(set) var states: [StepState]
    public private(set) var times: [StepTimes]
    public private(set) var phase: Phase = .notStarted
    /// The first failure that decides the run's outcome.
    public private(set) var failure: StepFailure?
    public private(set) var cancelled = false
    private var cursor = 0
    public var retryPolicy: RetryPolicy

    public init(steps: [StepShape], retryPolicy: RetryPolicy = RetryPolicy()) {
        shapes = steps
        states = Array(repeating: .pending, count: steps.count)
        times = Array(repeating: StepTimes(), count: steps.count)
        self.retryPolicy = retryPolicy
    }

    public init(runbook: Runbook, retryPolicy: RetryPolicy = RetryPolicy()) {
        let main = runbook.steps.map { StepShape(id: $0.id, hasCondition: $0.condition != nil, retries: $0.retries, continueOnError: $0.continueOnError) }
        let finally = runbook.finally.map { StepShape(id: $0.id, hasCondition: $0.condition != nil, retries: $0.retries, continueOnError: $0.continueOnError, isFinally: true) }
        self.init(steps: main + finally, retryPolicy: retryPolicy)
    }

    /// The outcome the run would end with if it ended now.
    public var status: RunStatus { cancelled ? .cancelled : (failure == nil ? .succeeded : .failed) }

    /// Applies an event and returns what to do next. Throws `RunStateError` for an event that
    /// cannot happen in the current state (a corrupt or foreign journal).
    @discardableResult
    public mutating func handle(_ event: RunEvent, at time: Date) throws -> RunAction {
        if case .finished(let status) = phase {
            // A run stopped by Ctrl-C is resumable: `.resumed` reopens it.
            guard status == .cancelled, event == .resumed else { throw RunStateError("the run has already finished; nothing can happen after that") }
            return reopen()
        }
        switch event {
        case .started:
            guard phase == .notStarted else { throw RunStateError("the run started twice") }
            phase = .running
            return advance()
        case .resumed:
            return try resume()
        case .conditionEvaluated(let step, let value):
            try expect(step, in: [.pending])
            if value {
                states[step] = .ready
                return .runStep(step: step, attempt: 1, reentry: false)
            }
            states[step] = .skipped
            return advance()
        case .stepStarted(let step, let attempt, let reentry):
            try started(step, attempt: attempt, reentry: reentry, at: time)
            return .awaitStep(step: step)
        case .stepSucceeded(let step, let attempt, let outputs):
            guard states[checked: step] == .running(attempt: attempt) else { throw unexpected(event) }
            states[step] = .succeeded(outputs: outputs)
            times[step].ended = time
            return advance()
        case .stepFailed(let step, let attempt, let failure):
            return try failed(step, attempt: attempt, failure, at: time)
        case .cancelRequested:
            return cancel()
        case .finished(let status):
            guard phase == .running, cursor == shapes.count else { throw RunStateError("the run finished before all its steps were accounted for") }
            phase = .finished(status)
            return .none
        }
    }

    // MARK: - Transitions

    private mutating func started(_ step: Int, attempt: Int, reentry: Bool, at time: Date) throws {
        let state = states[checked: step]
        let fits: Bool
        switch state {
        case .pending: fits = attempt == 1 && !reentry && !shapes[step].hasCondition
        case .ready: fits = attempt == 1 && !reentry
        case .awaitingRetry(let next): fits = attempt == next && !reentry
        case .running(let current): fits = attempt == current && reentry
        default: fits = false
        }
        guard step == cursor, phase == .running, fits else {
            throw RunStateError("step '\(shapes[step].id)' cannot start attempt \(attempt)\(reentry ? " (re-entry)" : "") while it is \(state.map { "\($0)" } ?? "not started")")
        }
        states[step] = .running(attempt: attempt)
        if !reentry {
            if times[step].firstStarted == nil { times[step].firstStarted = time }
            times[step].attemptStarted = time
            times[step].attempts = attempt
        }
    }

    private mutating func failed(_ step: Int, attempt: Int, _ failure: StepFailure, at time: Date) throws -> RunAction {
        switch states[checked: step] {
        case .running(let current) where current == attempt: break
        // A condition or parameter that does not evaluate fails the step before it starts.
        case .pending, .ready: guard attempt == 1, step == cursor else { throw RunStateError("step '\(shapes[step].id)' failed out of turn") }
        default: throw RunStateError("step '\(shapes[step].id)' failed attempt \(attempt) while it is \(states[step])")
        }
        let shape = shapes[step]
        let stopping = cancelled && !shape.isFinally
        if failure.isRetryable && !stopping && attempt <= shape.retries {
            states[step] = .awaitingRetry(attempt: attempt + 1)
            return .retryStep(step: step, attempt: attempt + 1, afterSeconds: retryPolicy.delay(afterAttempt: attempt))
        }
        let continued = shape.continueOnError && !failure.isInterruption
        states[step] = .failed(failure, continued: continued)
        times[step].ended = time
        if !continued && !(failure.isInterruption && cancelled) && self.failure == nil { self.failure = failure }
        return advance()
    }

    private mutating func cancel() -> RunAction {
        cancelled = true
        guard phase == .running, cursor < shapes.count else { return phase == .running ? advance() : .none }
        switch states[cursor] {
        case .running: return .awaitStep(step: cursor)
        // Finally steps carry on: cleanup is what a cancelled run needs most.
        case _ where shapes[cursor].isFinally: return pendingAction()
        case .awaitingRetry:
            states[cursor] = .failed(StepFailure(.interrupted, "cancelled before its retry"), continued: false)
            return advance()
        default: return advance()
        }
    }

    private mutating func resume() throws -> RunAction {
        switch phase {
        case .finished(let status): throw RunStateError("the run has already finished (\(status.rawValue))")
        case .notStarted:
            phase = .running
            return advance()
        case .running:
            if cursor < shapes.count, cancelled, !shapes[cursor].isFinally, case .running = states[cursor] {
                // Cancelled, then killed before the step reported: it does not run again.
                states[cursor] = .failed(StepFailure(.interrupted, "interrupted"), continued: false)
                return advance()
            }
            return pendingAction()
        }
    }

    /// Goes on with a run Ctrl-C stopped: the main steps it interrupted or never reached run
    /// (from the first of them), then the finally steps again — cleanup runs at the end of
    /// every attempt. Steps that succeeded keep their outputs.
    private mutating func reopen() -> RunAction {
        phase = .running
        cancelled = false
        failure = nil
        for i in shapes.indices {
            let again: Bool
            switch states[i] {
            case .failed(let f, _) where f.isInterruption: again = true
            case .notRun, .pending, .ready, .running, .awaitingRetry: again = true
            case .failed(let f, let continued):
                again = shapes[i].isFinally
                if !again && !continued && failure == nil { failure = f }
            case .succeeded, .skipped: again = shapes[i].isFinally
            }
            if again {
                states[i] = .pending
                times[i] = StepTimes()
            }
        }
        cursor = 0
        return advance()
    }

    /// What to do about the step at the cursor, as things stand (used after a replay).
    private mutating func pendingAction() -> RunAction {
        guard cursor < shapes.count else { return .finish(status) }
        switch states[cursor] {
        case .running(let attempt): return .runStep(step: cursor, attempt: attempt, reentry: true)
        case .awaitingRetry(let attempt): return .runStep(step: cursor, attempt: attempt, reentry: false)
        case .ready: return .runStep(step: cursor, attempt: 1, reentry: false)
        default: return advance()
        }
    }

    /// Moves past finished steps to the next thing to do.
    private mutating func advance() -> RunAction {
        while cursor < shapes.count {
            let shape = shapes[cursor]
            switch states[cursor] {
            case .pending:
                if !shape.isFinally && (cancelled || failure != nil) {
                    states[cursor] = .notRun
                    cursor += 1
                    continue
                }
                return shape.hasCondition ? .evaluateCondition(step: cursor) : .runStep(step: cursor, attempt: 1, reentry: false)
            case .ready: return .runStep(step: cursor, attempt: 1, reentry: false)
            case .running: return .awaitStep(step: cursor)
            case .awaitingRetry(let attempt): return .runStep(step: cursor, attempt: attempt, reentry: false)
            case .succeeded, .failed, .skipped, .notRun: cursor += 1
            }
        }
        return .finish(status)
    }

    private func expect(_ step: Int, in allowed: [StepState]) throws {
        guard step == cursor, phase == .running, let state = states[checked: step], allowed.contains(state) else {
            throw RunStateError("step '\(shapes.indices.contains(step) ? shapes[step].id : "#\(step)")' is not waiting for its condition")
        }
    }

    private func unexpected(_ event: RunEvent) -> RunStateError {
        RunStateError("\(event) does not fit the run's state")
    }

    // MARK: - Reading

    /// Outputs of the steps that succeeded, by step id.
    public var outputs: [String: [String: Value]] {
        var out: [String: [String: Value]] = [:]
        for (shape, state) in zip(shapes, states) { if case .succeeded(let o) = state { out[shape.id] = o } }
        return out
    }

    /// `success`, `failure`, `skipped` or `not_run` for each step that is over.
    public var outcomes: [String: String] {
        var out: [String: String] = [:]
        for (shape, state) in zip(shapes, states) { if let o = state.outcome { out[shape.id] = o } }
        return out
    }

    public var isFinished: Bool { if case .finished = phase { return true }; return false }
}

/// Retry delays: `base`, doubling after each attempt, never more than `cap` seconds.
public struct RetryPolicy: Sendable, Equatable {
    public var base: Double
    public var cap: Double

    public init(base: Double = 2, cap: Double = 60) {
        self.base = base
        self.cap = cap
    }

    public func delay(afterAttempt attempt: Int) -> Double {
        min(cap, base * pow(2, Double(max(0, attempt - 1))))
    }
}

/// An event that cannot happen in the machine's state: the journal does not belong to this runbook or is damaged.
public struct RunStateError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Array where Element == RunStateMachine.StepState {
    subscript(checked index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
