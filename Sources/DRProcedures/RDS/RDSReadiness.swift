import DRAWS
import DRCore
import Foundation

/// `dr check` for RDS: could the target fail over to its DR region right now? Each check is a
/// function of its own (RDS, KMS, EC2, Secrets Manager, Route 53, ElastiCache describes), and
/// they all run at once; add a service's checks by adding a function to `checks`. A check that
/// AWS refuses to answer (no permission, a region that does not answer) is a failed line naming
/// the call, because a failover would need that call too. Read-only.
struct RDSReadiness {
    let provider: RDSProvider
    let scope: ReadinessRequest.Scope

    var settings: RDSTargetSettings { provider.settings }
    var name: String { provider.target.name }
    var session: RDSSession { provider.session }

    /// A weekly policy tolerates a day of slack; daily cache snapshots, a day too.
    static let weeklyLimit: Double = 8 * 86400
    static let dailyLimit: Double = 2 * 86400
    static let exposureLimit: Double = 15 * 60

    func run() async throws -> ReadinessReport {
        let now = provider.context.clock.now()
        return ReadinessReport(target: name, provider: "rds", checkedAt: now, checks: try await ReadinessChecks.gather(checks(now: now)))
    }

    /// The checks this scope runs, in the order they are shown.
    func checks(now: Date) -> [ReadinessChecks.Check] {
        var out: [ReadinessChecks.Check] = []
        if scope == .all {
            out.append(guarded("snapshot_age") { [self] in [try await snapshotAge(now: now)] })
            out.append(guarded("automated_backups") { [self] in [try await automatedBackups(now: now)] })
        }
        guard let dr = settings.drRegion else {
            out.append { [name] in [ReadinessCheck("dr_region", .failed, found: "no dr_region configured: there is nowhere to fail over to",
                                                   fix: "add `dr_region: us-west-2` (for example) and `dr_kms_key_id:` to \(name) in dr.yml, then `dr copy \(name)`")] }
            return out
        }
        // The DR copies are listed once, for the copy's check and the instance class's engine.
        let copies = Task { [provider, name] in
            try await provider.store(dr).list(of: nil).filter { $0.isAvailable && $0.tag(DRTags.target) == name }
        }
        out.append(guarded("dr_copy") { [self] in [try await drCopy(try await copies.value, region: dr, now: now)] })
        out.append(guarded("dr_kms_key") { [self] in [try await drKey(region: dr)] })
        out.append(guarded("dr_subnet_group") { [self] in [try await drSubnetGroup(region: dr)] })
        out.append(guarded("dr_security_groups") { [self] in [try await drSecurityGroups(region: dr)] })
        out.append(guarded("dr_parameter_group") { [self] in [try await drParameterGroup(region: dr)] })
        out.append(guarded("dr_instance_class") { [self] in [try await drInstanceClass(region: dr) { try await copies.value.compactMap(\.engine).first }] })
        if let secret = provider.target.databaseSecret {
            if scope == .all {
                out.append(guarded("secret_replication") { [self] in [try await secretReplication(secret, to: dr)] })
            } else {
                out.append(guarded("dr_secret") { [self] in [try await drSecret(secret, region: dr)] })
            }
        }
        if scope == .all { out.append(guarded("dns_record") { [self] in [try await dnsRecord()] }) }
        if let group = settings.cacheReplicationGroup {
            if scope == .all { out.append(guarded("cache_snapshot") { [self] in try await cache(group, now: now) }) }
            out.append(guarded("dr_cache_subnet_group") { [self] in [try await drCacheSubnetGroup(region: dr)] })
        }
        // The application tier in the DR region (issue 18): its service, images and desired count.
        if settings.app != nil { out.append { [provider] in await provider.appReadinessChecks() } }
        return out
    }

    /// An AWS refusal or outage becomes the check's failed line: what could not be read, and why.
    func guarded(_ check: String, _ body: @escaping ReadinessChecks.Check) -> ReadinessChecks.Check {
        {
            do { return try await body() } catch let error as AWSError {
                return [ReadinessCheck(check, .failed, found: "could not be read: \(error.summary)",
                                       fix: "check that dr's AWS identity may call \(error.service) \(error.operation) (IAM) and that the region answers")]
            }
        }
    }

    // MARK: The source, at home

