import ArgumentParser
import DRCore
import DRProcedures

/// `dr archive setup TARGET [--apply]`.
struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive", abstract: "Continuous WAL archiving for self-hosted PostgreSQL.",
        subcommands: [ArchiveSetupCommand.self])
}

struct ArchiveSetupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Show (or apply with ALTER SYSTEM) the settings archiving into the target's repository needs.")

    @Argument(help: "The target's name in dr.yml.") var target: String
    @Flag(help: "Apply the settings (ALTER SYSTEM, then reload) instead of only showing them.") var apply = false
    @OptionGroup var config: ConfigOption
    @OptionGroup var output: OutputOptions<TextOrJSON>

    func run() async throws {
        let loaded = try config.load()
        let provider = try Providers.selfHosted(try loaded.target(named: target), context: CommandContext.make(config: loaded))
        let report = apply ? try await CommandContext.changing(provider, "dr archive setup \(target) --apply") { try await provider.archiveSetup(apply: true) }
                           : try await provider.archiveSetup(apply: false)
        try output.emit(report) {
            var lines: [String] = []
            if report.changes.isEmpty {
                lines.append("Archiving into \(report.repository) is already configured on \(report.server).")
            } else {
                lines.append(report.applied ? "Applied on \(report.server):" : "\(report.server) needs (run again with --apply to set them):")
                for c in report.changes {
                    lines.append("  ALTER SYSTEM SET \(c.name) = '\(c.wanted.replacingOccurrences(of: "'", with: "''"))';   -- now: \(c.current.isEmpty ? "(empty)" : c.current)\(c.needsRestart ? " (restart)" : "")")
                }
            }
            let c = report.quietServerCost
            lines.append("archive_timeout = \(c.archiveTimeoutSeconds) s keeps a quiet server within the target's RPO of \(DurationText.format(c.rpoSeconds)). "
                         + "It costs up to \(c.segmentsPerDay) forced WAL segments a day: \(Human.bytes(c.segmentBytes)) each uncompressed "
                         + "(\(Human.bytes(c.segmentBytes * Int64(c.segmentsPerDay))) a day), "
                         + (c.compression == "none" ? "as stored here (compression: none)." : "from about \(Human.bytes(c.storedBytesPerSegment)) each as stored here with \(c.compression) (\(Human.bytes(c.storedBytesPerDay)) a day for an idle server; more for what it wrote in between)."))
            for note in report.notes { lines.append("note: \(note)") }
            lines.append(report.restartNeeded ? "A restart of the server is needed for these settings to take effect (e.g. pg_ctl restart)." : "No restart is needed.")
            return lines.joined(separator: "\n")
        }
    }
}
