import ArgumentParser
import DRCore
import DRProcedures

/// `--plan`: what a mutating command would do, from the decision its run takes; nothing changes.
struct PlanOption: ParsableArguments {
    @Flag(name: .long, help: "Show what the command would do (the calls it would make, changing ones marked *); change nothing.")
    var plan = false
}

/// A procedure's plan on stdout: JSON, or one line per call.
struct PlanReport: Encodable {
    var target: String?
    var actions: [PlannedAction]

    var text: String {
        var lines = ["Plan\(target.map { " for \($0)" } ?? ""): \(actions.filter(\.mutates).count) change(s) (marked *). Nothing has been changed."]
        for action in actions {
            let when = action.condition.map { " [\($0)]" } ?? ""
            lines.append("  \(action.mutates ? "*" : "-") \(action.summary)\(action.call.map { " (\($0))" } ?? "")\(when)")
        }
        return lines.joined(separator: "\n")
    }

    static func emit(_ actions: [PlannedAction], target: String?, output: OutputOptions<TextOrJSON>) throws {
        let report = PlanReport(target: target, actions: actions)
        try output.emit(report) { report.text }
    }
}
