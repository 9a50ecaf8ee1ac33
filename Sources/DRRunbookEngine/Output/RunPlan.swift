import DRCore
import Foundation

/// What a run would do, made without changing anything: each step's resolved parameters and
/// the calls its procedure would make, with the changing ones marked. Each step is planned by
/// its procedure from the same decision its run takes; a step whose `if` is false is shown as
/// skipped (its parameters are not needed).
public struct RunPlan: Sendable, Encodable {
    public struct StepPlan: Sendable, Encodable {
        public var id: String
        public var uses: String
        public var finally: Bool
        /// `true`, `false`, or `at run time` when it reads earlier steps.
        public var condition: String?
        /// True when the `if` is false: the run will skip the step.
        public var skipped: Bool
        public var parameters: [String: String]
        public var actions: [PlannedAction]
        public var mutates: Bool
    }

    public var runbook: String
    public var inputs: [String: String]
    public var steps: [StepPlan]
    public var mutatingSteps: Int

    /// Plans every step. Procedures' `plan` may make read-only calls; nothing mutating is made.
    public static func make(runbook: Runbook, inputs: [String: Value], targets: [String: [String: Value]] = [:],
                            registry: ProcedureRegistry, clock: DRClock) async throws -> RunPlan {
        let secret = runbook.inputs.filter(\.secret).map(\.name)
        let scope = RunScope(inputs: inputs, targets: targets, runID: "(new run)", startedAt: clock.now(), now: clock.now())
        let resolver = StepResolver(catalog: registry.catalog)
        var steps: [StepPlan] = []
        var predicted: [String: [String: Value]] = [:]
        for step in runbook.allSteps {
            var condition: String?
            if step.condition != nil {
                do { condition = try resolver.condition(step, in: PlanScope(run: scope)) ? "true" : "false" } catch is PlanScope.Pending {
                    condition = "at run time"
                }
            }
            if condition == "false" {
                steps.append(StepPlan(id: step.id, uses: step.uses, finally: step.isFinally(in: runbook), condition: condition,
                                      skipped: true, parameters: [:], actions: [], mutates: false))
                continue
            }
            let call = try resolver.plan(step, in: scope, predicted: predicted)
            let outcome = try await registry.executor(for: step.uses).plan(call)
            if !outcome.outputs.isEmpty { predicted[step.id] = outcome.outputs }
            steps.append(StepPlan(id: step.id, uses: step.uses, finally: step.isFinally(in: runbook), condition: condition,
                                  skipped: false, parameters: call.displayParameters, actions: outcome.actions,
                                  mutates: outcome.actions.contains(where: \.mutates)))
        }
        return RunPlan(runbook: runbook.name, inputs: InputBinder.masked(inputs, secret: secret).mapValues(\.description),
                       steps: steps, mutatingSteps: steps.filter(\.mutates).count)
    }

    public var text: String {
        var out = "Plan for \(runbook): \(steps.count) steps, \(mutatingSteps) would change something (marked *). Nothing has been changed.\n"
        for (number, step) in steps.enumerated() {
            let condition = step.condition.map { " if: \($0)" } ?? ""
            out += "\(number + 1). \(step.finally ? "finally " : "")\(step.id) [\(step.uses)]\(condition)\(step.skipped ? " — skipped" : "")\n"
            for (key, value) in step.parameters.sorted(by: { $0.key < $1.key }) { out += "     \(key) = \(value)\n" }
            for action in step.actions {
                let when = action.condition.map { " [\($0)]" } ?? ""
                out += "   \(action.mutates ? "*" : "-") \(action.summary)\(action.call.map { " (\($0))" } ?? "")\(when)\n"
            }
        }
        return out
    }
}
