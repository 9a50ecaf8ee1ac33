import ArgumentParser
import DRCore
import DRRunbook
import DRRunbookEngine

/// `dr runbook validate FILE`.
struct RunbookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runbook", abstract: "Work with runbook files.", subcommands: [Validate.self])

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a runbook without running it: fields, procedures, parameters, types and references, with file:line:column.")

        @Argument(help: "The runbook (YAML).") var file: String

        func run() async throws {
            let (runbook, _) = try RunSession.load(file, catalog: .standard)
            Terminal.writeStdout("\(file): ok: \(runbook.name), \(runbook.steps.count) steps, \(runbook.finally.count) finally steps\n")
        }
    }
}
