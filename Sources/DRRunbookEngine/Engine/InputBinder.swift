import DRCore

/// Checks `--input name=value` against the runbook's declared inputs and types them.
public enum InputBinder {
    public static func bind(_ runbook: Runbook, given: [String: String]) throws -> [String: Value] {
        var problems: [String] = []
        var out: [String: Value] = [:]
        for name in given.keys.sorted() where runbook.input(named: name) == nil {
            let declared = runbook.inputs.map(\.name)
            problems.append("unknown input '\(name)'; \(runbook.name) declares \(declared.isEmpty ? "no inputs" : declared.joined(separator: ", "))")
        }
        for spec in runbook.inputs {
            if let text = given[spec.name] {
                if let value = Value.parse(text, as: spec.type) {
                    out[spec.name] = value
                } else {
                    let shown = spec.secret ? Redact.mask : "'\(text)'"
                    problems.append("input '\(spec.name)' must be a \(spec.type)\(Validator.hint(spec.type)); \(shown) is not")
                }
            } else if let value = spec.defaultValue {
                out[spec.name] = value
            } else if spec.required {
                problems.append("missing required input '\(spec.name)'\(spec.description.map { " (\($0))" } ?? ""); pass --input \(spec.name)=VALUE")
            }
        }
        if !problems.isEmpty {
            throw DRError.badInput("\(runbook.file): " + problems.joined(separator: "; ") + ".")
        }
        return out
    }

    /// Inputs as they may be journaled or shown.
    /// A conninfo's password is masked in any input, declared secret or not.
    public static func masked(_ inputs: [String: Value], secret: [String]) -> [String: Value] {
        var out = inputs.mapValues { value -> Value in
            if case .string(let s) = value { return .string(Redact.conninfo(s)) }
            return value
        }
        for name in secret where out[name] != nil { out[name] = .string(Redact.mask) }
        return out
    }
}
