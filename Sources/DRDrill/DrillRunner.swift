import DRCore
import DRPostgres
import DRProcedures
import DRVerify
import Foundation
import DRRunbook
import DRRunbookEngine

/// How drills run: which runbook, where evidence and history go, and the drill's switches.
public struct DrillOptions: Sendable {
    /// `--point`; nil for the target's `drill.point`, else the provider's default.
    public var point: DrillPoint?
    public var runbook: String
    public var reportDirectory: String
    public var historyDirectory: String
    public var state: StateDirectory
    /// `--manifest`; nil for the target's `drill.manifest` (else the live source is the reference).
    public var manifest: String?
    /// `--rows`; nil for the target's `verify.rows`.
    public var rows: String?
    public var injectFailure: Bool
    /// The whole drill's limit; past it the drill is stopped (the teardown still runs) and fails.
    public var timeout: Double?
    public var notifier: DrillNotifier?
    /// Verify through this conninfo instead of the restored endpoint (a tunnel or bastion; holds no password).
    public var verifyDB: String?

    public init(point: DrillPoint? = nil, runbook: String, reportDirectory: String, historyDirectory: String,
                state: StateDirectory, manifest: String? = nil, rows: String? = nil, injectFailure: Bool = false,
                timeout: Double? = nil, notifier: DrillNotifier? = nil, verifyDB: String? = nil) {
        self.verifyDB = verifyDB
        self.point = point
        self.runbook = runbook
        self.reportDirectory = reportDirectory
        self.historyDirectory = historyDirectory
        self.state = state
        self.manifest = manifest
        self.rows = rows
        self.injectFailure = injectFailure
        self.timeout = timeout
        self.notifier = notifier
    }
}

/// `dr drill`: prepares a drill (every check that can refuse it, before anything is restored),
/// runs the restore-drill runbook through the engine with the drill's procedures, makes sure
/// the temporary server is gone, and leaves the evidence.
public final class DrillRunner: @unchecked Sendable {
    public typealias ProviderFactory = @Sendable (Target, ProviderContext) throws -> RecoveryProvider

    let config: TargetsConfig
    let options: DrillOptions
    let clock: DRClock
    /// Wait settings, the logger and the AWS session, shared by every drill of the process.
    let context: ProviderContext
    let makeProvider: ProviderFactory
    let progress: @Sendable (String) -> Void
    private let lock = NSLock()
    private var drivers: [RunDriver] = []
    private var cancelled = false

    public init(config: TargetsConfig, options: DrillOptions, context: ProviderContext, clock: DRClock = SystemClock(),
                makeProvider: @escaping ProviderFactory = { try Providers.make(for: $0, context: $1) },
                progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.config = config
        self.options = options
        self.clock = clock
        var context = context
        context.config = config
        self.context = context
        self.makeProvider = makeProvider
        self.progress = progress
    }

    /// A drill that passed every check and holds its run's locks.
    public struct Prepared {
        public var target: Target
        public var provider: RecoveryProvider
        public var point: ResolvedDrillPoint
        public var drillID: String
        public var instance: String
        public var tags: [String: String]
        public var startedAt: Date
        var session: RunSession.Prepared
        var recorder: DrillRecorder
    }

    /// Checks everything before anything is restored; every problem is bad input (exit 2).
    public func prepare(_ targetName: String) async throws -> Prepared {
        let target = try config.target(named: targetName)
        try DrillEvidence(directory: options.reportDirectory).checkWritable()
        if let verifyDB = options.verifyDB, Conninfo.parse(verifyDB) == nil {
            throw DRError.badInput("--verify-db is not a libpq conninfo (host=... port=... dbname=...). Nothing was restored.")
        }
        let manifest = options.manifest ?? target.drill?.manifest
        if let manifest, !FileManager.default.isReadableFile(atPath: manifest) {
            throw DRError.badInput("The manifest \(manifest) (for the drill of \(target.name)) cannot be read. Capture one with `dr verify capture`, fix drill.manifest in \(config.file), or leave it out to verify against the live source. Nothing was restored.")
        }
        if let rows = options.rows { _ = try DRVerify.RowTolerance(parsing: rows) }
        let (runbook, _) = try RunSession.load(options.runbook, catalog: .standard)
        let provider = try makeProvider(target, context)
        let point = try options.point ?? target.drill?.point.map(DrillPoint.init(parsing:)) ?? DrillPoint.defaultPoint(for: target)
        let startedAt = clock.now()
        let resolved = try point.resolve(status: try await provider.status(), now: startedAt)
        let drillID = Self.drillID(at: startedAt)
        let instance = Self.instanceName(target: target.name, drillID: drillID)
        let tags = ["dr:drill": drillID, "dr:drill-started": RFC3339.format(startedAt)]

        let recorder = DrillRecorder()
        let makeProvider = self.makeProvider
        let providers = TargetProviders(config: config, context: context, makeProvider: { [provider] target, context in
            target.name == provider.target.name ? provider : try makeProvider(target, context) })
        let registry = try DrillProcedures.registry(providers: providers, context: DrillContext(
            target: target, provider: provider, recorder: recorder,
            injectFailure: options.injectFailure, recoveryPoint: resolved.recoveryPoint), clock: clock)
        let evidence = DrillEvidence(directory: options.reportDirectory)
        var given = ["target": target.name, "name": instance, "manifest": manifest ?? "",
                     "rows": options.rows ?? target.verify?.rows.description ?? "exact",
                     "report_file": evidence.verificationReportPath(target: target.name, drillID: drillID)]
        if let snapshot = resolved.snapshot { given["point"] = "snapshot"; given["snapshot"] = snapshot } else { given["point"] = resolved.input }
        if let verifyDB = options.verifyDB { given["verify_db"] = verifyDB }
        let inputs = given.filter { runbook.input(named: $0.key) != nil }
        if options.verifyDB != nil && inputs["verify_db"] == nil {
            throw DRError.badInput("--verify-db needs a runbook with a `verify_db` input; \(options.runbook) has none. Nothing was restored.")
        }
        let state = options.state
        let session = RunSession(state: state, registry: registry, clock: clock, targets: providers.expressionValues,
                                 targetLockPath: { try providers.lockPath($0, state: state) })
        let name = target.name
        let prepared = try session.start(file: options.runbook, inputs: inputs, progress: { [progress] in progress("[\(name)] \($0)") })
        return Prepared(target: target, provider: provider, point: resolved, drillID: drillID, instance: instance, tags: tags,
                        startedAt: startedAt, session: prepared, recorder: recorder)
    }

