import DRCore
import Foundation

/// Drives a `RunStateMachine`: does what its actions say (evaluate, run procedures with
/// timeouts, sleep before retries), journals every event before acting on it, and feeds the
/// results back. All the decisions are the machine's.
public final class RunDriver: @unchecked Sendable {
    public let runbook: Runbook
    public let header: RunHeader
    public private(set) var machine: RunStateMachine
    /// Inputs with secrets in clear (the header holds them masked).
    private let inputs: [String: Value]
    private let targets: [String: [String: Value]]
    private let registry: ProcedureRegistry
    private let clock: DRClock
    private let journal: Journal
    private let progress: @Sendable (String) -> Void
    private let cancelSwitch = CancelSwitch()
    private var cancelDelivered = false

    public init(runbook: Runbook, header: RunHeader, inputs: [String: Value], targets: [String: [String: Value]] = [:],
                machine: RunStateMachine, registry: ProcedureRegistry, clock: DRClock, journal: Journal,
                progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.runbook = runbook
        self.header = header
        self.inputs = inputs
        self.targets = targets
        self.machine = machine
        self.registry = registry
        self.clock = clock
        self.journal = journal
        self.progress = progress
    }

    /// Asks the run to stop: the main step in flight is cancelled, the finally steps run. Safe from any thread.
    public func requestCancel() { cancelSwitch.request() }

    /// Runs from `first` (`.started` or `.resumed`) to the end, and returns the final state.
    public func drive(from first: RunEvent) async throws -> RunStateMachine {
        var action = try record(first)
        let steps = runbook.allSteps
        let resolver = StepResolver(catalog: registry.catalog)
        while true {
            if cancelSwitch.isRequested && !cancelDelivered {
                cancelDelivered = true
                progress("cancelling: the remaining steps are skipped, the finally steps run")
                let afterCancel = try record(.cancelRequested)
                if case .awaitStep = action {} else { action = afterCancel }
            }
            switch action {
            case .evaluateCondition(let index):
                do {
                    let holds = try resolver.condition(steps[index], in: scope())
                    if !holds { progress("- \(steps[index].id): skipped (its `if` is false)") }
                    action = try record(.conditionEvaluated(step: index, value: holds))
                } catch {
                    action = try record(.stepFailed(step: index, attempt: 1, failure: Self.failure(error)))
                }
            case .runStep(let index, let attempt, let reentry):
                action = try await runStep(steps[index], index: index, attempt: attempt, reentry: reentry, resolver: resolver)
            case .retryStep(let index, let attempt, let delay):
                progress("  \(steps[index].id): retrying in \(DurationText.format(delay)) (attempt \(attempt) of \(steps[index].retries + 1))")
                let sleeper = Task { try await clock.sleep(seconds: delay) }
                cancelSwitch.track(sleeper, cancellable: !steps[index].isFinally(in: runbook))
                _ = try? await sleeper.value
                cancelSwitch.untrack()
                if cancelSwitch.isRequested && !cancelDelivered && !steps[index].isFinally(in: runbook) { continue }
                action = .runStep(step: index, attempt: attempt, reentry: false)
            case .awaitStep(let index):
                throw DRError.badInput("Internal error: step '\(steps[index].id)' is marked in flight but nothing runs it.")
            case .finish(let status):
                _ = try record(.finished(status))
                return machine
            case .none:
                return machine
            }
        }
    }

