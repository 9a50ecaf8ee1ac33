import ArgumentParser
import DRCore
import DRRunbook
import DRRunbookEngine

/// `dr runs`: the runs in the state directory and where each stands.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List runbook runs and their state (interrupted ones can be resumed).")

    @OptionGroup var output: OutputOptions<TextOrJSON>
    @OptionGroup var stateOptions: StateOptions

    func run() async throws {
        let runs = RunListing.list(stateOptions.state)
        if output.format == .json { try printJSON(runs); return }
        if runs.isEmpty { Terminal.writeStdout("No runs in \(stateOptions.state.root).\n"); return }
        for run in runs {
            let step = run.currentStep.map { " at step \($0)" } ?? ""
            Terminal.writeStdout("\(run.runID)  \(run.state)\(step)  started \(run.startedAt)  \(run.runbook)\n")
        }
    }
}
