import DRCore
import Foundation

public struct SnapshotRequest: Sendable, Equatable {
    /// Name the snapshot for the ISO week; a second run in the same week makes nothing new.
    public var weekly: Bool
    /// Extra tags (RDS) or annotations, on top of dr's own.
    public var tags: [String: String]
    /// pgbackrest targets: `full`, `diff` or `incr` (default: incr, weekly: full). Refused elsewhere.
    public var backupType: String?
    public init(weekly: Bool = false, tags: [String: String] = [:], backupType: String? = nil) {
        self.weekly = weekly
        self.tags = tags
        self.backupType = backupType
    }
}

public struct CopyRequest: Sendable, Equatable {
    /// A snapshot id, or nil for the newest (RDS) / every backup not yet copied (postgres).
    public var snapshot: String?
    /// RDS: the region to copy to (default: the target's `dr_region`).
    public var toRegion: String?
    /// Plans only: `snapshot` does not exist yet because an earlier step of the same run makes
    /// it; plan the copy of the snapshot that step will make.
    public var upcoming: Bool
    public init(snapshot: String? = nil, toRegion: String? = nil, upcoming: Bool = false) {
        self.snapshot = snapshot
        self.toRegion = toRegion
        self.upcoming = upcoming
    }
}

/// What to restore to.
public enum RestorePoint: Sendable, Equatable, CustomStringConvertible {
    case pointInTime(Date)
    case latestRestorable
    /// A snapshot id, or "latest".
    case snapshot(String)

    /// How a restore records the point it was made for (`time 2026-11-20T12:00:00Z`,
    /// `latest restorable`, `snapshot X`), so a re-run can tell whether it asks for the same.
    public var description: String {
        switch self {
        case .pointInTime(let t): return "time \(RFC3339.format(t, fractional: true))"
        case .latestRestorable: return "latest restorable"
        case .snapshot(let id): return "snapshot \(id)"
        }
    }
}

/// What a restore on RDS may change from what it carries over from the source (or, restoring in
/// another region, from AWS's defaults). Every field is optional; the CLI's flags and a runbook
/// step's `with:` fill the same struct.
public struct RDSRestoreOverrides: Sendable, Equatable {
    public var instanceClass: String?
    public var subnetGroup: String?
    public var securityGroups: [String]?
    public var parameterGroup: String?
    public var port: Int?
    /// false: a single-AZ instance even when the source is Multi-AZ.
    public var multiAZ: Bool?
    /// Aurora cluster restores only: the KMS key of the restored cluster. Instance restores
    /// inherit the snapshot's key (their API has no such member).
    public var kmsKeyID: String?

    public init(instanceClass: String? = nil, subnetGroup: String? = nil, securityGroups: [String]? = nil,
                parameterGroup: String? = nil, port: Int? = nil, multiAZ: Bool? = nil, kmsKeyID: String? = nil) {
        self.instanceClass = instanceClass
        self.subnetGroup = subnetGroup
        self.securityGroups = securityGroups
        self.parameterGroup = parameterGroup
        self.port = port
        self.multiAZ = multiAZ
        self.kmsKeyID = kmsKeyID
    }

    /// The parameters that are set, for refusing them where they do not apply.
    public var setParameters: [Parameter] {
        var out: [Parameter] = []
        if instanceClass != nil { out.append(.instanceClass) }
        if subnetGroup != nil { out.append(.subnetGroup) }
        if securityGroups != nil { out.append(.securityGroups) }
        if parameterGroup != nil { out.append(.parameterGroup) }
        if port != nil { out.append(.port) }
        if multiAZ != nil { out.append(.multiAZ) }
        if kmsKeyID != nil { out.append(.kmsKeyID) }
        return out
    }
}

