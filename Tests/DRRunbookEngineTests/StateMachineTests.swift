import DRCore
@testable import DRRunbookEngine
import DRRunbook
import XCTest

/// Plays the driver's part with scripted step results, with no I/O.
struct Simulation {
    typealias Shape = RunStateMachine.StepShape
    /// Results per step id, one per attempt; a missing one succeeds with `["n": attempt]`.
    var results: [String: [Result<[String: Value], StepFailure>]] = [:]
    var conditions: [String: Bool] = [:]
    /// Cancel when this step starts (as Ctrl-C during it would).
    var cancelDuring: String?
    let t0 = Date(timeIntervalSince1970: 1_000)

    struct Trace {
        var events: [RunEvent] = []
        var actions: [RunAction] = []
        var machine: RunStateMachine
    }

    func result(_ id: String, _ attempt: Int) -> Result<[String: Value], StepFailure> {
        let scripted = results[id] ?? []
        return attempt <= scripted.count ? scripted[attempt - 1] : .success(["n": .int(attempt)])
    }

    /// Runs from `first` until the machine finishes, or until `limit` events have been recorded (a crash).
    func run(_ machine: RunStateMachine, from first: RunEvent, limit: Int = .max) throws -> Trace {
        var trace = Trace(machine: machine)
        func record(_ event: RunEvent) throws -> RunAction? {
            guard trace.events.count < limit else { return nil }
            trace.events.append(event)
            let action = try trace.machine.handle(event, at: t0.addingTimeInterval(Double(trace.events.count)))
            trace.actions.append(action)
            return action
        }
        var next = try record(first)
        var cancelled = false
        while let action = next {
            switch action {
            case .evaluateCondition(let i):
                next = try record(.conditionEvaluated(step: i, value: conditions[machine.shapes[i].id] ?? true))
            case .runStep(let i, let attempt, let reentry):
                guard try record(.stepStarted(step: i, attempt: attempt, reentry: reentry)) != nil else { return trace }
                let id = machine.shapes[i].id
                if cancelDuring == id && !cancelled {
                    cancelled = true
                    guard try record(.cancelRequested) != nil else { return trace }
                    next = try record(.stepFailed(step: i, attempt: attempt, failure: StepFailure(.interrupted, "Interrupted.")))
                    continue
                }
                switch result(id, attempt) {
                case .success(let outputs): next = try record(.stepSucceeded(step: i, attempt: attempt, outputs: outputs))
                case .failure(let failure): next = try record(.stepFailed(step: i, attempt: attempt, failure: failure))
                }
            case .retryStep(let i, let attempt, _):
                next = .runStep(step: i, attempt: attempt, reentry: false)
            case .finish(let status):
                next = try record(.finished(status))
            case .awaitStep, .none:
                return trace
            }
        }
        return trace
    }
}

final class StateMachineTests: XCTestCase {
    typealias Shape = RunStateMachine.StepShape
    let boom = StepFailure(.remote, "boom")

    func ids(_ machine: RunStateMachine, _ outcome: String) -> [String] {
        machine.shapes.indices.filter { machine.states[$0].outcome == outcome }.map { machine.shapes[$0].id }
    }

    func testStepsRunInOrderThenFinally() throws {
        let machine = RunStateMachine(steps: [Shape(id: "a"), Shape(id: "b"), Shape(id: "z", isFinally: true)])
        let trace = try Simulation().run(machine, from: .started)
        XCTAssertEqual(trace.machine.phase, .finished(.succeeded))
        XCTAssertEqual(ids(trace.machine, "success"), ["a", "b", "z"])
        XCTAssertEqual(trace.actions.first, .runStep(step: 0, attempt: 1, reentry: false))
        XCTAssertEqual(trace.events.last, .finished(.succeeded))
        XCTAssertEqual(trace.machine.outputs["b"], ["n": .int(1)])
    }

    func testFailureSkipsTheRestButFinallyRuns() throws {
        let machine = RunStateMachine(steps: [Shape(id: "a"), Shape(id: "b"), Shape(id: "c"),
                                              Shape(id: "y", isFinally: true), Shape(id: "z", isFinally: true)])
        var sim = Simulation()
        sim.results = ["b": [.failure(boom)], "y": [.failure(StepFailure(.remote, "cleanup failed"))]]
        let trace = try sim.run(machine, from: .started)
        XCTAssertEqual(trace.machine.phase, .finished(.failed))
        XCTAssertEqual(trace.machine.failure, boom, "the first failure decides the outcome")
        XCTAssertEqual(ids(trace.machine, "not_run"), ["c"])
        XCTAssertEqual(ids(trace.machine, "failure"), ["b", "y"])
        XCTAssertEqual(ids(trace.machine, "success"), ["a", "z"], "one finally step failing does not stop the next")
    }

