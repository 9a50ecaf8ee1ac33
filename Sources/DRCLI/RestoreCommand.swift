import ArgumentParser
import DRCore
import DRProcedures

/// `dr restore TARGET --point-in-time T | --latest-restorable | --from-snapshot ID --as NAME`.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore to a point in time, the latest restorable time, or a snapshot, as a new server.")

    @Argument(help: "The target's name in dr.yml.") var target: String
    @Option(name: .customLong("point-in-time"), help: "RFC 3339 time with a zone, e.g. 2026-11-20T12:00:00Z.") var pointInTime: String?
    @Flag(name: .customLong("latest-restorable"), help: "Restore everything archived.") var latest = false
    @Option(name: .customLong("from-snapshot"), help: "A snapshot id, or latest (restores to the end of that backup).") var fromSnapshot: String?
    @Option(name: .customLong("as"), help: "The new server's name.") var name: String
    @Flag(name: .customLong("from-dr"), help: "Restore from the DR copy (postgres: dr_repository).") var fromDR = false
    @Option(help: "rds: restore a snapshot in this region (e.g. the DR region, for a region failover).") var region: String?
    @Option(name: .customLong("instance-class"), help: "rds: instance class (default: the source's).") var instanceClass: String?
    @Option(name: .customLong("subnet-group"), help: "rds: DB subnet group (default: the source's).") var subnetGroup: String?
    @Option(name: .customLong("security-group"), help: "rds: VPC security group id, repeatable (default: the source's).") var securityGroups: [String] = []
    @Option(name: .customLong("parameter-group"), help: "rds: DB parameter group (default: the source's).") var parameterGroup: String?
    @Flag(name: .customLong("no-multi-az"), help: "rds: a single-AZ instance even if the source is Multi-AZ.") var noMultiAZ = false
    @OptionGroup var wait: WaitOptions
    @OptionGroup var options: TargetCommandOptions

    func validate() throws {
        let chosen = [pointInTime != nil, latest, fromSnapshot != nil].filter { $0 }.count
        guard chosen == 1 else { throw ValidationError("Say what to restore to: exactly one of --point-in-time T, --latest-restorable or --from-snapshot ID.") }
        if let pointInTime, RFC3339.parse(pointInTime) == nil {
            throw ValidationError("--point-in-time \(pointInTime) is not an RFC 3339 time with a zone; write it like 2026-11-20T12:00:00Z.")
        }
    }

    func run() async throws {
        let point: RestorePoint
        if let pointInTime, let t = RFC3339.parse(pointInTime) { point = .pointInTime(t) }
        else if let fromSnapshot { point = .snapshot(fromSnapshot) }
        else { point = .latestRestorable }
        let provider = try options.provider(target, wait: wait)
        var overrides: [String: String] = [:]
        overrides["region"] = region
        overrides["instance-class"] = instanceClass
        overrides["subnet-group"] = subnetGroup
        overrides["security-groups"] = securityGroups.isEmpty ? nil : securityGroups.joined(separator: ",")
        overrides["parameter-group"] = parameterGroup
        overrides["no-multi-az"] = noMultiAZ ? "true" : nil
        let result = try await provider.restore(RestoreRequest(point: point, name: name, fromDR: fromDR, options: overrides))
        let isRDS = provider is RDSProvider
        try options.emit(result) {
            var lines = ["Restored \(result.target) as \(result.name) from \(result.snapshot.isEmpty ? result.details["restored_from"] ?? "" : result.snapshot).",
                         "  \(isRDS ? "endpoint" : "conninfo"): \(result.endpoint.isEmpty ? "(not yet known: --no-wait)" : result.endpoint)",
                         "  target time: \(result.requestedTime.map { RFC3339.format($0, fractional: true) } ?? "latest restorable")",
                         "  last replayed commit: \(Human.time(result.recoveredTo))"]
            if isRDS { for (k, v) in result.details.sorted(by: { $0.key < $1.key }) { lines.append("  \(k): \(v)") } }
            lines.append("  phases: " + result.phases.map { "\($0.name) \(DurationText.format($0.seconds))" }.joined(separator: ", ")
                         + "; total \(DurationText.format(result.totalSeconds))")
            return lines.joined(separator: "\n")
        }
    }
}
