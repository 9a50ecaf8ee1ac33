import DRCore
import Foundation

/// A step's procedure call with its parameters resolved: the seam between the engine and the
/// procedures. Parameters hold typed values (a `time` parameter holds `.time`); defaults are
/// the procedure's business.
public struct ResolvedCall: Sendable, Equatable {
    public var stepID: String
    public var procedure: String
    public var parameters: [String: Value]
    /// Planning only: parameters known at run time (they read an earlier step's outputs), with their source text.
    public var pending: [String: String]
    /// Parameter names whose values must never be shown.
    public var secretParameters: Set<String>
    /// Planning only: parameters whose values are earlier steps' predicted outputs (what those
    /// steps will make, which does not exist yet).
    public var predicted: Set<String> = []
    /// Planning only: the outputs earlier steps' plans predicted, by step id.
    public var plannedOutputs: [String: [String: Value]] = [:]

    public init(stepID: String, procedure: String, parameters: [String: Value],
                pending: [String: String] = [:], secretParameters: Set<String> = []) {
        self.stepID = stepID
        self.procedure = procedure
        self.parameters = parameters
        self.pending = pending
        self.secretParameters = secretParameters
    }

    public subscript(name: String) -> Value? { parameters[name] }
    public func string(_ name: String) -> String? { if case .string(let s)? = parameters[name] { return s }; return nil }
    public func bool(_ name: String) -> Bool? { if case .bool(let b)? = parameters[name] { return b }; return nil }
    public func int(_ name: String) -> Int? { if case .int(let i)? = parameters[name] { return i }; return nil }
    public func time(_ name: String) -> Date? { if case .time(let t)? = parameters[name] { return t }; return nil }
    public func duration(_ name: String) -> Double? { if case .duration(let d)? = parameters[name] { return d }; return nil }

    /// Parameters as they may be shown: secrets masked, pending ones as `(known after the run reaches them)`.
    /// Planning only: whether an earlier step's plan predicts `value` as its output `key` (a
    /// restore's `instance_id`): something the run will have made by the time this step runs.
    public func isPlanned(output key: String, _ value: Value) -> Bool {
        plannedOutputs.values.contains { $0[key] == value }
    }

    public var displayParameters: [String: String] {
        var out: [String: String] = [:]
        // Any value may hold a connection string (e.g. a verify step's `db`): its password is masked too.
        for (k, v) in parameters { out[k] = secretParameters.contains(k) ? Redact.mask : Redact.conninfo(v.description) }
        for (k, source) in pending { out[k] = secretParameters.contains(k) ? Redact.mask : "(at run time: \(source))" }
        return out
    }
}

/// What the engine tells a procedure about the step it is running.
public struct StepContext: Sendable {
    public var runID: String
    public var attempt: Int
    /// True when the run was killed while this step was in flight and has been resumed: the
    /// procedure must find what it started (by its deterministic name or client token)
    /// rather than start it again.
    public var isReentry: Bool
    /// When this attempt first started (before the crash, for a re-entry).
    public var attemptStartedAt: Date
    public var clock: DRClock

    public init(runID: String, attempt: Int, isReentry: Bool, attemptStartedAt: Date, clock: DRClock) {
        self.runID = runID
        self.attempt = attempt
        self.isReentry = isReentry
        self.attemptStartedAt = attemptStartedAt
        self.clock = clock
    }
}

/// What a step's procedure would do, as `dr run --plan` shows it: the calls (the read-only ones
/// it made, the mutating ones it would make), and the outputs it can already tell (a weekly
/// snapshot's name, a restore's instance id), so later steps' plans can use them.
public struct PlanOutcome: Sendable, Equatable, ExpressibleByArrayLiteral {
    public var actions: [PlannedAction]
    public var outputs: [String: Value]
    public init(_ actions: [PlannedAction], outputs: [String: Value] = [:]) {
        self.actions = actions
        self.outputs = outputs
    }
    public init(arrayLiteral actions: PlannedAction...) { self.init(actions) }
}

/// What every procedure implements to be usable from a runbook.
///
/// `plan` may make read-only calls (to resolve `latest`, windows, endpoints) and must make no
/// change; it lists what `run` would do from the same decision `run` takes. `run` does the work and returns every output its `ProcedureSpec` declares, typed as
/// declared. Honour Task cancellation (Ctrl-C and step timeouts cancel the task), and make `run`
/// idempotent: with `context.isReentry` it is called again after a crash mid-step.
public protocol ProcedureExecutor: Sendable {
    func plan(_ call: ResolvedCall) async throws -> PlanOutcome
    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value]
}
