import ArgumentParser
import DRCore
import DRProcedures

/// `dr copy TARGET`.
struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy snapshots to the DR location (postgres: backups and WAL to dr_repository, checksums verified).")

    @Argument(help: "The target's name in dr.yml.") var target: String
    @Option(help: "One snapshot id, or latest (rds default: latest finished by creation time; postgres default: everything not yet copied).") var snapshot: String?
    @Option(name: .customLong("to-region"), help: "rds: the region to copy to.") var toRegion: String?
    @OptionGroup var wait: WaitOptions
    @OptionGroup var options: TargetCommandOptions

    func run() async throws {
        let result = try await options.provider(target, wait: wait).copy(CopyRequest(snapshot: snapshot, toRegion: toRegion))
        try options.emit(result) {
            var lines = ["Copied \(result.copied.count) item(s) (\(Human.bytes(result.bytesCopied))) to \(result.destination) in \(DurationText.format(result.seconds)); \(result.alreadyPresent) were already there."]
            for (k, v) in result.details.sorted(by: { $0.key < $1.key }) { lines.append("  \(k): \(v)") }
            if !result.deleted.isEmpty { lines.append("  retention removed: \(result.deleted.joined(separator: ", "))") }
            return lines.joined(separator: "\n")
        }
    }
}
