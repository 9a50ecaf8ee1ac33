import DRCore

/// The executors that can run procedures, by procedure name, over the catalog that describes them.
/// Validation, planning and running all go through it; the engine knows no procedure by name.
public struct ProcedureRegistry: Sendable {
    public var catalog: ProcedureCatalog
    private var executors: [String: ProcedureExecutor]

    public init(catalog: ProcedureCatalog, executors: [String: ProcedureExecutor] = [:]) {
        self.catalog = catalog
        self.executors = executors
    }

    public mutating func register(_ name: String, _ executor: ProcedureExecutor) { executors[name] = executor }

    /// The procedure's executor. Every procedure of the catalog has one: a registry is built with
    /// all of them (see DRRunbook's `ProcedureRegistry.standard`), and the validator refuses a
    /// runbook naming a procedure the catalog does not know.
    public func executor(for name: String) throws -> ProcedureExecutor {
        guard let executor = executors[name] else {
            throw DRError(.invariant, "No executor is registered for procedure '\(name)'; the registry and the catalog disagree. This is a bug in dr.")
        }
        return executor
    }
}
