import DRCore
import DRVerify
import Foundation
import Yams

/// Reads and validates `dr.yml`. Every problem is bad input naming file, line and column.
public enum ConfigLoader {
    public static let defaultFileName = "dr.yml"

    /// The file to read: `--config FILE`, else `DR_CONFIG`, else `dr.yml` in the working directory.
    public static func resolvePath(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                                   workingDirectory: String = FileManager.default.currentDirectoryPath) -> String {
        let chosen = explicit ?? environment["DR_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultFileName
        if chosen.hasPrefix("/") { return chosen }
        return URL(fileURLWithPath: workingDirectory).appendingPathComponent(chosen).standardizedFileURL.path
    }

    public static func load(explicit: String? = nil) throws -> TargetsConfig {
        try load(file: resolvePath(explicit: explicit))
    }

    public static func load(file: String) throws -> TargetsConfig {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw DRError.badInput("The targets config \(file) does not exist or cannot be read. Create it (see README, \"Targets: dr.yml\"), or point at another file with --config FILE or DR_CONFIG.")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: file)
    }

    public static func parse(_ text: String, file: String) throws -> TargetsConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw DRError.badInput("\(describe(error, file: file)) Fix \(file) and run the command again.")
        }
        guard let root else {
            throw DRError.badInput("\(file) is empty. It needs a `targets:` mapping (see README, \"Targets: dr.yml\").")
        }
        let base = URL(fileURLWithPath: file).deletingLastPathComponent().path
        let top = ConfigNode(node: root, file: file, path: "")
        var targets: [Target] = []
        for (key, value) in try top.mapping(allowed: ["targets"], required: ["targets"]) where key == "targets" {
            for (name, node) in try value.namedEntries() {
                try TargetName.check(name, at: node)
                targets.append(try TargetParser(name: name, node: node, base: base).parse())
            }
        }
        return TargetsConfig(file: file, targets: targets)
    }

    static func describe(_ error: YamlError, file: String) -> String {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            // An unclosed quote or bracket is found at the end of the file; the place to fix is
            // where it was opened (libyaml's context mark: "while scanning a quoted scalar").
            if let context {
                return "\(file):\(context.mark.line):\(context.mark.column): the file is not valid YAML: \(problem) \(context.text) that starts here."
            }
            return "\(file):\(mark.line):\(mark.column): the file is not valid YAML: \(problem)."
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "`\($0)`" }.joined(separator: ", ")
            return "\(file):\(context.mark.line):\(context.mark.column): the key\(duplicates.count == 1 ? "" : "s") \(keys) appear\(duplicates.count == 1 ? "s" : "") more than once in the same mapping (the first is here); keep one."
        default:
            return "\(file): the file is not valid YAML (\(error))."
        }
    }
}

/// Target names become parts of snapshot, restore, drill, lock and evidence file names, and
/// appear in hints people paste into a shell: 1 to 40 letters, digits, `-` or `_`.
enum TargetName {
    static let maxLength = 40

    static func check(_ name: String, at node: ConfigNode) throws {
        let ok = (1...maxLength).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        guard ok else {
            let shown = name.count > 60 ? String(name.prefix(57)) + "..." : name
            throw node.error("the target name \"\(shown)\" (\(name.count) characters) cannot be used: a target name is 1 to \(maxLength) letters, digits, - or _ (it becomes part of snapshot, restore and file names). Rename it, e.g. prod-db.")
        }
    }
}

/// Reads one target's mapping.
struct TargetParser {
    let name: String
    let node: ConfigNode
    let base: String

    static let providers = ["rds", "postgres", "pgbackrest"]
    static let rdsKeys = ["provider", "region", "instance", "cluster", "dr_region", "dr_kms_key_id", "database", "cache", "dns", "retention", "tags", "verify", "drill",
                          "dr_restore", "app"]
    static let postgresKeys = ["provider", "conninfo", "repository", "dr_repository", "retention", "restore_root", "service_file", "service", "bindir", "verify", "drill",
                               "compression", "encryption", "rpo", "jobs"]
    static let pgbackrestKeys = ["provider", "stanza", "config", "conninfo", "repo", "dr_repo", "restore_root", "retention",
                                 "service_file", "service", "bindir", "verify", "drill"]

