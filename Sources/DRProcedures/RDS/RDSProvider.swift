import DRAWS
import DRCore
import Foundation
import Logging

/// The RDS / ElastiCache / Route 53 backend of the recovery procedures (issue 4). Each
/// procedure lives in its own file; this type holds what they share: the target's settings,
/// the AWS session, how to wait, and the translation of AWS failures into `DRError`s.
public struct RDSProvider: RecoveryProvider {
    public let target: Target
    public let settings: RDSTargetSettings
    public let session: RDSSession
    public var wait: WaitSettings
    let logger: Logger

    /// Checks the target's regions before anything is called (an unknown region is bad input).
    public init(target: Target, settings: RDSTargetSettings, session: RDSSession, wait: WaitSettings = WaitSettings(),
                logger: Logger = Logger(label: "dr")) throws {
        try KnownRegions.check(settings.region, what: "region of target \(target.name)")
        if let dr = settings.drRegion { try KnownRegions.check(dr, what: "dr_region of target \(target.name)") }
        self.target = target
        self.settings = settings
        self.session = session
        self.wait = wait
        self.logger = logger
    }

    var isCluster: Bool { if case .cluster = settings.resource { return true } else { return false } }

    /// The instance or cluster identifier.
    var resource: String {
        switch settings.resource {
        case .instance(let id), .cluster(let id): return id
        }
    }

    var resourceNoun: String { isCluster ? "DB cluster" : "DB instance" }

    func store(_ region: String) throws -> SnapshotStore { SnapshotStore(rds: try session.rds(region), cluster: isCluster) }

    /// The DR region: `explicit`, else the target's `dr_region`; bad input when neither is set.
    func drRegion(_ explicit: String?, option: String) throws -> String {
        guard let region = explicit ?? settings.drRegion else {
            throw DRError.badInput("Target \(target.name) has no `dr_region:` and no \(option) was given, so dr does not know which region to use. Add `dr_region: us-west-2` (for example) to the target in dr.yml, or pass \(option). Nothing was changed.")
        }
        try KnownRegions.check(region, what: option)
        return region
    }

    // MARK: Procedures

    public func snapshot(_ request: SnapshotRequest) async throws -> SnapshotResult {
        try await wait.bounded(clock: session.clock) { try await RDSSnapshotProcedure(provider: self).run(request) }
    }

    public func copy(_ request: CopyRequest) async throws -> CopyResult {
        try await wait.bounded(clock: session.clock) { try await RDSCopyProcedure(provider: self).run(request) }
    }

    public func restore(_ request: RestoreRequest) async throws -> RestoreResult {
        try await wait.bounded(clock: session.clock) { try await RDSRestoreProcedure(provider: self).run(request) }
    }

    /// Route 53 failover is not tied to a target: `dr failover --zone Z --record R --to HOST`.
    public func failover(_ request: FailoverRequest) async throws -> FailoverResult {
        throw DRError.badInput("For provider rds targets, failover repoints a Route 53 record: run `dr failover --zone ZONE --record NAME --to HOST` (no target). Nothing was changed.")
    }

    /// Route 53 records are read with `Route53Failover.currentValue(zone:record:)`: they belong to no target.
    public func currentFailoverValue(_ request: FailoverRequest) async throws -> String? {
        try await failover(request).now
    }

    /// DescribeDBInstances / DescribeDBClusters (and the tags) for the identifier in the region the restore would use.
    public func nameInUse(_ request: RestoreRequest) async throws -> String? {
        try await wait.bounded(clock: session.clock) {
            let procedure = RDSRestoreProcedure(provider: self)
            let region = try procedure.restoreRegion(request)
            if request.name == resource && region == settings.region { return "the source \(resourceNoun) \(resource) itself" }
            let rds = try session.rds(region)
            do {
                guard try await procedure.existingRestore(request.name, rds: rds) else { return nil }
                return request.adoptExisting ? nil : "a \(resourceNoun) in \(region) that dr restored from \(target.name) earlier"
            } catch let error as DRError where error.category == .badInput {
                if isCluster, try await rds.dbCluster(request.name) == nil {
                    return "DB instance \(AuroraWriter.identifier(ofCluster: request.name)) in \(region), the name the restored cluster's writer instance would take"
                }
                return "a \(resourceNoun) in \(region) that dr did not restore from \(target.name)"
            }
        }
    }

    public func teardown(_ request: TeardownRequest) async throws -> TeardownResult {
        try await wait.bounded(clock: session.clock) {
            let teardown = RDSTeardown(session: session, wait: wait, logger: logger)
            return isCluster ? try await teardown.run(cluster: request.name, region: settings.region)
                             : try await teardown.run(instance: request.name, region: settings.region)
        }
    }

    public func status() async throws -> TargetStatus {
        try await wait.bounded(clock: session.clock) { try await RDSStatusReport(provider: self).run() }
    }

    /// DB instances in the target's region that dr restored from this target (by their tags).
    public func restoredResources() async throws -> [RestoredResource] {
        try await wait.bounded(clock: session.clock) {
            let rds = try session.rds(settings.region)
            var found: [RestoredResource] = []
            for instance in try await rds.describeAllDBInstances() {
                let tags = try await rds.tags(described: instance.tags, arn: instance.arn)
                guard DRTags.value(DRTags.managed, in: tags) == "true", DRTags.value(DRTags.target, in: tags) == target.name,
                      DRTags.value(DRTags.restoredFrom, in: tags) != nil else { continue }
                found.append(RestoredResource(name: instance.identifier, state: instance.status ?? "unknown",
                                              tags: Dictionary(tags.map { ($0.key, $0.value) }) { _, last in last }))
            }
            return found
        }
    }

    /// The database's conninfo from the target's `database:` (a Secrets Manager secret or a
    /// conninfo), optionally pointed at another host (a restored instance). Holds the password:
    /// never print it; `Redact.conninfo` it for messages.
    public func databaseConninfo(host: String? = nil, port: Int? = nil) async throws -> String {
        try await wait.bounded(clock: session.clock) {
            try await DatabaseCredentials(session: session, region: settings.region).conninfo(settings.database, target: target.name,
                                                                                             host: host, port: port)
        }
    }

    /// AWS failures become the project's categories: a remote error after retries exits 3;
    /// credential and settings problems are bad input (exit 2).
    static func translatingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() }
        catch let error as AWSError { throw error.drError }
        catch let error as WaiterError { throw error.drError }
        catch let error as TimeBudgetExhausted { throw error.drError }
        catch let error as CredentialProviderError { throw DRError.badInput(error.description) }
        catch let error as NoCredentialsError { throw error.drError }
        catch let error as AWSConfigError { throw error.drError }
    }
}