public struct RestoreRequest: Sendable, Equatable {
    public var point: RestorePoint
    /// The new server's name (RDS instance or cluster identifier; postgres: the restored server's name).
    public var name: String
    /// Restore from the DR copy (postgres: `dr_repository`; RDS: the DR region).
    public var fromDR: Bool
    /// RDS: the region to restore a snapshot in (default: the DR region with `fromDR`, else the target's).
    public var region: String?
    /// RDS: settings that differ from the source's.
    public var rds: RDSRestoreOverrides
    /// Extra tags for the new server (RDS: instance tags; postgres: kept in its marker), on top
    /// of the ones `dr` always sets. Defaults to `RestoreTags.current`, so a caller such as
    /// `dr drill` can tag every restore made on its behalf, whichever code builds the request.
    public var tags: [String: String]

    public init(point: RestorePoint, name: String, fromDR: Bool = false, region: String? = nil,
                rds: RDSRestoreOverrides = RDSRestoreOverrides(), tags: [String: String] = RestoreTags.current) {
        self.point = point
        self.name = name
        self.fromDR = fromDR
        self.region = region
        self.rds = rds
        self.tags = tags
    }
}

/// Tags that every `RestoreRequest` made inside `RestoreTags.$current.withValue(...)` carries
/// (a task-local value: it follows the task and its child tasks, not other threads).
public enum RestoreTags {
    @TaskLocal public static var current: [String: String] = [:]
}

public struct FailoverRequest: Sendable, Equatable {
    /// Where clients should go: a restored server's name (postgres) or a host (RDS). Nil only in
    /// a plan whose destination is known at run time (an earlier step's output).
    public var to: String?
    /// The entry to rewrite: a service name (postgres) or a DNS record (RDS). Default from the target.
    public var entry: String?
    /// Route 53: the hosted zone (default from the target's `dns:`).
    public var zone: String?
    /// Route 53: the record's TTL (default: the record's, else the target's, else 60).
    public var ttl: Int?
    /// Route 53: create the record when it does not exist.
    public var create: Bool
    /// Put back the entry as it was before the last change dr made.
    public var undo: Bool
    /// Plans only: `to` names a restore an earlier step of the same run makes.
    public var upcoming: Bool

    public init(to: String? = nil, entry: String? = nil, zone: String? = nil, ttl: Int? = nil,
                create: Bool = false, undo: Bool = false, upcoming: Bool = false) {
        self.to = to
        self.entry = entry
        self.zone = zone
        self.ttl = ttl
        self.create = create
        self.undo = undo
        self.upcoming = upcoming
    }
}

public struct TeardownRequest: Sendable, Equatable {
    /// The restored server's name (postgres), or instance id (RDS; the cluster id for Aurora targets).
    public var name: String
    /// RDS: the region it lives in (default: look in the target's region and its `dr_region`).
    public var region: String?
    /// Plans only: `name` does not exist yet because an earlier step of the same run restores it;
    /// plan the teardown of that restore.
    public var upcoming: Bool
    public init(name: String, region: String? = nil, upcoming: Bool = false) {
        self.name = name
        self.region = region
        self.upcoming = upcoming
    }
}

/// `app.scale`: the desired count of the target's ECS service in `region` (the target's region:
/// `app.cluster`/`app.service`; its `dr_region`: `app.dr_cluster`/`app.dr_service`), or, with
/// `fromDR`, in the target's `dr_region` whatever it is (a runbook need not spell it).
public struct AppScaleRequest: Sendable, Equatable {
    public var region: String?
    public var fromDR: Bool
    public var desired: Int
    public init(region: String? = nil, fromDR: Bool = false, desired: Int) {
        self.region = region
        self.fromDR = fromDR
        self.desired = desired
    }
}

/// `app.rollback`: the target's ECS service back to an earlier task definition revision of
/// the same family.
public struct AppRollbackRequest: Sendable, Equatable {
    /// `7`, `family:7` or a task definition ARN; nil: the newest ACTIVE revision before the one
    /// the service runs (skipping any dr rolled back from).
    public var to: String?
    /// Where the service runs (default: the target's region).
    public var region: String?
    public init(to: String? = nil, region: String? = nil) {
        self.to = to
        self.region = region
    }
}
