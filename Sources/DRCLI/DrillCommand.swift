import ArgumentParser
import DRCore
import DRProcedures
import DRRunbook
import Foundation
import DRRunbookEngine
import DRDrill

/// `dr drill`: a group whose default is running drills (`dr drill TARGET`, `--all`, `--cleanup`),
/// beside `dr drill history TARGET`.
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Restore drills: restore a target into a temporary server, verify it, tear it down, leave evidence.",
        subcommands: [DrillRunCommand.self, DrillHistoryCommand.self],
        defaultSubcommand: DrillRunCommand.self)
}

/// `dr drill [run] TARGET`, `dr drill --all [--parallel N]`, `dr drill --cleanup [--older-than 6h]`.
struct DrillRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Restore drill: restore a target into a temporary server, verify it, tear it down, leave evidence.",
        discussion: """
        Runs the restore-drill runbook (runbooks/restore-drill.yml here or beside the config, the installed one, else the one built into dr; or --runbook) through the runbook engine. Points: \
        latest-snapshot (default for rds), latest (default for postgres: the end of the restorable window), \
        pitr:-5m, random-within:7d, or an RFC 3339 time. Evidence goes to --report-dir: a JSON report, \
        a JUnit file, a Markdown summary and Prometheus textfile metrics; each drill is appended to the \
        target's history (dr drill history TARGET). Exit codes: 0 passed, 1 failed, 2 bad input (nothing \
        restored), 130 interrupted (after the teardown).
        """)

    @Argument(help: "The target to drill (a name in the config).") var target: String?
    @Flag(name: .long, help: "Drill every target in the config.") var all = false
    @Option(name: .long, help: "With --all: how many drills run at once.") var parallel: Int = 1
    @Flag(name: .long, help: "Remove drill servers/instances left behind (by their dr:drill tag), and nothing else.") var cleanup = false
    @Option(name: .customLong("older-than"), help: "With --cleanup: only those started longer ago than this (default 6h).") var olderThan: String = "6h"
    @Option(name: .long, help: "latest-snapshot | latest | pitr:-DURATION | random-within:DURATION | RFC 3339 time.") var point: String?
    @Option(name: .long, help: "The drill runbook: a file, or a name as dr runbook list shows (default: restore-drill).") var runbook: String?
    @Option(name: .customLong("report-dir"), help: "Where the evidence goes (default: ./drill-reports).") var reportDir: String = "drill-reports"
    @Option(name: .customLong("history-dir"), help: "The drill history (default: STATE/drills).") var historyDir: String?
    @Option(name: .long, help: "A manifest to verify against (default: the target's drill.manifest, else the live source).") var manifest: String?
    @Option(name: .customLong("verify-db"), help: "Verify through this conninfo instead of the restored endpoint (a tunnel or bastion).") var verifyDB: String?
    @Option(name: .long, help: "Row-count tolerance: exact, at-least, within=PCT (default: the target's verify.rows).") var rows: String?
    @Flag(name: .customLong("inject-failure"), help: "Fail on purpose at verification, to prove the alerts fire.") var injectFailure = false
    @Option(name: .long, help: "Stop the drill (tearing down) and fail it after this long, e.g. 2h.") var timeout: String?
    @Option(name: .long, help: "Post a Slack-compatible JSON message to this URL on failure.") var notify: String?
    @Option(name: .customLong("notify-on"), help: "Also notify on: success.") var notifyOn: [String] = []
    @OptionGroup var configOption: ConfigOption
    @OptionGroup var output: OutputOptions<TextOrJSON>
    @OptionGroup var stateOptions: StateOptions

    func validate() throws {
        let modes = [target != nil, all, cleanup].filter { $0 }.count
        if cleanup && target != nil {
            // `--cleanup TARGET` limits the search to one target.
        } else if modes != 1 {
            throw ValidationError("Give a TARGET, --all, or --cleanup.")
        }
        if parallel < 1 { throw ValidationError("--parallel must be at least 1.") }
        if DurationText.parse(olderThan) == nil { throw ValidationError("--older-than \(olderThan) is not a duration such as 6h or 30m.") }
        if let timeout, DurationText.parse(timeout).map({ $0 > 0 }) != true { throw ValidationError("--timeout \(timeout) is not a duration such as 2h.") }
        for value in notifyOn where DrillNotifier.When(rawValue: value) == nil {
            throw ValidationError("--notify-on takes success (failures are always notified), not \(value).")
        }
        if !notifyOn.isEmpty && notify == nil { throw ValidationError("--notify-on needs --notify URL.") }
    }

    func run() async throws {
        let config = try configOption.load()
        if cleanup { return try await runCleanup(config) }
        let runner = DrillRunner(config: config, options: try options(config), context: CommandContext.make(config: config),
                                 progress: { Terminal.info($0) })
        let names = all ? config.targets.map(\.name) : [target!]
        if names.isEmpty { throw DRError.badInput("\(config.file) names no targets; there is nothing to drill.") }

        // Every check first, for every target: bad input exits 2 before anything is restored.
        var prepared: [DrillRunner.Prepared] = []
        for name in names { prepared.append(try await runner.prepare(name)) }

        let interrupts = InterruptHandler { runner.cancel() }
        let reports = try await Self.bounded(prepared, parallel: parallel) { try await runner.run($0) }
        interrupts.stop()
        for report in reports {
            if let problem = await runner.notify(report) { Terminal.error(problem) }
        }
        if output.format == .json {
            if all { try printJSON(["drills": reports]) } else { Terminal.writeStdout(try reports[0].json()) }
        } else {
            reports.forEach { Terminal.writeStdout($0.text) }
        }
        if reports.contains(where: { $0.verdict == .interrupted }) { throw DRError(.interrupted, "") }
        if reports.contains(where: { !$0.passed }) { throw DRError(.problemFound, "") }
    }

    private func options(_ config: TargetsConfig) throws -> DrillOptions {
        let state = stateOptions.state
        let notifier = try notify.map { DrillNotifier(url: try DrillNotifier.parseURL($0), on: Set(notifyOn.compactMap(DrillNotifier.When.init))) }
        return DrillOptions(
            point: try point.map(DrillPoint.init(parsing:)), runbook: try Self.runbookPath(runbook, config: config, state: state),
            reportDirectory: Self.absolute(reportDir), historyDirectory: historyDir.map(Self.absolute) ?? state.root + "/drills",
            state: state, manifest: manifest.map(Self.absolute), rows: rows, injectFailure: injectFailure,
            timeout: timeout.flatMap(DurationText.parse), notifier: notifier, verifyDB: verifyDB)
    }

    private func runCleanup(_ config: TargetsConfig) async throws {
        let targets = try target.map { [try config.target(named: $0)] } ?? config.targets
        let context = CommandContext.make(config: config)
        let providers = try targets.map { try Providers.make(for: $0, context: context) }
        let result = try await DrillCleanup(olderThan: DurationText.parse(olderThan)!).run(providers) { Terminal.info($0) }
        if output.format == .json { try printJSON(result) } else { Terminal.writeStdout(DrillCleanup.text(result)) }
        if result.failed { throw DRError(.problemFound, "") }
    }

    /// Runs `body` over `items`, at most `parallel` at a time, keeping the order of `items`.
    static func bounded<T, R: Sendable>(_ items: [T], parallel: Int, _ body: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
        var results = [R?](repeating: nil, count: items.count)
        try await withThrowingTaskGroup(of: (Int, R).self) { group in
            var next = 0
            func launch() {
                let index = next, item = UncheckedBox(items[index])
                group.addTask { (index, try await body(item.value)) }
                next += 1
            }
            while next < min(parallel, items.count) { launch() }
            while let (index, result) = try await group.next() {
                results[index] = result
                if next < items.count { launch() }
            }
        }
        return results.map { $0! }
    }

    /// `--runbook` (a file or a name), else `restore-drill` as the runbook library resolves it:
    /// `runbooks/restore-drill.yml` here, beside the config, or installed, else the built-in one.
    static func runbookPath(_ explicit: String?, config: TargetsConfig, state: StateDirectory) throws -> String {
        let library = RunbookLibrary.standard(configFile: config.file, state: state)
        guard let explicit else { return try library.path(for: "restore-drill") }
        return RunbookLibrary.isName(explicit) && !FileManager.default.fileExists(atPath: explicit)
            ? try library.path(for: explicit) : absolute(explicit)
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path).standardizedFileURL.path
    }
}

