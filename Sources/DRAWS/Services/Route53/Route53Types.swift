import Foundation

public struct HostedZone: Sendable, Equatable {
    /// The bare id (`Z123`), without `/hostedzone/`.
    public var id: String
    public var name: String
    public var privateZone: Bool
    public var recordCount: Int?

    static func parse(_ e: XElement) -> HostedZone {
        HostedZone(id: Route53Client.bareId(e.string("Id") ?? ""), name: e.string("Name") ?? "",
                   privateZone: e.bool("Config", "PrivateZone") ?? false, recordCount: e.int("ResourceRecordSetCount"))
    }
}

public struct AliasTarget: Sendable, Equatable {
    public var hostedZoneId: String
    public var dnsName: String
    public var evaluateTargetHealth: Bool
    public init(hostedZoneId: String, dnsName: String, evaluateTargetHealth: Bool = false) {
        self.hostedZoneId = hostedZoneId
        self.dnsName = dnsName
        self.evaluateTargetHealth = evaluateTargetHealth
    }
}

public struct ResourceRecordSet: Sendable, Equatable {
    public var name: String
    public var type: String
    public var ttl: Int?
    public var values: [String]
    public var setIdentifier: String?
    public var weight: Int?
    public var region: String?
    public var failover: String?
    public var healthCheckId: String?
    public var aliasTarget: AliasTarget?

    public init(name: String, type: String, ttl: Int? = nil, values: [String] = [], setIdentifier: String? = nil,
                weight: Int? = nil, region: String? = nil, failover: String? = nil, healthCheckId: String? = nil,
                aliasTarget: AliasTarget? = nil) {
        self.name = name
        self.type = type
        self.ttl = ttl
        self.values = values
        self.setIdentifier = setIdentifier
        self.weight = weight
        self.region = region
        self.failover = failover
        self.healthCheckId = healthCheckId
        self.aliasTarget = aliasTarget
    }

    static func parse(_ e: XElement) -> ResourceRecordSet {
        ResourceRecordSet(name: e.string("Name") ?? "", type: e.string("Type") ?? "", ttl: e.int("TTL"),
                          values: e.list("ResourceRecords", "ResourceRecord").compactMap { $0.string("Value") },
                          setIdentifier: e.string("SetIdentifier"), weight: e.int("Weight"), region: e.string("Region"),
                          failover: e.string("Failover"), healthCheckId: e.string("HealthCheckId"),
                          aliasTarget: e.child("AliasTarget").map {
                              AliasTarget(hostedZoneId: $0.string("HostedZoneId") ?? "", dnsName: $0.string("DNSName") ?? "",
                                          evaluateTargetHealth: $0.bool("EvaluateTargetHealth") ?? false)
                          })
    }

    var xml: String {
        var s = "<ResourceRecordSet><Name>\(XElement.escape(name))</Name><Type>\(XElement.escape(type))</Type>"
        if let setIdentifier { s += "<SetIdentifier>\(XElement.escape(setIdentifier))</SetIdentifier>" }
        if let weight { s += "<Weight>\(weight)</Weight>" }
        if let region { s += "<Region>\(XElement.escape(region))</Region>" }
        if let failover { s += "<Failover>\(XElement.escape(failover))</Failover>" }
        if let aliasTarget {
            s += "<AliasTarget><HostedZoneId>\(XElement.escape(aliasTarget.hostedZoneId))</HostedZoneId>"
                + "<DNSName>\(XElement.escape(aliasTarget.dnsName))</DNSName>"
                + "<EvaluateTargetHealth>\(aliasTarget.evaluateTargetHealth)</EvaluateTargetHealth></AliasTarget>"
        }
        if let ttl { s += "<TTL>\(ttl)</TTL>" }
        if !values.isEmpty {
            s += "<ResourceRecords>" + values.map { "<ResourceRecord><Value>\(XElement.escape($0))</Value></ResourceRecord>" }.joined() + "</ResourceRecords>"
        }
        if let healthCheckId { s += "<HealthCheckId>\(XElement.escape(healthCheckId))</HealthCheckId>" }
        return s + "</ResourceRecordSet>"
    }
}

public struct RecordChange: Sendable, Equatable {
    public enum Action: String, Sendable { case create = "CREATE", delete = "DELETE", upsert = "UPSERT" }
    public var action: Action
    public var recordSet: ResourceRecordSet
    public init(_ action: Action, _ recordSet: ResourceRecordSet) {
        self.action = action
        self.recordSet = recordSet
    }
}

public struct ChangeInfo: Sendable, Equatable {
    /// The bare id, without `/change/`.
    public var id: String
    /// `PENDING` or `INSYNC`.
    public var status: String
    public var submittedAt: Date?

    static func parse(_ e: XElement) -> ChangeInfo {
        ChangeInfo(id: Route53Client.bareId(e.string("Id") ?? ""), status: e.string("Status") ?? "", submittedAt: e.date("SubmittedAt"))
    }
}

public struct HealthCheckObservation: Sendable, Equatable {
    public var region: String?
    public var ipAddress: String?
    public var status: String
    public var checkedTime: Date?
    /// True when the observation's status says the endpoint is healthy.
    public var healthy: Bool { status.hasPrefix("Success") }
}
