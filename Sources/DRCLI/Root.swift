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
            RunbookCommand.self,
            RunCommand.self,
            RunsCommand.self,
            AWSCommand.self,
            TargetsCommand.self,
            ArchiveCommand.self,
            WalPushCommand.self,
            WalFetchCommand.self,
            SnapshotCommand.self,
            CopyCommand.self,
            RestoreCommand.self,
            FailoverCommand.self,
            TeardownCommand.self,
            StatusCommand.self,
            DrillCommand.self,
        ]
    )

    public init() {}
}

/// The process entry point: parses, runs, and maps every error to the project's exit codes.
public enum Main {
    public static func run(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Int32 {
        do {
            var command = try DRCommand.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch {
            return report(error)
        }
    }

    /// Prints what an error has to say and returns the exit code the contracts give it.
    static func report(_ error: Error) -> Int32 {
        switch error {
        case let error as DRError:
            if !error.message.isEmpty { Terminal.error(error.message) }
            return error.exitStatus.rawValue
        case let error as ExitCode:
            return error.rawValue
        case is CancellationError:
            Terminal.error("Interrupted.")
            return ExitStatus.interrupted.rawValue
        default:
            // Help and --version are "errors" that exit 0 and print to stdout; usage and
            // validation errors are bad input (exit 2).
            let message = DRCommand.fullMessage(for: error)
            if DRCommand.exitCode(for: error) == .success {
                Terminal.writeStdout(message + "\n")
                return 0
            }
            let prefix = "Error: "
            Terminal.error(message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message)
            return ExitStatus.badInput.rawValue
        }
    }
}
