import DRCore
import DRProcedures
import DRRunbookEngine
import Foundation
import Logging

/// Where the procedure executors get targets and their backends: the targets config
/// (`--config`, `DR_CONFIG`, `./dr.yml`) and `Providers`, which picks the backend from the
/// target's `provider:`. One `ProviderContext` (wait settings, progress, the AWS session) serves
/// every step of a run. Executors only ever talk to `RecoveryProvider`.
public struct TargetProviders: Sendable {
    /// Nil when no config file was given or found; a step naming a target then fails as bad input.
    public var config: TargetsConfig?
    public var context: ProviderContext
    /// Makes a target's backend (tests may stand one in).
    public var makeProvider: @Sendable (Target, ProviderContext) throws -> RecoveryProvider

    public init(config: TargetsConfig?, context: ProviderContext = ProviderContext(),
                makeProvider: @escaping @Sendable (Target, ProviderContext) throws -> RecoveryProvider = { try Providers.make(for: $0, context: $1) }) {
        self.config = config
        var context = context
        context.config = config
        self.context = context
        self.makeProvider = makeProvider
    }

    public var logger: Logger { context.logger }

    /// The config at `--config`, else `DR_CONFIG`, else `./dr.yml` when it exists; nil when there is none.
    public static func loadConfig(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TargetsConfig? {
        let path = ConfigLoader.resolvePath(explicit: explicit, environment: environment)
        let named = explicit != nil || !(environment["DR_CONFIG"] ?? "").isEmpty
        guard named || FileManager.default.fileExists(atPath: path) else { return nil }
        return try ConfigLoader.load(file: path)
    }

    /// The target a step's `parameter` names.
    public func target(_ call: ResolvedCall, parameter: String = "target") throws -> Target {
        guard let name = call.string(parameter) else {
            throw DRError(.invalidParameter, "Step '\(call.stepID)': \(call.procedure) needs `\(parameter)` (a target named in dr.yml).")
        }
        guard let config else {
            throw DRError(.invalidConfig, "Step '\(call.stepID)' acts on target \"\(name)\", but there is no targets config: pass --config FILE, set DR_CONFIG, or put a dr.yml in the working directory. Nothing was changed.")
        }
        return try config.target(named: name)
    }

    /// The backend of `target`.
    public func provider(for target: Target) throws -> RecoveryProvider { try makeProvider(target, context) }

    /// The backend of the target a step names.
    public func provider(_ call: ResolvedCall, parameter: String = "target") throws -> RecoveryProvider {
        try provider(for: target(call, parameter: parameter))
    }

    /// The machine-wide lock of the target named `name` (a state-directory lock when the config
    /// has no such target: the run then fails on its first step naming it).
    public func lockPath(_ name: String, state: StateDirectory) throws -> String {
        guard let target = config?.targets.first(where: { $0.name == name }) else { return state.targetLockPath(name) }
        return try provider(for: target).lockPath
    }

    /// What `targets.NAME.FIELD` reads in expressions: each target's name, provider and flat settings (secrets masked).
    public var expressionValues: [String: [String: Value]] {
        var out: [String: [String: Value]] = [:]
        for target in config?.targets ?? [] {
            var values = target.summary.mapValues { Value.string($0) }
            values["name"] = .string(target.name)
            values["provider"] = .string(target.providerName)
            out[target.name] = values
        }
        return out
    }
}

extension ResolvedCall {
    /// A string parameter, nil when absent or empty (a runbook input left at its default "").
    func nonEmpty(_ name: String) -> String? { string(name).flatMap { $0.isEmpty ? nil : $0 } }

    /// Words a library error in a runbook step's vocabulary: `Step 'id': …`, parameters as `` `as` ``.
    func stepError(_ error: Error) -> Error {
        guard let error = error as? DRError else { return error }
        var worded = error
        worded.text = ErrorText("Step '\(stepID)': \(error.message(in: .neutral))")
        return worded
    }

    /// Runs `body`, wording any library error for this step.
    func worded<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw stepError(error) }
    }
}
