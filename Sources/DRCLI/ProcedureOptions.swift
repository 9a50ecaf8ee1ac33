import ArgumentParser
import DRCore
import DRProcedures
import Foundation
import Logging

/// Options every target command shares: which config file, and how to print the result.
struct TargetCommandOptions: ParsableArguments {
    @Option(name: .long, help: "The targets config file (default: $DR_CONFIG, else ./dr.yml).")
    var config: String?

    @Option(name: .long, help: "text or json.")
    var output: String = "text"

    func validate() throws {
        guard format != nil else { throw ValidationError("--output must be text or json, not \(output).") }
    }

    var format: OutputFormat? { ["text", "json"].contains(output) ? OutputFormat(rawValue: output) : nil }

    func loadConfig() throws -> TargetsConfig { try ConfigLoader.load(explicit: config) }

    func target(_ name: String) throws -> Target { try loadConfig().target(named: name) }

    func provider(_ name: String) throws -> RecoveryProvider {
        try Providers.make(for: target(name), logger: ProgressLog.logger())
    }

    /// The provider with `--no-wait` / `--timeout` applied.
    func provider(_ name: String, wait: WaitOptions) throws -> RecoveryProvider {
        wait.apply(to: try provider(name))
    }

    /// The self-hosted backend, for the commands only it has (archive, wal-push, wal-fetch).
    func selfHosted(_ name: String) throws -> SelfHostedProvider {
        let target = try target(name)
        guard case .postgres(let settings) = target.provider else {
            throw DRError.badInput("\(target.name) is a provider \(target.providerName) target; this command is for provider postgres (self-hosted) targets only. Nothing was changed.")
        }
        return SelfHostedProvider(target: target, settings: settings, logger: ProgressLog.logger())
    }

    /// Prints one JSON document, or the text form.
    func emit<T: Encodable>(_ value: T, text: () -> String) throws {
        WaitProgressReporter.finish()
        if format == .json {
            Terminal.writeStdout(String(decoding: try JSONOutput.encoder.encode(value), as: UTF8.self) + "\n")
        } else {
            Terminal.writeStdout(text() + "\n")
        }
    }
}

enum JSONOutput {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(RFC3339.format(date, fractional: true))
        }
        return e
    }()
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
}
