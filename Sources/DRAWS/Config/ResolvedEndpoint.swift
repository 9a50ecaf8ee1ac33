import Foundation

/// Endpoint-configuration names of a service (`AWSService` itself lives with the client core).
extension AWSService {
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
