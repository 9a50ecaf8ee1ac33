import DRAWS
import DRCore
import DRTestSupport
import Foundation

/// A source platform in moto for running the built `dr` against it: an encrypted RDS
/// PostgreSQL instance in us-east-1 with 7-day backups, a DR key `alias/dr-<id>` in us-west-2,
/// and a dr.yml with one rds target naming them. Names are unique per platform (tests share
/// one moto). `noAuth` uses the moto that does not check signatures (needed for credentials
/// moto's IAM does not know: session tokens, container credentials).
struct MotoPlatform {
    let id: String
    let folder: String
    let moto: URL
    let key: (id: String, secret: String)
    let target: String
    var config: String { folder + "/dr.yml" }
    var stateDirectory: String { folder + "/state" }
    var instance: String { "\(id)-db" }
    var cluster: String { "\(id)-aurora" }

    static let primary = "us-east-1", dr = "us-west-2"

    /// `cluster`: an encrypted Aurora PostgreSQL cluster `<id>-aurora` with its writer instead of an instance.
    /// `target`: the target's name in dr.yml (default `prod-<id>`: snapshot names derive from it, and tests share one moto).
    static func make(noAuth: Bool = false, target: String? = nil, cluster: Bool = false) async throws -> MotoPlatform {
        let id = "a" + UUID().uuidString.prefix(8).lowercased()
        let folder = NSTemporaryDirectory() + "dr-awscli-\(id)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let key = try Moto.accessKey()
        let platform = MotoPlatform(id: id, folder: folder, moto: noAuth ? try Moto.noAuthURL() : try Moto.url(), key: key,
                                    target: target ?? "prod-\(id)")
        try await platform.create(cluster: cluster)
        return platform
    }

    /// A session for setting up and checking, straight to moto.
    func session() throws -> AWSSession {
        try AWSSession(environment: AWSEnvironment(variables: TestEnvironment.awsVariables([
            "AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret, "AWS_REGION": Self.primary,
            "AWS_ENDPOINT_URL": moto.absoluteString, "AWS_CONFIG_FILE": folder + "/none", "AWS_SHARED_CREDENTIALS_FILE": folder + "/none",
        ]), homeDirectory: folder))
    }

    private func create(cluster isCluster: Bool) async throws {
        let session = try session()
        let rds = try session.rds(Self.primary)
        let sourceKey = try await createKey(session, region: Self.primary, alias: nil)
        _ = try await createKey(session, region: Self.dr, alias: "alias/dr-\(id)")
        var p = QueryParams()
        if isCluster {
            for (k, v) in [("DBClusterIdentifier", cluster), ("Engine", "aurora-postgresql"), ("MasterUsername", "app"),
                           ("MasterUserPassword", "source-password-123"), ("KmsKeyId", sourceKey)] { p.add(k, v) }
            p.add("BackupRetentionPeriod", 7)
            p.add("StorageEncrypted", true)
            _ = try await rds.client.send(p.request("CreateDBCluster"))
            _ = try await rds.createDBInstance(CreateDBInstanceInput(identifier: "\(cluster)-w", instanceClass: "db.r6g.large",
                                                                     engine: "aurora-postgresql", clusterIdentifier: cluster))
        } else {
            for (k, v) in [("DBInstanceIdentifier", instance), ("DBInstanceClass", "db.t3.micro"), ("Engine", "postgres"),
                           ("MasterUsername", "app"), ("MasterUserPassword", "source-password-123"), ("KmsKeyId", sourceKey)] { p.add(k, v) }
            p.add("AllocatedStorage", 20)
            p.add("BackupRetentionPeriod", 7)
            p.add("StorageEncrypted", true)
            _ = try await rds.client.send(p.request("CreateDBInstance"))
        }
        let resource = isCluster ? "cluster: \(cluster)" : "instance: \(instance)"
        try """
        targets:
          \(target):
            provider: rds
            region: \(Self.primary)
            \(resource)
            dr_region: \(Self.dr)
            dr_kms_key_id: alias/dr-\(id)
            retention: { weekly: 2, dr_region: 2 }
        """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    private func createKey(_ session: AWSSession, region: String, alias: String?) async throws -> String {
        let kms = try session.kms(region)
        struct Out: Decodable { struct M: Decodable { var KeyId: String; var Arn: String }; var KeyMetadata: M }
        let key = try await kms.client.send(try AWSRequest.json("CreateKey", ["Description": "dr test"])).decode(Out.self).KeyMetadata
        if let alias { _ = try await kms.client.send(try AWSRequest.json("CreateAlias", ["AliasName": alias, "TargetKeyId": key.KeyId])) }
        return key.Arn
    }

    /// A user's environment for the binary: this platform's keys, moto (or `endpoint`, a fault
    /// proxy in front of it), no shared files, a scratch HOME and state directory.
    func environment(endpoint: URL? = nil, _ extra: [String: String] = [:]) -> [String: String] {
        var env = ["AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret, "AWS_SESSION_TOKEN": "", "AWS_REGION": Self.primary,
                   "AWS_ENDPOINT_URL": (endpoint ?? moto).absoluteString, "AWS_CONFIG_FILE": folder + "/none",
                   "AWS_SHARED_CREDENTIALS_FILE": folder + "/none", "AWS_PROFILE": "", "AWS_MAX_ATTEMPTS": "",
                   "HOME": folder, "DR_STATE_DIR": stateDirectory, "DR_CONFIG": config]
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Runs the built `dr`, timing it.
    func dr(_ arguments: [String], endpoint: URL? = nil, _ extra: [String: String] = [:]) throws -> (result: ProcessResult, seconds: Double) {
        let started = Date()
        let result = try DRBinary.run(arguments, environment: environment(endpoint: endpoint, extra))
        return (result, Date().timeIntervalSince(started))
    }

    /// Every file under the state directory (journals, locks, histories), as text.
    func stateFiles() -> String {
        let files = FileManager.default.enumerator(atPath: stateDirectory)?.compactMap { $0 as? String } ?? []
        return files.compactMap { try? String(contentsOfFile: stateDirectory + "/" + $0, encoding: .utf8) }.joined(separator: "\n")
    }
}