    func parse() throws -> Target {
        // The provider decides which keys are allowed, so read it first.
        guard case let .mapping(mapping) = node.node else {
            throw node.error("target \(name) must be a mapping with at least `provider:`.")
        }
        guard let providerNode = mapping["provider"] else {
            throw node.error("target \(name) is missing the required key \"provider\" (one of: \(Self.providers.joined(separator: ", "))).")
        }
        let provider = try ConfigNode(node: providerNode, file: node.file, path: "\(node.path).provider").string()
        switch provider {
        case "rds": return try parseRDS()
        case "postgres": return try parsePostgres()
        case "pgbackrest": return try parsePgBackRest()
        default:
            throw ConfigNode(node: providerNode, file: node.file, path: "").error(
                "target \(name) has the unknown provider \"\(provider)\". Known providers: \(Self.providers.joined(separator: ", ")).")
        }
    }

    private func parseRDS() throws -> Target {
        var region: String?, instance: String?, cluster: String?, drRegion: String?, kms: String?
        var database: DatabaseAccess?, cacheGroup: String?, weekly: Int?, drKeep: Int?, dns: DNSSettings?
        var tags: [String: String] = [:]
        var verify: VerifyPolicy?, drill: DrillPolicy?
        var drRestore: DRRestoreSettings?, drRestoreNode: ConfigNode?
        var automatedDays = RDSTargetSettings.defaultAutomatedRetentionDays, cacheDays = RDSTargetSettings.defaultCacheSnapshotRetentionDays
        var app: AppSettings?, drAppNode: ConfigNode?
        for (key, value) in try node.mapping(allowed: Self.rdsKeys, required: ["region"]) {
            switch key {
            case "region": region = try value.string()
            case "instance": instance = try value.string()
            case "cluster": cluster = try value.string()
            case "dr_region": drRegion = try value.string()
            case "dr_kms_key_id": kms = try value.string()
            case "database": database = try parseDatabase(value)
            case "cache":
                for (k, v) in try value.mapping(allowed: ["replication_group", "snapshot_retention"], required: ["replication_group"]) {
                    if k == "replication_group" { cacheGroup = try v.string() } else { cacheDays = try v.int(minimum: 1) }
                }
            case "dns":
                var zone: String?, record: String?, ttl: Int?
                for (k, v) in try value.mapping(allowed: ["zone", "record", "ttl"], required: ["zone", "record"]) {
                    switch k {
                    case "zone": zone = try v.string()
                    case "record": record = try v.string()
                    default: ttl = try v.int(minimum: 0)
                    }
                }
                dns = DNSSettings(zone: zone!, record: record!, ttl: ttl)
            case "retention":
                for (k, v) in try value.mapping(allowed: ["weekly", "dr_region", "automated"]) {
                    switch k {
                    case "weekly": weekly = try v.int(minimum: 1)
                    case "dr_region": drKeep = try v.int(minimum: 1)
                    default: automatedDays = try v.int(minimum: 1, atMost: 35)
                    }
                }
            case "dr_restore":
                drRestore = try parseDRRestore(value)
                drRestoreNode = value
            case "tags":
                for (k, v) in try value.namedEntries() { tags[k] = try v.string() }
            case "verify": verify = try parseVerify(value)
            case "drill": drill = try parseDrill(value)
            case "app": (app, drAppNode) = try parseApp(value)
            default: break
            }
        }
        if let drAppNode, drRegion == nil {
            throw drAppNode.error("target \(name) describes its DR-region service (`app.dr_cluster`, `app.dr_service`, `app.desired`) but has no `dr_region:` for it to be in.")
        }
        let resource: RDSTargetSettings.Resource
        switch (instance, cluster) {
        case let (i?, nil): resource = .instance(i)
        case let (nil, c?): resource = .cluster(c)
        case (.some, .some): throw node.error("target \(name) names both `instance:` and `cluster:`; keep the one it is.")
        case (nil, nil): throw node.error("target \(name) needs `instance:` (an RDS instance) or `cluster:` (an Aurora cluster).")
        }
        if drKeep != nil && drRegion == nil {
            throw node.error("target \(name) sets retention.dr_region but no `dr_region:` to keep copies in.")
        }
        if let drRestoreNode, drRegion == nil {
            throw drRestoreNode.error("target \(name) sets `dr_restore:` but no `dr_region:` for restores to use it in.")
        }
        return Target(name: name, provider: .rds(RDSTargetSettings(
            region: region!, resource: resource, drRegion: drRegion, drKMSKeyID: kms, database: database,
            cacheReplicationGroup: cacheGroup, dns: dns, retentionWeekly: weekly, retentionDRRegion: drKeep, tags: tags,
            drRestore: drRestore, retentionAutomatedDays: automatedDays, cacheSnapshotRetentionDays: cacheDays, app: app)), verify: verify, drill: drill)
    }

