import ArgumentParser
import DRRunbookEngine

/// `--state-dir`, for the commands that keep runs, journals and drill history.
struct StateOptions: ParsableArguments {
    @Option(name: .long, help: "Folder for run journals and locks (default: $DR_STATE_DIR, else ~/.local/state/dr).")
    var stateDir: String?

    var state: StateDirectory { StateDirectory.resolve(stateDir) }
}