    func testRetriesWithBackoffThenSuccess() throws {
        let machine = RunStateMachine(steps: [Shape(id: "a", retries: 3)], retryPolicy: RetryPolicy(base: 2, cap: 5))
        var sim = Simulation()
        sim.results = ["a": [.failure(boom), .failure(StepFailure(.timedOut, "slow")), .failure(boom)]]
        let trace = try sim.run(machine, from: .started)
        let retries = trace.actions.compactMap { if case .retryStep(_, let n, let d) = $0 { return "\(n)@\(d)" }; return nil }
        XCTAssertEqual(retries, ["2@2.0", "3@4.0", "4@5.0"])
        XCTAssertEqual(trace.machine.phase, .finished(.succeeded))
        XCTAssertEqual(trace.machine.times[0].attempts, 4)
    }

    func testRetriesRunOutAndBadInputIsNotRetried() throws {
        var sim = Simulation()
        sim.results = ["a": [.failure(boom), .failure(boom)], "b": [.failure(StepFailure(.badInput, "no"))]]
        let a = try sim.run(RunStateMachine(steps: [Shape(id: "a", retries: 1)]), from: .started)
        XCTAssertEqual(a.machine.phase, .finished(.failed))
        XCTAssertEqual(a.machine.times[0].attempts, 2)
        let b = try sim.run(RunStateMachine(steps: [Shape(id: "b", retries: 5)]), from: .started)
        XCTAssertEqual(b.machine.times[0].attempts, 1)
        XCTAssertFalse(b.actions.contains { if case .retryStep = $0 { return true }; return false })
    }

    func testTimeoutFailsTheStepWithItsCategory() throws {
        var sim = Simulation()
        sim.results = ["a": [.failure(StepFailure(.timedOut, "Step 'a' timed out after 5m"))]]
        let trace = try sim.run(RunStateMachine(steps: [Shape(id: "a"), Shape(id: "b")]), from: .started)
        XCTAssertEqual(trace.machine.failure?.category, .timedOut)
        XCTAssertEqual(ids(trace.machine, "not_run"), ["b"])
    }

    func testContinueOnErrorGoesOn() throws {
        var sim = Simulation()
        sim.results = ["a": [.failure(boom)]]
        let trace = try sim.run(RunStateMachine(steps: [Shape(id: "a", continueOnError: true), Shape(id: "b")]), from: .started)
        XCTAssertEqual(trace.machine.phase, .finished(.succeeded))
        XCTAssertEqual(trace.machine.states[0], .failed(boom, continued: true))
        XCTAssertEqual(ids(trace.machine, "success"), ["b"])
    }

    func testFalseConditionSkips() throws {
        var sim = Simulation()
        sim.conditions = ["a": false, "b": true]
        let trace = try sim.run(RunStateMachine(steps: [Shape(id: "a", hasCondition: true), Shape(id: "b", hasCondition: true)]), from: .started)
        XCTAssertEqual(trace.actions.first, .evaluateCondition(step: 0))
        XCTAssertEqual(ids(trace.machine, "skipped"), ["a"])
        XCTAssertEqual(ids(trace.machine, "success"), ["b"])
    }

    func testCancellationRunsFinallyAndEndsCancelled() throws {
        let machine = RunStateMachine(steps: [Shape(id: "a"), Shape(id: "b", retries: 3), Shape(id: "c"),
                                              Shape(id: "z", isFinally: true)])
        var sim = Simulation()
        sim.cancelDuring = "b"
        let trace = try sim.run(machine, from: .started)
        XCTAssertEqual(trace.machine.phase, .finished(.cancelled))
        XCTAssertNil(trace.machine.failure, "an interruption is not a failure of the work")
        XCTAssertEqual(trace.machine.times[1].attempts, 1, "a cancelled step is not retried")
        XCTAssertEqual(ids(trace.machine, "not_run"), ["c"])
        XCTAssertEqual(ids(trace.machine, "success"), ["a", "z"])
    }

