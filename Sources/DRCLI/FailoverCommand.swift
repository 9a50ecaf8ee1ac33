import ArgumentParser
import DRCore
import DRProcedures

/// `dr failover TARGET --to NAME | --undo` (postgres) and
/// `dr failover --zone ZONE --record NAME --to HOST [--ttl S] [--create]` (Route 53).
struct FailoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Point clients at a restored server: a Route 53 record (--zone/--record), or for postgres targets the pg_service.conf entry.",
        discussion: "Route 53: upserts the record, waits until the change is INSYNC and prints the previous value; undo with --to PREVIOUS.")

    @Argument(help: "postgres: the target's name in dr.yml (not used with --zone).") var target: String?
    @Option(help: "Where clients should go: a host name or address (Route 53), or a restored server (postgres).") var to: String?
    @Option(help: "postgres: the service entry (default: the target's `service:`, else its name).") var service: String?
    @Flag(help: "postgres: put back the entry as it was before the last failover.") var undo = false
    @Option(help: "Route 53: the hosted zone, e.g. example.com.") var zone: String?
    @Option(help: "Route 53: the record to repoint, e.g. db.example.com.") var record: String?
    @Option(help: "Route 53: the record's TTL in seconds (default: the record's, else 60).") var ttl: Int?
    @Flag(help: "Route 53: create the record if it does not exist.") var create = false
    @OptionGroup var wait: WaitOptions
    @OptionGroup var options: TargetCommandOptions

    func validate() throws {
        if zone != nil || record != nil {
            guard zone != nil, record != nil, to != nil else { throw ValidationError("Route 53 failover needs --zone ZONE, --record NAME and --to HOST.") }
            guard target == nil, !undo, service == nil else {
                throw ValidationError("--zone/--record repoint a Route 53 record and take no TARGET, --service or --undo; undo with --to PREVIOUS.")
            }
        } else {
            guard target != nil else { throw ValidationError("Give --zone ZONE --record NAME --to HOST (Route 53), or a postgres TARGET with --to NAME or --undo.") }
            guard (to != nil) != undo else { throw ValidationError("Give exactly one of --to NAME or --undo.") }
        }
    }

    func run() async throws {
        let result: FailoverResult
        if let zone, let record, let to {
            let session = try RDSSession.standard(logger: ProgressLog.logger())
            result = try await Route53Failover(session: session, wait: wait.settings, logger: ProgressLog.logger())
                .run(.init(zone: zone, record: record, to: to, ttl: ttl, create: create))
            WaitProgressReporter.finish()
        } else {
            result = try await options.provider(target!, wait: wait).failover(FailoverRequest(to: to, entry: service, undo: undo))
        }
        try options.emit(result) {
            "[\(result.entry)] in \(result.location) now: \(result.now)\n  previous: \(result.previous ?? "(none)")"
        }
    }
}
