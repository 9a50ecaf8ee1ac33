import DRAWS
import DRCore
@testable import DRProcedures
import DRTestSupport
import Foundation
import XCTest

/// A source platform in moto (auth on): an encrypted RDS PostgreSQL instance with 7-day
/// backups, a Redis replication group, a DR key `alias/dr-backups-<id>` in us-west-2, a secret,
/// and a `dr` target naming them; with `cluster: true`, an encrypted Aurora PostgreSQL cluster
/// with one writer instance instead. Names are unique per fixture: tests share one moto.
struct RDSMotoFixture {
    let id: String
    let session: RDSSession
    let environment: [String: String]
    let target: Target
    let settings: RDSTargetSettings
    let home: String

    static let primary = "us-east-1", dr = "us-west-2"

    /// `endpoint`/`route53Endpoint` default to moto; pass a fault proxy's URL instead.
    static func make(retentionWeekly: Int? = 2, retentionDR: Int? = 2, cache: Bool = true, endpoint: URL? = nil,
                     route53Endpoint: URL? = nil, maxAttempts: Int = 3, cluster: Bool = false) async throws -> RDSMotoFixture {
        let key = try Moto.accessKey()
        let id = "t" + UUID().uuidString.prefix(8).lowercased()
        let home = NSTemporaryDirectory() + "dr-rds-\(id)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let env = ["AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret, "AWS_REGION": primary,
                   "AWS_ENDPOINT_URL": try (endpoint ?? Moto.url()).absoluteString,
                   "AWS_ENDPOINT_URL_ROUTE_53": try (route53Endpoint ?? Moto.noAuthURL()).absoluteString,
                   "AWS_MAX_ATTEMPTS": String(maxAttempts), "HOME": home, "DR_STATE_DIR": home + "/state",
                   "AWS_CONFIG_FILE": home + "/none", "AWS_SHARED_CREDENTIALS_FILE": home + "/none"]
        let session = try RDSSession.standard(environment: AWSEnvironment(variables: env, homeDirectory: home))
        let settings = RDSTargetSettings(region: primary, resource: cluster ? .cluster("\(id)-aurora") : .instance("\(id)-db"), drRegion: dr,
                                         drKMSKeyID: "alias/dr-backups-\(id)", database: .secret("production/\(id)/database/main"),
                                         cacheReplicationGroup: cache ? "\(id)-redis" : nil, retentionWeekly: retentionWeekly,
                                         retentionDRRegion: retentionDR, tags: ["team": "platform"])
        return RDSMotoFixture(id: id, session: session, environment: env, target: Target(name: "prod-\(id)", provider: .rds(settings)),
                              settings: settings, home: home)
    }

    /// What a command gives the backends: these waits, the fixture's session and state directory.
    func context(_ wait: WaitSettings = WaitSettings(timeout: 60), config: TargetsConfig? = nil) -> ProviderContext {
        ProviderContext(wait: wait, stateDirectory: home + "/state", config: config, aws: SharedAWSSession(session))
    }

    func provider(_ wait: WaitSettings = WaitSettings(timeout: 60)) throws -> RDSProvider {
        try RDSProvider(target: target, settings: settings, context: context(wait))
    }

    /// The backend of another target over the same platform.
    func provider(_ settings: RDSTargetSettings, name: String? = nil, wait: WaitSettings = WaitSettings(timeout: 60)) throws -> RDSProvider {
        try RDSProvider(target: Target(name: name ?? target.name, provider: .rds(settings)), settings: settings, context: context(wait))
    }

    var instance: String { "\(id)-db" }
    var cluster: String { "\(id)-aurora" }
    /// The source cluster's writer instance.
    var clusterWriter: String { "\(id)-aurora-w" }
    var isCluster: Bool { if case .cluster = settings.resource { return true } else { return false } }

    /// Creates the source resources (through the real clients; moto is the only server touched).
    func createPlatform() async throws {
        let sourceKey = try await createKey(region: Self.primary, alias: nil)
        if isCluster {
            try await createSourceCluster(kmsKey: sourceKey)
        } else {
            try await createSourceInstance(kmsKey: sourceKey)
        }
        _ = try await createKey(region: Self.dr, alias: "alias/dr-backups-\(id)")
        if settings.cacheReplicationGroup != nil {
            _ = try await session.elastiCache(Self.primary).createReplicationGroup(
                CreateReplicationGroupInput(id: "\(id)-redis", description: "cache", nodeType: "cache.t3.micro", numCacheClusters: 1))
        }
        let secrets = try session.secretsManager(Self.primary)
        let body: [String: String] = ["Name": "production/\(id)/database/main",
                                      "SecretString": #"{"host":"db.internal","port":5432,"username":"app","password":"s3cr3t-Pa55","database":"social"}"#]
        _ = try await secrets.client.send(try AWSRequest.json("CreateSecret", body))
    }

    func createSourceInstance(kmsKey sourceKey: String) async throws {
        let rds = try session.rds(Self.primary)
        var p = QueryParams()
        p.add("DBInstanceIdentifier", instance)
        p.add("DBInstanceClass", "db.r6g.large")
        p.add("Engine", "postgres")
        p.add("AllocatedStorage", 100)
        p.add("MasterUsername", "app")
        p.add("MasterUserPassword", "source-password-123")
        p.add("BackupRetentionPeriod", 7)
        p.add("MultiAZ", true)
        p.add("StorageEncrypted", true)
        p.add("KmsKeyId", sourceKey)
        p.add("Port", 5433)
        p.addTags([AWSTag("app", "social-analytics")])
        _ = try await rds.client.send(p.request("CreateDBInstance"))
    }

    /// An Aurora PostgreSQL cluster and its writer (db.r6g.large), as an operator would make them.
    func createSourceCluster(kmsKey sourceKey: String) async throws {
        let rds = try session.rds(Self.primary)
        var p = QueryParams()
        p.add("DBClusterIdentifier", cluster)
        p.add("Engine", "aurora-postgresql")
        p.add("MasterUsername", "app")
        p.add("MasterUserPassword", "source-password-123")
        p.add("BackupRetentionPeriod", 7)
        p.add("StorageEncrypted", true)
        p.add("KmsKeyId", sourceKey)
        p.add("Port", 5433)
        p.addTags([AWSTag("app", "social-analytics")])
        _ = try await rds.client.send(p.request("CreateDBCluster"))
        _ = try await rds.createDBInstance(CreateDBInstanceInput(identifier: clusterWriter, instanceClass: "db.r6g.large",
                                                                 engine: "aurora-postgresql", clusterIdentifier: cluster))
    }

    @discardableResult
    func createKey(region: String, alias: String?) async throws -> String {
        let kms = try session.kms(region)
        struct Out: Decodable { struct M: Decodable { var KeyId: String; var Arn: String }; var KeyMetadata: M }
        let key = try await kms.client.send(try AWSRequest.json("CreateKey", ["Description": "dr test"])).decode(Out.self).KeyMetadata
        if let alias { _ = try await kms.client.send(try AWSRequest.json("CreateAlias", ["AliasName": alias, "TargetKeyId": key.KeyId])) }
        return key.Arn
    }

    /// Every DB snapshot in `region` whose name contains this fixture's id.
    func snapshots(in region: String) async throws -> [DBSnapshot] {
        try await session.rds(region).describeAllDBSnapshots().filter { $0.identifier.contains(id) }
    }

    func instances(in region: String = primary) async throws -> [DBInstance] {
        try await session.rds(region).describeAllDBInstances().filter { $0.identifier.contains(id) }
    }

    func clusters(in region: String = primary) async throws -> [DBCluster] {
        let rds = try session.rds(region)
        return try await Paginator.collect { try await rds.describeDBClusters(marker: $0) }.filter { $0.identifier.contains(id) }
    }

    /// A dr.yml for the binary.
    func writeConfig() throws -> String {
        let path = home + "/dr.yml"
        let yaml = """
        targets:
          \(target.name):
            provider: rds
            region: \(Self.primary)
            \(isCluster ? "cluster: \(cluster)" : "instance: \(instance)")
            dr_region: \(Self.dr)
            dr_kms_key_id: alias/dr-backups-\(id)
            database: { secret: production/\(id)/database/main }
        \(settings.cacheReplicationGroup.map { "    cache: { replication_group: \($0) }\n" } ?? "")    retention: { weekly: \(settings.retentionWeekly ?? 4), dr_region: \(settings.retentionDRRegion ?? 4) }
        """
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
