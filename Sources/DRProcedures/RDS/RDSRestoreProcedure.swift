import DRAWS
import DRCore
import Foundation

/// `dr restore TARGET --point-in-time T | --latest-restorable | --from-snapshot ID|latest [--region R] --as NEW`.
///
/// Checks the name, the region, the snapshot and the restorable window before any mutating
/// call; carries over the source's instance class, subnet group, security groups, parameter
/// group, port, Multi-AZ and tags unless overridden (in another region only the class, port,
/// Multi-AZ and tags: subnet groups, security groups and parameter groups are regional; in the
/// DR region those come from the target's `dr_restore:`);
/// tags the new instance `dr:managed=true`, `dr:restored-from`, `dr:restore-point`; waits;
/// returns the endpoint. An Aurora cluster restore then gives the cluster its writer instance
/// (`AuroraWriter`), waits for it too, and returns the cluster's writer endpoint.
///
/// A re-run finds the instance or cluster it made and finishes the job instead of making a
/// second — but only a restore of the same target for the same point; a name held by anything
/// else is refused before any change.
struct RDSRestoreProcedure {
    let provider: RDSProvider

    /// The restore call the decision makes.
    enum Call {
        case instanceToPointInTime(source: String, time: Date?)
        case clusterToPointInTime(source: String, time: Date?)
        case instanceFromSnapshot(String)
        case clusterFromSnapshot(String, engine: String)

        var api: String {
            switch self {
            case .instanceToPointInTime: return "rds:RestoreDBInstanceToPointInTime"
            case .clusterToPointInTime: return "rds:RestoreDBClusterToPointInTime"
            case .instanceFromSnapshot: return "rds:RestoreDBInstanceFromDBSnapshot"
            case .clusterFromSnapshot: return "rds:RestoreDBClusterFromSnapshot"
            }
        }
    }

    /// Everything decided before the first change.
    struct Decision {
        var name: String
        var region: String
        var call: Call
        var options: RDSRestoreOptions
        /// dr's tags for the restore (and its writer).
        var tags: [AWSTag]
        /// `dr:restored-from`: the source and time, or the snapshot.
        var restoredFrom: String
        /// `dr:restore-point`: what it was made for, as `RestorePoint.description` words it.
        var point: String
        /// `dr:source-id`: the database it is a restore of.
        var sourceID: String?
        var snapshot: String?
        var requestedTime: Date?
        /// A restore of the same point dr started earlier, to finish instead of starting another.
        var adopt: Bool
        var writer: AuroraWriter?
        var writerExists: Bool
        /// For the plan: what was read to decide.
        var reads: [PlannedAction]

        func plan(_ provider: RDSProvider) -> [PlannedAction] {
            let describe = provider.isCluster ? "rds:DescribeDBClusters" : "rds:DescribeDBInstances"
            var out = reads
            if adopt {
                out.append(.read("finish the restore \(name) dr started earlier in \(region) for the same point (\(point))", call: describe))
            } else {
                out.append(.change("restore \(restoredFrom) as \(provider.resourceNoun) \(name) in \(region)", call: call.api))
            }
            guard !provider.wait.noWait else { return out + [.read("return without waiting (--no-wait)")] }
            out.append(.read("wait until \(name) is available", call: describe))
            if let writer {
                if writerExists {
                    out.append(.read("reuse the writer instance \(writer.identifier)", call: "rds:DescribeDBInstances"))
                } else {
                    out.append(.change("create the writer instance \(writer.identifier) (\(writer.instanceClass)) in \(name)", call: "rds:CreateDBInstance"))
                }
                out.append(.read("wait until \(writer.identifier) is available", call: "rds:DescribeDBInstances"))
            }
            out.append(.change("tag \(name) with dr's tags", call: "rds:AddTagsToResource", when: "only if a tag is missing"))
            return out
        }
    }

    // MARK: Deciding