    /// The newest manual snapshot against the weekly policy.
    func snapshotAge(now: Date) async throws -> ReadinessCheck {
        let snapshots = try await provider.store(settings.region).list(of: provider.resource).filter { $0.isAvailable && !$0.id.hasPrefix("rds:") }
        guard let newest = snapshots.max(by: { ($0.createdAt ?? .distantPast) < ($1.createdAt ?? .distantPast) }), let created = newest.createdAt else {
            return ReadinessCheck("snapshot_age", .failed, found: "no manual snapshot of \(provider.resource) in \(settings.region)",
                                  fix: "take one: `dr snapshot \(name) --weekly` (weekly-snapshot.yml)")
        }
        let age = now.timeIntervalSince(created)
        let found = "newest manual snapshot \(newest.id), \(DurationText.format(age)) old (policy: weekly, at most 8d)"
        guard age <= Self.weeklyLimit else {
            return ReadinessCheck("snapshot_age", .failed, found: found, fix: "take one: `dr snapshot \(name) --weekly`, and check that the weekly schedule runs", ageSeconds: age)
        }
        return ReadinessCheck("snapshot_age", .ok, found: found, ageSeconds: age)
    }

    /// Automated backups on, kept at least as long as the policy, and the restorable window.
    func automatedBackups(now: Date) async throws -> ReadinessCheck {
        let rds = try session.rds(settings.region)
        let retention: Int?, window: TimeWindow?
        if provider.isCluster {
            guard let cluster = try await rds.dbCluster(provider.resource) else { return missingSource() }
            retention = cluster.backupRetentionPeriod
            window = RDSRestoreWindow.of(cluster: cluster)
        } else {
            guard let instance = try await rds.dbInstance(provider.resource) else { return missingSource() }
            retention = instance.backupRetentionPeriod
            window = try await RDSRestoreWindow.of(instance: instance, rds: rds)
        }
        let policy = settings.retentionAutomatedDays
        let days = retention ?? 0
        let modify = provider.isCluster ? "modify-db-cluster --db-cluster-identifier" : "modify-db-instance --db-instance-identifier"
        let fix = "aws rds \(modify) \(provider.resource) --backup-retention-period \(policy) --apply-immediately --region \(settings.region)"
        guard days > 0 else {
            return ReadinessCheck("automated_backups", .failed, found: "automated backups are off: no point-in-time recovery", fix: fix)
        }
        guard days >= policy else {
            return ReadinessCheck("automated_backups", .failed, found: "automated backups kept \(days) day(s), the policy asks for \(policy)", fix: fix)
        }
        guard let window else {
            return ReadinessCheck("automated_backups", .failed, found: "automated backups kept \(days) days, but no restorable window yet",
                                  fix: "wait for the first automated backup, then check again")
        }
        let exposure = max(0, now.timeIntervalSince(window.latest))
        let found = "kept \(days) days (policy \(policy)); restorable \(window); latest restorable time \(DurationText.format(exposure)) ago"
        guard exposure <= Self.exposureLimit else {
            return ReadinessCheck("automated_backups", .warning, found: found, fix: "the transaction logs reach the backups late; check the instance's events", ageSeconds: exposure)
        }
        return ReadinessCheck("automated_backups", .ok, found: found, ageSeconds: exposure)
    }

    func missingSource() -> ReadinessCheck {
        ReadinessCheck("automated_backups", .failed, found: "\(provider.resourceNoun) \(provider.resource) was not found in \(settings.region)",
                       fix: "check `\(provider.isCluster ? "cluster" : "instance"):` and `region:` of \(name) in dr.yml")
    }

    // MARK: The DR region

    /// The DR key's ARN, or nil when none is configured or it does not exist.
    func drKeyARN(region: String) async throws -> String? {
        guard let key = settings.drKMSKeyID else { return nil }
        do { return try await session.kms(region).describeKey(key).arn } catch let e as AWSError where e.isNotFound { return nil }
    }

