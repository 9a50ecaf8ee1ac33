import DRAWS
import DRCore
import Foundation

/// Removes what a drill or recovery made beside the database: a drill copy of the database
/// secret, or a restored cache. Like `RDSTeardown`, it refuses (exit 2, before deleting
/// anything) whatever is not dr's for this target — the tags must say so — and never touches
/// the target's own secret or cache. Gone already: nothing to do. A cache's deletion is
/// requested and confirmed by its state (`deleting`); ElastiCache finishes it on its own.
struct StackTeardown {
    let provider: RDSProvider

    enum Kind {
        case secretCopy, cache
        var noun: String { self == .secretCopy ? "secret" : "replication group" }
        var call: String { self == .secretCopy ? "secretsmanager:DeleteSecret" : "elasticache:DeleteReplicationGroup" }
        var describe: String { self == .secretCopy ? "secretsmanager:DescribeSecret" : "elasticache:DescribeReplicationGroups" }
        var tagKind: String { self == .secretCopy ? SecretRepoint.copyKind : CacheRestore.kind }
    }

    struct Decision {
        var kind: Kind
        var name: String
        var regions: [String]
        /// Where it is; nil when it exists nowhere (gone already).
        var region: String?
        var deleting: Bool
        var restoredFrom: String?
        var upcoming: Bool

        var plan: [PlannedAction] {
            let out: [PlannedAction] = [.read("find the \(kind.noun) \(name) in \(regions.joined(separator: " and ")) and check dr's tags", call: kind.describe)]
            if region == nil, upcoming {
                return out + [.change("delete the \(kind.noun) \(name) an earlier step makes", call: kind.call)]
            }
            guard let region else { return out + [.read("nothing to do: \(name) does not exist (already torn down)")] }
            if deleting { return out + [.read("nothing to do: \(name) is being deleted")] }
            let how = kind == .secretCopy ? " at once (no recovery window)" : ""
            return out + [.change("delete the \(kind.noun) \(name) in \(region)\(how), made by dr from \(restoredFrom ?? "?")", call: kind.call)]
        }
    }

    func regions(_ request: StackTeardownRequest, kind: Kind) throws -> [String] {
        if let region = request.region { try KnownRegions.check(region, parameter: .region); return [region] }
        if kind == .secretCopy { return [try provider.drRegion(nil, parameter: .region)] }
        return [provider.settings.region] + (provider.settings.drRegion.map { [$0] } ?? [])
    }

    func decide(_ request: StackTeardownRequest, kind: Kind) async throws -> Decision {
        let regions = try regions(request, kind: kind)
        var d = Decision(kind: kind, name: request.name, regions: regions, region: nil, deleting: false, restoredFrom: nil, upcoming: request.upcoming)
        for region in regions {
            let what = "the \(kind.noun) \(request.name) in \(region)"
            let tags: [AWSTag]
            switch kind {
            case .secretCopy:
                if request.name == provider.target.databaseSecret {
                    throw DRError(.protected, "dr will not delete \(what): it is the database secret of target \(provider.target.name). Nothing was changed.")
                }
                guard let secret = try await provider.session.secretsManager(region).secretIfPresent(request.name), secret.deletedDate == nil else { continue }
                tags = secret.tags ?? []
            case .cache:
                if request.name == provider.settings.cacheReplicationGroup && region == provider.settings.region {
                    throw DRError(.protected, "dr will not delete \(what): it is the cache of target \(provider.target.name). Nothing was changed.")
                }
                let ec = try provider.session.elastiCache(region)
                guard let group = try await ec.replicationGroup(request.name) else { continue }
                if let arn = group.arn { tags = try await ec.listTags(arn: arn) } else { tags = [] }
                d.deleting = group.status == "deleting"
            }
            guard DRTags.isManaged(tags, target: provider.target.name, kind: kind.tagKind) else {
                throw DRError(.protected, "dr will not delete \(what): it does not carry the tags dr puts on what it makes for \(provider.target.name) (dr:managed=true, dr:kind=\(kind.tagKind), dr:target=\(provider.target.name)). dr only tears down what it made. Nothing was changed.")
            }
            d.region = region
            d.restoredFrom = DRTags.value(DRTags.restoredFrom, in: tags) ?? DRTags.value(DRTags.copiedFrom, in: tags)
            return d
        }
        return d
    }

    func execute(_ d: Decision) async throws -> TeardownResult {
        guard let region = d.region else {
            return TeardownResult(name: d.name, removed: false, region: d.regions.joined(separator: ","), restoredFrom: nil, instances: nil,
                                  display: ["note": "no such \(d.kind.noun) in \(d.regions.joined(separator: " or ")) (already deleted)"])
        }
        var display: DisplayFacts = [:]
        if !d.deleting {
            provider.logger.info("deleting", metadata: ["\(d.kind == .secretCopy ? "secret" : "cache")": "\(d.name)", "region": "\(region)"])
            switch d.kind {
            case .secretCopy:
                do { try await provider.session.secretsManager(region).deleteSecretWithoutRecovery(d.name) } catch let e as AWSError where e.isNotFound {}
            case .cache:
                do { _ = try await provider.session.elastiCache(region).deleteReplicationGroup(d.name) }
                catch let e as AWSError where e.isNotFound || e.code == "InvalidReplicationGroupState" {}
            }
        }
        if d.kind == .cache { display["state"] = "deleting" }
        return TeardownResult(name: d.name, removed: true, region: region, restoredFrom: d.restoredFrom, instances: nil, display: display)
    }
}

extension RDSProvider {
    public func teardownSecretCopy(_ request: StackTeardownRequest) async throws -> TeardownResult {
        try await wait.bounded(clock: session.clock) {
            let procedure = StackTeardown(provider: self)
            return try await procedure.execute(try await procedure.decide(request, kind: .secretCopy))
        }
    }

    public func teardownCache(_ request: StackTeardownRequest) async throws -> TeardownResult {
        try await wait.bounded(clock: session.clock) {
            let procedure = StackTeardown(provider: self)
            return try await procedure.execute(try await procedure.decide(request, kind: .cache))
        }
    }
}