    func decide(_ request: RestoreRequest) async throws -> Decision {
        let settings = provider.settings
        try RDSNames.checkInstanceIdentifier(request.name, parameter: .name)
        if !provider.isCluster, request.rds.kmsKeyID != nil {
            throw DRError(.invalidParameter, "\(param: .kmsKeyID) applies to Aurora cluster restores only: an RDS instance restore keeps the key of the snapshot or instance it comes from (RestoreDBInstance… has no KmsKeyId). To change the key, copy the snapshot with another key (`dr copy`) and restore the copy. Nothing was changed.")
        }
        let region = try restoreRegion(request)
        // Every restore in the DR region uses the DR region's own network and settings (`dr_restore:`).
        var request = request
        if region != settings.region, region == settings.drRegion, let drRestore = settings.drRestore { request.rds = drRestore.filling(request.rds) }
        let rds = try provider.session.rds(region)
        if request.name == provider.resource && region == settings.region {
            throw DRError(.nameTaken, "The name \(request.name) (\(param: .name)) is already taken by the source \(provider.resourceNoun): a restore never writes over the source itself, it always makes a new \(provider.resourceNoun). Choose another name. Nothing was changed.")
        }
        var decision = try await chooseRestore(request, region: region, rds: rds)
        let existing = try await existingRestore(request.name, rds: rds)
        if let existing {
            guard existing.point == decision.point, existing.restoredFrom == decision.restoredFrom,
                  existing.sourceID == nil || existing.sourceID == decision.sourceID else {
                throw DRError(.nameTaken, "The name \(request.name) (\(param: .name)) is already taken in \(region) by a restore of \(provider.target.name) made for another point (\(existing.point ?? existing.restoredFrom)), not for \(decision.point). Choose another \(param: .name), or tear that one down first (`dr teardown`). Nothing was changed.")
            }
            decision.adopt = true
        }
        if let writer = decision.writer { decision.writerExists = try await rds.dbInstance(writer.identifier) != nil }
        return decision
    }

    /// Snapshot restores may go to another region (`region`, or the DR region); point-in-time ones stay home.
    func restoreRegion(_ request: RestoreRequest) throws -> String {
        let explicit = request.region
        if case .snapshot = request.point {
            if request.fromDR { return try provider.drRegion(explicit, parameter: .region) }
            if let explicit { try KnownRegions.check(explicit, parameter: .region) }
            return explicit ?? provider.settings.region
        }
        if let explicit, explicit != provider.settings.region {
            throw DRError(.invalidParameter, "A point-in-time restore happens in the source's region (\(provider.settings.region)), not \(explicit). To restore in another region, copy a snapshot there (`dr copy`) and restore that snapshot in \(explicit). Nothing was changed.")
        }
        if request.fromDR {
            throw DRError(.invalidParameter, "A point-in-time restore reads the source's automated backups in \(provider.settings.region); there is no DR copy of them to restore from. Restore the newest DR-region snapshot instead (\(param: .snapshot) latest with \(param: .fromDR)). Nothing was changed.")
        }
        return provider.settings.region
    }

    struct ExistingRestore {
        var restoredFrom: String
        var point: String?
        var sourceID: String?
    }

    /// A restore dr made from this target under `name` (to finish, when it is for the same point);
    /// bad input when the name, or the name its writer instance would take, is anything else.
    func existingRestore(_ name: String, rds: RDSClient) async throws -> ExistingRestore? {
        let tags: [AWSTag]
        if provider.isCluster {
            try await AuroraWriter.checkExisting(cluster: name, target: provider.target.name, rds: rds)
            guard let cluster = try await rds.dbCluster(name) else { return nil }
            tags = try await rds.tags(described: cluster.tags, arn: cluster.arn)
        } else {
            guard let instance = try await rds.dbInstance(name) else { return nil }
            tags = try await rds.tags(described: instance.tags, arn: instance.arn)
        }
        guard DRTags.value(DRTags.managed, in: tags) == "true", DRTags.value(DRTags.target, in: tags) == provider.target.name,
              let from = DRTags.value(DRTags.restoredFrom, in: tags) else {
            throw DRError(.nameTaken, "The name \(name) (\(param: .name)) is already taken by a \(provider.resourceNoun) in \(rds.client.config.region) that dr did not restore from \(provider.target.name). Choose another \(param: .name). Nothing was changed.")
        }
        return ExistingRestore(restoredFrom: from, point: DRTags.value(DRTags.restorePoint, in: tags), sourceID: DRTags.value(DRTags.sourceID, in: tags))
    }

