import DRCore

/// The static checks of `dr runbook validate`: procedures, parameters, types and references,
/// each problem with its file:line:column.
public struct Validator {
    public var catalog: ProcedureCatalog

    public init(catalog: ProcedureCatalog) { self.catalog = catalog }

    /// Every problem found; empty when the runbook is valid.
    public func diagnostics(_ runbook: Runbook) -> [Diagnostic] {
        var out: [Diagnostic] = []
        var seen: [String: SourceLocation] = [:]
        let all = runbook.allSteps
        for (index, step) in all.enumerated() {
            if let first = seen[step.id] {
                out.append(Diagnostic(step.location, "step id '\(step.id)' is already used at line \(first.line); step ids must be unique"))
            } else {
                seen[step.id] = step.location
            }
            let scope = StaticScope(runbook: runbook, catalog: catalog, earlier: Array(all[..<index]),
                                    later: Set(all[(index + 1)...].map(\.id)))
            out += check(step, in: scope)
        }
        return out.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
    }

    /// Throws every problem as one `badInput`.
    public func validate(_ runbook: Runbook) throws {
        let found = diagnostics(runbook)
        if !found.isEmpty { throw DRError.badInput(found) }
    }

    private func check(_ step: Step, in scope: StaticScope) -> [Diagnostic] {
        var out: [Diagnostic] = []
        if let condition = step.condition {
            do {
                if let type = try condition.staticType(in: scope), type != .bool {
                    out.append(Diagnostic(condition.location, "the `if` of step '\(step.id)' is a \(type), not a bool; compare it, e.g. `inputs.x == 'yes'`"))
                }
            } catch let error as ExpressionError {
                out.append(condition.diagnostic(error))
            } catch {}
        }
        guard let spec = catalog[step.uses] else {
            out.append(Diagnostic(step.usesLocation, "unknown procedure '\(step.uses)'; use one of \(catalog.names.joined(separator: ", "))"))
            return out
        }
        for parameter in step.with {
            guard let declared = spec.parameter(parameter.name) else {
                out.append(Diagnostic(parameter.location, "procedure '\(spec.name)' has no parameter '\(parameter.name)'; its parameters are \(spec.parameters.map(\.name).joined(separator: ", "))"))
                continue
            }
            if let problem = typeProblem(parameter, declared, scope: scope) { out.append(problem) }
        }
        for declared in spec.parameters where declared.required && step.parameter(declared.name) == nil {
            out.append(Diagnostic(step.location, "step '\(step.id)' does not give '\(declared.name)', which \(spec.name) requires (\(declared.summary))"))
        }
        return out
    }

    private func typeProblem(_ parameter: Parameter, _ declared: ProcedureSpec.ParameterSpec, scope: StaticScope) -> Diagnostic? {
        let want = declared.type
        let template = parameter.value
        if template.isLiteral {
            if let literal = parameter.literalType, literal != want, want != .string {
                return Diagnostic(template.location, "'\(parameter.name)' must be a \(want), not a \(literal)")
            }
            if Value.parse(template.source, as: want) == nil {
                return Diagnostic(template.location, "'\(parameter.name)' must be a \(want)\(Self.hint(want)); '\(template.source)' is not")
            }
            return nil
        }
        do {
            guard let got = try template.staticType(in: scope) else { return nil }
            if got == want || got == .string || want == .string { return nil }
            return Diagnostic(template.location, "'\(parameter.name)' must be a \(want), but the expression gives a \(got)")
        } catch let error as ExpressionError {
            return template.diagnostic(error)
        } catch {
            return Diagnostic(template.location, "\(error)")
        }
    }

    static func hint(_ type: ValueType) -> String {
        switch type {
        case .time: return " (RFC 3339, such as 2026-11-20T12:00:00Z)"
        case .duration: return " (such as 90s, 5m, 2h, 7d)"
        case .bool: return " (true or false)"
        default: return ""
        }
    }
}
