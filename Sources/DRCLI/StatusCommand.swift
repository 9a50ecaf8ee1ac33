import ArgumentParser
import DRCore
import DRProcedures

/// `dr status TARGET`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Snapshots and their ages, the restorable window and the current data-loss exposure.")

    @Argument(help: "The target's name in dr.yml.") var target: String
    @OptionGroup var options: TargetCommandOptions

    func run() async throws {
        let s = try await options.provider(target).status()
        try options.emit(s) {
            var lines = ["\(s.target) (provider \(s.provider)), checked \(Human.time(s.checkedAt))"]
            lines.append("snapshots: \(s.snapshots.count)")
            for b in s.snapshots { lines.append("  \(b.id)  \(b.kind)  \(Human.time(b.createdAt))  age \(DurationText.format(b.ageSeconds))  \(Human.bytes(b.sizeBytes))") }
            if !s.drSnapshots.isEmpty {
                lines.append("DR copies: \(s.drSnapshots.count)")
                for b in s.drSnapshots { lines.append("  \(b.id)  age \(DurationText.format(b.ageSeconds))") }
            }
            lines.append("restorable window: \(s.restorableWindow.map(\.description) ?? "none")")
            lines.append("data-loss exposure: \(s.exposureSeconds.map(DurationText.format) ?? "unknown")")
            for (k, v) in s.details.sorted(by: { $0.key < $1.key }) where !v.isEmpty { lines.append("\(k): \(v)") }
            for w in s.warnings { lines.append("warning: \(w)") }
            return lines.joined(separator: "\n")
        }
    }
}
