import DRAWS
import DRCore
import Foundation
import Logging

/// Route 53 failover: upserts the record (CNAME for a host name, A/AAAA for an address, or the
/// record's existing type) and waits until Route 53 reports the change INSYNC.
///
/// Every real change is pushed onto the record's history in dr's state directory before it is
/// made, so `undo` returns to the value before the last real change and `history` shows them
/// all. Re-running a failover to where the record already points changes nothing and keeps the
/// history as it is.
public struct Route53Failover: Sendable {
    public struct Request: Sendable, Equatable {
        public var zone: String
        public var record: String
        /// Nil only in a plan whose destination is known at run time.
        public var to: String?
        public var ttl: Int?
        public var create: Bool
        public var undo: Bool
        public init(zone: String, record: String, to: String?, ttl: Int? = nil, create: Bool = false, undo: Bool = false) {
            self.zone = zone
            self.record = record
            self.to = to
            self.ttl = ttl
            self.create = create
            self.undo = undo
        }
    }

    let session: RDSSession
    let context: ProviderContext

    public init(session: RDSSession, context: ProviderContext) {
        self.session = session
        self.context = context
    }

    /// What the failover will do, decided with read-only calls.
    struct Decision {
        var zoneName: String
        var zoneID: String
        var recordName: String
        var type: String
        var ttl: Int
        /// The record's value now (nil: no such record).
        var current: String?
        /// Where it will point; nil when known only at run time.
        var to: String?
        /// False when it already points there (nothing to write).
        var change: Bool
        var undoing: FailoverChange?
        var plan: [PlannedAction] {
            var out: [PlannedAction] = [.read("read the DNS record \(recordName) in zone \(zoneName)", call: "route53:ListResourceRecordSets")]
            let now = current ?? "(no such record)"
            guard change else { return out + [.read("nothing to do: \(recordName) already points at \(to ?? "?")")] }
            let what = undoing != nil ? "undo the last failover of" : "upsert"
            out.append(.change("\(what) \(type) record \(recordName) in zone \(zoneName): currently \(now) → will be \(to ?? "(known at run time)") (TTL \(ttl)s)",
                               call: "route53:ChangeResourceRecordSets", current: current,
                               when: to == nil ? "unless it already points at the value known at run time" : nil))
            out.append(.read("wait until the change is INSYNC", call: "route53:GetChange"))
            return out
        }
    }

    func decide(_ request: Request) async throws -> Decision {
        let zoneName = Self.fqdn(request.zone), recordName = Self.fqdn(request.record)
        var to = request.to?.trimmingCharacters(in: .whitespaces)
        try Self.checkInput(zone: zoneName, record: recordName, to: to, ttl: request.ttl)
        let r53 = try session.route53()
        guard let zone = try await r53.hostedZone(named: zoneName) else {
            throw DRError(.notFound, "There is no Route 53 hosted zone named \(zoneName) in this account. Check \(param: .zone) (dr does not create zones). Nothing was changed.")
        }
        let current = try await currentRecord(r53, zone: zone.id, name: recordName)
        if let current, current.aliasTarget != nil || current.setIdentifier != nil {
            throw DRError(.invalidParameter, "\(recordName) in \(zoneName) is an alias or routing-policy record (\(current.type)); dr failover repoints simple records only. Change it in Route 53 directly. Nothing was changed.")
        }
        var undoing: FailoverChange?
        if request.undo {
            guard let last = history(zone: zoneName, record: recordName).first else {
                throw DRError(.notFound, "dr has no record of failing over \(recordName) (zone \(zoneName)) from this machine, so there is nothing to undo. `dr failover --history` shows what it kept; point it back explicitly with \(param: .to). Nothing was changed.")
            }
            guard let from = last.from else {
                throw DRError(.invalidParameter, "\(recordName) did not exist before dr created it (pointing at \(last.to)), so there is no earlier value to go back to. Delete the record in Route 53 if that is what you mean. Nothing was changed.")
            }
            undoing = last
            to = from
        }
        guard current != nil || request.create else {
            throw DRError(.notFound, "There is no record \(recordName) in zone \(zoneName). Check \(param: .record), or let dr create it (\(param: Parameter("create"))). Nothing was changed.")
        }
        let type = current?.type ?? to.map(Self.recordType(for:)) ?? "CNAME"
        if let to, current != nil, type != Self.recordType(for: to) {
            throw DRError(.invalidParameter, "\(recordName) is a \(type) record but \(to) needs a \(Self.recordType(for: to)) record. Point it at a value of the same kind, or recreate the record. Nothing was changed.")
        }
        let ttl = request.ttl ?? current?.ttl ?? 60
        var change = true
        if let current, let to, current.values.map(Self.normalized) == [Self.normalized(to)], current.ttl == ttl { change = false }
        return Decision(zoneName: zoneName, zoneID: zone.id, recordName: recordName, type: type, ttl: ttl,
                        current: current?.values.joined(separator: ","), to: to, change: change, undoing: undoing)
    }

