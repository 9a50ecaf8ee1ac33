import DRCore
import DRProcedures
import DRVerify
import Foundation
import DRRunbook
import DRRunbookEngine

/// The files a drill leaves in `--report-dir`: the JSON report, a JUnit file, a Markdown
/// summary, a self-contained HTML page (DrillPage) and Prometheus textfile metrics (one file per target, replaced atomically so
/// node_exporter never reads half of it).
public struct DrillEvidence: Sendable {
    public var directory: String

    public init(directory: String) { self.directory = directory }

    /// Refuses a report directory that cannot be written, before anything is restored.
    public func checkWritable() throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let probe = directory + "/.dr-drill-write-check.\(getpid()).tmp"
            guard FileManager.default.createFile(atPath: probe, contents: Data()) else { throw CocoaError(.fileWriteNoPermission) }
            try FileManager.default.removeItem(atPath: probe)
        } catch {
            throw DRError.badInput("The report directory \(directory) cannot be written (\(error.localizedDescription)). Create it or give this user write access, or choose another --report-dir. Nothing was restored.")
        }
    }

    public struct Written: Sendable, Codable, Equatable {
        public var json: String
        public var junit: String
        public var markdown: String
        public var html: String
        public var metrics: String
    }

    /// Where the standard `verify` leaves the verification report (the runbook's `report_file`).
    public func verificationReportPath(target: String, drillID: String) -> String {
        "\(directory)/drill-\(target)-\(drillID).verification.json"
    }

    public func paths(for report: DrillReport) -> Written {
        let base = "\(directory)/drill-\(report.target)-\(report.drillID)"
        return Written(json: base + ".json", junit: base + ".junit.xml", markdown: base + ".md", html: base + ".html",
                       metrics: "\(directory)/dr_drill_\(Self.fileSafe(report.target)).prom")
    }

    /// Writes all five; `lastSuccess` is the newest passed drill of the target (this one if it passed).
    @discardableResult
    public func write(_ report: DrillReport, lastSuccess: Date?) throws -> Written {
        let paths = paths(for: report)
        // Every secret in play, in any encoding, is masked before it can reach a report.
        try FileOps.writeAtomically(Data(Redact.secrets(in: try report.json()).utf8), to: paths.json)
        try FileOps.writeAtomically(Data(Redact.secrets(in: Self.junit(report)).utf8), to: paths.junit)
        try FileOps.writeAtomically(Data(Redact.secrets(in: Self.markdown(report)).utf8), to: paths.markdown)
        try FileOps.writeAtomically(Data(Redact.secrets(in: DrillPage.html(report)).utf8), to: paths.html)
        try FileOps.writeAtomically(Data(Redact.secrets(in: Self.metrics(report, lastSuccess: lastSuccess)).utf8), to: paths.metrics)
        return paths
    }

    static func fileSafe(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    // MARK: JUnit

    /// One test case per phase (and the teardown, and an injected failure), then the
    /// verifier's suites: one test case per checked object and per counted table.
    public static func junit(_ report: DrillReport) -> String {
        let e = XMLText.escape
        let checks = report.checks
        var suite = "  <testsuite name=\"drill phases\" tests=\"\(checks.count)\" failures=\"\(checks.filter { !$0.passed }.count)\" timestamp=\"\(e(report.startedAt))\">\n"
        for check in checks {
            let seconds = report.phases.first { "phase: \($0.name)" == check.name }?.seconds
            suite += "    <testcase classname=\"drill.\(e(report.target))\" name=\"\(e(check.name))\"\(seconds.map { " time=\"\(String(format: "%.3f", $0))\"" } ?? "")"
            if check.passed { suite += "/>\n"; continue }
            suite += ">\n      <failure message=\"\(e(check.message ?? "failed"))\" type=\"drill\"/>\n    </testcase>\n"
        }
        suite += "  </testsuite>\n"
        var tests = checks.count, failures = checks.filter { !$0.passed }.count
        if let verification = report.verification.report {
            let suites = ReportRenderer.junitSuites(verification)
            suite += suites.xml
            tests += suites.tests
            failures += suites.failures
        }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"dr drill \(e(report.target))\" tests=\"\(tests)\" failures=\"\(failures)\" time=\"\(report.recoverySeconds.map { String(format: "%.3f", $0) } ?? "0")\">\n"
        xml += suite + "</testsuites>\n"
        return xml
    }

    // MARK: Markdown

    public static func markdown(_ report: DrillReport) -> String {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        var md = "# Restore drill of `\(report.target)`: \(report.verdict == .passed ? "✅ passed" : "❌ \(report.verdict.rawValue)")\n\n"
        md += "| | |\n|---|---|\n"
        md += "| Drill | `\(report.drillID)` (run `\(report.runID ?? "-")`, runbook `\(cell(report.runbook))`) |\n"
        md += "| Started / ended | \(report.startedAt) / \(report.endedAt) |\n"
        md += "| Recovery point | \(report.point.recoveryPoint) (`--point \(cell(report.point.spec))`\(report.point.snapshot.map { ", snapshot `\($0)`" } ?? "")) |\n"
        md += "| Restored as | `\(report.instance)` (provider \(report.provider)), tag `dr:drill=\(report.drillID)` |\n"
        md += "| Recovery time | \(report.recoverySeconds.map(DurationText.format) ?? "not reached") |\n"
        md += "| Data freshness | \(report.freshness.seconds.map { "\(DurationText.format($0)) before the recovery point (data ends \(report.freshness.dataEndsAt ?? "?"), from \(report.freshness.source ?? "?"))" } ?? "not measured\(report.freshness.note.map { ": \(cell($0))" } ?? "")") |\n"
        md += "| Teardown | \(report.teardown.removed ? "removed" : "**not removed**")\(report.teardown.error.map { ": \(cell($0))" } ?? "") |\n"
        md += "| Versions | dr \(report.versions.dr), PostgreSQL \(report.versions.postgres ?? "?") |\n"
        if let failure = report.failure { md += "| Failure | \(cell(failure)) |\n" }
        md += "\n## Recovery time by phase\n\n| Phase | Started | Ended | Duration |\n|---|---|---|---|\n"
        for p in report.phases {
            md += "| \(p.completed ? "✓" : "✗") \(p.name) | \(p.startedAt ?? "-") | \(p.endedAt ?? "-") | \(p.seconds.map(DurationText.format) ?? "-") |\n"
        }
        let v = report.verification
        md += "\n## Verification\n\n\(v.passed ? "Passed" : "**Failed**"): \(v.objectsChecked) objects and \(v.tablesCounted) tables checked against the \(v.reference ?? "reference") (rows: \(v.rows ?? "-")).\n"
        let shown = v.findings.prefix(50)
        if !shown.isEmpty {
            md += "\n| Finding | Accepted |\n|---|---|\n"
            for f in shown { md += "| \(cell(f.summary)) | \(f.accepted.map(cell) ?? "no") |\n" }
            if v.findings.count > shown.count { md += "\n…and \(v.findings.count - shown.count) more in the JSON report.\n" }
        }
        if v.injectedFailure { md += "\n- ❌ \(DrillVerify.injectedFinding)\n" }
        if let error = v.error { md += "\n- ❌ verification did not run to the end: \(cell(error))\n" }
        return md
    }

    // MARK: Prometheus

    /// node_exporter textfile-collector format; every series labelled with the target.
    public static func metrics(_ report: DrillReport, lastSuccess: Date?) -> String {
        let target = "target=\"\(labelEscape(report.target))\""
        var out = ""
        func metric(_ name: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            guard !samples.isEmpty else { return }
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for s in samples { out += "\(name){\(s.labels)} \(format(s.value))\n" }
        }
        metric("dr_drill_success", "1 if the last restore drill of the target passed, else 0.", [(target, report.passed ? 1 : 0)])
        metric("dr_drill_last_run_timestamp_seconds", "When the last restore drill of the target ended (Unix time).",
               [(target, RFC3339.parse(report.endedAt)?.timeIntervalSince1970 ?? 0)])
        metric("dr_drill_last_success_timestamp_seconds", "When the last passed restore drill of the target ended (Unix time).",
               lastSuccess.map { [(target, $0.timeIntervalSince1970)] } ?? [])
        var recovery = report.phases.compactMap { p in p.seconds.map { ("\(target),phase=\"\(labelEscape(p.name))\"", $0) } }
        if let total = report.recoverySeconds { recovery.append(("\(target),phase=\"total\"", total)) }
        metric("dr_drill_recovery_seconds", "Recovery time of the last restore drill, by phase (total: restore requested to verification done).", recovery)
        metric("dr_drill_freshness_seconds", "How far before the recovery point the restored data ends, in seconds.",
               report.freshness.seconds.map { [(target, $0)] } ?? [])
        metric("dr_drill_verify_findings", "Failing verification findings of the last restore drill (an injected failure counts).",
               [(target, Double(report.verification.failures))])
        return out
    }

    static func labelEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.6f", v)
    }
}
