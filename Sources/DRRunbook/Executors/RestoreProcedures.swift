import DRCore
import DRPostgres
import DRProcedures
import Foundation
import DRRunbookEngine

/// `restore.point-in-time` and `restore.snapshot`: a new server (postgres) or instance (RDS)
/// named `as`. The plan reads the restorable window and the snapshots, and refuses a time outside
/// the window before anything runs. A re-entered step adopts the restore it had started (the
/// backends find it by its name and dr's marker or tags) and waits for it instead of starting another.
struct RestoreProcedure: ProcedureExecutor {
    enum Mode { case pointInTime, snapshot }
    var mode: Mode
    var providers: TargetProviders

    func plan(_ call: ResolvedCall) async throws -> [PlannedAction] {
        let target = try providers.target(call)
        let provider = try providers.makeProvider(target, providers.logger)
        let calls = BackendCalls.of(target)
        let name = call.string("as") ?? call.pending["as"].map { "(at run time: \($0))" } ?? "?"
        let status = try await provider.status()
        var actions = [PlannedAction("read \(target.name)'s restorable window and snapshots", call: calls.statusRead, mutates: false)]
        switch mode {
        case .pointInTime:
            let what: String
            if call.pending["time"] != nil {
                what = "the time known at run time (\(call.pending["time"]!)); window now: \(status.restorableWindow?.description ?? "nothing restorable")"
            } else {
                switch try Self.point(call) {
                case .pointInTime(let time):
                    try Self.check(time, in: status.restorableWindow, target: target, stepID: call.stepID)
                    what = RFC3339.format(time, fractional: true)
                default:
                    guard let window = status.restorableWindow else { throw Self.nothingRestorable(target, stepID: call.stepID) }
                    what = "the latest restorable time (now \(RFC3339.format(window.latest, fractional: true)))"
                }
            }
            actions.append(PlannedAction("restore \(target.name) to \(what) as \(name)", call: calls.restorePointInTime, mutates: true))
        case .snapshot:
            let fromDR = call.bool("from_dr") ?? false
            let snapshots = fromDR ? status.drSnapshots : status.snapshots
            let requested = call.string("snapshot") ?? call.pending["snapshot"].map { "(at run time: \($0))" } ?? "latest"
            var chosen = requested
            if requested == "latest" {
                guard let newest = snapshots.max(by: { $0.createdAt < $1.createdAt }) else {
                    throw DRError.badInput("Step '\(call.stepID)': target \(target.name) has no snapshot\(fromDR ? " in its DR copy" : "") to restore from. Nothing was changed.")
                }
                chosen = "\(newest.id) (the newest\(fromDR ? " DR copy" : ""), taken \(RFC3339.format(newest.createdAt)))"
            } else if call.pending["snapshot"] == nil, !snapshots.contains(where: { $0.id == requested }) {
                throw DRError.badInput("Step '\(call.stepID)': target \(target.name) has no snapshot \(requested)\(fromDR ? " in its DR copy" : ""). `dr status \(target.name)` lists them. Nothing was changed.")
            }
            let region = call.string("region").map { " in \($0)" } ?? (fromDR ? " in \(CopyProcedure.destination(target, call))" : "")
            actions.append(PlannedAction("restore snapshot \(chosen)\(region) as \(name)", call: calls.restoreSnapshot, mutates: true))
        }
        actions.append(PlannedAction("wait until \(name) is available", call: calls.waitRestored, mutates: false))
        if let newName = call.string("as") {
            try await checkNameFree(newName, call: call, target: target, provider: provider)
            actions.insert(PlannedAction("check that the name \(newName) is free", call: calls.nameCheck, mutates: false), at: 1)
        }
        return actions
    }

    /// The plan is for a new run (`--plan` cannot be combined with `--resume`), so a taken name
    /// is refused here; a re-entered step of a resumed run adopts its own restore in `run`.
    func checkNameFree(_ name: String, call: ResolvedCall, target: Target, provider: RecoveryProvider) async throws {
        var options: [String: String] = [:]
        options["region"] = call.string("region")
        let request = RestoreRequest(point: mode == .snapshot ? .snapshot(call.string("snapshot") ?? "latest") : .latestRestorable,
                                     name: name, fromDR: call.bool("from_dr") ?? false, options: options)
        guard let holder = try await provider.nameInUse(request) else { return }
        throw DRError.badInput("Step '\(call.stepID)': the name \(name) (`as`) is already taken by \(holder). Give the step another `as`, or, if it is a leftover restore of \(target.name) by dr, remove it first with `dr teardown`. Nothing was changed.")
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        let target = try providers.target(call)
        guard let name = call.string("as") else { throw DRError.badInput("Step '\(call.stepID)': a restore needs `as`, the new server's name.") }
        let point: RestorePoint = mode == .snapshot ? .snapshot(call.string("snapshot") ?? "latest") : try Self.point(call)
        var options: [String: String] = [:]
        options["instance-class"] = call.string("instance_class")
        options["region"] = call.string("region")
        let request = RestoreRequest(point: point, name: name, fromDR: call.bool("from_dr") ?? false, options: options,
                                     adoptExisting: context.isReentry || context.attempt > 1)
        let result = try await providers.makeProvider(target, providers.logger).restore(request)
        let endpoint = Endpoint(result.endpoint, target: target)
        return ["instance_id": .string(result.name), "endpoint_host": .string(endpoint.host), "endpoint_port": .int(endpoint.port),
                "conninfo": .string(endpoint.conninfo), "snapshot_id": .string(result.snapshot),
                "restored_to": .string((result.recoveredTo ?? result.requestedTime).map { RFC3339.format($0, fractional: true) } ?? ""),
                "adopted": .bool(result.details["adopted_existing"] == "true")]
    }

