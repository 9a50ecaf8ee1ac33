import Foundation

/// The names an expression can read, shared by the static and the run-time scope.
enum References {
    static let roots = "inputs.NAME, targets.NAME.FIELD, steps.ID.outputs.KEY, steps.ID.outcome, run.id, run.started_at and now"

    enum Kind {
        case input(String)
        case target(String, String)
        case stepOutput(String, String)
        case stepOutcome(String)
        case runID, runStartedAt, now
    }

    static func classify(_ path: [String], offset: Int) throws -> Kind {
        switch (path.first, path.count) {
        case ("inputs", 2): return .input(path[1])
        case ("targets", 3): return .target(path[1], path[2])
        case ("steps", 4) where path[2] == "outputs": return .stepOutput(path[1], path[3])
        case ("steps", 3) where path[2] == "outcome": return .stepOutcome(path[1])
        case ("run", 2) where path[1] == "id": return .runID
        case ("run", 2) where path[1] == "started_at": return .runStartedAt
        case ("now", 1): return .now
        default:
            throw ExpressionError(offset: offset, message: "'\(path.joined(separator: "."))' names nothing; an expression can read \(roots)")
        }
    }
}

/// What expressions read while a run is going: inputs, targets, finished steps, the run, the clock.
public struct RunScope: ReferenceScope {
    public var inputs: [String: Value]
    public var targets: [String: [String: Value]]
    public var outputs: [String: [String: Value]]
    /// `success`, `failure` or `skipped` for each step that has finished.
    public var outcomes: [String: String]
    public var runID: String
    public var startedAt: Date
    public var now: Date

    public init(inputs: [String: Value], targets: [String: [String: Value]] = [:], outputs: [String: [String: Value]] = [:],
                outcomes: [String: String] = [:], runID: String, startedAt: Date, now: Date) {
        self.inputs = inputs
        self.targets = targets
        self.outputs = outputs
        self.outcomes = outcomes
        self.runID = runID
        self.startedAt = startedAt
        self.now = now
    }

    public func value(of path: [String], offset: Int) throws -> Value {
        switch try References.classify(path, offset: offset) {
        case .input(let name):
            guard let value = inputs[name] else { throw ExpressionError(offset: offset, message: "input '\(name)' is not set; pass it with --input \(name)=VALUE") }
            return value
        case .target(let name, let field):
            guard let target = targets[name] else {
                throw ExpressionError(offset: offset, message: "no target named '\(name)' in the config; the targets are \(targets.keys.sorted().joined(separator: ", "))")
            }
            guard let value = target[field] else {
                throw ExpressionError(offset: offset, message: "target '\(name)' has no field '\(field)'; it has \(target.keys.sorted().joined(separator: ", "))")
            }
            return value
        case .stepOutput(let id, let key):
            guard let values = outputs[id] else {
                throw ExpressionError(offset: offset, message: "step '\(id)' has no outputs: it \(outcomes[id].map { "ended with \($0)" } ?? "has not run")")
            }
            guard let value = values[key] else { throw ExpressionError(offset: offset, message: "step '\(id)' has no output '\(key)'") }
            return value
        case .stepOutcome(let id): return .string(outcomes[id] ?? "pending")
        case .runID: return .string(runID)
        case .runStartedAt: return .time(startedAt)
        case .now: return .time(now)
        }
    }
}

/// Planning: like a run, except that earlier steps' outputs are known only where their plans
/// could tell them (`predicted`: a weekly snapshot's name, a restore's instance id); anything else
/// they produce, and every step's outcome, is pending.
struct PlanScope: ReferenceScope {
    struct Pending: Error {}
    /// Set when an evaluation read a predicted output.
    final class Reads: @unchecked Sendable {
        // Used by one evaluation on one thread at a time (the planner's).
        var predicted = false
    }
    var run: RunScope
    var predicted: [String: [String: Value]] = [:]
    let reads = Reads()

    func value(of path: [String], offset: Int) throws -> Value {
        switch try References.classify(path, offset: offset) {
        case .stepOutput(let id, let key):
            guard let value = predicted[id]?[key] else { throw Pending() }
            reads.predicted = true
            return value
        case .stepOutcome: throw Pending()
        default: return try run.value(of: path, offset: offset)
        }
    }
}
