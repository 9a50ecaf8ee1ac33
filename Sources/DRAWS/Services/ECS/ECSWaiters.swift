import Foundation

/// When an ECS service is stable, by the rules of the SDKs' `services-stable` waiter: the
/// service is ACTIVE, it has exactly one deployment, the PRIMARY one, and as many tasks running
/// as it wants. dr also waits for that deployment's rollout to be COMPLETED when ECS reports a
/// rollout state (a deployment whose tasks are all running may still be proving itself healthy),
/// and gives up at once on what will never become stable: a service that is MISSING, DRAINING or
/// INACTIVE, and a rollout the deployment circuit breaker marked FAILED.
public enum ServiceStability {
    public static func isStable(_ service: ECSService) -> Bool {
        guard service.status == "ACTIVE", service.deployments.count == 1, let primary = service.primaryDeployment else { return false }
        return service.runningCount == service.desiredCount && (primary.rolloutState == nil || primary.rolloutState == "COMPLETED")
    }

    /// Why the service will never become stable, or nil while it still may.
    public static func failure(_ service: ECSService?) -> String? {
        guard let service else { return "the service does not exist (MISSING)" }
        if let status = service.status, status == "DRAINING" || status == "INACTIVE" { return "the service is \(status)" }
        if let primary = service.primaryDeployment, primary.rolloutState == "FAILED" {
            return "its deployment failed" + (primary.rolloutStateReason.map { ": \($0)" } ?? "")
        }
        return nil
    }

    /// What a wait shows while it polls: `PRIMARY IN_PROGRESS, 1/2 running, 2 deployments`.
    public static func state(_ service: ECSService?) -> String {
        guard let service else { return "MISSING" }
        guard service.status == "ACTIVE" else { return service.status ?? "unknown" }
        let primary = service.primaryDeployment
        var parts = ["PRIMARY " + (primary?.rolloutState ?? (primary == nil ? "none" : "deploying"))]
        parts.append("\(service.runningCount)/\(service.desiredCount) running")
        if service.deployments.count != 1 { parts.append("\(service.deployments.count) deployments") }
        return parts.joined(separator: ", ")
    }
}

extension ECSClient {
    /// Waits until the service is stable (`ServiceStability`), polling `DescribeServices` from
    /// 5 s apart up to 30 s, and returns it as last seen. A service that will never become stable
    /// ends the wait at once (`WaiterError.failureState`); the deadline is `timeout`, or less
    /// when the caller's `TimeBudget` ends sooner.
    @discardableResult
    public func waitForServiceStable(cluster: String, service: String, timeout: Double = 1800,
                                     progress: (@Sendable (WaitProgress) -> Void)? = nil) async throws -> ECSService {
        let waiter = Waiter<ECSService?>(
            name: "ECS service \(service) in cluster \(cluster) to be stable",
            acceptors: [.init(.failure, .output { ServiceStability.failure($0) != nil }),
                        .init(.success, .output { $0.map(ServiceStability.isStable) ?? false })],
            state: { s in ServiceStability.failure(s).map { "\(ServiceStability.state(s)): \($0)" } ?? ServiceStability.state(s) },
            minDelay: 5, maxDelay: 30, timeout: timeout)
        let last = try await waiter.wait(clock: client.config.clock, progress: progress) {
            try await self.service(cluster: cluster, name: service)
        }
        guard let last, let stable = last else {
            throw WaiterError(kind: .failureState, waitingFor: waiter.name, lastState: "MISSING", elapsed: 0)
        }
        return stable
    }
}