    func chooseRestore(_ request: RestoreRequest, region: String, rds: RDSClient) async throws -> Decision {
        let describe = provider.isCluster ? "rds:DescribeDBClusters" : "rds:DescribeDBInstances"
        switch request.point {
        case .pointInTime, .latestRestorable:
            let time: Date? = { if case .pointInTime(let t) = request.point { return t } else { return nil } }()
            let from = "\(provider.resource)@\(time.map { RFC3339.format($0) } ?? "latest-restorable")"
            let point = request.point.description
            var reads: [PlannedAction] = [.read("read \(provider.resourceNoun) \(provider.resource) and its restorable window", call: describe)]
            if provider.isCluster {
                let source = try await sourceCluster(rds)
                let identity = RDSIdentity(cluster: source)
                try RDSRestoreWindow.check(request.point, window: RDSRestoreWindow.of(cluster: source), source: "DB cluster \(source.identifier)")
                var options = carriedOptions(cluster: source, request.rds)
                options.tags = restoreTags(source.tags, from: from, point: point, sourceID: identity?.tag, request: request)
                let writer = AuroraWriter(cluster: request.name, instanceClass: try await writerClass(request, source: source, rds: rds),
                                          engine: source.engine ?? Self.auroraEngine)
                return Decision(name: request.name, region: region, call: .clusterToPointInTime(source: source.identifier, time: time),
                                options: options, tags: options.tags, restoredFrom: from, point: point, sourceID: identity?.tag, snapshot: nil, requestedTime: time,
                                adopt: false, writer: writer, writerExists: false, reads: reads)
            }
            let source = try await sourceInstance(rds)
            let identity = RDSIdentity(instance: source)
            let window = try await RDSRestoreWindow.of(instance: source, rds: rds)
            reads.append(.read("read the automated backups' earliest restorable time", call: "rds:DescribeDBInstanceAutomatedBackups"))
            try RDSRestoreWindow.check(request.point, window: window, source: "DB instance \(source.identifier)")
            var options = carriedOptions(instance: source, request.rds)
            options.tags = restoreTags(source.tags, from: from, point: point, sourceID: identity?.tag, request: request)
            return Decision(name: request.name, region: region, call: .instanceToPointInTime(source: source.identifier, time: time),
                            options: options, tags: options.tags, restoredFrom: from, point: point, sourceID: identity?.tag, snapshot: nil, requestedTime: time,
                            adopt: false, writer: nil, writerExists: false, reads: reads)
        case .snapshot(let requested):
            if requested != "latest" { try RDSNames.checkSnapshotIdentifier(requested, parameter: .snapshot, cluster: provider.isCluster) }
            let store = SnapshotStore(rds: rds, cluster: provider.isCluster)
            let listed = try await store.list(of: nil)
            let (identity, note) = region == provider.settings.region ? (try await provider.identity(rds), nil)
                                                                       : try await provider.identityForDR(copies: listed)
            let snapshot = try await chooseSnapshot(requested, in: store, listed: listed, identity: identity)
            var reads: [PlannedAction] = [.read("find \(requested == "latest" ? "the newest snapshot of \(provider.target.name)'s database" : requested) in \(region)",
                                                call: provider.isCluster ? "rds:DescribeDBClusterSnapshots" : "rds:DescribeDBSnapshots")]
            if let note { reads.append(.read(note)) }
            let sameRegion = region == provider.settings.region
            var options: RDSRestoreOptions
            var writer: AuroraWriter?
            let engine = snapshot.engine ?? Self.auroraEngine
            var sourceTags = snapshot.tags
            if provider.isCluster {
                if sameRegion {
                    let source = try await sourceCluster(rds)
                    options = carriedOptions(cluster: source, request.rds)
                    sourceTags = source.tags
                    writer = AuroraWriter(cluster: request.name, instanceClass: try await writerClass(request, source: source, rds: rds),
                                          engine: source.engine ?? engine)
                } else {
                    options = overridesOnly(request.rds)
                    options.instanceClass = nil
                    writer = AuroraWriter(cluster: request.name, instanceClass: try await writerClassFromHome(request), engine: engine)
                }
            } else if sameRegion {
                let source = try await sourceInstance(rds)
                options = carriedOptions(instance: source, request.rds)
                sourceTags = source.tags
            } else {
                options = overridesOnly(request.rds)
            }
            let point = RestorePoint.snapshot(snapshot.id).description
            options.tags = restoreTags(sourceTags, from: snapshot.id, point: point, sourceID: snapshot.tag(DRTags.sourceID) ?? identity?.tag,
                                       request: request)
            let call: Call = provider.isCluster ? .clusterFromSnapshot(snapshot.id, engine: engine) : .instanceFromSnapshot(snapshot.id)
            return Decision(name: request.name, region: region, call: call, options: options, tags: options.tags,
                            restoredFrom: snapshot.id, point: point, sourceID: snapshot.tag(DRTags.sourceID) ?? identity?.tag, snapshot: snapshot.id, requestedTime: nil,
                            adopt: false, writer: writer, writerExists: false, reads: reads)
        }
    }

