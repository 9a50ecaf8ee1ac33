import ArgumentParser
import DRCore
import DRProcedures

/// `dr copy TARGET`.
struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy snapshots to the DR location (postgres: backups and WAL to dr_repository, checksums verified).")

    @Argument(help: "The target's name in dr.yml.") var target: String
    @Option(help: "One snapshot id (default: everything not yet copied).") var snapshot: String?
    @Option(name: .customLong("to-region"), help: "rds: the region to copy to.") var toRegion: String?
    @OptionGroup var options: TargetCommandOptions

    func run() async throws {
        let result = try await options.provider(target).copy(CopyRequest(snapshot: snapshot, toRegion: toRegion))
        try options.emit(result) {
            "Copied \(result.copied.count) item(s) (\(Human.bytes(result.bytesCopied))) to \(result.destination) in \(DurationText.format(result.seconds)); \(result.alreadyPresent) were already there."
        }
    }
}
