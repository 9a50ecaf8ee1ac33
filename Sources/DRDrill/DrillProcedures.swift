import DRCore
import DRPostgres
import DRProcedures
import DRVerify
import Foundation
import DRRunbook
import DRRunbookEngine

/// What the drill's procedures share: the target, its provider, the recorder and the drill's options.
struct DrillContext: Sendable {
    var target: Target
    var provider: RecoveryProvider
    var recorder: DrillRecorder
    var injectFailure: Bool
    /// The moment the restored data should represent, for the freshness measurement.
    var recoveryPoint: Date
    /// How long the restored server may take to accept its first connection.
    var connectTimeout: Double = 300
}

/// The standard procedures, with the ones a restore drill measures wrapped so the drill can
/// see them: restores and the teardown are timed, `verify` also waits for the first connection,
/// measures freshness, keeps the verification report and can fail on purpose. Every restore
/// made through them carries the drill's tags (`RestoreTags.current`, set by the drill).
enum DrillProcedures {
    static func registry(providers: TargetProviders, context: DrillContext, clock: DRClock) throws -> ProcedureRegistry {
        var registry = ProcedureRegistry.standard(providers: providers, clock: clock)
        for spec in [StandardProcedures.restorePointInTime, StandardProcedures.restoreSnapshot] {
            registry.register(spec.name, TimedRestore(inner: try registry.executor(for: spec.name), context: context))
        }
        registry.register(StandardProcedures.verify.name, DrillVerify(inner: try registry.executor(for: StandardProcedures.verify.name), context: context))
        registry.register(StandardProcedures.teardown.name, TimedTeardown(inner: try registry.executor(for: StandardProcedures.teardown.name), context: context))
        return registry
    }

    /// A step may only act on the drill's own target.
    static func checkTarget(_ call: ResolvedCall, _ context: DrillContext) throws {
        if let named = call.string("target"), named != context.target.name {
            throw DRError.badInput("Step '\(call.stepID)' names target \(named), but this drill is of \(context.target.name). A drill runbook acts on its `target` input only.")
        }
    }
}

/// A restore, timed: requested when the step starts, available when it returns.
struct TimedRestore: ProcedureExecutor {
    let inner: ProcedureExecutor
    let context: DrillContext

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome { try await inner.plan(call) }

    func run(_ call: ResolvedCall, context step: StepContext) async throws -> [String: Value] {
        try DrillProcedures.checkTarget(call, context)
        // The name is known before the call: a restore killed or failed midway is still found by the teardown.
        context.recorder.restoreRequested(call.string("as") ?? "", at: step.clock.now())
        let outputs = try await inner.run(call, context: step)
        if case .string(let name)? = outputs["instance_id"] { context.recorder.restoreAvailable(name, at: step.clock.now()) }
        return outputs
    }
}

/// The teardown, timed.
struct TimedTeardown: ProcedureExecutor {
    let inner: ProcedureExecutor
    let context: DrillContext

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome { try await inner.plan(call) }

    func run(_ call: ResolvedCall, context step: StepContext) async throws -> [String: Value] {
        try DrillProcedures.checkTarget(call, context)
        context.recorder.teardownStarted(at: step.clock.now())
        do {
            let outputs = try await inner.run(call, context: step)
            // `deleted` is false when it was already gone: either way nothing is left.
            context.recorder.tornDown(removed: true, error: nil, at: step.clock.now())
            return outputs
        } catch {
            context.recorder.tornDown(removed: false, error: RunDriver.failure(error).message, at: step.clock.now())
            throw error
        }
    }
}
