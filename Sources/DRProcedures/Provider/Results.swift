import DRCore
import Foundation

/// Facts a backend has that are worth showing but that no caller decides on (LSNs, ARNs,
/// folders). Only for display: callers read the typed fields.
public typealias DisplayFacts = [String: String]

public struct SnapshotResult: Sendable, Codable, Equatable {
    public var target: String
    public var id: String
    /// `weekly` or `adhoc`.
    public var kind: String
    /// False when an existing snapshot was reused (`--weekly` twice in a week, or a re-run).
    public var created: Bool
    /// When the snapshot itself was started (its own creation time, not when this command ran).
    public var startedAt: Date
    public var finishedAt: Date
    public var sizeBytes: Int64?
    /// What retention deleted (cache snapshots prefixed `cache:`).
    public var deleted: [String]
    /// Where it is: the region (rds) or the repository (postgres).
    public var location: String
    /// rds targets with a cache: the cache snapshot taken (or found) with it.
    public var cacheSnapshot: String?
    /// False when the call returned before the snapshot finished (`--no-wait`).
    public var waited: Bool
    public var display: DisplayFacts
}

public struct CopyResult: Sendable, Codable, Equatable {
    public var target: String
    /// The DR region or repository.
    public var destination: String
    /// The DR copy now there for what was asked: the copy's id (rds), or the newest backup in
    /// the DR repository (postgres); nil when there is none.
    public var copy: String?
    /// What was copied now (empty when everything was already there).
    public var copied: [String]
    public var alreadyPresent: Int
    public var bytesCopied: Int64
    public var seconds: Double
    /// What retention removed at the destination.
    public var deleted: [String]
    public var display: DisplayFacts
}

/// Where a restored server listens.
public struct Endpoint: Sendable, Codable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
    public var description: String { "\(host):\(port)" }
}

public struct RestoreResult: Sendable, Codable, Equatable {
    public var target: String
    public var name: String
    /// RDS: the region it was restored in.
    public var region: String?
    /// Where it listens; nil while AWS has not assigned it yet (`--no-wait`).
    public var endpoint: Endpoint?
    /// How to connect to it, never with a password (the target's user and database, its host and port).
    public var conninfo: String
    /// The snapshot or base backup restored from.
    public var snapshot: String
    /// What the restore was made for, as recorded on it (`time …`, `latest restorable`, `snapshot …`).
    public var point: String
    /// The time asked for, nil for the latest restorable or a snapshot.
    public var requestedTime: Date?
    /// What the restore recovered to, as far as the backend knows it.
    public var recoveredTo: Date?
    /// Seconds per phase, in order (e.g. check, lay down, recover).
    public var phases: [Phase]
    /// True when a restore dr had started earlier for the same point was finished or found
    /// instead of a new one (a re-run, or a runbook step resumed after a crash).
    public var adopted: Bool
    /// False when the call returned before the restore finished (`--no-wait`).
    public var waited: Bool
    /// Aurora: the writer instance made for the restored cluster.
    public var writerInstance: String?
    /// Aurora: whether this call created the writer (false when it was there, or not yet made with `--no-wait`).
    public var writerCreated: Bool?
    /// What a failover should point at to send clients here: the endpoint host (rds) or the
    /// restored server's name (postgres).
    public var failoverTo: String
    public var display: DisplayFacts

    public struct Phase: Sendable, Codable, Equatable {
        public var name: String
        public var seconds: Double
        public init(name: String, seconds: Double) {
            self.name = name
            self.seconds = seconds
        }
    }
    public var totalSeconds: Double { phases.reduce(0) { $0 + $1.seconds } }
}

public struct FailoverResult: Sendable, Codable, Equatable {
    /// The record or service entry.
    public var entry: String
    /// Where the entry lives: the Route 53 zone, or the service file.
    public var location: String
    public var now: String
    /// The entry before this change, so it can be undone.
    public var previous: String?
    /// False when the entry already pointed there (a re-run) and nothing was written.
    public var changed: Bool
}

/// One change dr made to a failover entry, kept so `--undo` can walk back and `--history` show it.
public struct FailoverChange: Sendable, Codable, Equatable {
    public var at: Date
    public var from: String?
    public var to: String
    public init(at: Date, from: String?, to: String) {
        self.at = at
        self.from = from
        self.to = to
    }
}

