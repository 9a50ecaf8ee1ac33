import ArgumentParser
import DRCore
import DRProcedures

/// `dr status TARGET`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Snapshots and their ages, the restorable window, the current data-loss exposure, and the target's restores.")

    @Argument(help: "The target's name in dr.yml.") var target: String
    @OptionGroup var config: ConfigOption
    @OptionGroup var output: OutputOptions<TextOrJSON>

    /// Text lists at most this many snapshots per region (JSON has them all).
    static let shown = 10

    func run() async throws {
        let s = try await CommandContext.provider(target, config: try config.load()).status()
        try output.emit(s) {
            var lines = ["\(s.target) (provider \(s.provider)), checked \(Human.time(s.checkedAt)): \(s.state)"]
            lines.append("snapshots: \(s.snapshots.count)\(s.snapshots.count > Self.shown ? " (newest \(Self.shown) shown)" : "")")
            for b in s.snapshots.prefix(Self.shown) {
                lines.append("  \(b.id)  \(b.kind)  \(Human.time(b.createdAt))  age \(DurationText.format(b.ageSeconds))  \(Human.bytes(b.sizeBytes))")
            }
            if !s.drSnapshots.isEmpty {
                lines.append("DR copies: \(s.drSnapshots.count)\(s.drSnapshots.count > Self.shown ? " (newest \(Self.shown) shown)" : "")")
                for b in s.drSnapshots.prefix(Self.shown) { lines.append("  \(b.id)  age \(DurationText.format(b.ageSeconds))") }
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
}
