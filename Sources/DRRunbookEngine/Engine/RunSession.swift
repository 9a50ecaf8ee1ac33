import DRCore
import Foundation

/// Everything around a run: loading and checking the runbook, the run id, the journal and the
/// locks, for a new run and for `--resume`. The driver does the running.
public struct RunSession {
    public var state: StateDirectory
    public var registry: ProcedureRegistry
    public var clock: DRClock
    public var targets: [String: [String: Value]]
    /// Where the lock of a target (by name) lives: the backend's machine-wide lock, so a run and
    /// any command on the same target exclude each other whatever state directory each uses.
    public var targetLockPath: @Sendable (String) throws -> String

    public init(state: StateDirectory, registry: ProcedureRegistry, clock: DRClock, targets: [String: [String: Value]] = [:],
                targetLockPath: (@Sendable (String) throws -> String)? = nil) {
        self.state = state
        self.registry = registry
        self.clock = clock
        self.targets = targets
        let stateDirectory = state
        self.targetLockPath = targetLockPath ?? { stateDirectory.targetLockPath($0) }
    }

    /// A run ready to drive, holding its locks until it is released.
    public struct Prepared {
        public var driver: RunDriver
        public var firstEvent: RunEvent
        public var locks: [LockFile]
    }

    /// Parses and validates a runbook, exiting with every problem as bad input.
    public static func load(_ file: String, catalog: ProcedureCatalog) throws -> (runbook: Runbook, text: String) {
        let text = try RunbookParser.readText(file)
        let runbook = try RunbookParser.parse(text, file: file)
        try Validator(catalog: catalog).validate(runbook)
        return (runbook, text)
    }

    public func start(file: String, inputs given: [String: String],
                      progress: @escaping @Sendable (String) -> Void) throws -> Prepared {
        let (runbook, text) = try Self.load(file, catalog: registry.catalog)
        let inputs = try InputBinder.bind(runbook, given: given)
        try state.create()
        let startedAt = clock.now()
        let runID = StateDirectory.newRunID(name: runbook.name, at: startedAt)
        let lockedTargets = TargetFinder(catalog: registry.catalog).targets(of: runbook, inputs: inputs)
        let secret = runbook.inputs.filter(\.secret).map(\.name)
        let header = RunHeader(runID: runID, runbook: Self.absolute(file), name: runbook.name, digest: Digest.fnv1a(text),
                               startedAt: startedAt, inputs: InputBinder.masked(inputs, secret: secret),
                               secretInputs: secret, targets: lockedTargets)
        let locks = try lock(header)
        let journal = try Journal(path: state.journalPath(runID))
        try journal.append(header)
        let driver = RunDriver(runbook: runbook, header: header, inputs: inputs, targets: targets,
                               machine: RunStateMachine(runbook: runbook), registry: registry, clock: clock,
                               journal: journal, progress: progress)
        return Prepared(driver: driver, firstEvent: .started, locks: locks)
    }

    public func resume(runID: String, inputs given: [String: String],
                       progress: @escaping @Sendable (String) -> Void) throws -> Prepared {
        let path = state.journalPath(runID)
        guard FileManager.default.fileExists(atPath: path) else {
            throw DRError.badInput("There is no run '\(runID)' in \(state.root). `dr runs` lists the runs (check --state-dir or DR_STATE_DIR).")
        }
        let (header, entries) = try Journal.read(path: path)
        // The last end decides: a run stopped by Ctrl-C (cancelled) goes on; one that ended otherwise is over.
        let ended = entries.last { if case .finished = $0.event { return true }; return false }
        if let ended, case .finished(let status) = ended.event, status != .cancelled {
            throw DRError.badInput("Run '\(runID)' has already finished (\(status.rawValue)); there is nothing to resume. Start a new run with `dr run \(header.runbook)`.")
        }
        let (runbook, text) = try Self.load(header.runbook, catalog: registry.catalog)
        guard Digest.fnv1a(text) == header.digest else {
            throw DRError.badInput("\(header.runbook) changed since run '\(runID)' started, so the journal no longer matches it. Restore the runbook as it was, or start a new run.")
        }
        var inputs = header.inputs
        for name in header.secretInputs {
            guard let text = given[name], let spec = runbook.input(named: name), let value = Value.parse(text, as: spec.type) else {
                throw DRError.badInput("Input '\(name)' is secret, so the journal does not keep it: pass it again with --input \(name)=VALUE.")
            }
            inputs[name] = value
        }
        let locks = try lock(header)
        var machine = RunStateMachine(runbook: runbook)
        for entry in entries {
            do { try machine.handle(entry.event, at: entry.at) } catch let error as RunStateError {
                throw DRError.badInput("\(path): the journal does not fit \(header.runbook): \(error). The run cannot be resumed.")
            }
        }
        let journal = try Journal(path: path)
        let driver = RunDriver(runbook: runbook, header: header, inputs: inputs, targets: targets, machine: machine,
                               registry: registry, clock: clock, journal: journal, progress: progress)
        return Prepared(driver: driver, firstEvent: .resumed, locks: locks)
    }

    /// The run's own lock (no two resumes of one run) and one lock per target.
    private func lock(_ header: RunHeader) throws -> [LockFile] {
        try state.create()
        let owner = LockFile.Owner(pid: getpid(), startedAt: RFC3339.format(clock.now()), runID: "run " + header.runID)
        var locks = [try LockFile.acquire(state.runLockPath(header.runID), owner: owner, what: "Run '\(header.runID)'")]
        for target in header.targets {
            locks.append(try LockFile.acquire(try targetLockPath(target), owner: owner, what: "Target '\(target)'"))
        }
        return locks
    }

    static func absolute(_ file: String) -> String {
        file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
    }
}

/// The targets a runbook acts on: values of target parameters that are known before the run
/// (literals and inputs), and every `targets.NAME` an expression reads.
struct TargetFinder {
    var catalog: ProcedureCatalog

    func targets(of runbook: Runbook, inputs: [String: Value]) -> [String] {
        var found = Set<String>()
        let scope = RunScope(inputs: inputs, runID: "", startedAt: Date(), now: Date())
        for step in runbook.allSteps {
            let spec = catalog[step.uses]
            for parameter in step.with {
                for (expression, _) in parameter.value.expressions {
                    for (path, _) in expression.references where path.first == "targets" && path.count > 1 { found.insert(path[1]) }
                }
                guard spec?.parameter(parameter.name)?.kind == .target,
                      let value = try? parameter.value.evaluate(in: PlanScope(run: scope)) else { continue }
                found.insert(value.description)
            }
        }
        return found.sorted()
    }
}

/// A stable digest of a runbook's text (FNV-1a, 64 bits): enough to notice that it changed.
/// Public for the runbook library, which names the copy of a built-in runbook by it.
public enum Digest {
    public static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(format: "%016llx", hash)
    }
}
