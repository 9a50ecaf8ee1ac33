import Foundation

/// A DB subnet group, as a restore in its region would use it.
public struct DBSubnetGroup: Sendable, Equatable {
    public var name: String
    public var vpcId: String?
    public var status: String?
    public var subnets: Int

    static func parse(_ e: XElement) -> DBSubnetGroup {
        DBSubnetGroup(name: e.string("DBSubnetGroupName") ?? "", vpcId: e.string("VpcId"), status: e.string("SubnetGroupStatus"),
                      subnets: e.list("Subnets", "Subnet").count)
    }
}

public struct DBParameterGroup: Sendable, Equatable {
    public var name: String
    public var family: String?

    static func parse(_ e: XElement) -> DBParameterGroup {
        DBParameterGroup(name: e.string("DBParameterGroupName") ?? "", family: e.string("DBParameterGroupFamily"))
    }
}

/// The describes the readiness check makes: does what a restore in a region will use exist there?
extension RDSClient {
    /// The subnet group, or nil when the region has none of that name.
    public func dbSubnetGroup(_ name: String) async throws -> DBSubnetGroup? {
        var p = QueryParams()
        p.add("DBSubnetGroupName", name)
        do {
            return try await client.send(p.request("DescribeDBSubnetGroups")).xml().list("DBSubnetGroups", "DBSubnetGroup").map(DBSubnetGroup.parse).first
        } catch let e as AWSError where e.code == "DBSubnetGroupNotFoundFault" { return nil }
    }

    /// The parameter group, or nil when the region has none of that name.
    public func dbParameterGroup(_ name: String) async throws -> DBParameterGroup? {
        var p = QueryParams()
        p.add("DBParameterGroupName", name)
        do {
            return try await client.send(p.request("DescribeDBParameterGroups")).xml().list("DBParameterGroups", "DBParameterGroup").map(DBParameterGroup.parse).first
        } catch let e as AWSError where e.code == "DBParameterGroupNotFound" { return nil }
    }

    /// Whether the region offers `instanceClass` for `engine` (at any version): one page of
    /// `DescribeOrderableDBInstanceOptions` filtered to the class is enough to tell.
    public func offers(instanceClass: String, engine: String) async throws -> Bool {
        var p = QueryParams()
        p.add("Engine", engine)
        p.add("DBInstanceClass", instanceClass)
        p.add("MaxRecords", 20)
        let r = try await client.send(p.request("DescribeOrderableDBInstanceOptions")).xml()
        return r.list("OrderableDBInstanceOptions", "OrderableDBInstanceOption").contains { $0.string("DBInstanceClass") == instanceClass }
    }
}
