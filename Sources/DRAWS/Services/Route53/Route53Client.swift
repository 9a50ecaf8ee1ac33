import Foundation

/// Route 53 operations (REST-XML, API 2013-04-01; a global service signed for us-east-1).
public struct Route53Client: Sendable {
    public let client: AWSClient
    static let base = "/2013-04-01"

    public init(config: AWSClientConfig) { client = AWSClient(service: .route53, config: config) }

    public func listHostedZonesByName(dnsName: String? = nil, hostedZoneId: String? = nil, maxItems: Int? = nil) async throws -> (zones: [HostedZone], isTruncated: Bool) {
        var query: [(String, String)] = []
        if let dnsName { query.append(("dnsname", dnsName)) }
        if let hostedZoneId { query.append(("hostedzoneid", hostedZoneId)) }
        if let maxItems { query.append(("maxitems", String(maxItems))) }
        let r = try await client.send(AWSRequest(operation: "ListHostedZonesByName",
                                                 input: .rest(method: "GET", path: "\(Self.base)/hostedzonesbyname", query: query))).xml()
        return (r.list("HostedZones", "HostedZone").map(HostedZone.parse), r.bool("IsTruncated") ?? false)
    }

    /// The public (or private) zone whose name is exactly `name` (trailing dot optional).
    public func hostedZone(named name: String, privateZone: Bool? = nil) async throws -> HostedZone? {
        let wanted = name.hasSuffix(".") ? name : name + "."
        return try await listHostedZonesByName(dnsName: wanted, maxItems: 10).zones
            .first { $0.name.lowercased() == wanted.lowercased() && (privateZone == nil || $0.privateZone == privateZone) }
    }

    public func listResourceRecordSets(zoneId: String, start: RecordPosition? = nil,
                                       maxItems: Int? = nil) async throws -> Paginator.Page<ResourceRecordSet, RecordPosition> {
        var query: [(String, String)] = []
        if let start {
            query.append(("name", start.name))
            if let type = start.type { query.append(("type", type)) }
            if let id = start.identifier { query.append(("identifier", id)) }
        }
        if let maxItems { query.append(("maxitems", String(maxItems))) }
        let r = try await client.send(AWSRequest(operation: "ListResourceRecordSets",
                                                 input: .rest(method: "GET", path: "\(Self.base)/hostedzone/\(Self.bareId(zoneId))/rrset", query: query))).xml()
        let next: RecordPosition? = (r.bool("IsTruncated") ?? false) ? r.string("NextRecordName").map {
            RecordPosition(name: $0, type: r.string("NextRecordType"), identifier: r.string("NextRecordIdentifier"))
        } : nil
        return .init(items: r.list("ResourceRecordSets", "ResourceRecordSet").map(ResourceRecordSet.parse), next: next)
    }

    /// Every record of a zone, following `NextRecordName`/`Type`/`Identifier`.
    public func listAllResourceRecordSets(zoneId: String, pageSize: Int? = nil) async throws -> [ResourceRecordSet] {
        try await Paginator.collect { try await listResourceRecordSets(zoneId: zoneId, start: $0, maxItems: pageSize) }
    }

    /// `ChangeBatch.Comment` holds at most this many characters.
    public static let maxCommentLength = 256

    /// A comment longer than `maxCommentLength` is cut to fit (ending in `...`).
    public func changeResourceRecordSets(zoneId: String, changes: [RecordChange], comment: String? = nil) async throws -> ChangeInfo {
        var xml = #"<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch>"#
        if let comment { xml += "<Comment>\(XElement.escape(Self.fittedComment(comment)))</Comment>" }
        xml += "<Changes>" + changes.map { "<Change><Action>\($0.action.rawValue)</Action>\($0.recordSet.xml)</Change>" }.joined() + "</Changes>"
        xml += "</ChangeBatch></ChangeResourceRecordSetsRequest>"
        let r = try await client.send(AWSRequest(operation: "ChangeResourceRecordSets",
                                                 input: .rest(method: "POST", path: "\(Self.base)/hostedzone/\(Self.bareId(zoneId))/rrset/",
                                                              body: Data(xml.utf8)))).xml()
        return ChangeInfo.parse(r.child("ChangeInfo") ?? XElement(name: "ChangeInfo"))
    }

    public func getChange(id: String) async throws -> ChangeInfo {
        let r = try await client.send(AWSRequest(operation: "GetChange", input: .rest(method: "GET", path: "\(Self.base)/change/\(Self.bareId(id))"))).xml()
        return ChangeInfo.parse(r.child("ChangeInfo") ?? XElement(name: "ChangeInfo"))
    }

    public func getHealthCheckStatus(id: String) async throws -> [HealthCheckObservation] {
        let r = try await client.send(AWSRequest(operation: "GetHealthCheckStatus",
                                                 input: .rest(method: "GET", path: "\(Self.base)/healthcheck/\(id)/status"))).xml()
        return r.list("HealthCheckObservations", "HealthCheckObservation").map {
            HealthCheckObservation(region: $0.string("Region"), ipAddress: $0.string("IPAddress"),
                                   status: $0.string("StatusReport", "Status") ?? "", checkedTime: $0.date("StatusReport", "CheckedTime"))
        }
    }

    /// Waits until a change has propagated to every Route 53 server (`INSYNC`).
    public func waitForChangeInsync(id: String, timeout: Double = 600, progress: (@Sendable (WaitProgress) -> Void)? = nil) async throws {
        let waiter = Waiter<ChangeInfo>.until("Route 53 change \(id) to be INSYNC", success: ["INSYNC"], failure: [],
                                              state: { $0.status }, minDelay: 2, maxDelay: 30, timeout: timeout)
        try await waiter.wait(clock: client.config.clock, progress: progress) { try await getChange(id: id) }
    }

    static func fittedComment(_ comment: String) -> String {
        comment.count <= maxCommentLength ? comment : String(comment.prefix(maxCommentLength - 3)) + "..."
    }

    /// `/hostedzone/Z1` → `Z1`, `/change/C1` → `C1`.
    static func bareId(_ id: String) -> String { id.split(separator: "/").last.map(String.init) ?? id }
}