    /// `time`: an RFC 3339 time, or `latest` for the latest restorable time.
    static func point(_ call: ResolvedCall) throws -> RestorePoint {
        let text = call.string("time") ?? ""
        if text == "latest" { return .latestRestorable }
        guard let time = RFC3339.parse(text) else {
            throw DRError.badInput("Step '\(call.stepID)': time '\(text)' is neither an RFC 3339 time (2026-11-20T12:00:00Z) nor `latest`. Nothing was changed.")
        }
        return .pointInTime(time)
    }

    static func check(_ time: Date, in window: TimeWindow?, target: Target, stepID: String) throws {
        guard let window else { throw nothingRestorable(target, stepID: stepID) }
        guard window.contains(time) else {
            throw DRError.badInput("Step '\(stepID)': \(RFC3339.format(time, fractional: true)) is outside the restorable window of \(target.name): \(window). Choose a time inside it. Nothing was changed.")
        }
    }

    static func nothingRestorable(_ target: Target, stepID: String) -> DRError {
        .badInput("Step '\(stepID)': target \(target.name) has nothing restorable yet (no snapshot with the logs after it). Take a snapshot first. Nothing was changed.")
    }
}

/// A restored server's address: postgres gives a conninfo, RDS `host:port`. Its conninfo never holds a password.
struct Endpoint {
    var host: String
    var port: Int
    var conninfo: String

    init(_ endpoint: String, target: Target) {
        if let pairs = Conninfo.parse(endpoint), endpoint.contains("=") {
            host = pairs.last { $0.key == "host" }?.value ?? ""
            port = pairs.last { $0.key == "port" }.flatMap { Int($0.value) } ?? 5432
            conninfo = Conninfo.replacing(endpoint, with: [], dropping: ["password"]) ?? endpoint
            return
        }
        let parts = endpoint.split(separator: ":", maxSplits: 1).map(String.init)
        host = parts.first ?? ""
        port = parts.count > 1 ? Int(parts[1]) ?? 5432 : 5432
        // The user and database from the target's `database.conninfo`, when it has one; never its password.
        var base = "host=\(Conninfo.quote(host)) port=\(port)"
        if case .conninfo(let known)? = target.rdsSettings?.database {
            base = Conninfo.replacing(known, with: [("host", host), ("port", String(port))],
                                      dropping: ["password", "hostaddr", "service"]) ?? base
        }
        conninfo = base
    }
}

/// `teardown`: removes a restored server or instance that dr made; anything else is refused by
/// the backend. One that is already gone is reported as not deleted, so a re-entered step is safe.
struct TeardownProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func plan(_ call: ResolvedCall) async throws -> [PlannedAction] {
        let target = try providers.target(call)
        let name = call.string("instance") ?? call.pending["instance"].map { "(at run time: \($0))" } ?? "?"
        return [PlannedAction("delete \(name), restored from \(target.name), if dr made it (no final snapshot)",
                              call: BackendCalls.of(target).teardown, mutates: true)]
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        guard let name = call.string("instance") else { throw DRError.badInput("Step '\(call.stepID)': teardown needs `instance`.") }
        let result = try await providers.provider(call).teardown(TeardownRequest(name: name))
        return ["deleted": .bool(result.removed)]
    }
}

/// `status`: the target's state, newest snapshot and restorable window. Reads only.
struct StatusProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func plan(_ call: ResolvedCall) async throws -> [PlannedAction] {
        let target = try providers.target(call)
        return [PlannedAction("read \(target.name)'s state, snapshots and restorable window", call: BackendCalls.of(target).statusRead, mutates: false)]
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        let status = try await providers.provider(call).status()
        let newest = status.snapshots.max { $0.createdAt < $1.createdAt }
        return ["provider": .string(status.provider),
                "state": .string(status.details["state"] ?? (status.warnings.isEmpty ? "ok" : "warnings")),
                "latest_snapshot": .string(newest?.id ?? ""),
                "restorable": .bool(status.restorableWindow != nil),
                "latest_restorable_time": .string(status.restorableWindow.map { RFC3339.format($0.latest, fractional: true) } ?? ""),
                "warnings": .int(status.warnings.count)]
    }
}
