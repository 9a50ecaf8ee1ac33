import DRAWS
import DRCore
import DRProcedures
import Foundation
import Logging
import DRRunbookEngine

/// Where the procedure executors get targets and their backends: the real targets config
/// (`--config`, `DR_CONFIG`, `./dr.yml`) and `Providers`, which picks the backend from the
/// target's `provider:`. Executors only ever talk to `RecoveryProvider`.
public struct TargetProviders: Sendable {
    /// Nil when no config file was given or found; a step naming a target then fails as bad input.
    public var config: TargetsConfig?
    public var logger: Logger
    /// Makes a target's backend (tests may inject an AWS session through it).
    public var makeProvider: @Sendable (Target, Logger) throws -> RecoveryProvider
    /// The AWS session for Route 53 failover, which belongs to no target.
    public var makeSession: @Sendable (Logger) throws -> RDSSession

    public init(config: TargetsConfig?, logger: Logger = Logger(label: "dr"),
                makeProvider: @escaping @Sendable (Target, Logger) throws -> RecoveryProvider = { try Providers.make(for: $0, logger: $1) },
                makeSession: @escaping @Sendable (Logger) throws -> RDSSession = { try RDSSession.standard(logger: $0) }) {
        self.config = config
        self.logger = logger
        self.makeProvider = makeProvider
        self.makeSession = makeSession
    }

    /// The config at `--config`, else `DR_CONFIG`, else `./dr.yml` when it exists; nil when there is none.
    public static func loadConfig(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TargetsConfig? {
        let path = ConfigLoader.resolvePath(explicit: explicit, environment: environment)
        let named = explicit != nil || !(environment["DR_CONFIG"] ?? "").isEmpty
        guard named || FileManager.default.fileExists(atPath: path) else { return nil }
        return try ConfigLoader.load(file: path)
    }

    /// The target a step's `parameter` names.
    public func target(_ call: ResolvedCall, parameter: String = "target") throws -> Target {
        guard let name = call.string(parameter) else {
            throw DRError.badInput("Step '\(call.stepID)': \(call.procedure) needs `\(parameter)` (a target named in dr.yml).")
        }
        guard let config else {
            throw DRError.badInput("Step '\(call.stepID)' acts on target \"\(name)\", but there is no targets config: pass --config FILE, set DR_CONFIG, or put a dr.yml in the working directory. Nothing was changed.")
        }
        return try config.target(named: name)
    }

    /// The backend of the target a step names.
    public func provider(_ call: ResolvedCall, parameter: String = "target") throws -> RecoveryProvider {
        try makeProvider(target(call, parameter: parameter), logger)
    }

    /// What `targets.NAME.FIELD` reads in expressions: each target's name, provider and flat settings (secrets masked).
    public var expressionValues: [String: [String: Value]] {
        var out: [String: [String: Value]] = [:]
        for target in config?.targets ?? [] {
            var values = target.summary.mapValues { Value.string($0) }
            values["name"] = .string(target.name)
            values["provider"] = .string(target.providerName)
            out[target.name] = values
        }
        return out
    }
}

/// How the plan names each backend's calls, so an on-call engineer sees what will be touched.
struct BackendCalls {
    var snapshot: String
    var deleteSnapshot: String
    var copy: String
    var restorePointInTime: String
    var restoreSnapshot: String
    var waitRestored: String
    var teardown: String
    var statusRead: String
    var nameCheck: String

    static func of(_ target: Target) -> BackendCalls {
        switch target.provider {
        case .rds(let s):
            let cluster: Bool = { if case .cluster = s.resource { return true }; return false }()
            return BackendCalls(
                snapshot: cluster ? "rds:CreateDBClusterSnapshot" : "rds:CreateDBSnapshot",
                deleteSnapshot: cluster ? "rds:DeleteDBClusterSnapshot" : "rds:DeleteDBSnapshot",
                copy: cluster ? "rds:CopyDBClusterSnapshot" : "rds:CopyDBSnapshot",
                restorePointInTime: cluster ? "rds:RestoreDBClusterToPointInTime" : "rds:RestoreDBInstanceToPointInTime",
                restoreSnapshot: cluster ? "rds:RestoreDBClusterFromSnapshot" : "rds:RestoreDBInstanceFromDBSnapshot",
                waitRestored: cluster ? "rds:DescribeDBClusters" : "rds:DescribeDBInstances",
                teardown: "rds:DeleteDBInstance",
                statusRead: "rds:DescribeDBInstances, rds:DescribeDBSnapshots",
                nameCheck: cluster ? "rds:DescribeDBClusters, rds:DescribeDBInstances" : "rds:DescribeDBInstances")
        case .postgres:
            return BackendCalls(
                snapshot: "pg_backup_start/pg_backup_stop + file copy into the repository",
                deleteSnapshot: "remove backup folder (and WAL no kept backup needs)",
                copy: "copy backups and WAL to dr_repository, checksummed",
                restorePointInTime: "lay down base backup, replay WAL via dr wal-fetch, pg_ctl start",
                restoreSnapshot: "lay down base backup, replay its WAL, pg_ctl start",
                waitRestored: "connect until promoted",
                teardown: "pg_ctl stop, remove the restored server's folder",
                statusRead: "read the repository",
                nameCheck: "look for the name under the restore root")
        }
    }
}

extension Target {
    /// The RDS settings, for the few things only that backend has (cache group, DR region names).
    var rdsSettings: RDSTargetSettings? { if case .rds(let s) = provider { return s }; return nil }
    var postgresSettings: PostgresTargetSettings? { if case .postgres(let s) = provider { return s }; return nil }

    /// Weekly snapshots the target's policy keeps, when it sets one.
    var weeklyRetention: Int? { rdsSettings?.retentionWeekly ?? postgresSettings?.retentionWeekly }
}

/// The ISO week a time falls in, in UTC: weekly snapshots are one per target per ISO week.
enum ISOWeekOf {
    static func key(_ date: Date) -> String {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        return String(format: "%04d-W%02d", c.yearForWeekOfYear ?? 0, c.weekOfYear ?? 0)
    }
}
