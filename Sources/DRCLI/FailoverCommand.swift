import ArgumentParser
import DRProcedures

/// `dr failover TARGET --to NAME | --undo`.
struct FailoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Point clients at a restored server (postgres: rewrite the pg_service.conf entry; the old one is kept for --undo).")

    @Argument(help: "The target's name in dr.yml.") var target: String
    @Option(help: "The restored server to point at.") var to: String?
    @Option(help: "The service entry (default: the target's `service:`, else its name).") var service: String?
    @Flag(help: "Put back the entry as it was before the last failover.") var undo = false
    @OptionGroup var options: TargetCommandOptions

    func validate() throws {
        guard (to != nil) != undo else { throw ValidationError("Give exactly one of --to NAME or --undo.") }
    }

    func run() async throws {
        let result = try await options.provider(target).failover(FailoverRequest(to: to, entry: service, undo: undo))
        try options.emit(result) {
            "[\(result.entry)] in \(result.location) now: \(result.now)\n  previous: \(result.previous ?? "(none)")"
        }
    }
}
