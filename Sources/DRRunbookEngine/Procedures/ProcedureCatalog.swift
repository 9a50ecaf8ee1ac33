/// Every procedure a runbook can use, by name. Validation and planning read it; the executors
/// that run procedures are registered separately (`ProcedureRegistry`). The engine defines the
/// shape; DRRunbook fills it with the standard procedures.
public struct ProcedureCatalog: Sendable {
    public var specs: [String: ProcedureSpec]

    public init(_ specs: [ProcedureSpec]) {
        self.specs = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
    }

    public subscript(name: String) -> ProcedureSpec? { specs[name] }
    public var names: [String] { specs.keys.sorted() }
}

