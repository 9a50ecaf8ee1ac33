import DRCore
@testable import DRRunbookEngine
import DRRunbook
import XCTest

/// A procedure whose results are scripted per attempt; it can also hang until cancelled.
final class ScriptedProcedure: ProcedureExecutor, @unchecked Sendable {
    enum Behaviour { case succeed([String: Value]), fail(DRError), hang }
    private let lock = NSLock()
    private var script: [Behaviour]
    private(set) var calls: [(attempt: Int, reentry: Bool)] = []

    init(_ script: [Behaviour]) { self.script = script }

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome { [PlannedAction("scripted", mutates: true)] }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        let behaviour: Behaviour = lock.withLock {
            calls.append((context.attempt, context.isReentry))
            return script.isEmpty ? .succeed([:]) : script.removeFirst()
        }
        switch behaviour {
        case .succeed(let outputs): return outputs
        case .fail(let error): throw error
        case .hang:
            try await Task.sleep(nanoseconds: 3_600_000_000_000)
            return [:]
        }
    }
}

final class DriverTests: XCTestCase {
    var dir: String!
    override func setUpWithError() throws { dir = NSTemporaryDirectory() + "dr-driver-\(UUID().uuidString)" }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// A catalog with one test procedure `t` (no declared outputs) next to the standard ones.
    func drive(_ yaml: String, _ procedure: ScriptedProcedure, clock: ManualClock, cancelAfterStart: Bool = false) async throws -> (RunStateMachine, [JournalEntry]) {
        let runbook = try RunbookParser.parse(yaml, file: "rb.yml")
        let spec = ProcedureSpec(name: "t", summary: "test", parameters: [.value("secret", .string, secret: true, "a secret")],
                                 outputs: [], mutates: true, phase: "test")
        var registry = ProcedureRegistry(catalog: ProcedureCatalog(StandardProcedures.all + [spec]))
        registry.register("t", procedure)
        registry.register("wait", WaitProcedure(clock: clock))
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let header = RunHeader(runID: "r", runbook: "rb.yml", name: runbook.name, digest: "", startedAt: clock.now(),
                               inputs: [:], secretInputs: [], targets: [])
        let journal = try Journal(path: dir + "/r.jsonl")
        try journal.append(header)
        let driver = RunDriver(runbook: runbook, header: header, inputs: [:], machine: RunStateMachine(runbook: runbook),
                               registry: registry, clock: clock, journal: journal)
        if cancelAfterStart {
            let path = dir + "/r.jsonl"
            Task {
                while !FileManager.default.contents(atPath: path)!.contains("step_started".utf8) { await Task.yield() }
                driver.requestCancel()
            }
        }
        let machine = try await driver.drive(from: .started)
        return (machine, try Journal.read(path: dir + "/r.jsonl").entries)
    }

    func testRetriesSleepThroughTheClockWithBackoff() async throws {
        let clock = ManualClock()
        let procedure = ScriptedProcedure([.fail(.remote("503")), .fail(.remote("503")), .succeed([:])])
        let (machine, _) = try await drive("name: r\nsteps:\n  - id: a\n    uses: t\n    retries: 2\n", procedure, clock: clock)
        XCTAssertEqual(machine.status, .succeeded)
        XCTAssertEqual(clock.sleeps, [2, 4])
        XCTAssertEqual(procedure.calls.map(\.attempt), [1, 2, 3])
    }

    func testATimeoutStopsTheStepAndFailsTheRunAsTimedOut() async throws {
        let clock = ManualClock()
        let (machine, entries) = try await drive("name: r\nsteps:\n  - id: a\n    uses: t\n    timeout: 10m\n  - id: b\n    uses: t\nfinally:\n  - id: z\n    uses: t\n",
                                                 ScriptedProcedure([.hang]), clock: clock)
        XCTAssertEqual(machine.failure?.category, .timedOut)
        XCTAssertEqual(machine.failure?.message, "Step 'a' timed out after 10m; raise its `timeout` if it needs longer.")
        XCTAssertEqual(clock.sleeps, [600])
        XCTAssertEqual(machine.outcomes, ["a": "failure", "b": "not_run", "z": "success"])
        XCTAssertEqual(entries.last?.event, .finished(.failed))
    }

