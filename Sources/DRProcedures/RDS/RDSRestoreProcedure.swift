import DRAWS
import DRCore
import Foundation

/// `dr restore TARGET --point-in-time T | --latest-restorable | --from-snapshot ID|latest [--region R] --as NEW`.
///
/// Checks the name, the region, the snapshot and the restorable window before any mutating
/// call; carries over the source's instance class, subnet group, security groups, parameter
/// group, port, Multi-AZ and tags unless overridden (in another region only the class, port,
/// Multi-AZ and tags: subnet groups, security groups and parameter groups are regional);
/// tags the new instance `dr:managed=true`, `dr:restored-from`; waits; returns the endpoint.
/// An Aurora cluster restore then gives the cluster its writer instance (`AuroraWriter`),
/// waits for it too, and returns the cluster's writer endpoint.
/// A re-run finds the instance or cluster it made and finishes the job instead of making a second.
struct RDSRestoreProcedure {
    let provider: RDSProvider

    /// `RestoreRequest.options` keys the RDS backend reads.
    enum Option {
        static let region = "region", instanceClass = "instance-class", subnetGroup = "subnet-group",
                   securityGroups = "security-groups", parameterGroup = "parameter-group", noMultiAZ = "no-multi-az"
    }

    func run(_ request: RestoreRequest) async throws -> RestoreResult {
        let settings = provider.settings, name = provider.target.name, clock = provider.session.clock
        var phases: [RestoreResult.Phase] = []
        var phaseStart = clock.now()
        func endPhase(_ phase: String) {
            phases.append(.init(name: phase, seconds: clock.now().timeIntervalSince(phaseStart)))
            phaseStart = clock.now()
        }
        try RDSNames.checkInstanceIdentifier(request.name, option: "--as")
        let region = try restoreRegion(request)
        let rds = try provider.session.rds(region)
        if request.name == provider.resource && region == settings.region {
            throw DRError.badInput("--as \(request.name) is the source itself; restores always make a new \(provider.resourceNoun). Choose another name. Nothing was changed.")
        }

        let plan = try await planRestore(request, region: region, rds: rds)
        let adopted = try await existingRestore(request.name, rds: rds)
        endPhase("check")
        if !adopted {
            provider.logger.info("restoring", metadata: ["as": "\(request.name)", "from": "\(plan.restoredFrom)", "region": "\(region)"])
            do { try await plan.start() } catch let e as AWSError where e.code.contains("AlreadyExists") {
                // An earlier attempt of this call went through before its answer was lost.
            }
        }
        endPhase("request")
        try await provider.wait.run(.restore) { timeout, progress in
            if provider.isCluster { try await rds.waitForDBClusterAvailable(request.name, timeout: timeout, progress: progress) }
            else { try await rds.waitForDBInstanceAvailable(request.name, timeout: timeout, progress: progress) }
        }
        endPhase("wait")
        var details = ["region": region, "restored_from": plan.restoredFrom, "adopted_existing": String(adopted)]
        if let writer = plan.writer {
            details["writer_instance"] = writer.identifier
            if provider.wait.noWait {
                details["writer_instance_created"] = "false (the cluster is not available yet: run the same restore again without --no-wait to add it)"
            } else {
                let created = try await writer.ensure(tags: plan.tags, rds: rds)
                if created { provider.logger.info("created writer instance", metadata: ["instance": "\(writer.identifier)", "class": "\(writer.instanceClass)"]) }
                details["writer_instance_created"] = String(created)
                try await provider.wait.run(.restore) { timeout, progress in
                    try await rds.waitForDBInstanceAvailable(writer.identifier, timeout: timeout, progress: progress)
                }
                endPhase("writer")
            }
        }
        let endpoint = try await finish(request.name, rds: rds, tags: plan.tags)
        if provider.wait.noWait { details["waited"] = "false" }
        return RestoreResult(target: name, name: request.name, endpoint: endpoint, snapshot: plan.snapshot ?? "",
                             requestedTime: plan.requestedTime, recoveredTo: plan.requestedTime, phases: phases, details: details)
    }

