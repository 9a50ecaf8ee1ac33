import ArgumentParser
import DRCore
import DRVerify
import Foundation

/// `dr verify`: compares a restored database with a manifest or a live source
/// (`VerifyCompareCommand`, the default), and captures manifests (`VerifyCaptureCommand`).
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove that a restored database's schema and row counts match a manifest or a live source.",
        discussion: """
        Examples:
          dr verify capture --db "host=db.example.com dbname=app user=dr" --out manifest.json
          dr verify --db "postgresql://dr@restored:5432/app" --manifest manifest.json
          dr verify --db "host=restored dbname=app" --against "host=primary dbname=app" --rows at-least

        Exit codes: 0 match; 1 mismatch; 2 bad input or connection failure (nothing written); \
        4 a statement ran past --statement-timeout; 130 interrupted.
        """,
        subcommands: [VerifyCompareCommand.self, VerifyCaptureCommand.self],
        defaultSubcommand: VerifyCompareCommand.self
    )
}

/// Options every verify subcommand shares: where the database is and how to read it.
struct DatabaseReadOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The database: a libpq conninfo string or URI. PG* variables, pgpass and service files apply.",
        valueName: "conninfo"))
    var db: String = ""

    @Option(name: .long, help: "Connections counting rows in parallel, all on one snapshot.")
    var jobs: Int = CaptureOptions.defaultJobs

    @Option(name: .long, help: ArgumentHelp(
        "Longest any one query may run (e.g. 90s, 10m; 0 for no limit).", valueName: "duration"))
    var statementTimeout: String = "10m"

    func validate() throws {
        guard jobs >= 1, jobs <= 64 else {
            throw ValidationError("--jobs \(jobs) is out of range: give a number of connections from 1 to 64.")
        }
        _ = try timeoutSeconds()
    }

    func timeoutSeconds() throws -> Double? {
        if statementTimeout == "0" { return nil }
        guard let seconds = DurationText.parse(statementTimeout) ?? Double(statementTimeout), seconds > 0 else {
            throw ValidationError("--statement-timeout \"\(statementTimeout)\" is not a duration: use e.g. 30s, 10m or 1h (0 for no limit).")
        }
        return seconds
    }

    func captureOptions() throws -> CaptureOptions {
        CaptureOptions(jobs: jobs, statementTimeout: try timeoutSeconds())
    }
}

extension OutputFormat: ExpressibleByArgument {}

extension RowTolerance: ExpressibleByArgument {
    public init?(argument: String) {
        guard let parsed = try? RowTolerance(parsing: argument) else { return nil }
        self = parsed
    }
}

/// Runs `work` so that Ctrl-C cancels it (and with it every query it has running).
func runInterruptibly<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
    let task = Task { try await work() }
    signal(SIGINT, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler { task.cancel() }
    source.resume()
    defer {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
    return try await task.value
}
