import Foundation

/// A service as endpoint resolution sees it: its service id (as in `AWS_ENDPOINT_URL_<ID>`),
/// its endpoint prefix (the host label) and whether it has one global endpoint per partition.
public struct AWSService: Sendable, Hashable, CustomStringConvertible {
    /// The SDKs' service id, e.g. `Route 53`, `Secrets Manager`.
    public var serviceID: String
    /// The host label, e.g. `route53`, `secretsmanager`.
    public var endpointPrefix: String
    /// One endpoint per partition (Route 53), not one per region.
    public var isGlobal: Bool

    public init(serviceID: String, endpointPrefix: String, isGlobal: Bool = false) {
        self.serviceID = serviceID
        self.endpointPrefix = endpointPrefix
        self.isGlobal = isGlobal
    }

    public static let rds = AWSService(serviceID: "RDS", endpointPrefix: "rds")
    public static let elastiCache = AWSService(serviceID: "ElastiCache", endpointPrefix: "elasticache")
    public static let route53 = AWSService(serviceID: "Route 53", endpointPrefix: "route53", isGlobal: true)
    public static let secretsManager = AWSService(serviceID: "Secrets Manager", endpointPrefix: "secretsmanager")
    public static let sts = AWSService(serviceID: "STS", endpointPrefix: "sts")
    public static let kms = AWSService(serviceID: "KMS", endpointPrefix: "kms")

    /// The services `dr` calls, in the order `dr aws whoami` lists them.
    public static let all: [AWSService] = [.rds, .elastiCache, .route53, .secretsManager, .sts, .kms]

    /// `AWS_ENDPOINT_URL_ROUTE_53`: the id upper-cased, spaces as underscores.
    public var endpointVariable: String { Self.endpointVariable(serviceID: serviceID) }
    /// `route_53`: the key of this service in a `[services x]` section.
    public var configKey: String { Self.configKey(serviceID: serviceID) }

    public static func endpointVariable(serviceID: String) -> String {
        "AWS_ENDPOINT_URL_" + serviceID.uppercased().replacingOccurrences(of: " ", with: "_")
    }
    public static func configKey(serviceID: String) -> String {
        serviceID.lowercased().replacingOccurrences(of: " ", with: "_")
    }

    public var description: String { serviceID }
}

/// Where to send a service's requests and which region to sign them for.
public struct ResolvedEndpoint: Sendable, Equatable {
    public var url: URL
    public var signingRegion: String
    /// Where the URL came from: `AWS_ENDPOINT_URL_RDS`, `AWS_ENDPOINT_URL`,
    /// `services local (profile dev)`, `endpoint_url (profile dev)` or `default`.
    public var source: String

    public init(url: URL, signingRegion: String, source: String) {
        self.url = url
        self.signingRegion = signingRegion
        self.source = source
    }
}
