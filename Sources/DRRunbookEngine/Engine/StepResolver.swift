import DRCore

/// Turns a step's `with:` templates into a `ResolvedCall`, typed as its procedure declares.
struct StepResolver {
    var catalog: ProcedureCatalog

    /// Every parameter evaluated; throws `badInput` naming the parameter when one does not resolve.
    func resolve(_ step: Step, in scope: ReferenceScope) throws -> ResolvedCall {
        try resolve(step, in: scope, pendingAllowed: false)
    }

    /// For a plan: parameters that read earlier steps' outputs take the outputs those steps'
    /// plans predicted, and are listed as pending where there is none.
    func plan(_ step: Step, in scope: RunScope, predicted: [String: [String: Value]]) throws -> ResolvedCall {
        let planScope = PlanScope(run: scope, predicted: predicted)
        var call = try resolve(step, in: planScope, pendingAllowed: true, predictedReads: planScope.reads)
        call.plannedOutputs = predicted
        return call
    }

    private func resolve(_ step: Step, in scope: ReferenceScope, pendingAllowed: Bool, predictedReads: PlanScope.Reads? = nil) throws -> ResolvedCall {
        let spec = catalog[step.uses]
        var call = ResolvedCall(stepID: step.id, procedure: step.uses, parameters: [:],
                                secretParameters: spec?.secretParameters ?? [])
        for parameter in step.with {
            let type = spec?.parameter(parameter.name)?.type ?? .string
            do {
                predictedReads?.predicted = false
                let value = try parameter.value.evaluate(in: scope)
                if predictedReads?.predicted == true { call.predicted.insert(parameter.name) }
                guard let typed = value.converted(to: type) else {
                    let shown = call.secretParameters.contains(parameter.name) ? Redact.mask : "'\(value)'"
                    throw DRError.badInput("\(parameter.value.location): step '\(step.id)': '\(parameter.name)' must be a \(type)\(Validator.hint(type)); it resolved to \(shown).")
                }
                call.parameters[parameter.name] = typed
            } catch is PlanScope.Pending where pendingAllowed {
                call.pending[parameter.name] = parameter.value.source
            } catch let error as ExpressionError {
                throw DRError.badInput("\(parameter.value.diagnostic(error)). Step '\(step.id)' cannot run until '\(parameter.name)' resolves.")
            }
        }
        return call
    }

    /// The step's `if`, evaluated.
    func condition(_ step: Step, in scope: ReferenceScope) throws -> Bool {
        guard let condition = step.condition else { return true }
        do {
            guard case .bool(let value) = try condition.evaluate(in: scope) else {
                throw DRError.badInput("\(condition.location): the `if` of step '\(step.id)' is not a bool; compare values to get one.")
            }
            return value
        } catch let error as ExpressionError {
            throw DRError.badInput("\(condition.diagnostic(error)) (the `if` of step '\(step.id)')")
        }
    }
}

/// Removes known secret values from text before it is journaled or shown.
struct Scrubber {
    var secrets: [String]

    init(_ call: ResolvedCall, inputs: [String: Value], secretInputs: [String]) {
        let fromCall = call.secretParameters.compactMap { call.parameters[$0]?.description }
        let fromInputs = secretInputs.compactMap { inputs[$0]?.description }
        secrets = (fromCall + fromInputs).filter { $0.count >= 3 }.sorted { $0.count > $1.count }
    }

    func scrub(_ text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: Redact.mask) }
    }

    func scrub(_ outputs: [String: Value]) -> [String: Value] {
        outputs.mapValues { if case .string(let s) = $0 { return .string(scrub(s)) }; return $0 }
    }
}
