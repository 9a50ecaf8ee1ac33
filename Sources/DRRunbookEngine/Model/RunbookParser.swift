import DRCore
import Foundation
import Yams

/// Reads a runbook with Yams' node API, so every problem carries file:line:column.
/// It collects every problem it can find, then throws them together as one `badInput`.
public struct RunbookParser {
    public static let topLevelFields = ["name", "description", "inputs", "steps", "finally"]
    public static let inputFields = ["type", "default", "required", "description", "secret"]
    public static let stepFields = ["id", "uses", "with", "if", "timeout", "retries", "continue_on_error", "phase"]

    private let file: String
    private var diagnostics: [Diagnostic] = []

    public static func parse(file: String) throws -> Runbook {
        try parse(try readText(file), file: file)
    }

    /// The runbook file's text; a missing or unreadable file is bad input.
    public static func readText(_ file: String) throws -> String {
        guard FileManager.default.fileExists(atPath: file) else {
            throw DRError.badInput("\(file): no such runbook file. Check the path (the shipped runbooks are in runbooks/).")
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw DRError.badInput("\(file): cannot read the runbook (not readable, a folder, or not UTF-8 text). Check the path and its permissions.")
        }
        return text
    }

    public static func parse(_ text: String, file: String) throws -> Runbook {
        var parser = RunbookParser(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw DRError.badInput([parser.diagnostic(for: error)])
        }
        guard let root else {
            throw DRError.badInput([Diagnostic(SourceLocation(file: file, line: 1, column: 1), "the runbook is empty; it needs at least `name` and `steps`")])
        }
        let runbook = parser.runbook(root)
        if !parser.diagnostics.isEmpty { throw DRError.badInput(parser.diagnostics) }
        return runbook!
    }

    private init(file: String) { self.file = file }

