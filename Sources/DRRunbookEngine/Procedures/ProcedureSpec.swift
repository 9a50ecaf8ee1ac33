/// What a procedure takes, what it gives back and whether it changes anything: enough to
/// validate and plan a runbook before any procedure is wired.
public struct ProcedureSpec: Sendable, Equatable {
    public struct ParameterSpec: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case value(ValueType)
            /// A target name from the config (`prod-db`); runs on the same target are serialised by a lock.
            case target
        }
        public var name: String
        public var kind: Kind
        public var required: Bool
        /// Masked wherever it would be shown: journal, plan, report, errors.
        public var secret: Bool
        public var summary: String

        public var type: ValueType {
            if case .value(let t) = kind { return t }
            return .string
        }

        public static func value(_ name: String, _ type: ValueType, required: Bool = false, secret: Bool = false, _ summary: String) -> ParameterSpec {
            ParameterSpec(name: name, kind: .value(type), required: required, secret: secret, summary: summary)
        }

        public static func target(_ name: String = "target", required: Bool = true, _ summary: String = "the target, by its name in dr.yml") -> ParameterSpec {
            ParameterSpec(name: name, kind: .target, required: required, secret: false, summary: summary)
        }
    }

    public struct OutputSpec: Sendable, Equatable {
        public var name: String
        public var type: ValueType
        public var summary: String

        public init(_ name: String, _ type: ValueType, _ summary: String) {
            self.name = name
            self.type = type
            self.summary = summary
        }
    }

    public var name: String
    public var summary: String
    public var parameters: [ParameterSpec]
    public var outputs: [OutputSpec]
    /// Whether running it changes something (creates, copies, deletes, repoints).
    public var mutates: Bool
    /// The report's default phase for steps using it.
    public var phase: String

    public init(name: String, summary: String, parameters: [ParameterSpec], outputs: [OutputSpec], mutates: Bool, phase: String) {
        self.name = name
        self.summary = summary
        self.parameters = parameters
        self.outputs = outputs
        self.mutates = mutates
        self.phase = phase
    }

    public func parameter(_ name: String) -> ParameterSpec? { parameters.first { $0.name == name } }
    public func output(_ name: String) -> OutputSpec? { outputs.first { $0.name == name } }
    public var secretParameters: Set<String> { Set(parameters.filter(\.secret).map(\.name)) }
}
