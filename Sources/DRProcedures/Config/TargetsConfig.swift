import DRCore
import DRVerify
import Foundation

/// The targets config file (`dr.yml`): named targets, so commands say `prod-db`, not ARNs.
public struct TargetsConfig: Sendable {
    /// The file it was read from.
    public var file: String
    /// Targets in the order the file lists them.
    public var targets: [Target]

    public init(file: String, targets: [Target]) {
        self.file = file
        self.targets = targets
    }

    public func target(named name: String) throws -> Target {
        if let target = targets.first(where: { $0.name == name }) { return target }
        let known = targets.map(\.name).joined(separator: ", ")
        throw DRError.badInput("There is no target named \"\(name)\" in \(file). Known targets: \(known.isEmpty ? "none" : known). Add it under `targets:` or use one of those names.")
    }
}

/// One named target: which provider holds it, where, and its policy.
public struct Target: Sendable, Equatable {
    public var name: String
    public var provider: ProviderSettings
    /// How a drill verifies a restore of this target (optional).
    public var verify: VerifyPolicy?
    /// How often this target must pass a restore drill, and the drill's defaults (optional).
    public var drill: DrillPolicy?

    public init(name: String, provider: ProviderSettings, verify: VerifyPolicy? = nil, drill: DrillPolicy? = nil) {
        self.name = name
        self.provider = provider
        self.verify = verify
        self.drill = drill
    }

    /// Whether the target keeps a DR copy (rds `dr_region:`, postgres `dr_repository:`).
    public var hasDRCopy: Bool {
        switch provider {
        case .rds(let s): return s.drRegion != nil
        case .postgres(let s): return s.drRepository != nil
        case .pgbackrest(let s): return s.drRepo != nil
        }
    }

    /// The Secrets Manager secret holding the database's credentials (rds `database: { secret: }`).
    public var databaseSecret: String? {
        if case .rds(let s) = provider, case .secret(let id)? = s.database { return id }
        return nil
    }

    /// The cache snapshotted with the database, when the target has one (rds `cache:`).
    public var cacheReplicationGroup: String? {
        if case .rds(let s) = provider { return s.cacheReplicationGroup }
        return nil
    }

    /// What a drill restores when nothing says: the newest snapshot (rds: the cheapest, most
    /// common restore there), else the end of the restorable window (self-hosted: the base
    /// backup plus every archived WAL segment, which exercises the whole archive).
    public var drillsSnapshotByDefault: Bool {
        if case .rds = provider { return true }
        return false
    }

    public var providerName: String {
        switch provider {
        case .rds: return "rds"
        case .postgres: return "postgres"
        case .pgbackrest: return "pgbackrest"
        }
    }
}

/// The provider and its settings; one case per backend.
public enum ProviderSettings: Sendable, Equatable {
    case rds(RDSTargetSettings)
    case postgres(PostgresTargetSettings)
    case pgbackrest(PgBackRestTargetSettings)
}

/// `provider: rds` — an RDS instance or Aurora cluster (issue 4).
public struct RDSTargetSettings: Sendable, Equatable {
    public enum Resource: Sendable, Equatable {
        case instance(String)
        case cluster(String)
    }
    public var region: String
    public var resource: Resource
    public var drRegion: String?
    public var drKMSKeyID: String?
    public var database: DatabaseAccess?
    /// ElastiCache replication group snapshotted alongside the database.
    public var cacheReplicationGroup: String?
    /// The Route 53 record clients use to reach the database (`dr failover TARGET`).
    public var dns: DNSSettings?
    /// Weekly snapshots kept in the primary region, and copies kept in the DR region.
    public var retentionWeekly: Int?
    public var retentionDRRegion: Int?
    public var tags: [String: String]
    /// The application tier in front of the database (`app:`): an ECS service per region.
    public var app: AppSettings?
    /// `dr_restore:` — what every restore in the DR region uses there (the source's subnet
    /// group, security groups and parameter group are regional, so they cannot be carried over).
    public var drRestore: DRRestoreSettings?
    /// The automated-backup retention the target's policy asks for, in days (`retention.automated`).
    public var retentionAutomatedDays: Int
    /// The cache snapshots' retention the policy asks for, in days (`cache.snapshot_retention`).
    public var cacheSnapshotRetentionDays: Int