    /// Snapshot restores may go to another region (`--region`, or the DR region); point-in-time ones stay home.
    func restoreRegion(_ request: RestoreRequest) throws -> String {
        let explicit = request.options[Option.region]
        if case .snapshot = request.point {
            if request.fromDR { return try provider.drRegion(explicit, option: "--region") }
            if let explicit { try KnownRegions.check(explicit, what: "--region") }
            return explicit ?? provider.settings.region
        }
        if let explicit, explicit != provider.settings.region {
            throw DRError.badInput("A point-in-time restore happens in the source's region (\(provider.settings.region)), not \(explicit). To restore in another region, copy a snapshot there (`dr copy`) and use --from-snapshot latest --region \(explicit). Nothing was changed.")
        }
        return provider.settings.region
    }

    /// True when `name` is a restore dr made from this target (finish it); bad input when it,
    /// or the name its writer instance would take, is anything else.
    func existingRestore(_ name: String, rds: RDSClient) async throws -> Bool {
        let tags: [AWSTag]
        if provider.isCluster {
            try await AuroraWriter.checkExisting(cluster: name, target: provider.target.name, rds: rds)
            guard let cluster = try await rds.dbCluster(name) else { return false }
            tags = try await rds.tags(described: cluster.tags, arn: cluster.arn)
        } else {
            guard let instance = try await rds.dbInstance(name) else { return false }
            tags = try await rds.tags(described: instance.tags, arn: instance.arn)
        }
        guard DRTags.value(DRTags.managed, in: tags) == "true", DRTags.value(DRTags.target, in: tags) == provider.target.name,
              DRTags.value(DRTags.restoredFrom, in: tags) != nil else {
            throw DRError.badInput("A \(provider.resourceNoun) named \(name) already exists in \(rds.client.config.region) and dr did not restore it from \(provider.target.name). Choose another --as name. Nothing was changed.")
        }
        return true
    }

    /// Everything decided before the restore call, and the call itself.
    struct Plan {
        var options: RDSRestoreOptions
        var tags: [AWSTag]
        var restoredFrom: String
        var snapshot: String?
        var requestedTime: Date?
        /// The instance a restored Aurora cluster needs (nil for instance restores).
        var writer: AuroraWriter? = nil
        var start: () async throws -> Void
    }

    func planRestore(_ request: RestoreRequest, region: String, rds: RDSClient) async throws -> Plan {
        switch request.point {
        case .pointInTime, .latestRestorable:
            let time: Date? = { if case .pointInTime(let t) = request.point { return t } else { return nil } }()
            let from = "\(provider.resource)@\(time.map { RFC3339.format($0) } ?? "latest-restorable")"
            if provider.isCluster {
                let source = try await sourceCluster(rds)
                try RDSRestoreWindow.check(request.point, window: RDSRestoreWindow.of(cluster: source), source: "DB cluster \(source.identifier)")
                var options = carriedOptions(cluster: source, request)
                options.tags = restoreTags(source.tags, from: from, request: request)
                let writer = AuroraWriter(cluster: request.name, instanceClass: try await writerClass(request, source: source, rds: rds),
                                          engine: source.engine ?? Self.auroraEngine)
                return Plan(options: options, tags: options.tags, restoredFrom: from, snapshot: nil, requestedTime: time, writer: writer) { [options] in
                    _ = try await rds.restoreDBClusterToPointInTime(source: source.identifier, target: request.name, restoreTime: time,
                                                                    useLatestRestorableTime: time == nil, options: options)
                }
            }
            let source = try await sourceInstance(rds)
            let window = try await RDSRestoreWindow.of(instance: source, rds: rds)
            try RDSRestoreWindow.check(request.point, window: window, source: "DB instance \(source.identifier)")
            var options = carriedOptions(instance: source, request, sameRegion: true)
            options.tags = restoreTags(source.tags, from: from, request: request)
            return Plan(options: options, tags: options.tags, restoredFrom: from, snapshot: nil, requestedTime: time) { [options] in
                _ = try await rds.restoreDBInstanceToPointInTime(source: source.identifier, target: request.name, restoreTime: time,
                                                                 useLatestRestorableTime: time == nil, options: options)
            }
        case .snapshot(let requested):
            if requested != "latest" { try RDSNames.checkSnapshotIdentifier(requested, option: "--from-snapshot", cluster: provider.isCluster) }
            let store = SnapshotStore(rds: rds, cluster: provider.isCluster)
            let snapshot = try await chooseSnapshot(requested, in: store)
            let sameRegion = region == provider.settings.region
            var options: RDSRestoreOptions
            var writer: AuroraWriter?
            let engine = snapshot.engine ?? Self.auroraEngine
            var sourceTags = snapshot.tags
            if provider.isCluster {
                if sameRegion {
                    let source = try await sourceCluster(rds)
                    options = carriedOptions(cluster: source, request)
                    sourceTags = source.tags
                    writer = AuroraWriter(cluster: request.name, instanceClass: try await writerClass(request, source: source, rds: rds),
                                          engine: source.engine ?? engine)
                } else {
                    options = overridesOnly(request)
                    options.instanceClass = nil
                    writer = AuroraWriter(cluster: request.name, instanceClass: try await writerClassFromHome(request), engine: engine)
                }
            } else if sameRegion {
                let source = try await sourceInstance(rds)
                options = carriedOptions(instance: source, request, sameRegion: true)
                sourceTags = source.tags
            } else {
                options = overridesOnly(request)
            }
            options.tags = restoreTags(sourceTags, from: snapshot.id, request: request)
            return Plan(options: options, tags: options.tags, restoredFrom: snapshot.id, snapshot: snapshot.id, requestedTime: nil,
                        writer: writer) { [options] in
                if provider.isCluster {
                    _ = try await rds.restoreDBClusterFromSnapshot(snapshot: snapshot.id, target: request.name, engine: engine, options: options)
                } else {
                    _ = try await rds.restoreDBInstanceFromDBSnapshot(snapshot: snapshot.id, target: request.name, options: options)
                }
            }
        }
    }

