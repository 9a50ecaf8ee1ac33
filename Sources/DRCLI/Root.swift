import ArgumentParser
import DRCore
import Foundation

/// `dr`: the root of the command tree. Each subcommand lives in its own file.
public struct DRCommand: AsyncParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "dr",
        abstract: "Disaster recovery for PostgreSQL-backed platforms: snapshots, restores, verification, drills.",
        discussion: """
        Exit codes: 0 success; 1 the work ran and found a problem; 2 bad input (nothing changed); \
        3 a remote error that survived retries; 4 a wait timed out; 130 interrupted.
        """,
        version: version,
        subcommands: [
            VerifyCommand.self,
        ]
    )

    public init() {}
}

/// The process entry point: parses, runs, and maps every error to the project's exit codes.
public enum Main {
    public static func run(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Int32 {
        let command: ParsableCommand
        do {
            command = try DRCommand.parseAsRoot(arguments)
        } catch {
            // Help and --version are "errors" that exit 0; usage errors are bad input (exit 2).
            let code = DRCommand.exitCode(for: error)
            let message = DRCommand.fullMessage(for: error)
            if code == .success {
                print(message)
                return 0
            }
            Terminal.error(message)
            return ExitStatus.badInput.rawValue
        }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var sync = command
                try sync.run()
            }
            return 0
        } catch let error as DRError {
            if !error.message.isEmpty { Terminal.error(error.message) }
            return error.exitStatus.rawValue
        } catch let error as ExitCode {
            return error.rawValue
        } catch is CancellationError {
            Terminal.error("Interrupted.")
            return ExitStatus.interrupted.rawValue
        } catch {
            let code = DRCommand.exitCode(for: error)
            if code == .success { return 0 }
            let message = DRCommand.fullMessage(for: error)
            if !message.isEmpty { Terminal.error(message) }
            // Validation failures from validate() are bad input.
            return code == .validationFailure ? ExitStatus.badInput.rawValue : code.rawValue
        }
    }
}
