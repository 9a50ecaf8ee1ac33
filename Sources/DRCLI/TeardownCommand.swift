import ArgumentParser
import DRCore
import DRProcedures

/// `dr teardown NAME [--target T]` (postgres) and `dr teardown --instance ID | --cluster ID [--region R]` (rds).
struct TeardownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teardown",
        abstract: "Remove a restored server, DB instance or Aurora DB cluster that dr made; anything else is refused (exit 2).")

    @Argument(help: "postgres: the restored server's name (the --as of dr restore).") var name: String?
    @Option(help: "The target it was restored from (default: the one postgres target that has it; rds: gives the region).") var target: String?
    @Option(help: "rds: the DB instance to delete (it must carry dr:managed=true and dr:restored-from).") var instance: String?
    @Option(help: "rds: the Aurora DB cluster to delete with its instances (each must carry dr:managed=true and dr:restored-from).") var cluster: String?
    @Option(help: "rds: the instance's or cluster's region (default: --target's region, else AWS_REGION / the profile's).") var region: String?
    @OptionGroup var wait: WaitOptions
    @OptionGroup var options: TargetCommandOptions

    func validate() throws {
        guard [name != nil, instance != nil, cluster != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("Give exactly one of a restored server NAME (postgres), --instance ID or --cluster ID (rds).")
        }
        if name != nil, region != nil { throw ValidationError("--region goes with --instance or --cluster (rds).") }
    }

    func run() async throws {
        if let instance {
            let result = try await rdsTeardown { try await $0.run(instance: instance, region: $1) }
            return try emit(result, noun: "DB instance")
        }
        if let cluster {
            let result = try await rdsTeardown { try await $0.run(cluster: cluster, region: $1) }
            return try emit(result, noun: "DB cluster")
        }
        let name = self.name!
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
        try options.emit(result) {
            result.removed ? "Removed the restored server \(result.name) (\(result.details["folder"] ?? ""))."
                           : "There is no restored server \(result.name) any more; nothing to tear down."
        }
    }

    /// The rds path: region from --region, else the target's, else the AWS configuration's.
    func rdsTeardown(_ run: (RDSTeardown, String) async throws -> TeardownResult) async throws -> TeardownResult {
        let session = try RDSSession.standard(logger: ProgressLog.logger())
        var targetRegion: String?
        if let target, case .rds(let settings) = try options.target(target).provider { targetRegion = settings.region }
        let chosen = try region ?? targetRegion ?? session.defaultRegion()
        return try await run(RDSTeardown(session: session, wait: wait.settings, logger: ProgressLog.logger()), chosen)
    }

    func emit(_ result: TeardownResult, noun: String) throws {
        try options.emit(result) {
            let instances = result.details["instances"].map { $0.isEmpty ? "; it had no instances" : "; its instances \($0) went first" } ?? ""
            return result.removed
                ? "Deleted \(noun) \(result.name) in \(result.details["region"] ?? "") (restored from \(result.details["restored_from"] ?? "?"), no final snapshot\(instances))."
                : "\(noun) \(result.name) does not exist in \(result.details["region"] ?? ""); nothing to tear down."
        }
    }
}