    /// The named snapshot, or `latest`: the newest finished one of this target in that region
    /// (its own snapshots, or the DR copies dr made for it), by creation time.
    func chooseSnapshot(_ requested: String, in store: SnapshotStore) async throws -> RDSSnapshotInfo {
        if requested != "latest" {
            guard let found = try await store.find(requested) else {
                throw DRError.badInput("There is no \(store.noun) \(requested) in \(store.region). `dr status \(provider.target.name)` lists the snapshots in both regions; or use --from-snapshot latest. Nothing was changed.")
            }
            return found
        }
        let candidates = try await store.list(of: nil).filter {
            $0.isAvailable && ($0.source == provider.resource || $0.tag(DRTags.target) == provider.target.name)
        }
        guard let newest = candidates.max(by: { ($0.createdAt ?? .distantPast) < ($1.createdAt ?? .distantPast) }) else {
            throw DRError.badInput("There is no finished snapshot of \(provider.target.name) in \(store.region) to restore from. Take one with `dr snapshot` (and `dr copy` for the DR region) first. Nothing was changed.")
        }
        return newest
    }

    func sourceInstance(_ rds: RDSClient) async throws -> DBInstance {
        guard let instance = try await rds.dbInstance(provider.resource) else {
            throw DRError.badInput("The DB instance \(provider.resource) of target \(provider.target.name) does not exist in \(rds.client.config.region). Check `instance:` and `region:` in dr.yml, or restore from a snapshot. Nothing was changed.")
        }
        return instance
    }

    static let auroraEngine = "aurora-postgresql"

    /// The restored cluster's writer class: `--instance-class`, else the source writer's.
    func writerClass(_ request: RestoreRequest, source: DBCluster, rds: RDSClient) async throws -> String {
        if let chosen = request.options[Option.instanceClass] { return chosen }
        return try await AuroraWriter.instanceClass(of: source, rds: rds)
    }

    /// In another region (the region-failover path) the source's class is read in its home
    /// region; when that region cannot answer, `--instance-class` must say.
    func writerClassFromHome(_ request: RestoreRequest) async throws -> String {
        if let chosen = request.options[Option.instanceClass] { return chosen }
        let home = try provider.session.rds(provider.settings.region)
        do {
            return try await writerClass(request, source: try await sourceCluster(home), rds: home)
        } catch let error where !(error is DRError) {
            throw DRError.badInput("dr could not read the writer instance class of DB cluster \(provider.resource) in \(provider.settings.region) (\(error)), so it does not know what class the restored cluster's writer should be. Pass --instance-class (e.g. db.r6g.large). Nothing was changed.")
        }
    }

