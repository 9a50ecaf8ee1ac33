import ArgumentParser
import DRCore
import Foundation
import Logging

/// `dr`: the root of the command tree. Each subcommand lives in its own file.
public struct DRCommand: AsyncParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "dr",
        abstract: "Disaster recovery for PostgreSQL-backed platforms: snapshots, restores, verification, drills.",
        discussion: """
        Exit codes: 0 success; 1 the work ran and found a problem; 2 bad input (nothing changed); \
        3 a remote error that survived retries; 4 a wait timed out; 5 a local failure (disk, journal, \
        a program that could not start); 130 interrupted.
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
            CheckCommand.self,
            DrillCommand.self,
            AppCommand.self,
        ]
    )

    public init() {}
}

/// A command whose flags are named differently from the parameters library errors refer to
/// (`time` is `--point-in-time` on `dr restore`).
protocol FlagWords {
    static var flags: [Parameter: String] { get }
}

/// The process entry point: parses, runs, and maps every error to the project's exit codes.
public enum Main {
    public static func run(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Int32 {
        // Every logger any module makes (the drill's, the AWS session's) prints as the CLI's does.
        _ = bootstrapLogging
        var parsed: ParsableCommand?
        do {
            var command = try DRCommand.parseAsRoot(arguments)
            parsed = command
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch {
            return report(error, command: parsed, json: wantsJSON(arguments))
        }
    }

    /// Once per process (swift-log allows one bootstrap).
    private static let bootstrapLogging: Void = LoggingSystem.bootstrap { _ in ProgressLog() }

    /// `--output json` anywhere on the command line: errors then also go to stdout as a JSON document.
    static func wantsJSON(_ arguments: [String]) -> Bool {
        zip(arguments, arguments.dropFirst()).contains { $0 == "--output" && $1 == "json" } || arguments.contains("--output=json")
    }

    /// How the command line names a library error's parameters: `--as`, `--point-in-time`.
    static func vocabulary(for command: ParsableCommand?) -> Vocabulary {
        let special = command.flatMap { type(of: $0) as? FlagWords.Type }?.flags ?? [:]
        return Vocabulary { special[$0] ?? "--" + $0.name.replacingOccurrences(of: "_", with: "-") }
    }

    /// Prints what an error has to say and returns the exit code the contracts give it.
    static func report(_ error: Error, command: ParsableCommand? = nil, json: Bool = false) -> Int32 {
        switch error {
        case let error as DRError:
            let message = error.message(in: vocabulary(for: command))
            if !message.isEmpty {
                Terminal.error(message)
                if json { printError(category: error.category.rawValue, code: error.code.name, message: message) }
            }
            return error.exitStatus.rawValue
        case let error as ExitCode:
            return error.rawValue
        case is CancellationError:
            Terminal.error("Interrupted.")
            if json { printError(category: DRError.Category.interrupted.rawValue, code: DRError.Code.interrupted.name, message: "Interrupted.") }
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
            let shown = message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
            Terminal.error(shown)
            if json { printError(category: DRError.Category.badInput.rawValue, code: DRError.Code.invalidParameter.name, message: shown) }
            return ExitStatus.badInput.rawValue
        }
    }

    struct ErrorDocument: Encodable {
        struct Body: Encodable { var category: String; var code: String; var message: String }
        var error: Body
    }

    /// `{"error": {"category", "code", "message"}}` on stdout, for `--output json` callers.
    static func printError(category: String, code: String, message: String) {
        try? printJSON(ErrorDocument(error: .init(category: category, code: code, message: message)))
    }
}