    /// `dr_restore: { subnet_group, security_groups, parameter_group, instance_class, cache_subnet_group }`,
    /// security groups as a list or comma-separated.
    private func parseDRRestore(_ value: ConfigNode) throws -> DRRestoreSettings {
        var settings = DRRestoreSettings()
        for (key, v) in try value.mapping(allowed: ["subnet_group", "security_groups", "parameter_group", "instance_class", "cache_subnet_group"]) {
            switch key {
            case "subnet_group": settings.subnetGroup = try v.string()
            case "parameter_group": settings.parameterGroup = try v.string()
            case "instance_class":
                let text = try v.string()
                guard text.hasPrefix("db."), !text.contains(" ") else {
                    throw v.error("dr_restore.instance_class is \"\(text)\"; name an RDS instance class such as db.r6g.large.")
                }
                settings.instanceClass = text
            case "cache_subnet_group": settings.cacheSubnetGroup = try v.string()
            default:
                let groups: [String]
                if case .sequence(let items) = v.node {
                    groups = try items.enumerated().map { i, item in try ConfigNode(node: item, file: v.file, path: "\(v.path)[\(i)]").string() }
                } else {
                    groups = try v.string().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                }
                guard !groups.isEmpty else { throw v.error("dr_restore.security_groups names no group; list VPC security group ids (sg-...).") }
                settings.securityGroups = groups
            }
        }
        return settings
    }

    /// `app: { cluster, service, dr_cluster, dr_service, desired }`: ECS names (a cluster name
    /// or ARN; a service name), and the DR service's desired count at rest (default 0). Also
    /// returns the node of the first key about the DR-region service, which needs a `dr_region`.
    private func parseApp(_ value: ConfigNode) throws -> (AppSettings, ConfigNode?) {
        var names: [String: String] = [:], desired = 0, drNode: ConfigNode?
        for (key, v) in try value.mapping(allowed: ["cluster", "service", "dr_cluster", "dr_service", "desired"], required: ["cluster", "service"]) {
            if key == "desired" {
                desired = try v.int(minimum: 0, atMost: 100_000)
                if drNode == nil { drNode = v }
                continue
            }
            let text = try v.string()
            let isCluster = key.hasSuffix("cluster")
            guard AppSettings.isName(text, cluster: isCluster) else {
                throw v.error("\(v.path) is \"\(text)\"; an ECS \(isCluster ? "cluster" : "service") is named with up to 255 letters, digits, hyphens and underscores\(isCluster ? " (or given by its ARN)" : "").")
            }
            names[key] = text
            if key.hasPrefix("dr_"), drNode == nil { drNode = v }
        }
        return (AppSettings(cluster: names["cluster"]!, service: names["service"]!, drCluster: names["dr_cluster"],
                            drService: names["dr_service"], desired: desired), drNode)
    }

    private func parseDatabase(_ value: ConfigNode) throws -> DatabaseAccess {
        let entries = try value.mapping(allowed: ["secret", "conninfo"])
        guard entries.count == 1, let (key, v) = entries.first else {
            throw value.error("\(value.path) needs exactly one of `secret:` (a Secrets Manager secret id) or `conninfo:` (a libpq connection string).")
        }
        return key == "secret" ? .secret(try v.string()) : .conninfo(try v.string())
    }

