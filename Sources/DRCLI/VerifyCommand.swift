import ArgumentParser
import DRCore
import DRVerify
import Foundation

/// `dr verify`: compares a restored database with a manifest or a live source
/// (`VerifyCompareCommand`, the default), and captures manifests (`VerifyCaptureCommand`).
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove that a restored database's schema, privileges, row counts and contents match a manifest or a live source.",
        discussion: """
        Examples:
          dr verify capture --db "host=db.example.com dbname=app user=dr" --out manifest.json --content checksum
          dr verify --db "postgresql://dr@restored:5432/app" --manifest manifest.json --content checksum
          dr verify --db "host=restored dbname=app" --against "host=primary dbname=app" --rows at-least
          dr verify --db "host=dr dbname=app" --against "host=primary dbname=app" --content checksum --map-role app=app_dr

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

    // Unconditional: `--jobs -1` is a value to refuse with a reason, not a missing one.
    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Connections counting rows in parallel (1 to 64), all on one snapshot.", valueName: "n"))
    var jobs: String = String(CaptureOptions.defaultJobs)

    @Option(name: .long, help: ArgumentHelp(
        "Longest any one query may run (e.g. 90s, 10m; 0 for no limit).", valueName: "duration"))
    var statementTimeout: String = "10m"

    @Option(name: .long, help: ArgumentHelp(
        "What to check of the rows: none (their count) or checksum (every row's contents, per table and partition).",
        valueName: "mode"))
    var content: ContentMode = .none

    @Option(name: .customLong("exclude-content"), help: ArgumentHelp(
        "A table (schema.table) to count but not hash, with its partitions; repeat for more.", valueName: "table"))
    var excludeContent: [String] = []

    func validate() throws {
        _ = try jobCount()
        _ = try timeoutSeconds()
        _ = try excludedTables()
        if !excludeContent.isEmpty, content != .checksum {
            throw ValidationError("--exclude-content applies to --content checksum; add --content checksum, or leave --exclude-content out.")
        }
    }

    func jobCount() throws -> Int {
        guard let n = Int(jobs), n >= 1, n <= 64 else {
            throw ValidationError("--jobs \(jobs) is not a number of connections: give a whole number from 1 to 64 (default \(CaptureOptions.defaultJobs), the machine's cores).")
        }
        return n
    }

    func timeoutSeconds() throws -> Double? {
        if statementTimeout == "0" { return nil }
        guard let seconds = DurationText.parse(statementTimeout) ?? Double(statementTimeout), seconds > 0 else {
            throw ValidationError("--statement-timeout \"\(statementTimeout)\" is not a duration: use e.g. 30s, 10m or 1h (0 for no limit).")
        }
        return seconds
    }

    func excludedTables() throws -> [TableName] {
        try excludeContent.map { text in
            do { return try TableName(parsing: text, parameter: .excludeContent) } catch let error as DRError {
                throw ValidationError(error.message(in: .verifyFlags))
            }
        }
    }

    func captureOptions() throws -> CaptureOptions {
        CaptureOptions(jobs: try jobCount(), statementTimeout: try timeoutSeconds(), content: content,
                       excludeContent: try excludedTables())
    }
}

extension RowTolerance: ExpressibleByArgument {
    public init?(argument: String) {
        guard let parsed = try? RowTolerance(parsing: argument) else { return nil }
        self = parsed
    }
}

extension ContentMode: ExpressibleByArgument {}

extension Vocabulary {
    /// The verify commands' words for the verifier's parameters: `--statement-timeout`.
    static let verifyFlags = Vocabulary { "--" + $0.name.replacingOccurrences(of: "_", with: "-") }
}

/// Runs `work` so that Ctrl-C cancels it (and with it every query it has running); the
/// verifier's errors come back worded for the command line.
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
    do {
        return try await task.value
    } catch let error as DRError {
        throw DRError(error.code, ErrorText(error.message(in: .verifyFlags)), context: error.context)
    }
}