/// A server or instance `dr restore` made, as `restoredResources()` lists it.
public struct RestoredResource: Sendable, Codable, Equatable {
    /// The restored server's name (postgres) or instance id (RDS): what `teardown` takes.
    public var name: String
    public var state: String
    public var tags: [String: String]
    public init(name: String, state: String, tags: [String: String]) {
        self.name = name
        self.state = state
        self.tags = tags
    }
}

public struct TeardownResult: Sendable, Codable, Equatable {
    public var name: String
    /// False when it was already gone (a re-run).
    public var removed: Bool
    /// RDS: the region it was in.
    public var region: String?
    /// What it had been restored from, as dr recorded it.
    public var restoredFrom: String?
    /// Aurora: the cluster's instances, deleted first.
    public var instances: [String]?
    public var display: DisplayFacts
}

public struct TargetStatus: Sendable, Codable, Equatable {
    public var target: String
    public var provider: String
    public var checkedAt: Date
    /// Every snapshot of the target's database, newest first.
    public var snapshots: [SnapshotSummary]
    /// Every DR copy of them, newest first.
    public var drSnapshots: [SnapshotSummary]
    public var restorableWindow: TimeWindow?
    /// Seconds of writes that would be lost if the source were lost now.
    public var exposureSeconds: Double?
    /// When the newest change reached the backups: the newest archived WAL segment (postgres),
    /// the latest restorable time (rds).
    public var archivedUntil: Date?
    /// The source's state as the backend sees it (`available`, `not found`; postgres: `ok`).
    public var state: String
    public var cache: CacheStatus?
    /// The restores dr made from this target.
    public var restores: [RestoredResource]
    public var display: DisplayFacts
    public var warnings: [String]

    /// The newest snapshot, if any.
    public var newestSnapshot: SnapshotSummary? { snapshots.max { $0.createdAt < $1.createdAt } }
}

public struct CacheStatus: Sendable, Codable, Equatable {
    public var replicationGroup: String
    public var newestSnapshot: String?
    public var newestSnapshotAt: Date?
}

public struct SnapshotSummary: Sendable, Codable, Equatable {
    public var id: String
    public var kind: String
    public var createdAt: Date
    public var ageSeconds: Double
    public var sizeBytes: Int64?
}

public struct TimeWindow: Sendable, Codable, Equatable, CustomStringConvertible {
    public var earliest: Date
    public var latest: Date
    public init(earliest: Date, latest: Date) {
        self.earliest = earliest
        self.latest = latest
    }
    public func contains(_ date: Date) -> Bool { date >= earliest && date <= latest }
    public var description: String { "\(RFC3339.format(earliest, fractional: true)) to \(RFC3339.format(latest, fractional: true))" }
}

/// What `app.scale` did to one ECS service.
public struct AppScaleResult: Sendable, Codable, Equatable {
    public var target: String
    public var region: String
    public var cluster: String
    public var service: String
    /// The desired count now.
    public var desired: Int
    /// The desired count before dr's change (for undo: scale back to it). On a re-run that
    /// changed nothing, the count before the change dr made earlier, when it kept it.
    public var previousDesired: Int
    /// False when the service already wanted that many tasks (a re-run): nothing was written.
    public var changed: Bool
    /// Tasks running when the call returned.
    public var running: Int
    /// The task definition the service runs (`family:revision`).
    public var taskDefinition: String?
    /// False when the call returned without waiting for the service to be stable (`--no-wait`).
    public var waited: Bool
    public var seconds: Double
}

/// What `app.rollback` did to one ECS service.
public struct AppRollbackResult: Sendable, Codable, Equatable {
    public var target: String
    public var region: String
    public var cluster: String
    public var service: String
    /// The task definition the service runs now (`family:revision`).
    public var taskDefinition: String
    /// The one it replaced (for undo: roll forward to it). On a re-run that changed nothing, the
    /// one dr replaced earlier, when it kept it.
    public var replaced: String?
    /// False when the service already ran that revision (a re-run): nothing was written.
    public var changed: Bool
    public var desired: Int
    public var running: Int
    /// False when the call returned without waiting for the service to be stable (`--no-wait`).
    public var waited: Bool
    public var seconds: Double
}