    private func location(_ node: Node) -> SourceLocation {
        let mark = node.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    private mutating func fail(_ node: Node, _ message: String) { diagnostics.append(Diagnostic(location(node), message)) }

    private func diagnostic(for error: YamlError) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let where_ = context.map { " (\($0.text))" } ?? ""
            return Diagnostic(SourceLocation(file: file, line: mark.line, column: mark.column),
                              "malformed YAML: \(problem)\(where_). Fix the YAML syntax at this point.")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return Diagnostic(SourceLocation(file: file, line: context.mark.line, column: context.mark.column),
                              "duplicate key \(duplicates.joined(separator: ", ")) in a mapping; each key may appear once")
        default:
            return Diagnostic(SourceLocation(file: file, line: 1, column: 1), "malformed YAML: \(error)")
        }
    }

    // MARK: - Shapes

    /// The mapping's entries by key, reporting unknown and duplicate keys.
    private mutating func fields(_ node: Node, what: String, allowed: [String]) -> [String: (key: Node, value: Node)]? {
        guard let mapping = node.mapping else {
            fail(node, "\(what) must be a mapping of \(allowed.joined(separator: ", "))")
            return nil
        }
        var out: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else { fail(key, "keys in \(what) must be plain names"); continue }
            if !allowed.contains(name) {
                fail(key, "unknown field '\(name)' in \(what); the fields are \(allowed.joined(separator: ", "))")
            } else if out[name] != nil {
                fail(key, "'\(name)' appears twice in \(what)")
            } else {
                out[name] = (key, value)
            }
        }
        return out
    }

    private mutating func string(_ node: Node, what: String) -> String? {
        guard let scalar = node.scalar else { fail(node, "\(what) must be text"); return nil }
        return scalar.string
    }

    private mutating func name(_ node: Node, what: String) -> String? {
        guard let text = string(node, what: what) else { return nil }
        let valid = !text.isEmpty && text.first!.isLetter && text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        if !valid { fail(node, "\(what) '\(text)' must start with a letter and hold only letters, digits, '_' and '-'") }
        return valid ? text : nil
    }

    private mutating func int(_ node: Node, what: String) -> Int? {
        guard let scalar = node.scalar, scalar.style == .plain, let value = Int(scalar.string) else {
            fail(node, "\(what) must be a whole number")
            return nil
        }
        return value
    }

    private mutating func bool(_ node: Node, what: String) -> Bool? {
        guard node.scalar?.style == .plain, let value = node.bool else { fail(node, "\(what) must be true or false"); return nil }
        return value
    }

    /// `timeout: 10m` (a duration) or `timeout: 600` (seconds).
    private mutating func duration(_ node: Node, what: String) -> Double? {
        guard let text = node.scalar?.string else { fail(node, "\(what) must be a duration such as 90s, 10m or 2h"); return nil }
        if let seconds = Int(text), seconds > 0 { return Double(seconds) }
        guard let seconds = DurationText.parse(text), seconds > 0 else {
            fail(node, "\(what) '\(text)' is not a duration; write it as 90s, 10m, 2h or 1h30m")
            return nil
        }
        return seconds
    }

    /// A template from a scalar; offsets map to columns when the scalar sits on one line.
    private mutating func template(_ node: Node, condition: Bool = false) -> Template? {
        guard let scalar = node.scalar else { fail(node, "expected a single value here, not a list or a mapping"); return nil }
        let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
        let exact = (scalar.style == .plain || quoted) && !scalar.string.contains("\n")
            && !(scalar.style == .doubleQuoted && scalar.string.contains("\\"))
        let start = location(node).advanced(by: quoted ? 1 : 0)
        do {
            return condition
                ? try Template.condition(scalar.string, location: start, columnsAreExact: exact)
                : try Template(scalar.string, location: start, columnsAreExact: exact)
        } catch let error as ExpressionError {
            let placeholder = Template.text(scalar.string, location: start)
            var shown = placeholder
            shown.columnsAreExact = exact
            diagnostics.append(shown.diagnostic(error))
            return nil
        } catch {
            fail(node, "\(error)")
            return nil
        }
    }

    // MARK: - Runbook

    private mutating func runbook(_ root: Node) -> Runbook? {
        guard let f = fields(root, what: "a runbook", allowed: Self.topLevelFields) else { return nil }
        let name = f["name"].flatMap { string($0.value, what: "name") }
        if f["name"] == nil { fail(root, "the runbook has no `name`; add `name: <what it does>`") }
        if f["steps"] == nil { fail(root, "the runbook has no `steps`; add at least one step") }
        let description = f["description"].flatMap { string($0.value, what: "description") }
        let inputs = f["inputs"].map { inputSpecs($0.value) } ?? []
        let steps = f["steps"].map { stepList($0.value, what: "steps") } ?? []
        let finally = f["finally"].map { stepList($0.value, what: "finally") } ?? []
        guard let name else { return nil }
        return Runbook(file: file, name: name, description: description, inputs: inputs, steps: steps, finally: finally)
    }

    private mutating func inputSpecs(_ node: Node) -> [InputSpec] {
        guard let mapping = node.mapping else { fail(node, "inputs must be a mapping from input names to their type, default, required and description"); return [] }
        var specs: [InputSpec] = []
        for (key, value) in mapping {
            guard let name = name(key, what: "input name") else { continue }
            if specs.contains(where: { $0.name == name }) { fail(key, "input '\(name)' is declared twice"); continue }
            if let spec = inputSpec(name, key: key, value) { specs.append(spec) }
        }
        return specs
    }

    private mutating func inputSpec(_ name: String, key: Node, _ node: Node) -> InputSpec? {
        guard let f = fields(node, what: "input '\(name)'", allowed: Self.inputFields) else { return nil }
        var type = ValueType.string
        if let t = f["type"] {
            guard let text = string(t.value, what: "type"), let parsed = ValueType(rawValue: text) else {
                fail(t.value, "input '\(name)' has an unknown type; use one of \(ValueType.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            type = parsed
        }
        var defaultValue: Value?
        if let d = f["default"] {
            guard let text = string(d.value, what: "default"), let value = Value.parse(text, as: type) else {
                fail(d.value, "the default of input '\(name)' is not a \(type)\(type == .time ? " (use RFC 3339, e.g. 2026-11-20T12:00:00Z)" : "")")
                return nil
            }
            defaultValue = value
        }
        let required = f["required"].flatMap { bool($0.value, what: "required") } ?? (defaultValue == nil)
        let secret = f["secret"].flatMap { bool($0.value, what: "secret") } ?? false
        let description = f["description"].flatMap { string($0.value, what: "description") }
        return InputSpec(name: name, type: type, defaultValue: defaultValue, required: required,
                         description: description, secret: secret, location: location(key))
    }

    private mutating func stepList(_ node: Node, what: String) -> [Step] {
        guard let sequence = node.sequence else { fail(node, "\(what) must be a list of steps (each starting with `- id:`)"); return [] }
        return sequence.compactMap { step($0) }
    }

    private mutating func step(_ node: Node) -> Step? {
        guard let f = fields(node, what: "a step", allowed: Self.stepFields) else { return nil }
        if f["id"] == nil { fail(node, "the step has no `id`; give it a unique name such as `id: restore`") }
        if f["uses"] == nil { fail(node, "the step has no `uses`; name the procedure it runs, such as `uses: snapshot`") }
        let id = f["id"].flatMap { name($0.value, what: "step id") }
        let uses = f["uses"].flatMap { string($0.value, what: "uses") }
        let with = f["with"].map { parameters($0.value) } ?? []
        let condition = f["if"].flatMap { template($0.value, condition: true) }
        let timeout = f["timeout"].flatMap { duration($0.value, what: "timeout") }
        let retries = f["retries"].flatMap { int($0.value, what: "retries") } ?? 0
        if retries < 0, let r = f["retries"] { fail(r.value, "retries must be 0 or more") }
        let continueOnError = f["continue_on_error"].flatMap { bool($0.value, what: "continue_on_error") } ?? false
        let phase = f["phase"].flatMap { name($0.value, what: "phase") }
        guard let id, let uses, let usesNode = f["uses"]?.value else { return nil }
        return Step(id: id, uses: uses, with: with, condition: condition, timeout: timeout, retries: max(0, retries),
                    continueOnError: continueOnError, phase: phase, location: location(node), usesLocation: location(usesNode))
    }

    private mutating func parameters(_ node: Node) -> [Parameter] {
        guard let mapping = node.mapping else { fail(node, "with must be a mapping from parameter names to values"); return [] }
        var out: [Parameter] = []
        for (key, value) in mapping {
            guard let name = string(key, what: "parameter name") else { continue }
            if out.contains(where: { $0.name == name }) { fail(key, "parameter '\(name)' is given twice"); continue }
            guard let template = template(value) else { continue }
            var literalType: ValueType?
            if let scalar = value.scalar, scalar.style == .plain {
                if value.int != nil { literalType = .int } else if value.bool != nil { literalType = .bool }
            }
            out.append(Parameter(name: name, value: template, literalType: literalType, location: location(key)))
        }
        return out
    }
}