    private func runStep(_ step: Step, index: Int, attempt: Int, reentry: Bool, resolver: StepResolver) async throws -> RunAction {
        let call: ResolvedCall
        do {
            call = try resolver.resolve(step, in: scope())
        } catch {
            progress("✗ \(step.id): \(Self.failure(error).message)")
            return try record(.stepFailed(step: index, attempt: attempt, failure: Self.failure(error)))
        }
        let scrubber = Scrubber(call, inputs: inputs, secretInputs: header.secretInputs)
        _ = try record(.stepStarted(step: index, attempt: attempt, reentry: reentry), parameters: call.displayParameters)
        progress("▶ \(step.id) (\(step.uses))\(attempt > 1 ? " attempt \(attempt)" : "")\(reentry ? " — resuming the step that was in flight" : "")")
        let context = StepContext(runID: header.runID, attempt: attempt, isReentry: reentry,
                                  attemptStartedAt: machine.times[index].attemptStarted ?? clock.now(), clock: clock)
        let executor: ProcedureExecutor
        do { executor = try registry.executor(for: step.uses) } catch {
            return try record(.stepFailed(step: index, attempt: attempt, failure: Self.failure(error)))
        }
        let spec = registry.catalog[step.uses]
        let (clock, timeout) = (self.clock, step.timeout)
        let task = Task { () throws -> [String: Value] in
            let outputs = try await Self.withTimeout(timeout, clock: clock, stepID: step.id) {
                try await executor.run(call, context: context)
            }
            try spec.map { try Self.checkOutputs(outputs, of: $0, stepID: step.id) }
            return outputs
        }
        cancelSwitch.track(task, cancellable: !step.isFinally(in: runbook))
        defer { cancelSwitch.untrack() }
        let started = machine.times[index].firstStarted ?? clock.now()
        do {
            let outputs = scrubber.scrub(try await task.value)
            let action = try record(.stepSucceeded(step: index, attempt: attempt, outputs: outputs))
            progress("✓ \(step.id) \(DurationText.format(clock.now().timeIntervalSince(started)))")
            return action
        } catch {
            var failure = Self.failure(error)
            if task.isCancelled && failure.category != .timedOut { failure = StepFailure(.interrupted, "Step '\(step.id)' was interrupted.") }
            failure.message = scrubber.scrub(failure.message)
            if cancelSwitch.isRequested && !cancelDelivered && !step.isFinally(in: runbook) {
                cancelDelivered = true
                _ = try record(.cancelRequested)
            }
            progress("✗ \(step.id) \(DurationText.format(clock.now().timeIntervalSince(started))): \(failure.message)")
            return try record(.stepFailed(step: index, attempt: attempt, failure: failure))
        }
    }

    /// Journals the event (fsync'ed), then applies it.
    private func record(_ event: RunEvent, parameters: [String: String]? = nil) throws -> RunAction {
        let at = clock.now()
        var stepID: String?
        switch event {
        case .conditionEvaluated(let i, _), .stepStarted(let i, _, _), .stepSucceeded(let i, _, _), .stepFailed(let i, _, _):
            stepID = machine.shapes[i].id
        default: break
        }
        try journal.append(JournalEntry(at: at, event: event, stepID: stepID, parameters: parameters))
        do {
            return try machine.handle(event, at: at)
        } catch let error as RunStateError {
            throw DRError.badInput("The journal \(journal.path) does not fit the runbook: \(error). Start a new run instead of resuming this one.")
        }
    }

    private func scope() -> RunScope {
        RunScope(inputs: inputs, targets: targets, outputs: machine.outputs, outcomes: machine.outcomes,
                 runID: header.runID, startedAt: header.startedAt, now: clock.now())
    }

    public static func failure(_ error: Error) -> StepFailure {
        switch error {
        case let error as DRError: return StepFailure(error.category, error.message, retryable: error.isRetryable)
        case is CancellationError: return StepFailure(.interrupted, "Interrupted.")
        default: return StepFailure(.problemFound, "\(error)")
        }
    }

    static func withTimeout<T: Sendable>(_ seconds: Double?, clock: DRClock, stepID: String,
                                         _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let seconds else { return try await body() }
        return try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await clock.sleep(seconds: seconds)
                throw DRError.timedOut("Step '\(stepID)' timed out after \(DurationText.compact(seconds)); raise its `timeout` if it needs longer.")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// A procedure must return every output it declares, typed as declared.
    static func checkOutputs(_ outputs: [String: Value], of spec: ProcedureSpec, stepID: String) throws {
        for declared in spec.outputs {
            guard let value = outputs[declared.name], value.type == declared.type else {
                throw DRError.problem("Step '\(stepID)': procedure '\(spec.name)' did not return its output '\(declared.name)' as a \(declared.type). This is a bug in the procedure.")
            }
        }
    }
}

/// The task a cancel request should stop, if any, and whether one was requested.
final class CancelSwitch: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false
    private var current: (cancel: () -> Void, cancellable: Bool)?

    var isRequested: Bool { lock.withLock { requested } }

    func request() {
        let cancel: (() -> Void)? = lock.withLock {
            requested = true
            return current?.cancellable == true ? current?.cancel : nil
        }
        cancel?()
    }

    func track<T>(_ task: Task<T, Error>, cancellable: Bool) {
        let alreadyRequested: Bool = lock.withLock {
            current = ({ task.cancel() }, cancellable)
            return requested
        }
        if alreadyRequested && cancellable { task.cancel() }
    }

    func untrack() { lock.withLock { current = nil } }
}

extension Step {
    func isFinally(in runbook: Runbook) -> Bool { runbook.finally.contains { $0.id == id } }
}
