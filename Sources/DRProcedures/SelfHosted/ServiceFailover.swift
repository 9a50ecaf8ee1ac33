import DRCore
import DRPostgres
import Foundation

/// `dr failover TARGET --to NAME | --undo` for self-hosted PostgreSQL: rewrites the target's
/// entry in the libpq service file (`pg_service.conf`) to point at a restored server, atomically.
///
/// Every real change is pushed onto the entry's history in dr's state directory before the file
/// is written, and `[ENTRY-previous]` holds the value before the last change (for clients and
/// people). Re-running with the same destination changes nothing and keeps the history; `--undo`
/// returns to the value before the last real change.
struct ServiceFailover {
    let file: ServiceFile
    let service: String
    let to: String?
    let undo: Bool
    /// Plans only: `to` is a restore an earlier step of the same run makes.
    var upcoming = false
    let servers: RestoredServers
    let targetName: String
    let context: ProviderContext

    var log: FailoverLog {
        FailoverLog(directory: context.stateDirectory, key: "service/" + service + "@" + file.path)
    }

    struct Decision {
        var service: String
        var path: String
        var current: String?
        /// The entry it will hold, one line of `key=value` pairs; nil when known only at run time.
        var wanted: String?
        var change: Bool
        var undoing: FailoverChange?
        /// What `[service-previous]` will hold after the change.
        var previous: String?
        var destination: String
        /// The destination is a restore an earlier step makes (so the change will be made).
        var upcoming = false

        var plan: [PlannedAction] {
            var out: [PlannedAction] = [.read("read [\(service)] in \(path)", call: "read \(path)")]
            guard change else { return out + [.read("nothing to do: [\(service)] already points at \(destination)")] }
            out.append(.change("\(undoing != nil ? "undo the last failover of" : "rewrite") [\(service)] in \(path): currently \(current ?? "(no such entry)") → will be \(destination)",
                               call: "write \(path) atomically", current: current,
                               when: wanted == nil && !upcoming ? "unless it already points at the server known at run time" : nil))
            return out
        }
    }

    func decide() throws -> Decision {
        let current = try file.entry(service)
        let history = log.entries()
        if undo {
            if let last = history.first {
                guard let from = last.from else {
                    throw DRError(.invalidParameter, "[\(service)] did not exist in \(file.path) before dr's failover made it, so there is no earlier value to go back to. Remove the entry by hand if that is what you mean. Nothing was changed.")
                }
                return Decision(service: service, path: file.path, current: current, wanted: from, change: current != from, undoing: last,
                                previous: history.dropFirst().first?.from, destination: from)
            }
            // No history on this machine (another state directory): fall back to the kept entry.
            guard let previous = try file.entry(ServiceFile.previousName(service)) else {
                throw DRError(.notFound, "\(file.path) has no [\(ServiceFile.previousName(service))] entry and dr keeps no history of failing over [\(service)], so there is no failover to undo. Nothing was changed.")
            }
            return Decision(service: service, path: file.path, current: current, wanted: previous, change: current != previous,
                            undoing: FailoverChange(at: context.clock.now(), from: previous, to: current ?? ""), previous: current, destination: previous)
        }
        guard let to else {
            return Decision(service: service, path: file.path, current: current, wanted: nil, change: true, undoing: nil, previous: current,
                            destination: "(the restored server known at run time)")
        }
        guard let server = servers.load(to), server.effectiveState == .running else {
            if upcoming {
                return Decision(service: service, path: file.path, current: current, wanted: nil, change: true, undoing: nil,
                                previous: current, destination: "restored server \(to)", upcoming: true)
            }
            throw DRError(.notFound, "There is no running restored server named \"\(to)\" under \(servers.root). Restore one with `dr restore \(targetName) … --as \(to)` first. Nothing was changed.")
        }
        guard server.target == targetName else {
            throw DRError(.protected, "The restored server \"\(to)\" is a restore of \(server.target), not of \(targetName); dr will not point \(targetName)'s clients at it. Nothing was changed.")
        }
        let wanted = (Conninfo.parse(server.conninfo) ?? []).filter { $0.key != "password" }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let change = current != wanted
        return Decision(service: service, path: file.path, current: current, wanted: wanted, change: change, undoing: nil,
                        previous: change ? current : try file.entry(ServiceFile.previousName(service)), destination: "restored server \(to)")
    }

    func execute(_ d: Decision) throws -> FailoverResult {
        guard let wanted = d.wanted else {
            throw DRError(.invalidParameter, "A failover needs \(param: .to): the restored server clients should go to. Nothing was changed.")
        }
        guard d.change else {
            if d.undoing != nil, !log.entries().isEmpty { try log.pop() }
            return FailoverResult(entry: service, location: file.path, now: wanted, previous: log.entries().first?.from ?? d.previous, changed: false)
        }
        if d.undoing == nil { try log.push(FailoverChange(at: context.clock.now(), from: d.current, to: wanted)) }
        try file.set(service, to: wanted, previous: d.previous)
        if d.undoing != nil, !log.entries().isEmpty { try log.pop() }
        return FailoverResult(entry: service, location: file.path, now: wanted, previous: d.current, changed: true)
    }

    func history() throws -> [FailoverChange] { log.entries() }

    /// Every service entry dr failed over from this machine: (file, entry).
    static func changedEntries(stateDirectory: String) -> [(file: String, service: String)] {
        FailoverLog.keys(directory: stateDirectory, prefix: "service/").compactMap { key in
            let parts = key.split(separator: "@", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (file: parts[1], service: parts[0]) : nil
        }
    }
}