    func sourceCluster(_ rds: RDSClient) async throws -> DBCluster {
        guard let cluster = try await rds.dbCluster(provider.resource) else {
            throw DRError.badInput("The DB cluster \(provider.resource) of target \(provider.target.name) does not exist in \(rds.client.config.region). Check `cluster:` and `region:` in dr.yml. Nothing was changed.")
        }
        return cluster
    }

    func overridesOnly(_ request: RestoreRequest) -> RDSRestoreOptions {
        let o = request.options
        return RDSRestoreOptions(instanceClass: o[Option.instanceClass], subnetGroupName: o[Option.subnetGroup],
                                 vpcSecurityGroupIds: securityGroups(o) ?? [], parameterGroupName: o[Option.parameterGroup],
                                 multiAZ: o[Option.noMultiAZ] == "true" ? false : nil)
    }

    func carriedOptions(instance source: DBInstance, _ request: RestoreRequest, sameRegion: Bool) -> RDSRestoreOptions {
        let o = request.options
        return RDSRestoreOptions(instanceClass: o[Option.instanceClass] ?? source.instanceClass,
                                 subnetGroupName: o[Option.subnetGroup] ?? source.subnetGroupName,
                                 vpcSecurityGroupIds: securityGroups(o) ?? source.vpcSecurityGroupIds,
                                 parameterGroupName: o[Option.parameterGroup] ?? source.parameterGroupName,
                                 multiAZ: o[Option.noMultiAZ] == "true" ? false : source.multiAZ, port: source.endpointPort)
    }

    /// The instance class is not here: for Aurora it belongs to the writer instance (`AuroraWriter`).
    func carriedOptions(cluster source: DBCluster, _ request: RestoreRequest) -> RDSRestoreOptions {
        let o = request.options
        return RDSRestoreOptions(subnetGroupName: o[Option.subnetGroup] ?? source.subnetGroupName,
                                 vpcSecurityGroupIds: securityGroups(o) ?? source.vpcSecurityGroupIds,
                                 parameterGroupName: o[Option.parameterGroup] ?? source.parameterGroupName, port: source.port)
    }

    func securityGroups(_ o: [String: String]) -> [String]? {
        o[Option.securityGroups].map { $0.split(separator: ",").map { String($0) }.filter { !$0.isEmpty } }
    }

    func restoreTags(_ sourceTags: [AWSTag], from: String, request: RestoreRequest) -> [AWSTag] {
        DRTags.make(kind: "restore", target: provider.target.name, extra: DRTags.carried(sourceTags).merging(provider.settings.tags) { a, _ in a },
                    more: request.tags.merging([DRTags.restoredFrom: from]) { _, dr in dr })
    }

    /// Makes sure the tags are on (some restores drop them) and returns `host:port`.
    func finish(_ name: String, rds: RDSClient, tags: [AWSTag]) async throws -> String {
        if provider.isCluster {
            guard let cluster = try await rds.dbCluster(name) else { return "" }
            if let arn = cluster.arn { try await addMissingTags(arn: arn, present: cluster.tags, wanted: tags, rds: rds) }
            // The cluster endpoint is the writer's.
            return [cluster.endpoint, cluster.port.map(String.init)].compactMap { $0 }.joined(separator: ":")
        }
        guard let instance = try await rds.dbInstance(name) else { return "" }
        if let arn = instance.arn { try await addMissingTags(arn: arn, present: instance.tags, wanted: tags, rds: rds) }
        return [instance.endpointAddress, instance.endpointPort.map(String.init)].compactMap { $0 }.joined(separator: ":")
    }

    func addMissingTags(arn: String, present: [AWSTag], wanted: [AWSTag], rds: RDSClient) async throws {
        let have = try await rds.tags(described: present, arn: arn)
        let missing = wanted.filter { !have.contains($0) }
        if !missing.isEmpty { try await rds.addTagsToResource(arn: arn, tags: missing) }
    }
}