    /// Runs a prepared drill to the end and leaves its evidence. Never throws for a failed
    /// drill: the report says so (its verdict).
    public func run(_ drill: Prepared) async throws -> DrillReport {
        let driver = drill.session.driver
        register(driver)
        progress("[\(drill.target.name)] drill \(drill.drillID): restoring to \(RFC3339.format(drill.point.recoveryPoint, fractional: true)) (--point \(drill.point.spec)) as \(drill.instance)")
        let timedOut = TimeoutFlag()
        let watchdog = options.timeout.map { limit in
            Task { [clock] in
                try await clock.sleep(seconds: limit)
                timedOut.set()
                driver.requestCancel()
            }
        }
        let machine = try await RestoreTags.$current.withValue(drill.tags) {
            try await driver.drive(from: drill.session.firstEvent)
        }
        watchdog?.cancel()
        withExtendedLifetime(drill.session.locks) {}
        _ = await tearDownLeftover(drill)
        var report = DrillReportBuilder(drill: drill, machine: machine, runbook: driver.runbook, header: driver.header,
                                        endedAt: clock.now(), timeout: timedOut.isSet ? options.timeout : nil).build()
        try leaveEvidence(&report)
        return report
    }

    /// Stops every running drill: the current steps are cancelled, the teardown runs.
    public func cancel() {
        let all: [RunDriver] = lock.withLock { cancelled = true; return drivers }
        all.forEach { $0.requestCancel() }
    }

    private func register(_ driver: RunDriver) {
        let cancelNow: Bool = lock.withLock { drivers.append(driver); return cancelled }
        if cancelNow { driver.requestCancel() }
    }

    /// The runbook's `finally` tears the server down; should it not have (a runbook without
    /// that step, or a teardown that failed), the drill removes what it restored itself.
    private func tearDownLeftover(_ drill: Prepared) async -> String? {
        guard let instance = drill.recorder.instance, drill.recorder.teardownRemoved != true else { return nil }
        progress("[\(drill.target.name)] the runbook left \(instance) behind; tearing it down")
        drill.recorder.teardownStarted(at: clock.now())
        do {
            _ = try await drill.provider.teardown(TeardownRequest(name: instance))
            drill.recorder.tornDown(removed: true, error: nil, at: clock.now())
            return nil
        } catch {
            let message = RunDriver.failure(error).message
            drill.recorder.tornDown(removed: false, error: message, at: clock.now())
            return message
        }
    }

    /// JSON, JUnit, Markdown, HTML, metrics, history line and notification.
    private func leaveEvidence(_ report: inout DrillReport) throws {
        let history = DrillHistory(directory: options.historyDirectory)
        let lastSuccess = report.passed ? RFC3339.parse(report.endedAt) : history.lastSuccess(report.target)
        let evidence = DrillEvidence(directory: options.reportDirectory)
        try history.append(DrillHistory.Entry(report, page: evidence.paths(for: report).html))
        let written = try evidence.write(report, lastSuccess: lastSuccess)
        progress("[\(report.target)] evidence: \(written.json), \(written.junit), \(written.markdown), \(written.html), \(written.metrics)")
    }

    /// Sends the drill's notification, if one is configured; a failure to send is reported, not fatal.
    public func notify(_ report: DrillReport) async -> String? {
        guard let notifier = options.notifier else { return nil }
        do {
            if try await notifier.send(report) { progress("[\(report.target)] notification sent") }
            return nil
        } catch {
            return RunDriver.failure(error).message
        }
    }

    // MARK: Names

    /// `20261126T061500Z-3fa2`.
    static func drillID(at date: Date) -> String {
        let stamp = RFC3339.format(date).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        return "\(stamp)-\(String(format: "%04x", UInt16.random(in: 0...UInt16.max)))"
    }

    /// `drill-prod-db-20261126t061500z-3fa2`: valid as an RDS identifier and a restored-server name.
    static func instanceName(target: String, drillID: String) -> String {
        let slug = target.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" }
        let cleaned = String(slug).split(separator: "-").joined(separator: "-").prefix(24)
        let id = drillID.lowercased()
        return "drill-\(cleaned.isEmpty ? "target" : String(cleaned).trimmingCharacters(in: CharacterSet(charactersIn: "-")))-\(id)"
    }
}

/// Set by the drill's timeout task, read by the runner.
final class TimeoutFlag: @unchecked Sendable {  // `value` is only touched under `lock`
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
