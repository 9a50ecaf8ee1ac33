import ArgumentParser
import DRCore
import DRProcedures

/// `dr teardown NAME [--target T] [--region R]` (a target's restore) and
/// `dr teardown --instance ID | --cluster ID [--region R]` (an RDS restore by its identifier).
struct TeardownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teardown",
        abstract: "Remove a restored server, DB instance or Aurora DB cluster that dr made; anything else, and anything serving production, is refused (exit 2).")

    @Argument(help: "The restore's name (the --as of dr restore).") var name: String?
    @Option(help: "The target it was restored from (default: the one target that has a restore of that name).") var target: String?
    @Option(help: "rds: the DB instance to delete, by identifier (it must carry dr's restore tags).") var instance: String?
    @Option(help: "rds: the Aurora DB cluster to delete with its instances (each must carry dr's restore tags).") var cluster: String?
    @Option(help: "rds: the region (default: the target's region and dr_region; with --instance/--cluster: AWS_REGION / the profile's).") var region: String?
    @OptionGroup var wait: WaitOptions
    @OptionGroup var planOption: PlanOption
    @OptionGroup var config: ConfigOption
    @OptionGroup var output: OutputOptions<TextOrJSON>

    func validate() throws {
        guard [name != nil, instance != nil, cluster != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("Give exactly one of a restore's NAME, --instance ID or --cluster ID (rds).")
        }
        if target != nil, name == nil { throw ValidationError("--target goes with a restore's NAME; --instance and --cluster name an RDS resource directly.") }
    }

    func run() async throws {
        if let id = instance ?? cluster {
            let loaded = try config.loadIfPresent()
            let teardown = try Providers.rdsTeardown(context: CommandContext.make(config: loaded, wait: wait))
            let request = try teardown.request(name: id, cluster: cluster != nil, region: region)
            if planOption.plan { return try PlanReport.emit(try await teardown.plan(request), target: nil, output: output) }
            return try emit(try await teardown.run(request), noun: cluster != nil ? "DB cluster" : "DB instance")
        }
        let name = self.name!
        let loaded = try config.load()
        let context = CommandContext.make(config: loaded, wait: wait)
        let provider: RecoveryProvider
        if let target {
            provider = try Providers.make(for: try loaded.target(named: target), context: context)
        } else {
            var owners: [RecoveryProvider] = []
            for t in loaded.targets {
                let p = try Providers.make(for: t, context: context)
                if try await p.restoredResources().contains(where: { $0.name == name }) { owners.append(p) }
            }
            guard owners.count == 1 else {
                throw DRError(.notFound, owners.isEmpty
                    ? "No target in \(loaded.file) has a restore named \"\(name)\"; dr only tears down what it restored. Nothing was changed."
                    : "Several targets have a restore named \"\(name)\" (\(owners.map(\.target.name).joined(separator: ", "))); say which with --target. Nothing was changed.")
            }
            provider = owners[0]
        }
        let request = TeardownRequest(name: name, region: region)
        if planOption.plan { return try PlanReport.emit(try await provider.plan(.teardown(request)).actions, target: provider.target.name, output: output) }
        try emit(try await CommandContext.changing(provider, "dr teardown \(name)") { try await provider.teardown(request) }, noun: "restore")
    }

    func emit(_ result: TeardownResult, noun: String) throws {
        try output.emit(result) {
            let instances = result.instances.map { $0.isEmpty ? "; it had no instances" : "; its instances \($0.joined(separator: ",")) went first" } ?? ""
            let place = result.region.map { " in \($0)" } ?? ""
            return result.removed
                ? "Deleted \(noun) \(result.name)\(place) (restored from \(result.restoredFrom ?? "?"), no final snapshot\(instances))."
                : "\(noun.prefix(1).uppercased() + noun.dropFirst()) \(result.name) is already gone\(place); nothing to tear down."
        }
    }
}
