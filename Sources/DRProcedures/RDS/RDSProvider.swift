import DRAWS
import DRCore
import DRPostgres
import Foundation
import Logging

/// The RDS / ElastiCache / Route 53 backend of the recovery procedures. Each procedure lives in
/// its own file as a decision (read-only calls) and its execution; this type holds what they
/// share: the target's settings, the process's AWS session, how to wait, and the translation of
/// AWS failures into `DRError`s.
public struct RDSProvider: RecoveryProvider {
    public let target: Target
    public let settings: RDSTargetSettings
    let context: ProviderContext
    let session: RDSSession

    /// Checks the target's regions before anything is called (an unknown region is bad input).
    public init(target: Target, settings: RDSTargetSettings, context: ProviderContext) throws {
        try KnownRegions.check(settings.region, what: "region of target \(target.name)")
        if let dr = settings.drRegion { try KnownRegions.check(dr, what: "dr_region of target \(target.name)") }
        self.target = target
        self.settings = settings
        self.context = context
        self.session = try context.aws.session()
    }

    var wait: WaitSettings { context.wait }

    public var lockPath: String { context.lockDirectory + "/rds-\(settings.region)-\(resource).lock" }
    var logger: Logger { context.logger }
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
    func drRegion(_ explicit: String?, parameter: Parameter) throws -> String {
        guard let region = explicit ?? settings.drRegion else {
            throw DRError(.invalidConfig, "Target \(target.name) has no `dr_region:` and no \(param: parameter) was given, so dr does not know which region to use. Add `dr_region: us-west-2` (for example) to the target in dr.yml, or give \(param: parameter). Nothing was changed.")
        }
        try KnownRegions.check(region, parameter: parameter)
        return region
    }

    /// How to connect to a restored instance, never with a password: the user and database of
    /// the target's `database.conninfo` when it has one, pointed at `endpoint`.
    func conninfo(for endpoint: Endpoint?) -> String {
        guard let endpoint else { return "" }
        let base = "host=\(Conninfo.quote(endpoint.host)) port=\(endpoint.port)"
        guard case .conninfo(let known)? = settings.database else { return base }
        return Conninfo.replacing(known, with: [("host", endpoint.host), ("port", String(endpoint.port))],
                                  dropping: ["password", "hostaddr", "service"]) ?? base
    }

    // MARK: Procedures

    public func plan(_ request: ProcedureRequest) async throws -> ProcedurePlan {
        try await wait.bounded(clock: session.clock) {
            switch request {
            case .snapshot(let r):
                let d = try await RDSSnapshotProcedure(provider: self).decide(r)
                return ProcedurePlan(d.plan(self), snapshot: d.id)
            case .copy(let r):
                let d = try await RDSCopyProcedure(provider: self).decide(r)
                return ProcedurePlan(d.plan(self), snapshot: d.copyId)
            case .restore(let r):
                let d = try await RDSRestoreProcedure(provider: self).decide(r)
                return ProcedurePlan(d.plan(self), snapshot: d.snapshot)
            case .failover(let r): return ProcedurePlan(try await dns.decide(try dnsRequest(r)).plan)
            case .teardown(let r): return ProcedurePlan(try await teardownProcedure.decide(try teardownTarget(r)).plan(wait: wait))
            case .secretRepoint(let r): return ProcedurePlan(try await SecretRepoint(provider: self).decide(r).plan)
            case .cacheRestore(let r):
                let d = try await CacheRestore(provider: self).decide(r)
                return ProcedurePlan(d.plan, snapshot: d.snapshot)
            case .secretCopyTeardown(let r): return ProcedurePlan(try await StackTeardown(provider: self).decide(r, kind: .secretCopy).plan)
            case .cacheTeardown(let r): return ProcedurePlan(try await StackTeardown(provider: self).decide(r, kind: .cache).plan)
            case .appScale(let r): return ProcedurePlan(try await ECSScaleProcedure(provider: self).decide(r).plan)
            case .appRollback(let r): return ProcedurePlan(try await ECSRollbackProcedure(provider: self).decide(r).plan)
            }
        }
    }

    public func snapshot(_ request: SnapshotRequest) async throws -> SnapshotResult {
        try await wait.bounded(clock: session.clock) {
            let procedure = RDSSnapshotProcedure(provider: self)
            return try await procedure.execute(try await procedure.decide(request))
        }
    }

