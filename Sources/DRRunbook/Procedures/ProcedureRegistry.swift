import DRCore

/// The executors that can run procedures, by procedure name, over the catalog that describes them.
public struct ProcedureRegistry: Sendable {
    public var catalog: ProcedureCatalog
    private var executors: [String: ProcedureExecutor]

    public init(catalog: ProcedureCatalog = .standard, executors: [String: ProcedureExecutor] = [:]) {
        self.catalog = catalog
        self.executors = executors
    }

    /// `wait` and `exec`, the procedures that need no cloud.
    public static func local(clock: DRClock = SystemClock(), processes: ProcessRunning = InterruptibleProcessRunner()) -> ProcedureRegistry {
        ProcedureRegistry(executors: ["wait": WaitProcedure(clock: clock), "exec": ExecProcedure(processes: processes)])
    }

    /// Every procedure: `wait` and `exec`, and the recovery procedures over the targets' backends.
    public static func standard(providers: TargetProviders, clock: DRClock = SystemClock(),
                                processes: ProcessRunning = InterruptibleProcessRunner()) -> ProcedureRegistry {
        var registry = local(clock: clock, processes: processes)
        let recovery: [String: ProcedureExecutor] = [
            "snapshot": SnapshotProcedure(providers: providers), "cache.snapshot": CacheSnapshotProcedure(providers: providers),
            "copy": CopyProcedure(providers: providers),
            "restore.point-in-time": RestoreProcedure(mode: .pointInTime, providers: providers),
            "restore.snapshot": RestoreProcedure(mode: .snapshot, providers: providers),
            "failover": FailoverProcedure(providers: providers), "verify": VerifyProcedure(providers: providers),
            "teardown": TeardownProcedure(providers: providers), "status": StatusProcedure(providers: providers),
        ]
        for (name, executor) in recovery { registry.register(name, executor) }
        return registry
    }

    public mutating func register(_ name: String, _ executor: ProcedureExecutor) { executors[name] = executor }

    public func isWired(_ name: String) -> Bool { executors[name] != nil }

    /// The procedure's executor; one that is not wired still plans from its spec and refuses to run.
    public func executor(for name: String) -> ProcedureExecutor {
        if let executor = executors[name] { return executor }
        return UnwiredProcedure(spec: catalog[name])
    }
}

/// Stands in for a procedure whose implementation is not wired into the runbook engine yet.
struct UnwiredProcedure: ProcedureExecutor {
    var spec: ProcedureSpec?

    func plan(_ call: ResolvedCall) async throws -> [PlannedAction] {
        let shown = call.displayParameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return [PlannedAction("\(call.procedure) \(shown) (procedure not wired yet: calls not listed)",
                              mutates: spec?.mutates ?? true)]
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        throw DRError.badInput("Step '\(call.stepID)': procedure '\(call.procedure)' has no executor in this registry. Use `dr run --plan` to see what it would do.")
    }
}