    /// The platform's policies: 7 days of automated backups, daily cache snapshots kept 7 days.
    public static let defaultAutomatedRetentionDays = 7
    public static let defaultCacheSnapshotRetentionDays = 7

    public init(region: String, resource: Resource, drRegion: String? = nil, drKMSKeyID: String? = nil,
                database: DatabaseAccess? = nil, cacheReplicationGroup: String? = nil, dns: DNSSettings? = nil,
                retentionWeekly: Int? = nil, retentionDRRegion: Int? = nil, tags: [String: String] = [:],
                drRestore: DRRestoreSettings? = nil, retentionAutomatedDays: Int = defaultAutomatedRetentionDays,
                cacheSnapshotRetentionDays: Int = defaultCacheSnapshotRetentionDays, app: AppSettings? = nil) {
        self.drRestore = drRestore
        self.retentionAutomatedDays = retentionAutomatedDays
        self.cacheSnapshotRetentionDays = cacheSnapshotRetentionDays
        self.app = app
        self.region = region
        self.resource = resource
        self.drRegion = drRegion
        self.drKMSKeyID = drKMSKeyID
        self.database = database
        self.cacheReplicationGroup = cacheReplicationGroup
        self.dns = dns
        self.retentionWeekly = retentionWeekly
        self.retentionDRRegion = retentionDRRegion
        self.tags = tags
    }
}

/// `app:` — the application's ECS service: `cluster`/`service` in the target's region, and
/// `dr_cluster`/`dr_service` in its `dr_region` (default: the same names), kept at `desired`
/// tasks there until a failover scales it up (the pilot-light pattern: 0; a warm standby: more).
public struct AppSettings: Sendable, Equatable {
    public var cluster: String
    public var service: String
    public var drCluster: String
    public var drService: String
    /// The DR-region service's desired count at rest (default 0).
    public var desired: Int

    public init(cluster: String, service: String, drCluster: String? = nil, drService: String? = nil, desired: Int = 0) {
        self.cluster = cluster
        self.service = service
        self.drCluster = drCluster ?? cluster
        self.drService = drService ?? service
        self.desired = desired
    }

    /// ECS's naming rule (up to 255 letters, digits, hyphens and underscores); a cluster may also
    /// be given by its ARN (`arn:aws:ecs:REGION:ACCOUNT:cluster/NAME`).
    public static func isName(_ text: String, cluster: Bool) -> Bool {
        var name = Substring(text)
        if cluster, text.hasPrefix("arn:"), text.split(separator: ":").count == 6, let slash = text.firstIndex(of: "/"),
           text[..<slash].hasSuffix(":cluster") {
            name = text[text.index(after: slash)...]
        }
        return !name.isEmpty && name.count <= 255 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}

/// `dr_restore: { subnet_group, security_groups, parameter_group, instance_class, cache_subnet_group }`:
/// the DR region's own network and settings for every restore there (all optional).
public struct DRRestoreSettings: Sendable, Equatable {
    public var subnetGroup: String?
    public var securityGroups: [String]?
    public var parameterGroup: String?
    public var instanceClass: String?
    /// The ElastiCache subnet group a cache restored in the DR region joins.
    public var cacheSubnetGroup: String?

    public init(subnetGroup: String? = nil, securityGroups: [String]? = nil, parameterGroup: String? = nil,
                instanceClass: String? = nil, cacheSubnetGroup: String? = nil) {
        self.subnetGroup = subnetGroup
        self.securityGroups = securityGroups
        self.parameterGroup = parameterGroup
        self.instanceClass = instanceClass
        self.cacheSubnetGroup = cacheSubnetGroup
    }