    func testCancellationStopsTheStepAndRunsFinally() async throws {
        let clock = ManualClock()
        let (machine, entries) = try await drive("name: r\nsteps:\n  - id: a\n    uses: t\n    retries: 3\n  - id: b\n    uses: t\nfinally:\n  - id: z\n    uses: t\n",
                                                 ScriptedProcedure([.hang]), clock: clock, cancelAfterStart: true)
        XCTAssertEqual(machine.status, .cancelled)
        XCTAssertEqual(machine.outcomes, ["a": "failure", "b": "not_run", "z": "success"])
        XCTAssertEqual(entries.map(\.event).filter { $0 == .cancelRequested }.count, 1)
        XCTAssertEqual(entries.last?.event, .finished(.cancelled))
    }

    func testSecretsAreMaskedInTheJournalAndErrors() async throws {
        let clock = ManualClock()
        let procedure = ScriptedProcedure([.fail(.remote("login failed for hunter22"))])
        let (machine, entries) = try await drive("name: r\nsteps:\n  - id: a\n    uses: t\n    with: { secret: hunter22 }\n", procedure, clock: clock)
        XCTAssertEqual(machine.failure?.message, "login failed for \(Redact.mask)")
        let text = try String(contentsOfFile: dir + "/r.jsonl", encoding: .utf8)
        XCTAssertFalse(text.contains("hunter22"), text)
        XCTAssertEqual(entries.first { if case .stepStarted = $0.event { return true }; return false }?.parameters, ["secret": Redact.mask])
    }

    func testWaitReEnteredWaitsOnlyForWhatIsLeft() async throws {
        let clock = ManualClock()
        let wait = WaitProcedure(clock: clock)
        let started = clock.now()
        clock.advance(120)
        let call = ResolvedCall(stepID: "w", procedure: "wait", parameters: ["duration": .duration(300)])
        let outputs = try await wait.run(call, context: StepContext(runID: "r", attempt: 1, isReentry: true, attemptStartedAt: started, clock: clock))
        XCTAssertEqual(clock.sleeps, [180])
        XCTAssertEqual(outputs, ["until": .time(started.addingTimeInterval(300))])
    }

    func testExecCapturesOutputAndChecksTheExitCode() async throws {
        let exec = ExecProcedure(processes: SystemProcessRunner())
        let context = StepContext(runID: "r9", attempt: 2, isReentry: true, attemptStartedAt: Date(), clock: SystemClock())
        let ok = try await exec.run(ResolvedCall(stepID: "e", procedure: "exec", parameters: ["command": .string("echo $DR_RUN_ID $DR_ATTEMPT $DR_REENTRY; echo warn >&2; pwd"), "working_directory": .string("/tmp")]), context: context)
        XCTAssertEqual(ok, ["exit_code": .int(0), "stdout": .string("r9 2 1\n/tmp"), "stderr": .string("warn")])
        do {
            _ = try await exec.run(ResolvedCall(stepID: "e", procedure: "exec", parameters: ["command": .string("echo nope >&2; exit 3")]), context: context)
            XCTFail("expected a failure")
        } catch let error as DRError {
            XCTAssertEqual(error, .problem("Step 'e': the command exited with status 3: nope"))
        }
    }

    func testExecIsKilledWhenItsTaskIsCancelled() async throws {
        let exec = ExecProcedure(processes: SystemProcessRunner())
        let context = StepContext(runID: "r", attempt: 1, isReentry: false, attemptStartedAt: Date(), clock: SystemClock())
        let began = Date()
        let task = Task { try await exec.run(ResolvedCall(stepID: "e", procedure: "exec", parameters: ["command": .string("sleep 30; echo late")]), context: context) }
        try await Task.sleep(nanoseconds: 300_000_000)
        task.cancel()
        do { _ = try await task.value; XCTFail("expected cancellation") } catch is CancellationError {}
        XCTAssertLessThan(Date().timeIntervalSince(began), 5, "the child (and its sleep) was stopped, not waited for")
    }
}
