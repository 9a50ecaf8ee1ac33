import ArgumentParser
import DRCore
import DRProcedures

/// `dr snapshot TARGET [--weekly] [--tag k=v]... [--plan]`.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Take a snapshot (rds: a manual DB snapshot, plus the cache's; postgres: a base backup) and apply retention.")

    @Argument(help: "The target's name in dr.yml.") var target: String
    @Flag(help: "Name it for the ISO week: a second run in the same week makes nothing new.") var weekly = false
    @Option(name: .customLong("tag"), help: "k=v, repeatable (rds; pgbackrest: annotations).") var tags: [String] = []
    @Option(name: .customLong("type"), help: "pgbackrest: the backup type, full, diff or incr (default incr; --weekly: full).") var backupType: String?
    @OptionGroup var wait: WaitOptions
    @OptionGroup var planOption: PlanOption
    @OptionGroup var config: ConfigOption
    @OptionGroup var output: OutputOptions<TextOrJSON>

    func validate() throws {
        for tag in tags where tag.split(separator: "=", maxSplits: 1).count != 2 { throw ValidationError("--tag needs k=v, not \(tag).") }
    }

    func run() async throws {
        var tagMap: [String: String] = [:]
        for tag in tags {
            let parts = tag.split(separator: "=", maxSplits: 1)
            tagMap[String(parts[0])] = String(parts[1])
        }
        let provider = try CommandContext.provider(target, config: try config.load(), wait: wait)
        let request = SnapshotRequest(weekly: weekly, tags: tagMap, backupType: backupType)
        if planOption.plan { return try PlanReport.emit(try await provider.plan(.snapshot(request)).actions, target: target, output: output) }
        let result = try await CommandContext.changing(provider, "dr snapshot \(target)") { try await provider.snapshot(request) }
        try output.emit(result) {
            var lines = [result.created ? "Snapshot \(result.id) of \(result.target) taken (\(Human.bytes(result.sizeBytes)), \(result.kind))."
                                        : "Snapshot \(result.id) of \(result.target) already exists for this week; nothing new was taken."]
            lines.append("  started: \(Human.time(result.startedAt))")
            lines.append("  finished: \(Human.time(result.finishedAt))")
            lines.append("  location: \(result.location)")
            if let cache = result.cacheSnapshot { lines.append("  cache snapshot: \(cache)") }
            lines += Human.facts(result.display)
            if !result.deleted.isEmpty { lines.append("  retention removed: \(result.deleted.joined(separator: ", "))") }
            return lines.joined(separator: "\n")
        }
    }
}
