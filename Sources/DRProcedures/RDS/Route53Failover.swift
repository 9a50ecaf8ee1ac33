import DRAWS
import DRCore
import Foundation
import Logging

/// `dr failover --zone ZONE --record NAME --to HOST [--ttl S] [--create]`: upserts the record
/// (CNAME for a host name, A/AAAA for an address, or the record's existing type), waits until
/// Route 53 reports the change INSYNC, and returns the previous value so the change can be
/// undone with `--to PREVIOUS`. The previous value is also written to a small state file before
/// the change, so a re-run after success (when the record already points at HOST) still
/// reports what it pointed at before.
public struct Route53Failover: Sendable {
    public struct Request: Sendable {
        public var zone: String
        public var record: String
        public var to: String
        public var ttl: Int?
        public var create: Bool
        public init(zone: String, record: String, to: String, ttl: Int? = nil, create: Bool = false) {
            self.zone = zone
            self.record = record
            self.to = to
            self.ttl = ttl
            self.create = create
        }
    }

    let session: RDSSession
    let wait: WaitSettings
    let stateDirectory: String
    let logger: Logger

    public init(session: RDSSession, wait: WaitSettings = WaitSettings(), stateDirectory: String = Route53Failover.defaultStateDirectory(),
                logger: Logger = Logger(label: "dr")) {
        self.session = session
        self.wait = wait
        self.stateDirectory = stateDirectory
        self.logger = logger
    }

    /// `$DR_STATE_DIR`, else `$XDG_STATE_HOME/dr`, else `~/.local/state/dr`.
    public static func defaultStateDirectory(_ env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = env["DR_STATE_DIR"], !dir.isEmpty { return dir }
        if let xdg = env["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/dr" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.local/state/dr"
    }

    public func run(_ request: Request) async throws -> FailoverResult {
        try await wait.bounded(clock: session.clock) { try await perform(request) }
    }

    func perform(_ request: Request) async throws -> FailoverResult {
        let zoneName = Self.fqdn(request.zone), recordName = Self.fqdn(request.record)
        let to = request.to.trimmingCharacters(in: .whitespaces)
        try Self.checkInput(zone: zoneName, record: recordName, to: to, ttl: request.ttl)
        let r53 = try session.route53()
        guard let zone = try await r53.hostedZone(named: zoneName) else {
            throw DRError.badInput("There is no Route 53 hosted zone named \(zoneName) in this account. Check --zone (dr does not create zones). Nothing was changed.")
        }
        let current = try await currentRecord(r53, zone: zone.id, name: recordName)
        if let current, current.aliasTarget != nil || current.setIdentifier != nil {
            throw DRError.badInput("\(recordName) in \(zoneName) is an alias or routing-policy record (\(current.type)); dr failover repoints simple records only. Change it in Route 53 directly. Nothing was changed.")
        }
        guard current != nil || request.create else {
            throw DRError.badInput("There is no record \(recordName) in zone \(zoneName). Check --record, or pass --create to create it. Nothing was changed.")
        }
        let type = current?.type ?? Self.recordType(for: to)
        if current != nil, type != Self.recordType(for: to) {
            throw DRError.badInput("\(recordName) is a \(type) record but \(to) needs a \(Self.recordType(for: to)) record. Point it at a value of the same kind, or recreate the record. Nothing was changed.")
        }
        let ttl = request.ttl ?? current?.ttl ?? 60
        let currentValue = current?.values.joined(separator: ",")
        let state = FailoverState(directory: stateDirectory, zone: zoneName, record: recordName)
        let wanted = ResourceRecordSet(name: recordName, type: type, ttl: ttl, values: [to])

        var previous = currentValue
        if let current, current.values.map(Self.normalized) == [Self.normalized(to)], current.ttl == ttl {
            // Already pointing there (a re-run): report what it pointed at before our change.
            previous = state.load(to: to) ?? currentValue
        } else {
            try state.save(previous: currentValue, to: to)
            logger.info("upserting record", metadata: ["record": "\(recordName)", "type": "\(type)", "to": "\(to)",
                                                       "previous": "\(currentValue ?? "(none)")"])
            let change = try await r53.changeResourceRecordSets(zoneId: zone.id, changes: [RecordChange(.upsert, wanted)],
                                                                comment: Self.comment(record: recordName, to: to))
            try await wait.run(.dns) { timeout, progress in try await r53.waitForChangeInsync(id: change.id, timeout: timeout, progress: progress) }
        }
        return FailoverResult(entry: recordName, location: "Route 53 zone \(zoneName) (\(zone.id)), \(type) TTL \(ttl)", now: to, previous: previous)
    }

    /// Read-only (ListHostedZonesByName, ListResourceRecordSets): the record's value now, its
    /// values joined by commas; nil when the zone has no A, AAAA or CNAME record of that name.
    public func currentValue(zone: String, record: String) async throws -> String? {
        try await wait.bounded(clock: session.clock) {
            let zoneName = Self.fqdn(zone), recordName = Self.fqdn(record)
            let r53 = try session.route53()
            guard let hosted = try await r53.hostedZone(named: zoneName) else {
                throw DRError.badInput("There is no Route 53 hosted zone named \(zoneName) in this account. Check `zone` (dr does not create zones). Nothing was changed.")
            }
            return try await currentRecord(r53, zone: hosted.id, name: recordName)?.values.joined(separator: ",")
        }
    }

    func currentRecord(_ r53: Route53Client, zone: String, name: String) async throws -> ResourceRecordSet? {
        let page = try await r53.listResourceRecordSets(zoneId: zone, start: RecordPosition(name: name, type: nil, identifier: nil), maxItems: 10)
        return page.items.first { Self.fqdn($0.name).lowercased() == name.lowercased() && ["A", "AAAA", "CNAME"].contains($0.type) }
    }

    static func checkInput(zone: String, record: String, to: String, ttl: Int?) throws {
        let zoneSuffix = "." + zone.lowercased()
        guard record.lowercased() == zone.lowercased() || record.lowercased().hasSuffix(zoneSuffix) else {
            throw DRError.badInput("--record \(record) is not inside --zone \(zone). Give the record's full name, e.g. db.\(zone). Nothing was changed.")
        }
        if let ttl, !(0...2_147_483_647).contains(ttl) { throw DRError.badInput("--ttl must be a number of seconds between 0 and 2147483647.") }
        guard !to.isEmpty, to.count <= 253, !to.contains(" ") else {
            throw DRError.badInput("--to \"\(to)\" is not a host name or IP address. Nothing was changed.")
        }
    }

    static func recordType(for value: String) -> String {
        if value.contains(":") { return "AAAA" }
        let parts = value.split(separator: ".")
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return "A" }
        return "CNAME"
    }

