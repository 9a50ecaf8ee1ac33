import DRCore
import DRPostgres
import DRProcedures
import DRVerify
import Foundation

/// What the drill's procedures share: the target, its provider, the recorder and the drill's options.
struct DrillContext: Sendable {
    var target: Target
    var provider: RecoveryProvider
    var recorder: DrillRecorder
    var clock: DRClock
    var injectFailure: Bool
    /// The moment the restored data should represent, for the freshness measurement.
    var recoveryPoint: Date
    /// How long the restored server may take to accept its first connection.
    var connectTimeout: Double = 300
}

/// The procedures a restore drill runs, wired to the target's provider so the drill can measure
/// them: `restore.point-in-time`, `restore.snapshot`, `verify` and `teardown`. Every restore made
/// through them carries the drill's tags (`RestoreTags.current`, set by the drill).
enum DrillProcedures {
    static func register(into registry: inout ProcedureRegistry, context: DrillContext) {
        registry.register(StandardProcedures.restorePointInTime.name, DrillRestore(context: context, snapshot: false))
        registry.register(StandardProcedures.restoreSnapshot.name, DrillRestore(context: context, snapshot: true))
        registry.register(StandardProcedures.verify.name, DrillVerify(context: context))
        registry.register(StandardProcedures.teardown.name, DrillTeardown(context: context))
    }

    /// A step may only act on the drill's own target.
    static func checkTarget(_ call: ResolvedCall, _ context: DrillContext) throws {
        if let named = call.string("target"), named != context.target.name {
            throw DRError.badInput("Step '\(call.stepID)' names target \(named), but this drill is of \(context.target.name). A drill runbook acts on its `target` input only.")
        }
    }
}

/// Restores into the drill's temporary server and records when it was requested and available.
struct DrillRestore: ProcedureExecutor {
    let context: DrillContext
    let snapshot: Bool

    func plan(_ call: ResolvedCall) async throws -> [PlannedAction] {
        let what = snapshot ? "snapshot \(call.string("snapshot") ?? "latest")" : "the state at \(call.time("time").map { RFC3339.format($0) } ?? "?")"
        return [PlannedAction("restore \(context.target.name) from \(what) as \(call.string("as") ?? "?")", call: "restore", mutates: true)]
    }

    func run(_ call: ResolvedCall, context step: StepContext) async throws -> [String: Value] {
        try DrillProcedures.checkTarget(call, context)
        guard let name = call.string("as") else { throw DRError.badInput("Step '\(call.stepID)': `as` is required.") }
        let point: RestorePoint = snapshot ? .snapshot(call.string("snapshot") ?? "latest") : .pointInTime(call.time("time")!)
        var options: [String: String] = [:]
        options["region"] = call.string("region")
        options["instance-class"] = call.string("instance_class")
        context.recorder.restoreRequested(at: step.clock.now())
        let result = try await context.provider.restore(RestoreRequest(point: point, name: name, options: options))
        context.recorder.restoreAvailable(result, at: step.clock.now())
        let (host, port) = Endpoint.split(result.endpoint)
        var outputs: [String: Value] = [
            "instance_id": .string(result.name), "endpoint_host": .string(host), "endpoint_port": .int(port),
        ]
        if snapshot {
            outputs["snapshot_id"] = .string(result.snapshot)
            let taken = try? await context.provider.status().snapshots.first { $0.id == result.snapshot }?.createdAt
            outputs["snapshot_time"] = .time(taken ?? result.recoveredTo ?? step.clock.now())
        } else {
            outputs["restored_to"] = .time(result.recoveredTo ?? result.requestedTime ?? step.clock.now())
        }
        return outputs
    }
}

/// Host and port from a restore's endpoint: `host:port` (RDS) or a conninfo (postgres).
enum Endpoint {
    static func split(_ endpoint: String) -> (host: String, port: Int) {
        if let pairs = Conninfo.parse(endpoint), pairs.contains(where: { $0.key == "port" }) {
            let host = pairs.last { $0.key == "host" }?.value ?? ""
            return (host, pairs.last { $0.key == "port" }.flatMap { Int($0.value) } ?? 0)
        }
        let parts = endpoint.split(separator: ":", maxSplits: 1)
        return (parts.first.map(String.init) ?? endpoint, parts.count > 1 ? Int(parts[1]) ?? 0 : 0)
    }
}

/// Tears the drill's server down and records when.
struct DrillTeardown: ProcedureExecutor {
    let context: DrillContext

    func plan(_ call: ResolvedCall) async throws -> [PlannedAction] {
        [PlannedAction("tear down \(call.string("instance") ?? "?")", call: "teardown", mutates: true)]
    }

    func run(_ call: ResolvedCall, context step: StepContext) async throws -> [String: Value] {
        try DrillProcedures.checkTarget(call, context)
        guard let name = call.string("instance") else { throw DRError.badInput("Step '\(call.stepID)': `instance` is required.") }
        context.recorder.teardownStarted(at: step.clock.now())
        do {
            let result = try await context.provider.teardown(TeardownRequest(name: name))
            context.recorder.tornDown(result, at: step.clock.now())
            return ["deleted": .bool(result.removed)]
        } catch {
            context.recorder.tornDown(nil, at: step.clock.now())
            throw error
        }
    }
}
