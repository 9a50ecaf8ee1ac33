import ArgumentParser
import DRCore
import DRProcedures

/// `dr copy TARGET [--snapshot ID|latest] [--to-region R] [--plan]`.
struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy snapshots to the DR location (rds: the DR region, re-encrypted; postgres: backups and WAL to dr_repository, checksums verified).")

    @Argument(help: "The target's name in dr.yml.") var target: String
    @Option(help: "One snapshot id, or latest (rds default: latest finished by creation time; postgres default: everything not yet copied).") var snapshot: String?
    @Option(name: .customLong("to-region"), help: "rds: the region to copy to (default: the target's dr_region).") var toRegion: String?
    @OptionGroup var wait: WaitOptions
    @OptionGroup var planOption: PlanOption
    @OptionGroup var config: ConfigOption
    @OptionGroup var output: OutputOptions<TextOrJSON>

    func run() async throws {
        let provider = try CommandContext.provider(target, config: try config.load(), wait: wait)
        let request = CopyRequest(snapshot: snapshot, toRegion: toRegion)
        if planOption.plan { return try PlanReport.emit(try await provider.plan(.copy(request)).actions, target: target, output: output) }
        let result = try await CommandContext.changing(provider, "dr copy \(target)") { try await provider.copy(request) }
        try output.emit(result) {
            var lines = ["Copied \(result.copied.count) item(s) (\(Human.bytes(result.bytesCopied))) to \(result.destination) in \(DurationText.format(result.seconds)); \(result.alreadyPresent) were already there."]
            if let copy = result.copy { lines.append("  copy: \(copy)") }
            lines += Human.facts(result.display)
            if !result.deleted.isEmpty { lines.append("  retention removed: \(result.deleted.joined(separator: ", "))") }
            return lines.joined(separator: "\n")
        }
    }
}