    /// The newest DR copy: there, its age, and encrypted with the DR key.
    func drCopy(_ copies: [RDSSnapshotInfo], region: String, now: Date) async throws -> ReadinessCheck {
        let copyFix = "copy the newest snapshot there: `dr copy \(name)` (weekly-snapshot.yml does it after each snapshot)"
        guard let newest = copies.max(by: { ($0.createdAt ?? .distantPast) < ($1.createdAt ?? .distantPast) }) else {
            return ReadinessCheck("dr_copy", .failed, found: "no copy of \(name)'s snapshots in \(region)", fix: copyFix)
        }
        let age = newest.createdAt.map { now.timeIntervalSince($0) }
        var found = "newest copy \(newest.id) in \(region)" + (age.map { ", \(DurationText.format($0)) old" } ?? "")
        if let age, age > Self.weeklyLimit {
            return ReadinessCheck("dr_copy", .failed, found: found + " (policy: weekly, at most 8d)", fix: copyFix, ageSeconds: age)
        }
        let keyARN = try await drKeyARN(region: region)
        if newest.encrypted {
            found += ", encrypted with \(newest.kmsKeyId ?? "?")"
            if let keyARN, let used = newest.kmsKeyId, !Self.sameKey(used, keyARN) {
                return ReadinessCheck("dr_copy", .failed, found: found + ", not the DR key \(settings.drKMSKeyID ?? "") (\(keyARN))",
                                      fix: "copy it again with the DR key (`dr copy \(name)` re-encrypts with dr_kms_key_id)", ageSeconds: age)
            }
        } else if settings.drKMSKeyID != nil {
            return ReadinessCheck("dr_copy", .failed, found: found + ", not encrypted although dr_kms_key_id is set",
                                  fix: "encrypt the source (an encrypted snapshot copies encrypted), then `dr copy \(name)`", ageSeconds: age)
        } else {
            return ReadinessCheck("dr_copy", .warning, found: found + ", not encrypted", fix: "encrypt the source and set `dr_kms_key_id:` for its copies", ageSeconds: age)
        }
        return ReadinessCheck("dr_copy", .ok, found: found, ageSeconds: age)
    }

    /// Key ids and ARNs name the same key when the ARN ends with the id.
    static func sameKey(_ a: String, _ b: String) -> Bool {
        a == b || a.hasSuffix("/" + (b.split(separator: "/").last.map(String.init) ?? b)) || b.hasSuffix("/" + (a.split(separator: "/").last.map(String.init) ?? a))
    }

    /// The DR key exists and is enabled.
    func drKey(region: String) async throws -> ReadinessCheck {
        guard let key = settings.drKMSKeyID else {
            return ReadinessCheck("dr_kms_key", .warning, found: "no dr_kms_key_id configured: copies of encrypted snapshots need a key in \(region)",
                                  fix: "create a key in \(region) and set `dr_kms_key_id:` on \(name)")
        }
        let metadata: KeyMetadata
        do { metadata = try await session.kms(region).describeKey(key) } catch let e as AWSError where e.isNotFound {
            return ReadinessCheck("dr_kms_key", .failed, found: "the KMS key \(key) does not exist in \(region)",
                                  fix: "create it (and its alias) in \(region), or fix `dr_kms_key_id:`")
        }
        let state = metadata.keyState ?? (metadata.enabled == true ? "Enabled" : "unknown")
        let found = "\(key) (\(metadata.arn ?? metadata.keyId)) in \(region) is \(state)"
        switch state {
        case "Enabled": return ReadinessCheck("dr_kms_key", .ok, found: found)
        case "PendingDeletion":
            return ReadinessCheck("dr_kms_key", .failed, found: found, fix: "aws kms cancel-key-deletion --key-id \(metadata.keyId) --region \(region), then enable it")
        default:
            return ReadinessCheck("dr_kms_key", .failed, found: found, fix: "aws kms enable-key --key-id \(metadata.keyId) --region \(region)")
        }
    }

    var drRestore: DRRestoreSettings { settings.drRestore ?? DRRestoreSettings() }

    func drSubnetGroup(region: String) async throws -> ReadinessCheck {
        guard let group = drRestore.subnetGroup else {
            return ReadinessCheck("dr_subnet_group", .warning, found: "no dr_restore.subnet_group: a restore in \(region) lands in the default VPC",
                                  fix: "set `dr_restore: { subnet_group: ... }` on \(name) to the DB subnet group the application reaches in \(region)")
        }
        guard let found = try await session.rds(region).dbSubnetGroup(group) else {
            return ReadinessCheck("dr_subnet_group", .failed, found: "the DB subnet group \(group) does not exist in \(region)",
                                  fix: "create it in \(region) (aws rds create-db-subnet-group), or fix dr_restore.subnet_group")
        }
        return ReadinessCheck("dr_subnet_group", .ok, found: "\(group) in \(region) (\(found.vpcId ?? "VPC ?"), \(found.subnets) subnets)")
    }