    /// The named snapshot, or `latest`: the newest finished one of this target in that region
    /// (its own snapshots, or the DR copies dr made for it), by creation time.
    func chooseSnapshot(_ requested: String, in store: SnapshotStore, listed: [RDSSnapshotInfo], identity: RDSIdentity?) async throws -> RDSSnapshotInfo {
        if requested != "latest" {
            guard let found = try await store.find(requested) else {
                throw DRError(.notFound, "There is no \(store.noun) \(requested) in \(store.region). `dr status \(provider.target.name)` lists the snapshots in both regions; or restore the latest one. Nothing was changed.")
            }
            try provider.checkBelongs(found, to: identity, region: store.region)
            return found
        }
        // This target's database's own snapshots, or the DR copies dr made of them.
        let candidates = listed.filter { $0.isAvailable && provider.belongs($0, to: identity) }
        guard let newest = candidates.max(by: { ($0.createdAt ?? .distantPast) < ($1.createdAt ?? .distantPast) }) else {
            if store.region != provider.settings.region {
                throw DRError(.notRestorable, "Target \(provider.target.name) has no snapshot in its DR copy (\(store.region)) to restore from. Copy one there first (`dr copy \(provider.target.name)`). Nothing was changed.")
            }
            throw DRError(.notRestorable, "There is no finished snapshot of \(provider.target.name) in \(store.region) to restore from. Take one with `dr snapshot` (and `dr copy` for the DR region) first. Nothing was changed.")
        }
        return newest
    }

    func sourceInstance(_ rds: RDSClient) async throws -> DBInstance {
        guard let instance = try await rds.dbInstance(provider.resource) else {
            throw DRError(.notFound, "The DB instance \(provider.resource) of target \(provider.target.name) does not exist in \(rds.client.config.region). Check `instance:` and `region:` in dr.yml, or restore from a snapshot. Nothing was changed.")
        }
        return instance
    }

    func sourceCluster(_ rds: RDSClient) async throws -> DBCluster {
        guard let cluster = try await rds.dbCluster(provider.resource) else {
            throw DRError(.notFound, "The DB cluster \(provider.resource) of target \(provider.target.name) does not exist in \(rds.client.config.region). Check `cluster:` and `region:` in dr.yml. Nothing was changed.")
        }
        return cluster
    }

    static let auroraEngine = "aurora-postgresql"