/// Carries a value that is only handed from one task to another, never shared.
struct UncheckedBox<T>: @unchecked Sendable { let value: T; init(_ value: T) { self.value = value } }

enum HistoryFormats: OutputFormats { static let allowed: [OutputFormat] = [.text, .json, .html] }

/// `dr drill history TARGET|--all`: the last drills, the last success, trends, and the policy
/// check (exit 1 when overdue); `--output html` is a page with charts and links to each drill's page.
struct DrillHistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show a target's drills: the last ones, the last success, trends; exit 1 when the last success is older than the policy (drill.max_age, default 7d).",
        discussion: "--output html writes one self-contained page (charts of recovery time by phase and of freshness over time, pass/fail marks, links to each drill's page): dr drill history --all --output html > history.html")


    @Argument(help: "The target.") var target: String?
    @Flag(name: .long, help: "Every target in the config.") var all = false
    @Option(name: .long, help: "How many drills to list.") var last: Int = 10
    @Option(name: .customLong("history-dir"), help: "The drill history (default: STATE/drills).") var historyDir: String?
    @Option(name: .customLong("link-base"), help: "With --output html: link drill pages as this prefix plus the page's file name (e.g. ./ or https://reports.example/dr/); default: each page's path as a file: URL.") var linkBase: String?
    @OptionGroup var configOption: ConfigOption
    @OptionGroup var output: OutputOptions<HistoryFormats>
    @OptionGroup var stateOptions: StateOptions

    func validate() throws {
        if last < 1 { throw ValidationError("--last must be at least 1.") }
        if (target == nil) == !all { throw ValidationError("Give a TARGET or --all (not both).") }
        if linkBase != nil && output.format != .html { throw ValidationError("--link-base is for --output html.") }
    }

    func run() async throws {
        let config = try configOption.load()
        let targets = try target.map { [try config.target(named: $0)] } ?? config.targets
        let history = DrillHistory(directory: historyDir.map(DrillRunCommand.absolute) ?? stateOptions.state.root + "/drills")
        let now = Date()
        let sections = targets.map { target in
            let entries = history.entries(target.name)
            return DrillHistoryPage.Section(summary: DrillHistorySummary(target: target, entries: entries, last: last, now: now), entries: entries)
        }
        let summaries = sections.map(\.summary)
        switch output.format {
        case .html: Terminal.writeStdout(DrillHistoryPage.html(sections, generatedAt: now, linkBase: linkBase))
        case .json: if all { try printJSON(["targets": summaries]) } else { try printJSON(summaries[0]) }
        default: Terminal.writeStdout(summaries.map(\.text).joined(separator: "\n"))
        }
        let warnings = summaries.compactMap(\.warning)
        if !warnings.isEmpty {
            if output.format != .text { warnings.forEach { Terminal.error($0) } }
            throw DRError(.problemFound, "")
        }
    }
}
