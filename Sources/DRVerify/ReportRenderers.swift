import DRCore
import Foundation

/// Renders a verification report for people (text), programs (JSON) and CI dashboards (JUnit XML).
public enum ReportRenderer {
    /// Readable text; `paint` colours a word (pass `{ s, _ in s }` for none).
    public static func text(_ report: VerificationReport,
                            paint: (String, String) -> String = { s, _ in s }) -> String {
        var out = "Verified \(report.target.target) against the \(report.reference.kind) "
        out += report.reference.kind == "manifest"
            ? "captured \(report.reference.capturedAt) from \(report.reference.server.target)\n"
            : "\(report.reference.server.target)\n"
        let failures = report.failures, accepted = report.findings.filter(\.isAccepted)
        if !failures.isEmpty {
            out += "\nDifferences:\n"
            for f in failures {
                out += "  \(paint("✗", "31")) \(f.summary)\(f.detail.map { " — \($0)" } ?? "")\n"
                for range in f.ranges ?? [] { out += "      \(range.summary)\n" }
            }
        }
        if !accepted.isEmpty {
            out += "\nAccepted:\n"
            for f in accepted { out += "  \(paint("~", "33")) \(f.summary) — \(f.accepted ?? "")\n" }
        }
        let s = report.summary
        let hashed = s.tablesHashed.map { ", \($0) hashed" } ?? ""
        let counts = "\(s.objectsChecked) objects, \(s.tablesCounted) tables\(hashed), \(s.rowsCounted) rows (rows: \(report.rows)) in \(String(format: "%.2f", report.durationSeconds))s"
        out += "\n"
        out += report.passed
            ? "\(paint("PASS", "32")): \(counts)\(accepted.isEmpty ? "" : "; \(accepted.count) accepted")\n"
            : "\(paint("FAIL", "31")): \(failures.count) difference\(failures.count == 1 ? "" : "s") in \(counts)\n"
        return out
    }

    /// One JSON document (`DRJSON`: snake_case keys, sorted).
    public static func json(_ report: VerificationReport) throws -> String {
        try DRJSON.string(report)
    }

    /// JUnit XML: one test suite per object kind, one test case per checked object (and one
    /// per counted table), each failing difference a `<failure>`, each accepted one in `<system-out>`.
    public static func junit(_ report: VerificationReport) -> String {
        let suites = junitSuites(report)
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"dr verify\" tests=\"\(suites.tests)\" failures=\"\(suites.failures)\" time=\"\(report.durationSeconds)\">\n"
        xml += suites.xml
        xml += "</testsuites>\n"
        return xml
    }

    /// The `<testsuite>` elements of `junit`, with their totals, for documents that hold more
    /// suites (`dr drill`'s JUnit file adds its phases).
    public static func junitSuites(_ report: VerificationReport) -> (xml: String, tests: Int, failures: Int) {
        var byObject: [CheckedObject: [Finding]] = [:]
        for f in report.findings where f.property != "rows" {
            byObject[CheckedObject(kind: f.kind, name: f.name), default: []].append(f)
        }
        var rowFindings: [String: Finding] = [:]
        for f in report.findings where f.property == "rows" { rowFindings[f.name] = f }

        var suites: [(name: String, cases: [(name: String, findings: [Finding])])] = []
        for kind in ObjectKind.allCases {
            let cases = report.checked.filter { $0.kind == kind }.map { ($0.name, byObject[$0] ?? []) }
            if !cases.isEmpty { suites.append((kind.rawValue, cases)) }
        }
        let counted = report.checked.filter { $0.kind == .table }.map(\.name)
        suites.append(("row count", counted.map { ($0, rowFindings[$0].map { [$0] } ?? []) }))

        let total = suites.reduce(0) { $0 + $1.cases.count }
        let failed = suites.reduce(0) { $0 + $1.cases.filter { $0.findings.contains { !$0.isAccepted } }.count }
        var xml = ""
        for suite in suites {
            let suiteFailures = suite.cases.filter { $0.findings.contains { !$0.isAccepted } }.count
            xml += "  <testsuite name=\"\(escape(suite.name))\" tests=\"\(suite.cases.count)\" failures=\"\(suiteFailures)\">\n"
            for c in suite.cases {
                xml += "    <testcase classname=\"\(escape(suite.name))\" name=\"\(escape(c.name))\""
                if c.findings.isEmpty { xml += "/>\n"; continue }
                xml += ">\n"
                for f in c.findings where !f.isAccepted {
                    xml += "      <failure message=\"\(escape(f.summary))\" type=\"\(escape(f.difference.rawValue))\">"
                    xml += "expected: \(escape(f.expected ?? "(none)"))\nfound: \(escape(f.found ?? "(none)"))"
                    for range in f.ranges ?? [] { xml += "\n\(escape(range.summary))" }
                    if let detail = f.detail { xml += "\n\(escape(detail))" }
                    xml += "</failure>\n"
                }
                let notes = c.findings.filter(\.isAccepted).map { "accepted: \($0.summary) — \($0.accepted ?? "")" }
                if !notes.isEmpty { xml += "      <system-out>\(escape(notes.joined(separator: "\n")))</system-out>\n" }
                xml += "    </testcase>\n"
            }
            xml += "  </testsuite>\n"
        }
        return (xml, total, failed)
    }

    static func escape(_ s: String) -> String { XMLText.escape(s) }
}