    func drSecurityGroups(region: String) async throws -> ReadinessCheck {
        guard let wanted = drRestore.securityGroups, !wanted.isEmpty else {
            return ReadinessCheck("dr_security_groups", .warning, found: "no dr_restore.security_groups: a restore in \(region) gets the VPC's default security group",
                                  fix: "set `dr_restore: { security_groups: [sg-...] }` on \(name) to the groups that let the application in")
        }
        let existing = Set(try await session.ec2(region).existingSecurityGroups(ids: wanted).map(\.id))
        let missing = wanted.filter { !existing.contains($0) }
        guard missing.isEmpty else {
            return ReadinessCheck("dr_security_groups", .failed, found: "\(missing.joined(separator: ", ")) not found in \(region)",
                                  fix: "create them in \(region), or fix dr_restore.security_groups")
        }
        return ReadinessCheck("dr_security_groups", .ok, found: "\(wanted.joined(separator: ", ")) in \(region)")
    }

    func drParameterGroup(region: String) async throws -> ReadinessCheck {
        guard let group = drRestore.parameterGroup else {
            return ReadinessCheck("dr_parameter_group", .ok, found: "not set: a restore in \(region) uses the engine's default parameter group")
        }
        guard let found = try await session.rds(region).dbParameterGroup(group) else {
            return ReadinessCheck("dr_parameter_group", .failed, found: "the DB parameter group \(group) does not exist in \(region)",
                                  fix: "create it in \(region) with the source's settings, or fix dr_restore.parameter_group")
        }
        return ReadinessCheck("dr_parameter_group", .ok, found: "\(group) in \(region)\(found.family.map { " (\($0))" } ?? "")")
    }

    /// `engine`: the DR copies' (else the provider's usual one).
    func drInstanceClass(region: String, engine copied: @Sendable () async throws -> String?) async throws -> ReadinessCheck {
        guard let instanceClass = drRestore.instanceClass else {
            return ReadinessCheck("dr_instance_class", .ok, found: "not set: a restore in \(region) keeps the snapshot's instance class")
        }
        let engine = try await copied() ?? (provider.isCluster ? RDSRestoreProcedure.auroraEngine : "postgres")
        guard try await session.rds(region).offers(instanceClass: instanceClass, engine: engine) else {
            return ReadinessCheck("dr_instance_class", .failed, found: "\(region) does not offer \(instanceClass) for \(engine)",
                                  fix: "choose a class \(region) offers (aws rds describe-orderable-db-instance-options --engine \(engine) --region \(region)) for dr_restore.instance_class")
        }
        return ReadinessCheck("dr_instance_class", .ok, found: "\(instanceClass) is offered for \(engine) in \(region)")
    }

    // MARK: The secret

    /// At home: the secret is replicated to the DR region and in sync.
    func secretReplication(_ secret: String, to region: String) async throws -> ReadinessCheck {
        let fix = "aws secretsmanager replicate-secret-to-regions --secret-id \(secret) --add-replica-regions Region=\(region) --region \(settings.region)"
        guard let description = try await session.secretsManager(settings.region).secretIfPresent(secret) else {
            return ReadinessCheck("secret_replication", .failed, found: "the secret \(secret) does not exist in \(settings.region)",
                                  fix: "fix `database: { secret: }` of \(name) in dr.yml")
        }
        guard let replica = description.replicationStatus?.first(where: { $0.region == region }) else {
            return ReadinessCheck("secret_replication", .failed, found: "\(secret) is not replicated to \(region)", fix: fix)
        }
        let status = replica.status ?? "unknown"
        let found = "\(secret) is replicated to \(region): \(status)" + (replica.statusMessage.map { " (\($0))" } ?? "")
        switch status {
        case "InSync": return ReadinessCheck("secret_replication", .ok, found: found)
        case "InProgress": return ReadinessCheck("secret_replication", .warning, found: found, fix: "wait until it is InSync, then check again")
        default: return ReadinessCheck("secret_replication", .failed, found: found, fix: "remove the failed replica and replicate again: \(fix)")
        }
    }

    /// In the DR region alone: the secret is there (a replica is promoted when it is repointed).
    func drSecret(_ secret: String, region: String) async throws -> ReadinessCheck {
        guard let description = try await session.secretsManager(region).secretIfPresent(secret) else {
            return ReadinessCheck("dr_secret", .failed, found: "no secret \(secret) in \(region) for the application to read there",
                                  fix: "replicate it there from \(settings.region) while that region is up, or create it in \(region)")
        }
        if description.isReplica(in: region) {
            return ReadinessCheck("dr_secret", .ok, found: "\(secret) in \(region), a replica of \(description.primaryRegion ?? "?")'s (promoted when it is repointed)")
        }
        return ReadinessCheck("dr_secret", .ok, found: "\(secret) in \(region), a standalone secret")
    }

    // MARK: DNS and the cache

