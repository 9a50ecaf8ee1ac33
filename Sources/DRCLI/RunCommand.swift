import ArgumentParser
import DRCore
import DRRunbook
import Foundation
import DRRunbookEngine

/// `dr run FILE [--input k=v]… [--plan] [--output json]` and `dr run --resume RUN_ID`.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a runbook, show its plan (--plan), or resume a killed run (--resume).",
        discussion: "Ctrl-C stops the current step, runs the finally steps and exits 130. A run killed outright resumes with --resume RUN_ID (see dr runs).")

    @Argument(help: "The runbook: a YAML file, or a name (weekly-snapshot) looked up as dr runbook list shows.") var file: String?
    @Option(name: .long, help: "An input, as name=value (repeatable).") var input: [String] = []
    @Flag(name: .long, help: "Resolve everything and print what each step would do; change nothing.") var plan = false
    @Option(name: .long, help: "Resume the run with this id.") var resume: String?
    @OptionGroup var config: ConfigOption
    @OptionGroup var output: OutputOptions<TextOrJSON>
    @OptionGroup var stateOptions: StateOptions

    func validate() throws {
        if (file == nil) == (resume == nil) { throw ValidationError("Give a runbook file, or --resume RUN_ID (not both).") }
        if plan && resume != nil { throw ValidationError("--plan is for a new run; it cannot be combined with --resume.") }
    }

    func run() async throws {
        let inputs = try parsedInputs()
        let clock = SystemClock()
        let loaded = try config.loadIfPresent()
        let providers = TargetProviders(config: loaded, context: CommandContext.make(config: loaded))
        let registry = ProcedureRegistry.standard(providers: providers, clock: clock)
        let targets = providers.expressionValues
        let library = RunbookLibrary.standard(configFile: providers.config?.file, state: stateOptions.state)
        if plan, let file {
            let (runbook, _) = try library.load(file)
            let bound = try InputBinder.bind(runbook, given: inputs)
            let plan = try await RunPlan.make(runbook: runbook, inputs: bound, targets: targets, registry: registry, clock: clock)
            try output.emit(plan) { plan.text.hasSuffix("\n") ? String(plan.text.dropLast()) : plan.text }
            return
        }
        let state = stateOptions.state
        let session = RunSession(state: state, registry: registry, clock: clock, targets: targets,
                                 targetLockPath: { try providers.lockPath($0, state: state) })
        let progress: @Sendable (String) -> Void = { Terminal.info($0) }
        let prepared = try resume.map { try session.resume(runID: $0, inputs: inputs, progress: progress) }
            ?? session.start(file: try library.path(for: file!), inputs: inputs, progress: progress)
        let driver = prepared.driver
        Terminal.info("run \(driver.header.runID)\(resume == nil ? "" : " resumed") (journal: \(stateOptions.state.journalPath(driver.header.runID)))")
        let interrupts = InterruptHandler { driver.requestCancel() }
        let machine = try await driver.drive(from: prepared.firstEvent)
        interrupts.stop()
        withExtendedLifetime(prepared.locks) {}
        var report = RunReport(runbook: driver.runbook, header: driver.header, machine: machine,
                               catalog: registry.catalog, endedAt: clock.now())
        if machine.status != .succeeded { report.left = await Self.left(report, header: driver.header, providers: providers) }
        try output.emit(report) { report.text.hasSuffix("\n") ? String(report.text.dropLast()) : report.text }
        switch machine.status {
        case .succeeded: return
        case .cancelled: throw DRError(.interrupted, "")
        case .failed: throw DRError(machine.failure?.category ?? .problemFound, "")
        }
    }

    /// The servers and instances the run's steps made that still exist, looked up in the run's
    /// targets (a lookup that fails lists nothing rather than hiding the run's own outcome).
    static func left(_ report: RunReport, header: RunHeader, providers: TargetProviders) async -> [RunReport.LeftResource] {
        let made = report.made
        guard !made.isEmpty else { return [] }
        var out: [RunReport.LeftResource] = []
        for name in header.targets {
            guard let target = providers.config?.targets.first(where: { $0.name == name }),
                  let present = try? await providers.provider(for: target).restoredResources().map(\.name) else { continue }
            for (step, resource) in made where present.contains(resource) {
                out.append(RunReport.LeftResource(name: resource, target: name, step: step))
            }
        }
        return out
    }

    private func parsedInputs() throws -> [String: String] {
        var out: [String: String] = [:]
        for pair in input {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw DRError.badInput("--input '\(pair)' is not name=value.")
            }
            out[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        return out
    }
}

/// Turns the first SIGINT or SIGTERM into a cancel request (the step in flight stops and undoes
/// its partial work, the finally steps run, exit 130, resumable); a second one exits at once.
final class InterruptHandler: @unchecked Sendable {  // `count` is touched only on the signal sources' serial queue
    private let sources: [DispatchSourceSignal]
    private let queue = DispatchQueue(label: "dr.run.interrupts")
    private var count = 0

    init(_ onInterrupt: @escaping @Sendable () -> Void) {
        var made: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            made.append(DispatchSource.makeSignalSource(signal: number, queue: queue))
        }
        sources = made
        for source in sources {
            source.setEventHandler { [unowned self] in
                count += 1
                if count == 1 {
                    Terminal.info("interrupted: stopping the current step and running the finally steps (Ctrl-C again to exit now)")
                    onInterrupt()
                } else {
                    Terminal.info("interrupted again: exiting now; the run can be resumed with dr run --resume")
                    exit(ExitStatus.interrupted.rawValue)
                }
            }
            source.resume()
        }
    }

    func stop() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
