/// One call or change a procedure would make, as a plan shows it. Backends list these from the
/// same decision their run executes; runbook plans and `--plan` flags print them.
public struct PlannedAction: Sendable, Equatable, Codable {
    /// What it does, in words: `create snapshot dr-prod-db-weekly-2026-w48`.
    public var summary: String
    /// The API call or command behind it, when there is one: `rds:CreateDBSnapshot`.
    public var call: String?
    /// Whether it changes something. Plans mark these; a plan never makes them.
    public var mutates: Bool
    /// What the changed thing holds now, when the plan read it (a failover's entry); absent otherwise.
    public var current: String?
    /// When the run makes this call only in some cases, which (`only if a tag is missing`); nil:
    /// always. The run makes every unconditional call listed and no call that is not listed.
    public var condition: String?

    public init(_ summary: String, call: String? = nil, mutates: Bool, current: String? = nil, condition: String? = nil) {
        self.summary = summary
        self.call = call
        self.mutates = mutates
        self.current = current
        self.condition = condition
    }

    /// A read-only call the plan made (or the run will make) to decide.
    public static func read(_ summary: String, call: String? = nil) -> PlannedAction {
        PlannedAction(summary, call: call, mutates: false)
    }

    /// A change the run makes.
    public static func change(_ summary: String, call: String?, current: String? = nil, when condition: String? = nil) -> PlannedAction {
        PlannedAction(summary, call: call, mutates: true, current: current, condition: condition)
    }
}
