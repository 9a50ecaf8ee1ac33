import ArgumentParser
import DRCore
import DRProcedures

/// `dr restore TARGET --point-in-time T | --latest-restorable | --from-snapshot ID --as NAME [--plan]`.
struct RestoreCommand: AsyncParsableCommand, FlagWords {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore to a point in time, the latest restorable time, or a snapshot, as a new server.",
        discussion: "A re-run for the same point finishes or reports the restore it made (adopted: true); a name taken by anything else is refused before any change.")

    static let flags: [Parameter: String] = [.time: "--point-in-time", .snapshot: "--from-snapshot", .securityGroups: "--security-group",
                                             .multiAZ: "--[no-]multi-az"]

    @Argument(help: "The target's name in dr.yml.") var target: String
    @Option(name: .customLong("point-in-time"), help: "RFC 3339 time with a zone, e.g. 2026-11-20T12:00:00Z.") var pointInTime: String?
    @Flag(name: .customLong("latest-restorable"), help: "Restore everything archived.") var latest = false
    @Option(name: .customLong("from-snapshot"), help: "A snapshot id, or latest (restores to the end of that backup).") var fromSnapshot: String?
    @Option(name: .customLong("as"), help: "The new server's name.") var name: String
    @Flag(name: .customLong("from-dr"), help: "Restore from the DR copy (rds: the DR region; postgres: dr_repository).") var fromDR = false
    @Option(help: "rds: restore a snapshot in this region (e.g. the DR region, for a region failover).") var region: String?
    @Option(name: .customLong("instance-class"), help: "rds: instance class (default: the source's).") var instanceClass: String?
    @Option(name: .customLong("subnet-group"), help: "rds: DB subnet group (default: the source's).") var subnetGroup: String?
    @Option(name: .customLong("security-group"), help: "rds: VPC security group id, repeatable (default: the source's).") var securityGroups: [String] = []
    @Option(name: .customLong("parameter-group"), help: "rds: DB parameter group (default: the source's).") var parameterGroup: String?
    @Option(help: "rds: the port (default: the source's).") var port: Int?
    @Flag(name: .customLong("multi-az"), inversion: .prefixedNo, help: "rds: Multi-AZ or a single-AZ instance (default: as the source).") var multiAZ: Bool?
    @Option(name: .customLong("kms-key-id"), help: "rds, Aurora clusters: the restored cluster's KMS key (instances keep the snapshot's).") var kmsKeyID: String?
    @OptionGroup var wait: WaitOptions
    @OptionGroup var planOption: PlanOption
    @OptionGroup var config: ConfigOption
    @OptionGroup var output: OutputOptions<TextOrJSON>

    func validate() throws {
        let chosen = [pointInTime != nil, latest, fromSnapshot != nil].filter { $0 }.count
        guard chosen == 1 else { throw ValidationError("Say what to restore to: exactly one of --point-in-time T, --latest-restorable or --from-snapshot ID.") }
        if let pointInTime, RFC3339.parse(pointInTime) == nil {
            throw ValidationError("--point-in-time \(pointInTime) is not an RFC 3339 time with a zone; write it like 2026-11-20T12:00:00Z.")
        }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be between 1 and 65535.") }
    }

    var request: RestoreRequest {
        let point: RestorePoint
        if let pointInTime, let t = RFC3339.parse(pointInTime) { point = .pointInTime(t) }
        else if let fromSnapshot { point = .snapshot(fromSnapshot) }
        else { point = .latestRestorable }
        let overrides = RDSRestoreOverrides(instanceClass: instanceClass, subnetGroup: subnetGroup,
                                            securityGroups: securityGroups.isEmpty ? nil : securityGroups, parameterGroup: parameterGroup,
                                            port: port, multiAZ: multiAZ, kmsKeyID: kmsKeyID)
        return RestoreRequest(point: point, name: name, fromDR: fromDR, region: region, rds: overrides)
    }

    func run() async throws {
        let provider = try CommandContext.provider(target, config: try config.load(), wait: wait)
        if planOption.plan { return try PlanReport.emit(try await provider.plan(.restore(request)).actions, target: target, output: output) }
        let request = self.request
        let result = try await CommandContext.changing(provider, "dr restore \(target) --as \(name)") { try await provider.restore(request) }
        try output.emit(result) {
            var lines = ["\(result.adopted ? "Found the restore" : "Restored") \(result.target) as \(result.name) from \(result.snapshot.isEmpty ? result.display["restored_from"] ?? "" : result.snapshot)\(result.adopted ? " (made earlier for the same point)" : "").",
                         "  conninfo: \(result.conninfo.isEmpty ? "(not yet known: --no-wait)" : result.conninfo)",
                         "  point: \(result.point)",
                         "  target time: \(result.requestedTime.map { RFC3339.format($0, fractional: true) } ?? "latest restorable")",
                         "  last replayed commit: \(Human.time(result.recoveredTo))"]
            if let endpoint = result.endpoint { lines.insert("  endpoint: \(endpoint)", at: 1) }
            if let region = result.region { lines.append("  region: \(region)") }
            if let writer = result.writerInstance { lines.append("  writer instance: \(writer)\(result.writerCreated == true ? " (created)" : "")") }
            lines += Human.facts(result.display)
            lines.append("  phases: " + result.phases.map { "\($0.name) \(DurationText.format($0.seconds))" }.joined(separator: ", ")
                         + "; total \(DurationText.format(result.totalSeconds))")
            return lines.joined(separator: "\n")
        }
    }
}
