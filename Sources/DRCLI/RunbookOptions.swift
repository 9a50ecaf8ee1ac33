import ArgumentParser
import DRCore
import DRRunbook
import Foundation
import DRRunbookEngine

/// Flags shared by `dr run` and `dr runs`.
struct StateOptions: ParsableArguments {
    @Option(name: .long, help: "Folder for run journals and locks (default: $DR_STATE_DIR, else ~/.local/state/dr).")
    var stateDir: String?

    var state: StateDirectory { StateDirectory.resolve(stateDir) }
}


/// `--output text|json` for the runbook commands (junit is the verifier's).
func requireTextOrJSON(_ format: OutputFormat) throws {
    if format == .junit { throw ValidationError("--output junit is for dr verify; use text or json here.") }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    Terminal.writeStdout(String(decoding: try encoder.encode(value), as: UTF8.self) + "\n")
}
