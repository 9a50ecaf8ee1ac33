import DRCore
import DRProcedures
import DRRunbookEngine
import Foundation

/// The drill line of `dr check`: the last passed drill's age against `drill.max_age`. It lives
/// here because the drill history is DRDrill's; the CLI adds it to each target's report.
public enum DrillReadiness {
    public static func check(_ target: Target, history: DrillHistory, now: Date) -> ReadinessCheck {
        let maxAge = target.drill?.maxAge ?? DrillHistorySummary.defaultMaxAge
        let policy = "policy: drill.max_age \(DurationText.compact(maxAge))"
        guard let last = history.lastSuccess(target.name) else {
            return ReadinessCheck("drill_age", .failed, found: "\(target.name) has never passed a restore drill (\(policy))",
                                  fix: "run `dr drill \(target.name)` and schedule it (deploy/ has the timers)")
        }
        let age = max(0, now.timeIntervalSince(last))
        let found = "last passed drill ended \(DurationText.format(age)) ago (\(policy))"
        guard age <= maxAge else {
            return ReadinessCheck("drill_age", .failed, found: found, fix: "run `dr drill \(target.name)` and check that its schedule runs", ageSeconds: age)
        }
        return ReadinessCheck("drill_age", .ok, found: found, ageSeconds: age)
    }
}

/// `dr check --output prometheus`: `dr_check_ok{target,check}` (1 ✓ or !, 0 ✗) and
/// `dr_check_age_seconds{target,check}` for the checks that have an age, in node_exporter's
/// textfile-collector format. A target whose checks could not run at all gets
/// `dr_check_ok{target,check="run"} 0`, so the alert fires instead of going quiet.
public enum ReadinessMetrics {
    public enum Outcome: Sendable {
        case checked(ReadinessReport)
        case failed(target: String)
    }

    public static let families: [StatusMetrics.Family] = [
        StatusMetrics.Family(name: "dr_check_ok", help: "1 when the readiness check passed (a warning passes), 0 when it failed."),
        StatusMetrics.Family(name: "dr_check_age_seconds", help: "Age of what the readiness check looked at (a snapshot, a copy, a drill), when it has one."),
    ]

    public static func text(_ outcomes: [Outcome]) -> String {
        var ok: [String] = [], ages: [String] = []
        func labels(_ target: String, _ check: String) -> String {
            "{target=\"\(DrillEvidence.labelEscape(target))\",check=\"\(DrillEvidence.labelEscape(check))\"}"
        }
        for outcome in outcomes {
            switch outcome {
            case .failed(let target): ok.append("dr_check_ok\(labels(target, "run")) 0")
            case .checked(let report):
                for check in report.checks {
                    ok.append("dr_check_ok\(labels(report.target, check.name)) \(check.status == .failed ? 0 : 1)")
                    if let age = check.ageSeconds { ages.append("dr_check_age_seconds\(labels(report.target, check.name)) \(StatusMetrics.format(age))") }
                }
            }
        }
        var out = ""
        for (family, lines) in zip(families, [ok, ages]) where !lines.isEmpty {
            out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) gauge\n" + lines.joined(separator: "\n") + "\n"
        }
        return out
    }
}
