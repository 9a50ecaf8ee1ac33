import DRCore
import DRProcedures
import DRVerify
import Foundation
import DRRunbook
import DRRunbookEngine

/// Everything one drill found: the evidence behind every file in `--report-dir`.
public struct DrillReport: Sendable, Codable {
    public enum Verdict: String, Sendable, Codable { case passed, failed, interrupted }

    /// One recovery phase: restore requested → instance available → first connection → verified.
    public struct Phase: Sendable, Codable, Equatable {
        public var name: String
        public var startedAt: String?
        public var endedAt: String?
        public var seconds: Double?
        /// False when the drill never got through this phase.
        public var completed: Bool
        enum CodingKeys: String, CodingKey { case name, startedAt = "started_at", endedAt = "ended_at", seconds, completed }
    }

    public struct Point: Sendable, Codable, Equatable {
        public var spec: String
        public var recoveryPoint: String
        public var snapshot: String?
        enum CodingKeys: String, CodingKey { case spec, recoveryPoint = "recovery_point", snapshot }
    }

    public struct Check: Sendable, Codable, Equatable {
        public var name: String
        public var passed: Bool
        public var message: String?
    }

    public struct Verification: Sendable, Codable {
        public var passed: Bool
        public var reference: String?
        public var rows: String?
        public var objectsChecked: Int
        public var tablesCounted: Int
        public var failures: Int
        public var injectedFailure: Bool
        public var findings: [Finding]
        public var error: String?
        /// The verifier's own report (for the JUnit cases per checked object).
        public var report: VerificationReport?
        enum CodingKeys: String, CodingKey {
            case passed, reference, rows, objectsChecked = "objects_checked", tablesCounted = "tables_counted", failures
            case injectedFailure = "injected_failure", findings, error, report
        }
    }

    public struct Freshness: Sendable, Codable, Equatable {
        public var seconds: Double?
        public var dataEndsAt: String?
        public var source: String?
        public var note: String?
        enum CodingKeys: String, CodingKey { case seconds, dataEndsAt = "data_ends_at", source, note }
    }

    public struct Teardown: Sendable, Codable, Equatable {
        public var instance: String?
        public var removed: Bool
        public var seconds: Double?
        public var error: String?
    }

    public struct Step: Sendable, Codable, Equatable {
        public var id: String
        public var uses: String
        public var outcome: String
        public var seconds: Double?
        public var error: String?
    }

    public struct Versions: Sendable, Codable, Equatable {
        public var dr: String
        public var postgres: String?
        public var runbook: String
        enum CodingKeys: String, CodingKey { case dr, postgres, runbook }
    }

    public var drillID: String
    public var target: String
    public var provider: String
    public var instance: String
    public var tags: [String: String]
    public var runID: String?
    public var runbook: String
    public var startedAt: String
    public var endedAt: String
    public var point: Point
    public var phases: [Phase]
    /// Restore requested → verification done, in seconds (nil when the drill did not get there).
    public var recoverySeconds: Double?
    public var verification: Verification
    public var freshness: Freshness
    public var teardown: Teardown
    public var steps: [Step]
    public var verdict: Verdict
    public var failure: String?
    public var versions: Versions

    enum CodingKeys: String, CodingKey {
        case drillID = "drill_id", target, provider, instance, tags, runID = "run_id", runbook, startedAt = "started_at"
        case endedAt = "ended_at", point, phases, recoverySeconds = "recovery_seconds"
        case verification, freshness, teardown, steps, verdict, failure, versions
    }

    public var passed: Bool { verdict == .passed }

    /// The phases' checks, then the verification's, as the JUnit file and the Markdown list them.
    public var checks: [Check] {
        var out = phases.map { Check(name: "phase: \($0.name)", passed: $0.completed, message: $0.completed ? nil : "not completed") }
        out.append(Check(name: "teardown", passed: teardown.removed && teardown.error == nil, message: teardown.error))
        if verification.injectedFailure { out.append(Check(name: "injected failure", passed: false, message: DrillVerify.injectedFinding)) }
        if let error = verification.error { out.append(Check(name: "verification ran", passed: false, message: error)) }
        return out
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// A few lines for a terminal.
    public var text: String {
        var out = "Drill \(drillID) of \(target) (\(provider)): \(verdict.rawValue.uppercased())\n"
        out += "  recovery point: \(point.recoveryPoint) (--point \(point.spec)\(point.snapshot.map { ", snapshot \($0)" } ?? ""))\n"
        out += "  restored as \(instance)\n"
        for phase in phases {
            out += "  \(phase.completed ? "✓" : "✗") \(phase.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(phase.seconds.map(DurationText.format) ?? "-")\n"
        }
        if let total = recoverySeconds { out += "  recovery time: \(DurationText.format(total))\n" }
        out += "  freshness: \(freshness.seconds.map { "\(DurationText.format($0)) before the recovery point (\(freshness.source ?? ""))" } ?? "not measured\(freshness.note.map { ": \($0)" } ?? "")")\n"
        if verification.report == nil && verification.error == nil && verification.objectsChecked == 0 && !verification.passed {
            out += "  verification: not run (the drill stopped before it)\n"
        } else {
            out += "  verification: \(verification.passed ? "passed" : "FAILED") (\(verification.objectsChecked) objects, \(verification.tablesCounted) tables, \(verification.failures) failing finding\(verification.failures == 1 ? "" : "s"))\n"
        }
        out += "  teardown: \(teardown.removed ? "removed" : "NOT removed")\(teardown.error.map { " — \($0)" } ?? "")\n"
        if let failure { out += "  failure: \(failure)\n" }
        return out
    }
}
