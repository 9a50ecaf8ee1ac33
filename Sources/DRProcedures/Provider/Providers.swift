import DRCore
import Foundation
import Logging

/// Chooses the backend. The one place that switches on a target's provider.
public enum Providers {
    public static func make(for target: Target, context: ProviderContext) throws -> RecoveryProvider {
        switch target.provider {
        case .postgres(let settings):
            return SelfHostedProvider(target: target, settings: settings, context: context)
        case .rds(let settings):
            return try RDSProvider(target: target, settings: settings, context: context)
        case .pgbackrest(let settings):
            return PgBackRestProvider(target: target, settings: settings, context: context)
        }
    }

    /// The native engine of a `provider: postgres` target, for what only it has (archive
    /// setup, wal-push, wal-fetch); bad input for any other target.
    public static func selfHosted(_ target: Target, context: ProviderContext) throws -> SelfHostedProvider {
        guard case .postgres(let settings) = target.provider else {
            throw DRError(.invalidParameter, "\(target.name) is a provider \(target.providerName) target; this command is for provider postgres (self-hosted) targets only. Nothing was changed.")
        }
        return SelfHostedProvider(target: target, settings: settings, context: context)
    }

    /// Route 53 failover of a record that belongs to no target (`dr failover --zone --record`).
    public static func dns(context: ProviderContext) throws -> DNSFailover {
        DNSFailover(failover: Route53Failover(session: try context.aws.session(), context: context))
    }

    /// Teardown of an RDS restore named by its identifier and region alone (`dr teardown --instance`).
    public static func rdsTeardown(context: ProviderContext) throws -> RDSRestoreTeardown {
        RDSRestoreTeardown(teardown: RDSTeardown(session: try context.aws.session(), context: context))
    }
}

/// A Route 53 record's failover without a target: plan, run, history.
public struct DNSFailover: Sendable {
    let failover: Route53Failover

    public func plan(_ request: Route53Failover.Request) async throws -> [PlannedAction] {
        try await RDSProvider.translatingErrors { try await failover.decide(request).plan }
    }

    public func run(_ request: Route53Failover.Request) async throws -> FailoverResult {
        try await RDSProvider.translatingErrors { try await failover.execute(try await failover.decide(request)) }
    }

    public func history(zone: String, record: String) -> [FailoverChange] { failover.history(zone: zone, record: record) }
}

/// An RDS restore's teardown by identifier, without a target: the same guards but the target's.
public struct RDSRestoreTeardown: Sendable {
    let teardown: RDSTeardown

    /// The region from `explicit`, else the AWS configuration's.
    /// Without a region: the default region, then every region and `dr_region` of the loaded
    /// config's rds targets — a restore made in the DR region is found there, never reported
    /// as "nothing to tear down" because it is not in the default one.
    public func request(name: String, cluster: Bool, region explicit: String?) throws -> RDSTeardown.Request {
        if let explicit {
            try KnownRegions.check(explicit, parameter: .region)
            return RDSTeardown.Request(name: name, cluster: cluster, regions: [explicit])
        }
        var regions = [try teardown.session.defaultRegion()]
        for target in teardown.context.config?.targets ?? [] {
            guard case .rds(let s) = target.provider else { continue }
            for region in [s.region] + (s.drRegion.map { [$0] } ?? []) where !regions.contains(region) { regions.append(region) }
        }
        for region in regions { try KnownRegions.check(region, parameter: .region) }
        return RDSTeardown.Request(name: name, cluster: cluster, regions: regions)
    }

    public func plan(_ request: RDSTeardown.Request) async throws -> [PlannedAction] {
        try await RDSProvider.translatingErrors { try await teardown.decide(request).plan(wait: teardown.context.wait) }
    }

    public func run(_ request: RDSTeardown.Request) async throws -> TeardownResult {
        try await RDSProvider.translatingErrors { try await teardown.execute(try await teardown.decide(request)) }
    }

    public func run(instance: String, region: String) async throws -> TeardownResult {
        try await run(RDSTeardown.Request(name: instance, cluster: false, regions: [region]))
    }

    public func run(cluster: String, region: String) async throws -> TeardownResult {
        try await run(RDSTeardown.Request(name: cluster, cluster: true, regions: [region]))
    }
}