    /// `dr failover: db.example.com. -> host`, within Route 53's 256 characters: long names
    /// keep their start and end.
    static func comment(record: String, to: String) -> String {
        func short(_ s: String, _ n: Int) -> String { s.count <= n ? s : s.prefix(n / 2 - 2) + "..." + s.suffix(n / 2 - 1) }
        let full = "dr failover: \(record) -> \(to)"
        return full.count <= Route53Client.maxCommentLength ? full : "dr failover: \(short(record, 118)) -> \(short(to, 118))"
    }

    static func fqdn(_ name: String) -> String { name.hasSuffix(".") ? name : name + "." }
    static func normalized(_ value: String) -> String { (value.hasSuffix(".") ? String(value.dropLast()) : value).lowercased() }
}

/// The value a record had before `dr failover` changed it, kept per zone and record.
struct FailoverState {
    let file: String

    init(directory: String, zone: String, record: String) {
        file = directory + "/failover/" + (record + "@" + zone).replacingOccurrences(of: "/", with: "_") + ".json"
    }

    struct Entry: Codable { var previous: String?; var to: String }

    func save(previous: String?, to: String) throws {
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try JSONEncoder().encode(Entry(previous: previous, to: to)).write(to: URL(fileURLWithPath: file), options: .atomic)
    }

    /// The recorded previous value, when the last recorded change went to `to`.
    func load(to: String) -> String? {
        guard let data = FileManager.default.contents(atPath: file), let entry = try? JSONDecoder().decode(Entry.self, from: data),
              entry.to == to else { return nil }
        return entry.previous
    }
}
