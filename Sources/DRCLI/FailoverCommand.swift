import ArgumentParser
import DRCore
import DRProcedures

/// `dr failover TARGET --to X | --undo | --history` (the target's failover entry: rds its Route 53
/// record, postgres its pg_service.conf entry) and `dr failover --zone ZONE --record NAME --to HOST`
/// (a Route 53 record of no target).
struct FailoverCommand: AsyncParsableCommand, FlagWords {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Point clients at a restored server: a target's failover entry (rds: its dns: record; postgres: its service-file entry), or a Route 53 record (--zone/--record).",
        discussion: "Every change is kept in the entry's history (--history). Running it again with the same --to changes nothing; --undo returns to the value before the last change. Route 53 changes are waited for until INSYNC.")

    static let flags: [Parameter: String] = [.record: "--record (postgres: --service)"]

    @Argument(help: "The target whose failover entry to change (leave out with --zone/--record for a record of no target).") var target: String?
    @Option(help: "Where clients should go: a host name or address (rds), or a restored server's name (postgres).") var to: String?
    @Option(help: "postgres: the service entry (default: the target's `service:`, else its name).") var service: String?
    @Flag(help: "Put back the entry as it was before the last change dr made.") var undo = false
    @Flag(help: "Show the changes dr made to the entry, newest first.") var history = false
    @Option(help: "Route 53: the hosted zone, e.g. example.com (default: the target's dns.zone).") var zone: String?
    @Option(help: "Route 53: the record to repoint, e.g. db.example.com (default: the target's dns.record).") var record: String?
    @Option(help: "Route 53: the record's TTL in seconds (default: the record's, else 60).") var ttl: Int?
    @Flag(help: "Route 53: create the record if it does not exist.") var create = false
    @OptionGroup var wait: WaitOptions
    @OptionGroup var planOption: PlanOption
    @OptionGroup var config: ConfigOption
    @OptionGroup var output: OutputOptions<TextOrJSON>

    func validate() throws {
        guard [to != nil, undo, history].filter({ $0 }).count == 1 else {
            throw ValidationError("Give exactly one of --to DESTINATION, --undo or --history.")
        }
        if target == nil {
            guard zone != nil, record != nil else {
                throw ValidationError("Give a TARGET (its failover entry), or --zone ZONE --record NAME (a Route 53 record of no target).")
            }
            if service != nil { throw ValidationError("--service is a postgres target's entry: give the TARGET.") }
        }
        if service != nil, record != nil { throw ValidationError("Give --service (postgres) or --record (Route 53), not both.") }
    }

    func run() async throws {
        let entry = service ?? record
        if let target {
            let provider = try CommandContext.provider(target, config: try config.load(), wait: wait)
            let request = FailoverRequest(to: to, entry: entry, zone: zone, ttl: ttl, create: create, undo: undo)
            if history { return try emitHistory(try await provider.failoverHistory(request)) }
            if planOption.plan { return try PlanReport.emit(try await provider.plan(.failover(request)).actions, target: target, output: output) }
            return try emit(try await CommandContext.changing(provider, "dr failover \(target)") { try await provider.failover(request) })
        }
        let dns = try Providers.dns(context: CommandContext.make(config: try config.loadIfPresent(), wait: wait))
        if history { return try emitHistory(dns.history(zone: zone!, record: record!)) }
        let request = Route53Failover.Request(zone: zone!, record: record!, to: to, ttl: ttl, create: create, undo: undo)
        if planOption.plan { return try PlanReport.emit(try await dns.plan(request), target: nil, output: output) }
        try emit(try await dns.run(request))
    }

    func emit(_ result: FailoverResult) throws {
        try output.emit(result) {
            "\(result.changed ? "" : "Already pointing there; nothing was changed.\n")[\(result.entry)] in \(result.location) now: \(result.now)\n  previous: \(result.previous ?? "(none)")"
        }
    }

    func emitHistory(_ changes: [FailoverChange]) throws {
        try output.emit(["changes": changes]) {
            changes.isEmpty ? "dr has made no change to this entry (from this machine's state directory)."
                : changes.map { "\(RFC3339.format($0.at))  \($0.from ?? "(none)") → \($0.to)" }.joined(separator: "\n")
        }
    }
}