    /// `overrides` with every setting it leaves open taken from this block.
    public func filling(_ overrides: RDSRestoreOverrides) -> RDSRestoreOverrides {
        var o = overrides
        o.subnetGroup = o.subnetGroup ?? subnetGroup
        o.securityGroups = o.securityGroups ?? securityGroups
        o.parameterGroup = o.parameterGroup ?? parameterGroup
        o.instanceClass = o.instanceClass ?? instanceClass
        return o
    }
}

/// `dns:` — the Route 53 record clients use (an rds target's failover entry).
public struct DNSSettings: Sendable, Equatable {
    public var zone: String
    public var record: String
    public var ttl: Int?
    public init(zone: String, record: String, ttl: Int? = nil) {
        self.zone = zone
        self.record = record
        self.ttl = ttl
    }
}

/// How to reach a target's database for verification.
public enum DatabaseAccess: Sendable, Equatable {
    /// A Secrets Manager secret id holding `{"host","port","username","password","database"}`.
    case secret(String)
    /// A libpq conninfo string or URI.
    case conninfo(String)
}

/// `provider: postgres` — a self-hosted PostgreSQL server on this machine (issue 5).
public struct PostgresTargetSettings: Sendable, Equatable {
    /// How to reach the source server (libpq conninfo; passwords via pgpass or PGPASSWORD are best).
    public var conninfo: String
    /// Base backups and the WAL archive.
    public var repository: String
    /// The second copy ("DR region"), filled by `dr copy`.
    public var drRepository: String?
    /// Weekly backups kept; older weekly backups, and WAL no kept backup needs, are dropped.
    public var retentionWeekly: Int?
    /// Where restored servers live, one folder each. Default: `dr-restores` beside the repository.
    public var restoreRoot: String
    /// The libpq service file `dr failover` rewrites, and the entry in it (default: the target's name).
    public var serviceFile: String?
    public var service: String?
    /// PostgreSQL server programs (initdb, pg_ctl). Default: `pg_config --bindir`.
    public var bindir: String?
    /// How base-backup files and WAL are stored. Default: zstd level 3.
    public var compression: Compression
    /// Encryption at rest (AES-256-GCM) with the key found here; nil: not encrypted.
    public var encryption: KeySource?
    /// The data loss the target accepts (seconds): `archive setup` fits `archive_timeout` to it. Default 5 min.
    public var rpo: Double
    /// Copy threads for backups, restores and copies (pgBackRest's process-max). Default: the cores.
    public var jobs: Int

    public enum Compression: Sendable, Equatable {
        case none
        case zstd(level: Int)
        public static let `default` = Compression.zstd(level: 3)
    }

    public static let defaultRPO: Double = 300

    /// `zstd level 3`, or `none`.
    public var compressionName: String {
        switch compression {
        case .none: return "none"
        case .zstd(let level): return "zstd level \(level)"
        }
    }
    public static var defaultJobs: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    public init(conninfo: String, repository: String, drRepository: String? = nil, retentionWeekly: Int? = nil,
                restoreRoot: String? = nil, serviceFile: String? = nil, service: String? = nil, bindir: String? = nil,
                compression: Compression = .default, encryption: KeySource? = nil, rpo: Double = defaultRPO, jobs: Int? = nil) {
        self.compression = compression
        self.encryption = encryption
        self.rpo = rpo
        self.jobs = jobs ?? Self.defaultJobs
        self.conninfo = conninfo
        self.repository = repository
        self.drRepository = drRepository
        self.retentionWeekly = retentionWeekly
        self.restoreRoot = restoreRoot ?? URL(fileURLWithPath: repository).deletingLastPathComponent().appendingPathComponent("dr-restores").path
        self.serviceFile = serviceFile
        self.service = service
        self.bindir = bindir
    }
}

/// `verify:` — how a restore of this target is judged.
public struct VerifyPolicy: Sendable, Equatable {
    /// Row-count tolerance, as `dr verify --rows` reads it (DRVerify).
    public var rows: RowTolerance
    /// A query returning one timestamp: the newest data, to measure freshness.
    public var freshnessQuery: String?
    /// What drills check of the rows: their count, or also their contents (`content: checksum`,
    /// against a manifest captured with contents, or the live source).
    public var content: ContentMode
    /// Tables counted but not hashed (`exclude_content`).
    public var excludeContent: [TableName]

    public init(rows: RowTolerance = .exact, freshnessQuery: String? = nil, content: ContentMode = .none,
                excludeContent: [TableName] = []) {
        self.rows = rows
        self.freshnessQuery = freshnessQuery
        self.content = content
        self.excludeContent = excludeContent
    }
}

/// `drill:` — the restore-drill policy of a target.
public struct DrillPolicy: Sendable, Codable, Equatable {
    /// The last passed drill may be at most this old (seconds); `dr drill history` warns after it.
    public var maxAge: Double?
    /// The recovery point a drill picks when `--point` is not given (e.g. `random-within:7d`).
    public var point: String?
    /// A manifest captured when the snapshot was taken, to verify against (default: the live source).
    public var manifest: String?