    func dnsRecord() async throws -> ReadinessCheck {
        guard let dns = settings.dns else {
            return ReadinessCheck("dns_record", .warning, found: "no dns: configured, so a failover must be told the zone and record",
                                  fix: "add `dns: { zone: example.com, record: db.example.com }` to \(name) in dr.yml")
        }
        let r53 = try session.route53()
        guard try await r53.hostedZone(named: Route53Failover.fqdn(dns.zone)) != nil else {
            return ReadinessCheck("dns_record", .failed, found: "there is no Route 53 hosted zone \(dns.zone)", fix: "fix dns.zone of \(name) in dr.yml")
        }
        guard let value = try await provider.dns.currentValue(zone: dns.zone, record: dns.record) else {
            return ReadinessCheck("dns_record", .failed, found: "the zone \(dns.zone) has no A, AAAA or CNAME record \(dns.record)",
                                  fix: "create it (`dr failover \(name) --to <current endpoint> --create`) or fix dns.record")
        }
        return ReadinessCheck("dns_record", .ok, found: "\(dns.record) → \(value)")
    }

    /// The cache's newest snapshot against the daily policy, and its snapshot retention.
    func cache(_ group: String, now: Date) async throws -> [ReadinessCheck] {
        let elastiCache = try session.elastiCache(settings.region)
        guard let source = try await elastiCache.replicationGroup(group) else {
            return [ReadinessCheck("cache_snapshot", .failed, found: "the replication group \(group) does not exist in \(settings.region)",
                                   fix: "fix `cache: { replication_group: }` of \(name) in dr.yml")]
        }
        var lines: [ReadinessCheck] = []
        let newest = try await elastiCache.describeAllSnapshots(replicationGroupId: group).filter { $0.status == "available" }
            .max { ($0.createTime ?? .distantPast) < ($1.createTime ?? .distantPast) }
        if let newest, newest.createTime == nil {
            lines.append(ReadinessCheck("cache_snapshot", .warning, found: "newest snapshot \(newest.name) of \(group); ElastiCache reports no creation time for it, so its age against the daily policy is unknown",
                                        fix: "check the group's daily snapshot window (aws elasticache describe-snapshots --replication-group-id \(group))"))
        } else if let newest, let created = newest.createTime {
            let age = now.timeIntervalSince(created)
            let found = "newest snapshot \(newest.name) of \(group), \(DurationText.format(age)) old (policy: daily)"
            lines.append(age <= Self.dailyLimit ? ReadinessCheck("cache_snapshot", .ok, found: found, ageSeconds: age)
                : ReadinessCheck("cache_snapshot", .failed, found: found, fix: "check the group's daily snapshot window, or take one (`dr snapshot \(name)` takes it with the database's)", ageSeconds: age))
        } else {
            lines.append(ReadinessCheck("cache_snapshot", .failed, found: "\(group) has no snapshot", fix: "turn on its daily snapshots (SnapshotRetentionLimit) or `dr snapshot \(name)`"))
        }
        let limit = source.snapshotRetentionLimit ?? 0, policy = settings.cacheSnapshotRetentionDays
        let found = "\(group) keeps its automatic snapshots \(limit) day(s) (policy \(policy))"
        lines.append(limit >= policy ? ReadinessCheck("cache_retention", .ok, found: found)
            : ReadinessCheck("cache_retention", .failed, found: found,
                             fix: "aws elasticache modify-replication-group --replication-group-id \(group) --snapshot-retention-limit \(policy) --apply-immediately --region \(settings.region)"))
        return lines
    }

    func drCacheSubnetGroup(region: String) async throws -> ReadinessCheck {
        guard let group = drRestore.cacheSubnetGroup else {
            return ReadinessCheck("dr_cache_subnet_group", .warning, found: "no dr_restore.cache_subnet_group: a cache restored in \(region) lands in the default VPC",
                                  fix: "set `dr_restore: { cache_subnet_group: ... }` on \(name)")
        }
        guard try await session.elastiCache(region).cacheSubnetGroupExists(group) else {
            return ReadinessCheck("dr_cache_subnet_group", .failed, found: "the cache subnet group \(group) does not exist in \(region)",
                                  fix: "create it in \(region) (aws elasticache create-cache-subnet-group), or fix dr_restore.cache_subnet_group")
        }
        return ReadinessCheck("dr_cache_subnet_group", .ok, found: "\(group) in \(region)")
    }
}

extension RDSProvider {
    public func check(_ request: ReadinessRequest) async throws -> ReadinessReport {
        try await wait.bounded(clock: session.clock) { try await RDSReadiness(provider: self, scope: request.scope).run() }
    }
}
