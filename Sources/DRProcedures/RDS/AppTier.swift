import DRAWS
import DRCore
import Foundation

/// The application tier of an rds target (`app:` in dr.yml): which ECS service a region means,
/// reading it with every refusal a scale or a rollback shares, waiting for it to be stable, and
/// where dr keeps the changes it made to it (for undo and for idempotent re-runs).
struct AppTier {
    let provider: RDSProvider
    let app: AppSettings

    /// One ECS service: the target's (in its region) or the DR region's.
    struct Location: Equatable {
        var region: String
        var cluster: String
        var service: String
        var isDR: Bool

        /// `service web in cluster prod (us-east-1)`, for plans and messages.
        var described: String { "ECS service \(service) in cluster \(cluster) (\(region))" }
        /// The dr.yml keys naming it, for fixes.
        var keys: String { isDR ? "app.dr_cluster and app.dr_service" : "app.cluster and app.service" }
    }

    init(provider: RDSProvider) throws {
        guard let app = provider.settings.app else { throw Self.noApplication(provider.target) }
        self.provider = provider
        self.app = app
    }

    /// The refusal of a target that names no application.
    static func noApplication(_ target: Target) -> DRError {
        if case .rds = target.provider {
            return DRError(.invalidConfig, "Target \(target.name) has no `app:` in dr.yml, so dr does not know which ECS service runs its application. Add `app: { cluster: CLUSTER, service: SERVICE }` to the target (and `dr_cluster`, `dr_service`, `desired` for its DR region). Nothing was changed.")
        }
        return DRError(.invalidParameter, "Target \(target.name) is a provider \(target.providerName) target: it has no application tier. The application procedures act on the ECS service of a provider rds target's `app:` block. Nothing was changed.")
    }

    /// The service `region` means: the target's region, or its `dr_region`; any other is refused.
    func location(_ region: String) throws -> Location {
        let settings = provider.settings, name = provider.target.name
        try KnownRegions.check(region, parameter: .region)
        if region == settings.region { return Location(region: region, cluster: app.cluster, service: app.service, isDR: false) }
        if region == settings.drRegion { return Location(region: region, cluster: app.drCluster, service: app.drService, isDR: true) }
        let dr = settings.drRegion.map { " nor its dr_region (\($0))" } ?? " (it has no dr_region)"
        throw DRError(.invalidParameter, "The \(param: .region) \(region) is neither the region of target \(name) (\(settings.region))\(dr); its application runs only there. Nothing was changed.")
    }

    /// The service a scale means: `region`, or the target's `dr_region` with `fromDR` (the two
    /// must agree when both are given).
    func location(region: String?, fromDR: Bool) throws -> Location {
        let settings = provider.settings, name = provider.target.name
        guard fromDR else {
            guard let region else {
                throw DRError(.invalidParameter, "Say where the application of target \(name) is to be scaled: give \(param: .region) (\(settings.region)\(settings.drRegion.map { " or \($0)" } ?? "")) or \(param: .fromDR). Nothing was changed.")
            }
            return try location(region)
        }
        guard let drRegion = settings.drRegion else {
            throw DRError(.invalidConfig, "Target \(name) has no `dr_region:` in dr.yml, so \(param: .fromDR) names no region. Add `dr_region:` (with `app.dr_cluster`/`app.dr_service` when the names differ there), or give \(param: .region). Nothing was changed.")
        }
        if let region, region != drRegion {
            throw DRError(.invalidParameter, "\(param: .region) \(region) and \(param: .fromDR) disagree: the dr_region of target \(name) is \(drRegion). Give one of them. Nothing was changed.")
        }
        return try location(drRegion)
    }

    func ecs(_ location: Location) throws -> ECSClient { try provider.session.ecs(location.region) }

    /// The service as it is now. Bad input (nothing changed) when its cluster or the service
    /// does not exist, or the service is being deleted.
    func read(_ location: Location) async throws -> ECSService {
        let service: ECSService?
        do {
            service = try await ecs(location).service(cluster: location.cluster, name: location.service)
        } catch let error as AWSError where error.code == "ClusterNotFoundException" {
            throw DRError(.notFound, "There is no ECS cluster \(location.cluster) in \(location.region) (\(error.code)). Check \(location.keys) of target \(provider.target.name) in dr.yml. Nothing was changed.")
        }
        guard let service else {
            throw DRError(.notFound, "There is no \(location.described) (ECS reports it MISSING). Check \(location.keys) of target \(provider.target.name) in dr.yml, or create the service. Nothing was changed.")
        }
        guard service.status == nil || service.status == "ACTIVE" else {
            throw DRError(.invalidParameter, "The \(location.described) is \(service.status ?? "?"): it is being deleted or was deleted, and cannot be changed. Nothing was changed.")
        }
        return service
    }

    /// Waits until the service is stable (`ServiceStability`), reporting progress; nil when the
    /// caller asked not to wait.
    func waitStable(_ location: Location) async throws -> ECSService? {
        var last: ECSService?
        let ecs = try ecs(location)
        try await provider.wait.run(.appDeployment) { timeout, progress in
            last = try await ecs.waitForServiceStable(cluster: location.cluster, service: location.service, timeout: timeout, progress: progress)
        }
        return last
    }

    /// The read-only call that shows the wait in a plan.
    func waitAction(_ location: Location, until: String) -> PlannedAction? {
        provider.wait.noWait ? nil : .read("wait until \(location.service) is stable: one PRIMARY deployment, \(until)", call: "ecs:DescribeServices")
    }

    /// What dr changed on the service, newest first (`desired` counts, or `task-definition` revisions).
    func history(_ location: Location, _ kind: String) -> FailoverLog {
        FailoverLog(directory: provider.context.stateDirectory,
                    key: "ecs/\(kind)/\(location.service)@\(location.cluster)@\(location.region)")
    }
}

extension Parameter {
    /// `app.scale`'s task count.
    public static let desired = Parameter("desired")
}