    func execute(_ d: Decision) async throws -> FailoverResult {
        guard let to = d.to else {
            throw DRError(.invalidParameter, "A failover needs \(param: .to): where clients should go. Nothing was changed.")
        }
        let location = "Route 53 zone \(d.zoneName) (\(d.zoneID)), \(d.type) TTL \(d.ttl)"
        let log = FailoverLog(directory: context.stateDirectory, key: "route53/" + d.recordName + "@" + d.zoneName)
        guard d.change else {
            // Already pointing there: a re-run, or an undo whose change went through before it was
            // taken off the history. Report what it pointed at before dr's last change.
            if d.undoing != nil { try log.pop() }
            return FailoverResult(entry: d.recordName, location: location, now: to, previous: log.entries().first?.from ?? d.current, changed: false)
        }
        // The history is written before a change (so a crash leaves it complete) and taken back
        // after an undo (so a crash never loses the value to go back to).
        if d.undoing == nil { try log.push(FailoverChange(at: context.clock.now(), from: d.current, to: to)) }
        context.logger.info("upserting record", metadata: ["record": "\(d.recordName)", "type": "\(d.type)", "to": "\(to)",
                                                           "previous": "\(d.current ?? "(none)")"])
        let r53 = try session.route53()
        let wanted = ResourceRecordSet(name: d.recordName, type: d.type, ttl: d.ttl, values: [to])
        let change = try await r53.changeResourceRecordSets(zoneId: d.zoneID, changes: [RecordChange(.upsert, wanted)],
                                                            comment: Self.comment(record: d.recordName, to: to))
        try await context.wait.run(.dns) { timeout, progress in try await r53.waitForChangeInsync(id: change.id, timeout: timeout, progress: progress) }
        if d.undoing != nil { try log.pop() }
        return FailoverResult(entry: d.recordName, location: location, now: to, previous: d.current, changed: true)
    }

    /// The changes dr made to the record, newest first.
    func history(zone: String, record: String) -> [FailoverChange] {
        FailoverLog(directory: context.stateDirectory, key: "route53/" + Self.fqdn(record) + "@" + Self.fqdn(zone)).entries()
    }

    /// Every record dr failed over from this machine (it keeps their history).
    func changedEntries() -> [(zone: String, record: String)] {
        FailoverLog.keys(directory: context.stateDirectory, prefix: "route53/").compactMap { key in
            let parts = key.split(separator: "@", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (zone: parts[1], record: parts[0]) : nil
        }
    }

    /// Read-only (ListHostedZonesByName, ListResourceRecordSets): the record's value now, its
    /// values joined by commas; nil when the zone has no A, AAAA or CNAME record of that name.
    public func currentValue(zone: String, record: String) async throws -> String? {
        let zoneName = Self.fqdn(zone), recordName = Self.fqdn(record)
        let r53 = try session.route53()
        guard let hosted = try await r53.hostedZone(named: zoneName) else { return nil }
        return try await currentRecord(r53, zone: hosted.id, name: recordName)?.values.joined(separator: ",")
    }

    func currentRecord(_ r53: Route53Client, zone: String, name: String) async throws -> ResourceRecordSet? {
        let page = try await r53.listResourceRecordSets(zoneId: zone, start: RecordPosition(name: name, type: nil, identifier: nil), maxItems: 10)
        return page.items.first { Self.fqdn($0.name).lowercased() == name.lowercased() && ["A", "AAAA", "CNAME"].contains($0.type) }
    }

    static func checkInput(zone: String, record: String, to: String?, ttl: Int?) throws {
        let zoneSuffix = "." + zone.lowercased()
        guard record.lowercased() == zone.lowercased() || record.lowercased().hasSuffix(zoneSuffix) else {
            throw DRError(.invalidParameter, "The record \(record) (\(param: .record)) is not inside the zone \(zone). Give the record's full name, e.g. db.\(zone). Nothing was changed.")
        }
        if let ttl, !(0...2_147_483_647).contains(ttl) {
            throw DRError(.invalidParameter, "\(param: Parameter("ttl")) must be a number of seconds between 0 and 2147483647. Nothing was changed.")
        }
        if let to {
            guard !to.isEmpty, to.count <= 253, !to.contains(" ") else {
                throw DRError(.invalidParameter, "\(param: .to) \"\(to)\" is not a host name or IP address. Nothing was changed.")
            }
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
