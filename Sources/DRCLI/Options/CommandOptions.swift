import ArgumentParser
import DRCore
import DRProcedures
import DRRunbook
import Foundation
import Logging

/// `--config FILE`: the one way every command names its targets config.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The targets config file (default: $DR_CONFIG, else ./dr.yml).")
    var config: String?

    func load() throws -> TargetsConfig { try ConfigLoader.load(explicit: config) }

    /// The config when one is named or `./dr.yml` exists; nil otherwise (runbooks may need none).
    func loadIfPresent() throws -> TargetsConfig? { try TargetProviders.loadConfig(explicit: config) }
}

/// The formats a command offers on `--output`.
protocol OutputFormats {
    static var allowed: [OutputFormat] { get }
}

enum TextOrJSON: OutputFormats { static let allowed: [OutputFormat] = [.text, .json] }

/// `--output FORMAT`: one option, parsed one way; each command says which formats it offers,
/// and its help lists exactly those.
struct OutputOptions<Formats: OutputFormats>: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("One of: \(Formats.allowed.map(\.rawValue).joined(separator: ", ")).", valueName: "format"))
    var output: String = "text"

    func validate() throws {
        guard let format = OutputFormat(rawValue: output), Formats.allowed.contains(format) else {
            throw ValidationError("--output must be one of \(Formats.allowed.map(\.rawValue).joined(separator: ", ")), not \(output).")
        }
    }

    var format: OutputFormat { OutputFormat(rawValue: output) ?? .text }

    /// Prints one JSON document (DRJSON: snake_case, RFC 3339), or the text form.
    func emit<T: Encodable>(_ value: T, text: () -> String) throws {
        WaitProgressReporter.finish()
        if format == .json { try printJSON(value) } else { Terminal.writeStdout(text() + "\n") }
    }
}

/// The one JSON configuration, on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    Terminal.writeStdout(try DRJSON.string(value))
}

/// What a command gives every backend it makes: wait settings with progress on stderr, the
/// logger, the loaded targets, and (made on first use, then shared) the AWS session.
enum CommandContext {
    static func make(config: TargetsConfig?, wait: WaitOptions? = nil) -> ProviderContext {
        ProviderContext(wait: wait?.settings ?? WaitSettings(progress: WaitProgressReporter.report), logger: ProgressLog.logger(), config: config)
    }

    /// Runs a command's changes on `provider`'s target: under the target's machine-wide lock (a
    /// second command or run on it is refused, exit 2), Ctrl-C and SIGTERM interrupting it (the
    /// backend undoes its partial work and says what it undid; exit 130).
    static func changing<T: Sendable>(_ provider: RecoveryProvider, _ command: String,
                                      _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Interruption.run(onSignal: { _ in
            WaitProgressReporter.finish()
            Terminal.info("dr: interrupted: stopping \(command) and undoing its partial work (Ctrl-C again to exit at once)")
        }) {
            // Taken once signals are handled, so whoever sees the lock can interrupt cleanly.
            let lock = try TargetLock.take(provider, by: command)
            defer { lock.release() }
            return try await work()
        }
    }

    /// The backend of the target named `name` in `config`.
    static func provider(_ name: String, config: TargetsConfig, wait: WaitOptions? = nil) throws -> RecoveryProvider {
        try Providers.make(for: try config.target(named: name), context: make(config: config, wait: wait))
    }
}

/// Progress as plain lines on stderr: `message key=value ...`. Libraries log; this prints.
struct ProgressLog: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = ProcessInfo.processInfo.environment["DR_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info

    static func logger() -> Logger { Logger(label: "dr") { _ in ProgressLog() } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        Terminal.info("dr: \(event.message)\(fields.isEmpty ? "" : " " + fields)")
    }
}

/// Short human forms for results.
enum Human {
    static func bytes(_ n: Int64?) -> String {
        guard let n else { return "-" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n), unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func time(_ d: Date?) -> String { d.map { RFC3339.format($0, fractional: true) } ?? "-" }

    /// `key: value` lines for a result's display facts, sorted.
    static func facts(_ facts: [String: String], indent: String = "  ") -> [String] {
        facts.sorted { $0.key < $1.key }.filter { !$0.value.isEmpty }.map { "\(indent)\($0.key): \($0.value)" }
    }
}