    /// The restored cluster's writer class: the override, else the source writer's.
    func writerClass(_ request: RestoreRequest, source: DBCluster, rds: RDSClient) async throws -> String {
        if let chosen = request.rds.instanceClass { return chosen }
        return try await AuroraWriter.instanceClass(of: source, rds: rds)
    }

    /// In another region (the region-failover path) the source's class is read in its home
    /// region; when that region cannot answer, the instance class must be given.
    func writerClassFromHome(_ request: RestoreRequest) async throws -> String {
        if let chosen = request.rds.instanceClass { return chosen }
        let home = try provider.session.rds(provider.settings.region)
        do {
            return try await writerClass(request, source: try await sourceCluster(home), rds: home)
        } catch let error where !(error is DRError) {
            throw DRError(.invalidParameter, "dr could not read the writer instance class of DB cluster \(provider.resource) in \(provider.settings.region) (\(error)), so it does not know what class the restored cluster's writer should be. Give \(param: .instanceClass) (e.g. db.r6g.large). Nothing was changed.")
        }
    }

    func overridesOnly(_ o: RDSRestoreOverrides) -> RDSRestoreOptions {
        RDSRestoreOptions(instanceClass: o.instanceClass, subnetGroupName: o.subnetGroup, vpcSecurityGroupIds: o.securityGroups ?? [],
                          parameterGroupName: o.parameterGroup, multiAZ: o.multiAZ, port: o.port, kmsKeyId: o.kmsKeyID)
    }

    func carriedOptions(instance source: DBInstance, _ o: RDSRestoreOverrides) -> RDSRestoreOptions {
        RDSRestoreOptions(instanceClass: o.instanceClass ?? source.instanceClass,
                          subnetGroupName: o.subnetGroup ?? source.subnetGroupName,
                          vpcSecurityGroupIds: o.securityGroups ?? source.vpcSecurityGroupIds,
                          parameterGroupName: o.parameterGroup ?? source.parameterGroupName,
                          multiAZ: o.multiAZ ?? source.multiAZ, port: o.port ?? source.endpointPort)
    }

    /// The instance class is not here: for Aurora it belongs to the writer instance (`AuroraWriter`).
    func carriedOptions(cluster source: DBCluster, _ o: RDSRestoreOverrides) -> RDSRestoreOptions {
        RDSRestoreOptions(subnetGroupName: o.subnetGroup ?? source.subnetGroupName,
                          vpcSecurityGroupIds: o.securityGroups ?? source.vpcSecurityGroupIds,
                          parameterGroupName: o.parameterGroup ?? source.parameterGroupName, port: o.port ?? source.port,
                          kmsKeyId: o.kmsKeyID)
    }

    func restoreTags(_ sourceTags: [AWSTag], from: String, point: String, sourceID: String?, request: RestoreRequest) -> [AWSTag] {
        var dr = [DRTags.restoredFrom: from, DRTags.restorePoint: point]
        // Always there, so teardown can insist on it: `unknown` when the source could not be read.
        dr[DRTags.sourceID] = sourceID ?? "unknown"
        return DRTags.make(kind: "restore", target: provider.target.name, extra: DRTags.carried(sourceTags).merging(provider.settings.tags) { a, _ in a },
                           more: request.tags.merging(dr) { _, dr in dr })
    }

    // MARK: Executing

