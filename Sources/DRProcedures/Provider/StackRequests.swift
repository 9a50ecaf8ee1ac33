import DRCore
import Foundation

// The rest of the stack a region failover brings back beside the database: the application's
// database secret and the cache. Backends without them (self-hosted PostgreSQL) refuse these as
// bad input; the runbook steps do nothing for a target that has neither.

/// Repoints the application's database secret (a Secrets Manager JSON secret
/// `{"host","port","username","password","database",...}`) at a restored endpoint, in one region.
public struct SecretRepointRequest: Sendable, Equatable {
    /// The restored database's host and port; nil host only in a plan whose destination is
    /// known at run time (an earlier step's output).
    public var host: String?
    public var port: Int?
    /// The region whose secret to repoint (default: the target's `dr_region`).
    public var region: String?
    /// Make this copy of the secret (tagged as dr's, for a drill) and repoint the copy instead:
    /// the secret applications read is left as it is.
    public var copy: String?
    /// Prove the credentials read back through this host and port instead of the new endpoint
    /// (a bastion or tunnel); `verifySSLMode` as that route needs it (default: the secret's
    /// `sslmode`, else `require`).
    public var verifyHost: String?
    public var verifyPort: Int?
    public var verifySSLMode: String?
    /// Plans only: `host` comes from a restore an earlier step of the same run makes.
    public var upcoming: Bool

    public init(host: String?, port: Int? = nil, region: String? = nil, copy: String? = nil, verifyHost: String? = nil,
                verifyPort: Int? = nil, verifySSLMode: String? = nil, upcoming: Bool = false) {
        self.host = host
        self.port = port
        self.region = region
        self.copy = copy
        self.verifyHost = verifyHost
        self.verifyPort = verifyPort
        self.verifySSLMode = verifySSLMode
        self.upcoming = upcoming
    }
}

public struct SecretRepointResult: Sendable, Codable, Equatable {
    public var target: String
    /// The secret repointed (the copy's name, for a drill).
    public var secret: String
    public var region: String
    /// True when `secret` is a copy dr made (a drill): the secret applications read was not touched.
    public var copy: Bool
    /// True when the secret was a replica and was promoted to a standalone secret first.
    public var promoted: Bool
    /// False when it already pointed there (nothing was written).
    public var changed: Bool
    public var host: String
    public var port: Int
    /// What it pointed at before.
    public var previousHost: String?
    public var previousPort: Int?
    /// The version that is current now, and the one before it (to undo: make it current again).
    public var versionId: String?
    public var previousVersionId: String?
    /// The credentials read back from the secret logged in, through `verifiedThrough`.
    public var verified: Bool
    public var verifiedThrough: String
}

/// Where a restored cache's data comes from.
public enum CacheSeed: Sendable, Equatable, CustomStringConvertible {
    /// A snapshot of the target's group in the restore's region (nil: the newest).
    case snapshot(String?)
    /// No data: a new group with the source's shape (ElastiCache cannot copy snapshots across regions).
    case empty

    public var description: String {
        switch self {
        case .snapshot(let name): return "snapshot \(name ?? "latest")"
        case .empty: return "empty"
        }
    }
}

/// Makes a new ElastiCache replication group with the shape of the target's cache.
public struct CacheRestoreRequest: Sendable, Equatable {
    /// The new replication group's id.
    public var name: String
    /// In the DR region (default: the target's region).
    public var fromDR: Bool
    /// Default: the newest snapshot at home, empty in the DR region.
    public var seed: CacheSeed?
    /// The node type and the number of nodes (primary plus replicas), when the source's cannot be
    /// read (its region is gone) or should differ.
    public var nodeType: String?
    public var nodes: Int?
    /// The cache subnet group (default: in the DR region the target's `dr_restore.cache_subnet_group`).
    public var subnetGroup: String?
    /// Extra tags, on top of dr's (defaults to `RestoreTags.current`, as database restores).
    public var tags: [String: String]

    public init(name: String, fromDR: Bool = false, seed: CacheSeed? = nil, nodeType: String? = nil, nodes: Int? = nil,
                subnetGroup: String? = nil, tags: [String: String] = RestoreTags.current) {
        self.name = name
        self.fromDR = fromDR
        self.seed = seed
        self.nodeType = nodeType
        self.nodes = nodes
        self.subnetGroup = subnetGroup
        self.tags = tags
    }
}

public struct CacheRestoreResult: Sendable, Codable, Equatable {
    public var target: String
    public var name: String
    public var region: String
    /// The primary endpoint; nil while AWS has not assigned it (`--no-wait`).
    public var endpoint: Endpoint?
    /// What it was seeded from: `snapshot NAME`, or `empty`.
    public var seededFrom: String
    public var nodeType: String
    public var nodes: Int
    public var transitEncryption: Bool
    public var atRestEncryption: Bool
    /// True when a group dr had started earlier for the same seed was finished instead of a new one.
    public var adopted: Bool
    public var waited: Bool
}

/// Removes a dr-made copy of a secret or a restored cache; refuses anything else.
public struct StackTeardownRequest: Sendable, Equatable {
    /// The copy's name, or the cache's replication group id.
    public var name: String
    /// Default: the target's `dr_region`, for a secret copy; whichever of the target's regions
    /// holds it, for a cache.
    public var region: String?
    /// Plans only: an earlier step of the same run makes `name`.
    public var upcoming: Bool
    public init(name: String, region: String? = nil, upcoming: Bool = false) {
        self.name = name
        self.region = region
        self.upcoming = upcoming
    }
}
