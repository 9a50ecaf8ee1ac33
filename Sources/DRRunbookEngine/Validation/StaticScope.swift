/// Types of what a step's expressions can read, from declared inputs and earlier steps' procedures.
struct StaticScope: StaticReferenceScope {
    var runbook: Runbook
    var catalog: ProcedureCatalog
    /// Steps that come before the one being checked (main steps, then earlier finally steps).
    var earlier: [Step]
    var later: Set<String>

    func type(of path: [String], offset: Int) throws -> ValueType? {
        switch try References.classify(path, offset: offset) {
        case .input(let name):
            guard let input = runbook.input(named: name) else {
                let known = runbook.inputs.map(\.name)
                throw ExpressionError(offset: offset, message: "unknown input '\(name)'; declare it under `inputs:`\(known.isEmpty ? "" : " (declared: \(known.joined(separator: ", ")))")")
            }
            return input.type
        case .target: return nil
        case .stepOutcome(let id):
            _ = try step(id, offset: offset)
            return .string
        case .stepOutput(let id, let key):
            let step = try step(id, offset: offset)
            guard let spec = catalog[step.uses] else { return nil }
            guard let output = spec.output(key) else {
                throw ExpressionError(offset: offset, message: "step '\(id)' (\(step.uses)) has no output '\(key)'; it declares \(spec.outputs.map(\.name).joined(separator: ", "))")
            }
            return output.type
        case .runID: return .string
        case .runStartedAt, .now: return .time
        }
    }

    private func step(_ id: String, offset: Int) throws -> Step {
        if let step = earlier.first(where: { $0.id == id }) { return step }
        if later.contains(id) {
            throw ExpressionError(offset: offset, message: "step '\(id)' runs later; a step can only read the outputs of steps before it")
        }
        throw ExpressionError(offset: offset, message: "unknown step '\(id)'")
    }
}
