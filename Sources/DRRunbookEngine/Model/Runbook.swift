/// A parsed runbook (see runbooks/README.md for the format).
public struct Runbook: Sendable, Equatable {
    public var file: String
    public var name: String
    public var description: String?
    public var inputs: [InputSpec]
    public var steps: [Step]
    /// Steps that run whatever happened: after success, after failure and after Ctrl-C.
    public var finally: [Step]

    /// Main steps then finally steps: the order the engine numbers them in.
    public var allSteps: [Step] { steps + finally }

    public func input(named name: String) -> InputSpec? { inputs.first { $0.name == name } }
}

public struct InputSpec: Sendable, Equatable {
    public var name: String
    public var type: ValueType
    public var defaultValue: Value?
    /// True unless the input has a default or says `required: false`.
    public var required: Bool
    public var description: String?
    /// Masked in journals, plans and reports; must be given again on `--resume`.
    public var secret: Bool
    public var location: SourceLocation
}

public struct Step: Sendable, Equatable {
    public var id: String
    public var uses: String
    public var with: [Parameter]
    /// The `if:` condition; the step is skipped when it is false.
    public var condition: Template?
    /// Seconds; nil for no limit.
    public var timeout: Double?
    public var retries: Int
    public var continueOnError: Bool
    /// A label for the report's recovery-time split; defaults to the procedure's phase.
    public var phase: String?
    public var location: SourceLocation
    public var usesLocation: SourceLocation

    public func parameter(_ name: String) -> Parameter? { with.first { $0.name == name } }
}

/// One `with:` entry.
public struct Parameter: Sendable, Equatable {
    public var name: String
    public var value: Template
    /// The YAML type of a plain scalar (`5` is an int, `true` a bool); nil for text.
    public var literalType: ValueType?
    public var location: SourceLocation
}