    private func parsePostgres() throws -> Target {
        var conninfo: String?, repository: String?, drRepository: String?, weekly: Int?
        var restoreRoot: String?, serviceFile: String?, service: String?, bindir: String?
        var verify: VerifyPolicy?, drill: DrillPolicy?
        var compression = PostgresTargetSettings.Compression.default, encryption: KeySource?
        var rpo = PostgresTargetSettings.defaultRPO, jobs: Int?
        for (key, value) in try node.mapping(allowed: Self.postgresKeys, required: ["conninfo", "repository"]) {
            switch key {
            case "conninfo": conninfo = try value.string()
            case "repository": repository = try value.path(relativeTo: base)
            case "dr_repository": drRepository = try value.path(relativeTo: base)
            case "retention":
                for (k, v) in try value.mapping(allowed: ["weekly"]) where k == "weekly" { weekly = try v.int(minimum: 1) }
            case "restore_root": restoreRoot = try value.path(relativeTo: base)
            case "service_file": serviceFile = try value.path(relativeTo: base)
            case "service": service = try value.string()
            case "bindir": bindir = try value.path(relativeTo: base)
            case "compression": compression = try parseCompression(value)
            case "encryption": encryption = try parseEncryption(value)
            case "rpo":
                let text = try value.string()
                guard let seconds = DurationText.parse(text), seconds >= 1 else {
                    throw value.error("rpo is \"\(text)\"; use a duration of at least a second, such as 5m, 90s or 1h.")
                }
                rpo = seconds
            case "jobs": jobs = try value.int(minimum: 1, atMost: 64)
            case "verify": verify = try parseVerify(value)
            case "drill": drill = try parseDrill(value)
            default: break
            }
        }
        if let drRepository, drRepository == repository {
            throw node.error("target \(name) uses the same folder for `repository` and `dr_repository`; the DR copy must be somewhere else.")
        }
        return Target(name: name, provider: .postgres(PostgresTargetSettings(
            conninfo: conninfo!, repository: repository!, drRepository: drRepository, retentionWeekly: weekly,
            restoreRoot: restoreRoot, serviceFile: serviceFile, service: service, bindir: bindir,
            compression: compression, encryption: encryption, rpo: rpo, jobs: jobs)), verify: verify, drill: drill)
    }

