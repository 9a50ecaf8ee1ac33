import ArgumentParser
import DRProcedures

/// `dr snapshot TARGET [--weekly]`.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Take a snapshot (rds: a manual DB snapshot, plus the cache's; postgres: a base backup) and apply retention.")

    @Argument(help: "The target's name in dr.yml.") var target: String
    @Flag(help: "Name it for the ISO week: a second run in the same week makes nothing new.") var weekly = false
    @Option(name: .customLong("tag"), help: "k=v, repeatable (rds).") var tags: [String] = []
    @OptionGroup var wait: WaitOptions
    @OptionGroup var options: TargetCommandOptions

    func run() async throws {
        var tagMap: [String: String] = [:]
        for tag in tags {
            let parts = tag.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--tag needs k=v, not \(tag).") }
            tagMap[String(parts[0])] = String(parts[1])
        }
        let result = try await options.provider(target, wait: wait).snapshot(SnapshotRequest(weekly: weekly, tags: tagMap))
        try options.emit(result) {
            var lines = [result.created ? "Snapshot \(result.id) of \(result.target) taken (\(Human.bytes(result.sizeBytes)), \(result.kind))."
                                        : "Snapshot \(result.id) of \(result.target) already exists for this week; nothing new was taken."]
            lines.append("  finished: \(Human.time(result.finishedAt))")
            for (k, v) in result.details.sorted(by: { $0.key < $1.key }) { lines.append("  \(k): \(v)") }
            if !result.deleted.isEmpty { lines.append("  retention removed: \(result.deleted.joined(separator: ", "))") }
            return lines.joined(separator: "\n")
        }
    }
}