    public init(maxAge: Double? = nil, point: String? = nil, manifest: String? = nil) {
        self.maxAge = maxAge
        self.point = point
        self.manifest = manifest
    }
}

extension Target {
    /// The target's settings as flat `key: value` text for listings, with secrets masked.
    public var summary: [String: String] {
        var out: [String: String] = [:]
        switch provider {
        case .rds(let r):
            out["region"] = r.region
            switch r.resource {
            case .instance(let i): out["instance"] = i
            case .cluster(let c): out["cluster"] = c
            }
            out["dr_region"] = r.drRegion
            out["dr_kms_key_id"] = r.drKMSKeyID
            switch r.database {
            case .secret(let s)?: out["database.secret"] = s
            case .conninfo(let c)?: out["database.conninfo"] = Redact.conninfo(c)
            case nil: break
            }
            out["cache.replication_group"] = r.cacheReplicationGroup
            out["dns.zone"] = r.dns?.zone
            out["dns.record"] = r.dns?.record
            out["dns.ttl"] = r.dns?.ttl.map(String.init)
            out["retention.weekly"] = r.retentionWeekly.map(String.init)
            out["retention.dr_region"] = r.retentionDRRegion.map(String.init)
            out["retention.automated"] = String(r.retentionAutomatedDays)
            if r.cacheReplicationGroup != nil { out["cache.snapshot_retention"] = String(r.cacheSnapshotRetentionDays) }
            out["dr_restore.subnet_group"] = r.drRestore?.subnetGroup
            out["dr_restore.security_groups"] = r.drRestore?.securityGroups?.joined(separator: ",")
            out["dr_restore.parameter_group"] = r.drRestore?.parameterGroup
            out["dr_restore.instance_class"] = r.drRestore?.instanceClass
            out["dr_restore.cache_subnet_group"] = r.drRestore?.cacheSubnetGroup
            for (k, v) in r.tags { out["tags.\(k)"] = v }
            if let app = r.app {
                out["app.cluster"] = app.cluster
                out["app.service"] = app.service
                out["app.dr_cluster"] = app.drCluster
                out["app.dr_service"] = app.drService
                out["app.desired"] = String(app.desired)
            }
        case .postgres(let p):
            out["conninfo"] = Redact.conninfo(p.conninfo)
            out["repository"] = p.repository
            out["dr_repository"] = p.drRepository
            out["retention.weekly"] = p.retentionWeekly.map(String.init)
            out["restore_root"] = p.restoreRoot
            out["service_file"] = p.serviceFile
            out["service"] = p.service
            out["bindir"] = p.bindir
            out["compression"] = p.compressionName
            switch p.encryption {
            case .file(let path)?: out["encryption.key_file"] = path
            case .environment(let name)?: out["encryption.key_env"] = name
            case nil: break
            }
            out["rpo"] = DurationText.format(p.rpo)
            out["jobs"] = String(p.jobs)
        case .pgbackrest(let b):
            out["stanza"] = b.stanza
            out["config"] = b.config
            out["conninfo"] = Redact.conninfo(b.conninfo)
            out["repo"] = String(b.repo)
            out["dr_repo"] = b.drRepo.map(String.init)
            out["restore_root"] = b.restoreRoot
            out["retention.weekly"] = b.retentionWeekly.map(String.init)
            out["service_file"] = b.serviceFile
            out["service"] = b.service
            out["bindir"] = b.bindir
        }
        if let verify {
            out["verify.rows"] = verify.rows.description
            out["verify.freshness_query"] = verify.freshnessQuery
            if verify.content != .none { out["verify.content"] = verify.content.rawValue }
            if !verify.excludeContent.isEmpty { out["verify.exclude_content"] = verify.excludeContent.map(\.description).joined(separator: ", ") }
        }
        if let drill {
            out["drill.max_age"] = drill.maxAge.map(DurationText.format)
            out["drill.point"] = drill.point
            out["drill.manifest"] = drill.manifest
        }
        return out
    }
}