    func execute(_ d: Decision) async throws -> RestoreResult {
        let clock = provider.context.clock
        var phases: [RestoreResult.Phase] = []
        var phaseStart = clock.now()
        func endPhase(_ phase: String) {
            phases.append(.init(name: phase, seconds: clock.now().timeIntervalSince(phaseStart)))
            phaseStart = clock.now()
        }
        let rds = try provider.session.rds(d.region)
        endPhase("check")
        if !d.adopt {
            provider.logger.info("restoring", metadata: ["as": "\(d.name)", "from": "\(d.restoredFrom)", "region": "\(d.region)"])
            do { try await start(d.call, name: d.name, options: d.options, rds: rds) } catch let e as AWSError where e.code.contains("AlreadyExists") {
                // An earlier attempt of this call went through before its answer was lost.
            }
        }
        endPhase("request")
        try await provider.wait.run(.restore) { timeout, progress in
            if provider.isCluster { try await rds.waitForDBClusterAvailable(d.name, timeout: timeout, progress: progress) }
            else { try await rds.waitForDBInstanceAvailable(d.name, timeout: timeout, progress: progress) }
        }
        endPhase("wait")
        var writerCreated: Bool?
        if let writer = d.writer, !provider.wait.noWait {
            let created = try await writer.ensure(tags: d.tags, rds: rds)
            if created { provider.logger.info("created writer instance", metadata: ["instance": "\(writer.identifier)", "class": "\(writer.instanceClass)"]) }
            writerCreated = created
            try await provider.wait.run(.restore) { timeout, progress in
                try await rds.waitForDBInstanceAvailable(writer.identifier, timeout: timeout, progress: progress)
            }
            endPhase("writer")
        } else if d.writer != nil {
            writerCreated = false
        }
        let endpoint = try await finish(d.name, rds: rds, tags: d.tags)
        var display: DisplayFacts = ["restored_from": d.restoredFrom]
        if d.writer != nil, provider.wait.noWait {
            display["writer"] = "not made yet: the cluster is not available; run the same restore again without --no-wait to add it"
        }
        return RestoreResult(target: provider.target.name, name: d.name, region: d.region, endpoint: endpoint,
                             conninfo: provider.conninfo(for: endpoint), snapshot: d.snapshot ?? "", point: d.point,
                             requestedTime: d.requestedTime, recoveredTo: d.requestedTime, phases: phases, adopted: d.adopt,
                             waited: !provider.wait.noWait, writerInstance: d.writer?.identifier, writerCreated: writerCreated,
                             failoverTo: endpoint?.host ?? "", display: display)
    }

    func start(_ call: Call, name: String, options: RDSRestoreOptions, rds: RDSClient) async throws {
        switch call {
        case .instanceToPointInTime(let source, let time):
            _ = try await rds.restoreDBInstanceToPointInTime(source: source, target: name, restoreTime: time,
                                                             useLatestRestorableTime: time == nil, options: options)
        case .clusterToPointInTime(let source, let time):
            _ = try await rds.restoreDBClusterToPointInTime(source: source, target: name, restoreTime: time,
                                                            useLatestRestorableTime: time == nil, options: options)
        case .instanceFromSnapshot(let snapshot):
            _ = try await rds.restoreDBInstanceFromDBSnapshot(snapshot: snapshot, target: name, options: options)
        case .clusterFromSnapshot(let snapshot, let engine):
            _ = try await rds.restoreDBClusterFromSnapshot(snapshot: snapshot, target: name, engine: engine, options: options)
        }
    }

    /// Makes sure the tags are on (some restores drop them) and returns where it listens.
    func finish(_ name: String, rds: RDSClient, tags: [AWSTag]) async throws -> Endpoint? {
        if provider.isCluster {
            guard let cluster = try await rds.dbCluster(name) else { return nil }
            if let arn = cluster.arn { try await addMissingTags(arn: arn, present: cluster.tags, wanted: tags, rds: rds) }
            // The cluster endpoint is the writer's.
            guard let host = cluster.endpoint else { return nil }
            return Endpoint(host: host, port: cluster.port ?? 5432)
        }
        guard let instance = try await rds.dbInstance(name) else { return nil }
        if let arn = instance.arn { try await addMissingTags(arn: arn, present: instance.tags, wanted: tags, rds: rds) }
        guard let host = instance.endpointAddress else { return nil }
        return Endpoint(host: host, port: instance.endpointPort ?? 5432)
    }

    func addMissingTags(arn: String, present: [AWSTag], wanted: [AWSTag], rds: RDSClient) async throws {
        let have = try await rds.tags(described: present, arn: arn)
        let missing = wanted.filter { !have.contains($0) }
        if !missing.isEmpty { try await rds.addTagsToResource(arn: arn, tags: missing) }
    }
}
