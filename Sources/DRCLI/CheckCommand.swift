import ArgumentParser
import DRCore
import DRDrill
import DRProcedures
import Foundation

/// `dr check TARGET | --all`: could we fail over right now? Read-only; every target's checks run
/// at once, and each backend runs its own checks at once.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Readiness: could the target fail over right now? A checklist (✓ ✗ !) with the fix for each problem. Read-only.",
        discussion: """
        rds: the newest manual snapshot's age (weekly policy), automated backups and their retention, \
        the DR-region copy and its key, the DR KMS key, what a DR-region restore uses (dr_restore: subnet \
        group, security groups, parameter group, instance class), the secret's replication, the Route 53 \
        record, the cache's snapshots and retention, the last drill. postgres: archiving (pg_stat_archiver), \
        WAL continuity, the DR copy's lag, free space under restore_root, the PostgreSQL binaries, the last \
        drill. Exit codes: 0 all pass (warnings pass), 1 a check failed, 2 bad input. --output prometheus \
        writes dr_check_ok{target,check} and dr_check_age_seconds{target,check}; with --textfile FILE it \
        replaces FILE atomically (node_exporter's textfile collector).
        """)

    @Argument(help: "The target's name in dr.yml.") var target: String?
    @Flag(name: .long, help: "Every target in the config.") var all = false
    @Option(name: .long, help: "With --output prometheus: write to this file atomically (e.g. /var/lib/node_exporter/textfile/dr_check.prom) instead of stdout.") var textfile: String?
    @Option(name: .customLong("history-dir"), help: "The drill history, for the last drill (default: STATE/drills).") var historyDir: String?
    @OptionGroup var config: ConfigOption
    @OptionGroup var output: OutputOptions<StatusFormats>
    @OptionGroup var stateOptions: StateOptions

    func validate() throws {
        if (target == nil) == !all { throw ValidationError("Give a TARGET or --all (not both).") }
        if textfile != nil && output.format != .prometheus { throw ValidationError("--textfile is for --output prometheus.") }
        if let textfile, !textfile.hasSuffix(".prom") {
            throw ValidationError("--textfile \(textfile) must end in .prom: node_exporter's textfile collector reads only such files.")
        }
    }

    /// One target's outcome: its report, or why its checks could not run at all.
    struct Outcome: Sendable {
        var target: String
        var result: Result<ReadinessReport, DRError>
    }

    func run() async throws {
        let loaded = try config.load()
        let targets = try target.map { [try loaded.target(named: $0)] } ?? loaded.targets
        if targets.isEmpty { throw DRError(.invalidConfig, "\(loaded.file) names no targets; there is nothing to check.") }
        let context = CommandContext.make(config: loaded)
        // Every provider is made first: a bad target is bad input before anything is read.
        let providers = try targets.map { try Providers.make(for: $0, context: context) }
        let history = DrillHistory(directory: historyDir.map(DrillRunCommand.absolute) ?? stateOptions.state.root + "/drills")
        let outcomes = await withTaskGroup(of: (Int, Outcome).self) { group in
            for (index, (target, provider)) in zip(targets, providers).enumerated() {
                group.addTask {
                    do {
                        var report = try await provider.check()
                        report.checks.append(DrillReadiness.check(target, history: history, now: report.checkedAt))
                        return (index, Outcome(target: target.name, result: .success(report)))
                    } catch {
                        return (index, Outcome(target: target.name, result: .failure(error as? DRError ?? DRError(.problemFound, "\(error)"))))
                    }
                }
            }
            var out = [Outcome?](repeating: nil, count: targets.count)
            for await (index, outcome) in group { out[index] = outcome }
            return out.compactMap { $0 }
        }
        WaitProgressReporter.finish()
        var firstError: DRError?
        for outcome in outcomes {
            if case .failure(let error) = outcome.result {
                if output.format != .json { Terminal.error("\(outcome.target): \(error.message(in: Main.vocabulary(for: self)))") }
                firstError = firstError ?? error
            }
        }
        let reports = outcomes.compactMap { try? $0.result.get() }
        switch output.format {
        case .prometheus:
            try write(ReadinessMetrics.text(outcomes.map { o in (try? o.result.get()).map(ReadinessMetrics.Outcome.checked) ?? .failed(target: o.target) }))
        case .json:
            if let firstError, !all { throw firstError }
            if all {
                let errors = outcomes.compactMap { o -> CheckError? in
                    if case .failure(let e) = o.result { return CheckError(target: o.target, message: e.message(in: Main.vocabulary(for: self))) }
                    return nil
                }
                try printJSON(AllReports(passed: firstError == nil && reports.allSatisfy(\.passed), targets: reports, errors: errors))
            } else {
                try printJSON(reports[0])
            }
        default:
            Terminal.writeStdout(reports.map(Self.text).joined(separator: "\n\n") + (reports.isEmpty ? "" : "\n"))
        }
        if let firstError { throw DRError(firstError.category, "") }
        if reports.contains(where: { !$0.passed }) { throw ExitCode(1) }
    }

    struct CheckError: Encodable { var target: String; var message: String }
    struct AllReports: Encodable { var passed: Bool; var targets: [ReadinessReport]; var errors: [CheckError] }

    private func write(_ text: String) throws {
        guard let textfile else { return Terminal.writeStdout(text) }
        let path = DrillRunCommand.absolute(textfile)
        do {
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            try FileOps.writeAtomically(Data(text.utf8), to: path)
        } catch {
            throw DRError(.storage, "Cannot write the check metrics to \(path) (\(error)). Check that this user may write its folder.")
        }
    }

    static func text(_ r: ReadinessReport) -> String {
        let failed = r.failures.count, warned = r.warnings.count
        var lines = ["\(r.target) (provider \(r.provider)), checked \(Human.time(r.checkedAt)): "
            + (failed == 0 ? "ready" + (warned > 0 ? " (\(warned) warning\(warned == 1 ? "" : "s"))" : "") : "NOT READY (\(failed) failed)")]
        for c in r.checks {
            let mark = c.status == .ok ? "✓" : c.status == .failed ? "✗" : "!"
            lines.append("  \(mark) \(c.name): \(c.found)")
            if c.status != .ok, let fix = c.fix { lines.append("      fix: \(fix)") }
        }
        return lines.joined(separator: "\n")
    }
}
