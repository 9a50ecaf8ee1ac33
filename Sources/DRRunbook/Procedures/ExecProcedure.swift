import DRCore
import Foundation
import DRRunbookEngine

/// `exec`: runs a command line with `/bin/sh -c`, checks its exit status and returns its output.
///
/// The command sees DR_RUN_ID, DR_STEP_ID, DR_ATTEMPT and DR_REENTRY (1 when the run was
/// resumed while this step was in flight), so a script can make itself idempotent.
public struct ExecProcedure: ProcedureExecutor {
    public var processes: ProcessRunning
    public var shell = "/bin/sh"

    public init(processes: ProcessRunning) { self.processes = processes }

    public func plan(_ call: ResolvedCall) async throws -> PlanOutcome {
        let command = call.string("command") ?? call.pending["command"].map { "(at run time: \($0))" } ?? ""
        return [PlannedAction("run `\(command)`", call: "exec", mutates: call.bool("mutates") ?? true)]
    }

    public func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        guard let command = call.string("command") else {
            throw DRError.badInput("Step '\(call.stepID)': exec needs `command`.")
        }
        var environment = ProcessInfo.processInfo.environment
        environment["DR_RUN_ID"] = context.runID
        environment["DR_STEP_ID"] = call.stepID
        environment["DR_ATTEMPT"] = String(context.attempt)
        environment["DR_REENTRY"] = context.isReentry ? "1" : "0"
        let result = try await processes.run(shell, ["-c", command], environment: environment,
                                             workingDirectory: call.string("working_directory"), input: nil)
        try Task.checkCancellation()
        guard result.succeeded else {
            let tail = result.stderr.split(separator: "\n").suffix(5).joined(separator: "\n")
            throw DRError.problem("Step '\(call.stepID)': the command exited with status \(result.status)\(tail.isEmpty ? "" : ": \(tail)")")
        }
        return ["exit_code": .int(Int(result.status)),
                "stdout": .string(Self.chomp(result.stdout)), "stderr": .string(Self.chomp(result.stderr))]
    }

    static func chomp(_ s: String) -> String { s.hasSuffix("\n") ? String(s.dropLast()) : s }
}
