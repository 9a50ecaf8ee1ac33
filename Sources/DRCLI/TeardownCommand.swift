import ArgumentParser
import DRCore
import DRProcedures

/// `dr teardown NAME [--target T]`.
struct TeardownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teardown",
        abstract: "Stop and remove a restored server that dr started; anything else is refused.")

    @Argument(help: "The restored server's name (the --as of dr restore).") var name: String
    @Option(help: "The target it was restored from (default: the one postgres target that has it).") var target: String?
    @OptionGroup var options: TargetCommandOptions

    func run() async throws {
        let config = try options.loadConfig()
        let targetName: String
        if let target {
            targetName = target
        } else {
            let owners = config.targets.compactMap { t -> String? in
                guard case .postgres(let s) = t.provider else { return nil }
                return SelfHostedProvider(target: t, settings: s, logger: ProgressLog.logger()).restoredServers()
                    .contains { $0.name == name } ? t.name : nil
            }
            guard owners.count == 1 else {
                throw DRError.badInput(owners.isEmpty
                    ? "No target in \(config.file) has a restored server named \"\(name)\"; dr only tears down servers it started. Nothing was changed."
                    : "Several targets have a restored server named \"\(name)\" (\(owners.joined(separator: ", "))); say which with --target. Nothing was changed.")
            }
            targetName = owners[0]
        }
        let result = try await options.provider(targetName).teardown(TeardownRequest(name: name))
        try options.emit(result) { "Removed the restored server \(result.name) (\(result.details["folder"] ?? ""))." }
    }
}