    public func copy(_ request: CopyRequest) async throws -> CopyResult {
        try await wait.bounded(clock: session.clock) {
            let procedure = RDSCopyProcedure(provider: self)
            return try await procedure.execute(try await procedure.decide(request))
        }
    }

    public func restore(_ request: RestoreRequest) async throws -> RestoreResult {
        try await wait.bounded(clock: session.clock) {
            let procedure = RDSRestoreProcedure(provider: self)
            return try await procedure.execute(try await procedure.decide(request))
        }
    }

    /// Route 53: the target's `dns:` record (or the request's zone and record).
    public func failover(_ request: FailoverRequest) async throws -> FailoverResult {
        try await wait.bounded(clock: session.clock) { try await dns.execute(try await dns.decide(try dnsRequest(request))) }
    }

    public func failoverHistory(_ request: FailoverRequest) async throws -> [FailoverChange] {
        let r = try dnsRequest(request)
        return dns.history(zone: r.zone, record: r.record)
    }

    var dns: Route53Failover { Route53Failover(session: session, context: context) }

    /// The Route 53 request: zone and record from the request, else the target's `dns:`.
    func dnsRequest(_ request: FailoverRequest) throws -> Route53Failover.Request {
        guard let zone = request.zone ?? settings.dns?.zone, let record = request.entry ?? settings.dns?.record else {
            throw DRError(.invalidParameter, "Target \(target.name) has no `dns: { zone, record }` in dr.yml, so dr does not know which Route 53 record clients use. Add it, or give \(param: .zone) and \(param: .record). Nothing was changed.")
        }
        return .init(zone: zone, record: record, to: request.to, ttl: request.ttl ?? settings.dns?.ttl, create: request.create, undo: request.undo)
    }

    var teardownProcedure: RDSTeardown { RDSTeardown(session: session, context: context, guardTarget: target) }

    /// Where the restore to tear down lives: the request's region, else whichever of the
    /// target's region and its `dr_region` holds it.
    func teardownTarget(_ request: TeardownRequest) throws -> RDSTeardown.Request {
        let regions = request.region.map { [$0] } ?? [settings.region] + (settings.drRegion.map { [$0] } ?? [])
        return RDSTeardown.Request(name: request.name, cluster: isCluster, regions: regions, upcoming: request.upcoming)
    }

    public func teardown(_ request: TeardownRequest) async throws -> TeardownResult {
        try await wait.bounded(clock: session.clock) {
            let procedure = teardownProcedure
            return try await procedure.execute(try await procedure.decide(try teardownTarget(request)))
        }
    }

    public func appScale(_ request: AppScaleRequest) async throws -> AppScaleResult {
        try await wait.bounded(clock: session.clock) {
            let procedure = try ECSScaleProcedure(provider: self)
            return try await procedure.execute(try await procedure.decide(request))
        }
    }

    public func appRollback(_ request: AppRollbackRequest) async throws -> AppRollbackResult {
        try await wait.bounded(clock: session.clock) {
            let procedure = try ECSRollbackProcedure(provider: self)
            return try await procedure.execute(try await procedure.decide(request))
        }
    }

    public func status() async throws -> TargetStatus {
        try await wait.bounded(clock: session.clock) { try await RDSStatusReport(provider: self).run() }
    }

    /// DB instances and clusters in the target's region and DR region that dr restored from this target (by their tags).
    public func restoredResources() async throws -> [RestoredResource] {
        try await wait.bounded(clock: session.clock) {
            var found: [RestoredResource] = []
            for region in [settings.region] + (settings.drRegion.map { [$0] } ?? []) {
                let rds = try session.rds(region)
                for instance in try await rds.describeAllDBInstances() {
                    let tags = try await rds.tags(described: instance.tags, arn: instance.arn)
                    guard DRTags.isRestore(tags, target: target.name) else { continue }
                    var map = Dictionary(tags.map { ($0.key, $0.value) }) { _, last in last }
                    map["dr:region"] = region
                    found.append(RestoredResource(name: instance.identifier, state: instance.status ?? "unknown", tags: map))
                }
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

    public func sourceConninfo() async throws -> String { try await databaseConninfo() }

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
