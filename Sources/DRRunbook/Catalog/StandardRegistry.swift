import DRCore
import DRRunbookEngine

extension ProcedureRegistry {
    /// `wait`, `exec` and `http.check`, the procedures that need no cloud.
    public static func local(clock: DRClock = SystemClock(), processes: ProcessRunning = SystemProcessRunner()) -> ProcedureRegistry {
        ProcedureRegistry(catalog: .standard, executors: ["wait": WaitProcedure(clock: clock), "exec": ExecProcedure(processes: processes),
                                                          "http.check": HTTPCheckProcedure(clock: clock)])
    }

    /// Every procedure of the standard catalog: `wait` and `exec`, and the recovery procedures
    /// over the targets' backends.
    public static func standard(providers: TargetProviders, clock: DRClock = SystemClock(),
                                processes: ProcessRunning = SystemProcessRunner()) -> ProcedureRegistry {
        var registry = local(clock: clock, processes: processes)
        let recovery: [String: ProcedureExecutor] = [
            "snapshot": SnapshotProcedure(providers: providers), "cache.snapshot": CacheSnapshotProcedure(providers: providers),
            "copy": CopyProcedure(providers: providers),
            "restore.point-in-time": RestoreProcedure(mode: .pointInTime, providers: providers),
            "restore.snapshot": RestoreProcedure(mode: .snapshot, providers: providers),
            "failover": FailoverProcedure(providers: providers), "verify": VerifyProcedure(providers: providers),
            "teardown": TeardownProcedure(providers: providers), "status": StatusProcedure(providers: providers),
            "app.scale": AppScaleProcedure(providers: providers), "app.rollback": AppRollbackProcedure(providers: providers),
        ]
        for (name, executor) in recovery { registry.register(name, executor) }
        return registry
    }
}
