import ArgumentParser
import DRCore
import DRProcedures
import DRDrill
import DRRunbook
import DRRunbookEngine
import Foundation

enum StatusFormats: OutputFormats { static let allowed: [OutputFormat] = [.text, .json, .prometheus] }

/// `dr status TARGET`, `dr status --all`, and `--output prometheus` (for alerts: one textfile
/// for node_exporter's textfile collector, replaced atomically with `--textfile`).
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Snapshots and their ages, the restorable window, the current data-loss exposure, and the target's restores.",
        discussion: """
        --output prometheus prints the figures alerts need (dr_snapshot_newest_age_seconds, \
        dr_dr_copy_newest_age_seconds, dr_restorable_window_{start,end}_timestamp_seconds, \
        dr_data_loss_exposure_seconds, dr_wal_archive_lag_seconds, dr_cache_snapshot_newest_age_seconds, \
        dr_drill_history_last_success_timestamp_seconds, dr_drill_max_age_seconds, dr_status_up), \
        labelled by target; with --textfile FILE they replace FILE atomically (for node_exporter's \
        textfile collector). A target that cannot be read gets dr_status_up 0, and the command exits \
        with that error's code after writing the rest.
        """)

    @Argument(help: "The target's name in dr.yml.") var target: String?
    @Flag(name: .long, help: "Every target in the config.") var all = false
    @Option(name: .long, help: "With --output prometheus: write to this file atomically (e.g. /var/lib/node_exporter/textfile/dr_status.prom) instead of stdout.") var textfile: String?
    @Option(name: .customLong("history-dir"), help: "The drill history, for the last drill success (default: STATE/drills).") var historyDir: String?
    @OptionGroup var config: ConfigOption
    @OptionGroup var output: OutputOptions<StatusFormats>
    @OptionGroup var stateOptions: StateOptions

    /// Text lists at most this many snapshots per region (JSON has them all).
    static let shown = 10

    func validate() throws {
        if (target == nil) == !all { throw ValidationError("Give a TARGET or --all (not both).") }
        if textfile != nil && output.format != .prometheus { throw ValidationError("--textfile is for --output prometheus.") }
        if let textfile, !textfile.hasSuffix(".prom") {
            throw ValidationError("--textfile \(textfile) must end in .prom: node_exporter's textfile collector reads only such files.")
        }
    }

    func run() async throws {
        let loaded = try config.load()
        let targets = try target.map { [try loaded.target(named: $0)] } ?? loaded.targets
        if targets.isEmpty { throw DRError(.invalidConfig, "\(loaded.file) names no targets; there is nothing to report.") }
        let context = CommandContext.make(config: loaded)
        if output.format == .prometheus { return try await prometheus(targets, context: context) }
        var statuses: [TargetStatus] = []
        for target in targets { statuses.append(try await Providers.make(for: target, context: context).status()) }
        WaitProgressReporter.finish()
        if output.format == .json {
            if all { try printJSON(["targets": statuses]) } else { try printJSON(statuses[0]) }
        } else {
            Terminal.writeStdout(statuses.map(Self.text).joined(separator: "\n\n") + "\n")
        }
    }

    /// Every target's figures; a target that fails is reported and marked down, the others still written.
    private func prometheus(_ targets: [Target], context: ProviderContext) async throws {
        let history = DrillHistory(directory: historyDir.map(DrillRunCommand.absolute) ?? stateOptions.state.root + "/drills")
        var outcomes: [StatusMetrics.Outcome] = []
        var firstError: DRError?
        for target in targets {
            do {
                let status = try await Providers.make(for: target, context: context).status()
                outcomes.append(.read(StatusReading(status: status, target: target, lastDrillSuccess: history.lastSuccess(target.name))))
            } catch {
                let failure = error as? DRError ?? DRError(.problemFound, "\(error)")
                Terminal.error("\(target.name): \(failure.message(in: Main.vocabulary(for: self)))")
                outcomes.append(.failed(target: target.name, provider: target.providerName))
                firstError = firstError ?? DRError(failure.category, "")
            }
        }
        let text = StatusMetrics.text(outcomes)
        if let textfile {
            let path = DrillRunCommand.absolute(textfile)
            do {
                try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
                try FileOps.writeAtomically(Data(text.utf8), to: path)
            } catch {
                throw DRError(.storage, "Cannot write the metrics to \(path) (\(error)). Check that this user may write its folder.")
            }
        } else {
            Terminal.writeStdout(text)
        }
        if let firstError { throw firstError }
    }

    static func text(_ s: TargetStatus) -> String {
        var lines = ["\(s.target) (provider \(s.provider)), checked \(Human.time(s.checkedAt)): \(s.state)"]
        lines.append("snapshots: \(s.snapshots.count)\(s.snapshots.count > shown ? " (newest \(shown) shown)" : "")")
        for b in s.snapshots.prefix(shown) {
            lines.append("  \(b.id)  \(b.kind)  \(Human.time(b.createdAt))  age \(DurationText.format(b.ageSeconds))  \(Human.bytes(b.sizeBytes))")
        }
        if !s.drSnapshots.isEmpty {
            lines.append("DR copies: \(s.drSnapshots.count)\(s.drSnapshots.count > shown ? " (newest \(shown) shown)" : "")")
            for b in s.drSnapshots.prefix(shown) { lines.append("  \(b.id)  age \(DurationText.format(b.ageSeconds))") }
        }
        lines.append("restorable window: \(s.restorableWindow.map(\.description) ?? "none")")
        lines.append("data-loss exposure: \(s.exposureSeconds.map(DurationText.format) ?? "unknown")")
        if let cache = s.cache {
            lines.append("cache \(cache.replicationGroup): newest snapshot \(cache.newestSnapshot ?? "none")\(cache.newestSnapshotAt.map { " (\(Human.time($0)))" } ?? "")")
        }
        if !s.restores.isEmpty {
            lines.append("restores: \(s.restores.count)")
            for r in s.restores { lines.append("  \(r.name)  \(r.state)\(r.tags["dr:restore-point"].map { "  \($0)" } ?? "")") }
        }
        lines += Human.facts(s.display, indent: "")
        for w in s.warnings { lines.append("warning: \(w)") }
        return lines.joined(separator: "\n")
    }
}
