import ArgumentParser
import DRCore
import DRProcedures

/// `dr app scale TARGET --region R --desired N` and `dr app rollback TARGET [--to REVISION]`:
/// the application tier of an rds target (its `app:` ECS service).
struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app",
        abstract: "The application tier of a target (its app: ECS service): scale it in a region, roll back a bad deploy.",
        subcommands: [AppScaleCommand.self, AppRollbackCommand.self])
}

/// `dr app scale TARGET --region R --desired N [--timeout S] [--no-wait] [--plan]`.
struct AppScaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Set how many tasks the target's ECS service runs in a region, and wait until it is stable.",
        discussion: "In the target's region it is app.cluster/app.service; in its dr_region, app.dr_cluster/app.dr_service. Stable means one PRIMARY deployment, all its tasks running and its rollout completed. Running it again with the same --desired changes nothing. The count it replaced is printed (and kept in dr's state directory) to scale back to.")

    @Argument(help: "The target's name in dr.yml (an rds target with app:).") var target: String
    @Option(help: "The region whose service to scale: the target's region or its dr_region.") var region: String
    @Option(help: "How many tasks the service should run.") var desired: Int
    @OptionGroup var wait: WaitOptions
    @OptionGroup var planOption: PlanOption
    @OptionGroup var config: ConfigOption
    @OptionGroup var output: OutputOptions<TextOrJSON>

    func validate() throws {
        guard desired >= 0 else { throw ValidationError("--desired must be 0 or more tasks.") }
    }

    func run() async throws {
        let provider = try CommandContext.provider(target, config: try config.load(), wait: wait)
        let request = AppScaleRequest(region: region, desired: desired)
        if planOption.plan { return try PlanReport.emit(try await provider.plan(.appScale(request)).actions, target: target, output: output) }
        let r = try await CommandContext.changing(provider, "dr app scale \(target)") { try await provider.appScale(request) }
        try output.emit(r) {
            let place = "ECS service \(r.service) (cluster \(r.cluster), \(r.region))"
            var lines = [r.changed ? "Scaled \(place) from \(r.previousDesired) to \(r.desired) task\(r.desired == 1 ? "" : "s")."
                                   : "\(place) already wanted \(r.desired) task\(r.desired == 1 ? "" : "s"); nothing was changed."]
            lines.append(r.waited ? "  stable: \(r.running)/\(r.desired) running (\(DurationText.format(r.seconds)))"
                                  : "  not waited for (--no-wait): \(r.running)/\(r.desired) running")
            if let definition = r.taskDefinition { lines.append("  task definition: \(definition)") }
            if r.previousDesired != r.desired {
                lines.append("  to undo: dr app scale \(r.target) --region \(r.region) --desired \(r.previousDesired)")
            }
            return lines.joined(separator: "\n")
        }
    }
}

/// `dr app rollback TARGET [--to REVISION] [--region R] [--timeout S] [--no-wait] [--plan]`.
struct AppRollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Roll the target's ECS service back to the previous task definition revision (or --to), and wait until it is stable.",
        discussion: "The previous revision is the newest ACTIVE one of the same family before the one the service runs, never one dr rolled back from. A revision of another family, an INACTIVE one, or none to go back to is refused (exit 2) before anything changes. Running it again changes nothing: the service already runs what dr rolled it back to.")

    @Argument(help: "The target's name in dr.yml (an rds target with app:).") var target: String
    @Option(help: "The revision to go back to: 6, family:6 or a task definition ARN (default: the previous one).") var to: String?
    @Option(help: "Where the service runs: the target's region (default) or its dr_region.") var region: String?
    @OptionGroup var wait: WaitOptions
    @OptionGroup var planOption: PlanOption
    @OptionGroup var config: ConfigOption
    @OptionGroup var output: OutputOptions<TextOrJSON>

    func run() async throws {
        let provider = try CommandContext.provider(target, config: try config.load(), wait: wait)
        let request = AppRollbackRequest(to: to, region: region)
        if planOption.plan { return try PlanReport.emit(try await provider.plan(.appRollback(request)).actions, target: target, output: output) }
        let r = try await CommandContext.changing(provider, "dr app rollback \(target)") { try await provider.appRollback(request) }
        try output.emit(r) {
            let place = "ECS service \(r.service) (cluster \(r.cluster), \(r.region))"
            var lines = [r.changed ? "Rolled back \(place) from \(r.replaced ?? "?") to \(r.taskDefinition)."
                                   : "\(place) already runs \(r.taskDefinition); nothing was changed."]
            lines.append(r.waited ? "  stable: \(r.running)/\(r.desired) running (\(DurationText.format(r.seconds)))"
                                  : "  not waited for (--no-wait): \(r.running)/\(r.desired) running")
            if let replaced = r.replaced { lines.append("  to undo: dr app rollback \(r.target) --to \(replaced)\(r.region == region ? " --region \(r.region)" : "")") }
            return lines.joined(separator: "\n")
        }
    }
}
