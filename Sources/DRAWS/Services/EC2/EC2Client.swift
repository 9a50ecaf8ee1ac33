import Foundation

public struct EC2SecurityGroup: Sendable, Equatable {
    public var id: String
    public var name: String?
    public var vpcId: String?

    static func parse(_ e: XElement) -> EC2SecurityGroup {
        EC2SecurityGroup(id: e.string("groupId") ?? "", name: e.string("groupName"), vpcId: e.string("vpcId"))
    }
}

/// EC2 operations the readiness check reads (EC2 protocol, API 2016-11-15): only describes.
public struct EC2Client: Sendable {
    public let client: AWSClient

    public init(config: AWSClientConfig) { client = AWSClient(service: .ec2, config: config) }

    /// The security groups among `ids` that exist. Asked with a `group-id` filter, so a missing
    /// group is simply absent from the answer instead of failing the whole call
    /// (`InvalidGroup.NotFound`).
    public func describeSecurityGroups(ids: [String], nextToken: String? = nil) async throws -> Paginator.Page<EC2SecurityGroup, String> {
        var p = QueryParams()
        p.add("Filter.1.Name", "group-id")
        for (i, id) in ids.enumerated() { p.add("Filter.1.Value.\(i + 1)", id) }
        p.add("NextToken", nextToken)
        let r = try await client.send(p.request("DescribeSecurityGroups")).xml()
        return Paginator.Page(items: r.list("securityGroupInfo", "item").map(EC2SecurityGroup.parse), next: r.string("nextToken"))
    }

    public func existingSecurityGroups(ids: [String]) async throws -> [EC2SecurityGroup] {
        guard !ids.isEmpty else { return [] }
        return try await Paginator.collect { try await describeSecurityGroups(ids: ids, nextToken: $0) }
    }
}