    private func parsePgBackRest() throws -> Target {
        var stanza: String?, config = PgBackRestTargetSettings.defaultConfig, conninfo: String?, repo = 1, drRepo: Int?
        var restoreRoot: String?, weekly: Int?, serviceFile: String?, service: String?, bindir: String?
        var verify: VerifyPolicy?, drill: DrillPolicy?, drRepoNode: ConfigNode?
        for (key, value) in try node.mapping(allowed: Self.pgbackrestKeys, required: ["stanza", "conninfo", "restore_root"]) {
            switch key {
            case "stanza":
                let text = try value.string()
                guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                    throw value.error("stanza is \"\(text)\"; name the pgBackRest stanza (letters, digits, - _ .), as in `pgbackrest info`.")
                }
                stanza = text
            case "config": config = try value.path(relativeTo: base)
            case "conninfo": conninfo = try value.string()
            case "repo": repo = try value.int(minimum: 1, atMost: 256)
            case "dr_repo": drRepo = try value.int(minimum: 1, atMost: 256); drRepoNode = value
            case "restore_root": restoreRoot = try value.path(relativeTo: base)
            case "retention":
                for (k, v) in try value.mapping(allowed: ["weekly"]) where k == "weekly" { weekly = try v.int(minimum: 1) }
            case "service_file": serviceFile = try value.path(relativeTo: base)
            case "service": service = try value.string()
            case "bindir": bindir = try value.path(relativeTo: base)
            case "verify": verify = try parseVerify(value)
            case "drill": drill = try parseDrill(value)
            default: break
            }
        }
        if let drRepo, drRepo == repo, let drRepoNode {
            throw drRepoNode.error("target \(name) uses repo \(repo) for both `repo` and `dr_repo`; the DR copy must be another pgBackRest repository (e.g. dr_repo: \(repo == 1 ? 2 : 1)).")
        }
        return Target(name: name, provider: .pgbackrest(PgBackRestTargetSettings(
            stanza: stanza!, config: config, conninfo: conninfo!, repo: repo, drRepo: drRepo, restoreRoot: restoreRoot!,
            retentionWeekly: weekly, serviceFile: serviceFile, service: service, bindir: bindir)), verify: verify, drill: drill)
    }

    /// `compression: { type: zstd|none, level: N }` (level 1-19, default 3; none takes no level).
    private func parseCompression(_ value: ConfigNode) throws -> PostgresTargetSettings.Compression {
        var type: String?, level: Int?, levelNode: ConfigNode?
        for (key, v) in try value.mapping(allowed: ["type", "level"], required: ["type"]) {
            if key == "type" {
                type = try v.string()
                guard ["zstd", "none"].contains(type!) else {
                    throw v.error("compression.type is \"\(type!)\"; use zstd or none.")
                }
            } else {
                level = try v.int(minimum: 1, atMost: 19)
                levelNode = v
            }
        }
        if type == "none" {
            if let levelNode { throw levelNode.error("compression.level applies to zstd only; remove it or set type: zstd.") }
            return .none
        }
        return .zstd(level: level ?? 3)
    }

    /// `encryption: { key_file: PATH }` or `encryption: { key_env: NAME }`.
    private func parseEncryption(_ value: ConfigNode) throws -> KeySource {
        let entries = try value.mapping(allowed: ["key_file", "key_env"])
        guard entries.count == 1, let (key, v) = entries.first else {
            throw value.error("encryption needs exactly one of `key_file:` (a file holding the key) or `key_env:` (an environment variable holding it).")
        }
        if key == "key_file" { return .file(try v.path(relativeTo: base)) }
        let name = try v.string()
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }), !name.first!.isNumber else {
            throw v.error("encryption.key_env is \"\(name)\"; name an environment variable (letters, digits and _), not the key itself.")
        }
        return .environment(name)
    }

    private func parseDrill(_ value: ConfigNode) throws -> DrillPolicy {
        var policy = DrillPolicy()
        for (key, v) in try value.mapping(allowed: ["max_age", "point", "manifest"]) {
            switch key {
            case "max_age":
                let text = try v.string()
                guard let seconds = DurationText.parse(text), seconds > 0 else {
                    throw v.error("drill.max_age is \"\(text)\"; use a duration such as 7d, 36h or 1w.")
                }
                policy.maxAge = seconds
            case "point": policy.point = try v.string()
            default: policy.manifest = try v.path(relativeTo: base)
            }
        }
        return policy
    }

    private func parseVerify(_ value: ConfigNode) throws -> VerifyPolicy {
        var policy = VerifyPolicy()
        for (key, v) in try value.mapping(allowed: ["rows", "freshness_query", "content", "exclude_content"]) {
            switch key {
            case "rows":
                let text = try v.string()
                guard let tolerance = try? RowTolerance(parsing: text) else {
                    throw v.error("verify.rows is \"\(text)\"; use exact, at-least, or within=PCT (e.g. within=5).")
                }
                policy.rows = tolerance
            case "content":
                let text = try v.string()
                guard let mode = try? ContentMode(parsing: text) else {
                    throw v.error("verify.content is \"\(text)\"; use checksum (compare every row's contents) or none (row counts only).")
                }
                policy.content = mode
            case "exclude_content":
                guard case let .sequence(items) = v.node else {
                    throw v.error("verify.exclude_content must be a list of tables (e.g. [public.audit_log]).")
                }
                policy.excludeContent = try items.enumerated().map { i, node in
                    let item = ConfigNode(node: node, file: v.file, path: "\(v.path)[\(i)]")
                    let text = try item.string()
                    guard let table = try? TableName(parsing: text, parameter: .excludeContent) else {
                        throw item.error("verify.exclude_content holds \"\(text)\", which is not a table name; give schema.table (e.g. public.audit_log).")
                    }
                    return table
                }
            default:
                policy.freshnessQuery = try v.string()
            }
        }
        if !policy.excludeContent.isEmpty, policy.content != .checksum {
            throw value.error("verify.exclude_content applies to content: checksum; add content: checksum, or leave exclude_content out.")
        }
        return policy
    }
}

extension ConfigNode {
    /// A whole number in `minimum...maximum`.
    func int(minimum: Int, atMost maximum: Int) throws -> Int {
        let value = try int(minimum: minimum)
        guard value <= maximum else { throw error("\(path) must be at most \(maximum), not \(value).") }
        return value
    }
}