    func testCancelDuringFinallyLetsFinallyFinish() throws {
        var machine = RunStateMachine(steps: [Shape(id: "a"), Shape(id: "y", isFinally: true), Shape(id: "z", isFinally: true)])
        let t = Date()
        try machine.handle(.started, at: t)
        try machine.handle(.stepStarted(step: 0, attempt: 1, reentry: false), at: t)
        try machine.handle(.stepSucceeded(step: 0, attempt: 1, outputs: [:]), at: t)
        try machine.handle(.stepStarted(step: 1, attempt: 1, reentry: false), at: t)
        XCTAssertEqual(try machine.handle(.cancelRequested, at: t), .awaitStep(step: 1))
        XCTAssertEqual(try machine.handle(.stepSucceeded(step: 1, attempt: 1, outputs: [:]), at: t), .runStep(step: 2, attempt: 1, reentry: false))
    }

    func testEventsThatDoNotFitAreRefused() throws {
        var machine = RunStateMachine(steps: [Shape(id: "a"), Shape(id: "b")])
        XCTAssertThrowsError(try machine.handle(.stepStarted(step: 0, attempt: 1, reentry: false), at: Date()))
        try machine.handle(.started, at: Date())
        XCTAssertThrowsError(try machine.handle(.stepStarted(step: 1, attempt: 1, reentry: false), at: Date()), "out of order")
        XCTAssertThrowsError(try machine.handle(.stepSucceeded(step: 0, attempt: 1, outputs: [:]), at: Date()), "not started")
        XCTAssertThrowsError(try machine.handle(.finished(.succeeded), at: Date()), "steps left")
    }

    /// Kill the run after every event, resume it, and check it ends exactly as the uninterrupted run.
    func testResumeAfterACrashAtEveryEventBoundaryReachesTheSameEnd() throws {
        let machine = RunStateMachine(steps: [Shape(id: "a"), Shape(id: "b", hasCondition: true, retries: 2),
                                              Shape(id: "c", continueOnError: true), Shape(id: "d"),
                                              Shape(id: "y", isFinally: true), Shape(id: "z", hasCondition: true, isFinally: true)])
        var sim = Simulation()
        sim.results = ["b": [.failure(boom)], "c": [.failure(boom)], "d": [.success(["host": .string("h")])]]
        sim.conditions = ["z": false]
        let whole = try sim.run(machine, from: .started)
        XCTAssertEqual(whole.machine.phase, .finished(.succeeded))

        for crashAfter in 1..<whole.events.count {
            let before = try sim.run(machine, from: .started, limit: crashAfter)
            XCTAssertEqual(before.events, Array(whole.events.prefix(crashAfter)))
            // What --resume does: replay the journal into a new machine, then `.resumed`.
            var replayed = RunStateMachine(steps: machine.shapes)
            for (n, event) in before.events.enumerated() { try replayed.handle(event, at: sim.t0.addingTimeInterval(Double(n + 1))) }
            let after = try sim.run(replayed, from: .resumed)
            XCTAssertEqual(after.machine.states, whole.machine.states, "crash after event \(crashAfter)")
            XCTAssertEqual(after.machine.phase, .finished(.succeeded), "crash after event \(crashAfter)")

            // A step that had finished is never started again; one in flight is re-entered.
            let resumedStarts = after.events.compactMap { if case .stepStarted(let i, let n, let r) = $0 { return (i, n, r) }; return nil }
            for (index, attempt, reentry) in resumedStarts {
                let finishedBefore = before.events.contains {
                    if case .stepSucceeded(index, _, _) = $0 { return true }
                    if case .stepFailed(index, attempt, _) = $0 { return true }
                    return false
                }
                XCTAssertFalse(finishedBefore, "step \(index) attempt \(attempt) redone after crash at \(crashAfter)")
                if case .stepStarted(index, attempt, _)? = before.events.last {
                    XCTAssertTrue(reentry, "the in-flight step is re-entered after crash at \(crashAfter)")
                }
            }
        }
    }

    func testResumeOfAFinishedRunIsRefusedAndCancelThenCrashGoesToFinally() throws {
        let machine = RunStateMachine(steps: [Shape(id: "a"), Shape(id: "z", isFinally: true)])
        var done = try Simulation().run(machine, from: .started).machine
        XCTAssertThrowsError(try done.handle(.resumed, at: Date()))

        var cancelled = RunStateMachine(steps: machine.shapes)
        try cancelled.handle(.started, at: Date())
        try cancelled.handle(.stepStarted(step: 0, attempt: 1, reentry: false), at: Date())
        try cancelled.handle(.cancelRequested, at: Date())
        // Killed before step a reported: on resume it is not re-entered; the finally step runs.
        XCTAssertEqual(try cancelled.handle(.resumed, at: Date()), .runStep(step: 1, attempt: 1, reentry: false))
        XCTAssertEqual(cancelled.status, .cancelled)
    }
}
