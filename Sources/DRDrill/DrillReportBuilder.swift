import DRCore
import DRProcedures
import DRVerify
import Foundation
import DRRunbook
import DRRunbookEngine

/// Assembles a drill's report from the engine's final state and what the drill's procedures recorded.
struct DrillReportBuilder {
    let drill: DrillRunner.Prepared
    let machine: RunStateMachine
    let runbook: Runbook
    let header: RunHeader
    let endedAt: Date
    /// Set when the drill was stopped by `--timeout`.
    let timeout: Double?

    func build() -> DrillReport {
        let r = drill.recorder
        let phases = [
            phase("restore", from: r.restoreRequestedAt, to: r.restoreAvailableAt),
            phase("connect", from: r.restoreAvailableAt, to: r.firstConnectionAt),
            phase("verify", from: r.firstConnectionAt, to: r.verification == nil ? nil : r.verificationDoneAt),
        ]
        let recovery: Double? = {
            guard let start = r.restoreRequestedAt, let end = r.verificationDoneAt, r.verification != nil else { return nil }
            return end.timeIntervalSince(start)
        }()
        let verification = self.verification()
        let teardown = DrillReport.Teardown(
            instance: r.instance, removed: r.teardownRemoved ?? (r.instance == nil),
            seconds: zip2(r.teardownStartedAt, r.teardownEndedAt).map { $1.timeIntervalSince($0) },
            error: r.teardownRemoved == false ? r.teardownError : nil)
        let failure = failureMessage(verification: verification, teardown: teardown)
        let verdict: DrillReport.Verdict = machine.status == .cancelled && timeout == nil ? .interrupted : failure == nil ? .passed : .failed
        let freshness = r.freshness
        return DrillReport(
            drillID: drill.drillID, target: drill.target.name, provider: drill.target.providerName, instance: drill.instance,
            tags: drill.tags, runID: header.runID, runbook: runbook.file, startedAt: RFC3339.format(drill.startedAt),
            endedAt: RFC3339.format(endedAt),
            point: .init(spec: drill.point.spec, recoveryPoint: RFC3339.format(drill.point.recoveryPoint, fractional: true), snapshot: drill.point.snapshot),
            phases: phases, recoverySeconds: recovery,
            verification: verification,
            freshness: .init(seconds: freshness?.seconds, dataEndsAt: freshness?.dataEndsAt.map { RFC3339.format($0, fractional: true) },
                             source: freshness?.source, note: freshness?.note ?? (freshness == nil ? "the restored database was not reached" : nil)),
            teardown: teardown, steps: steps(), verdict: verdict, failure: failure,
            versions: .init(dr: ToolInfo.version, postgres: r.verification?.target.version, runbook: "\(runbook.name) (\(runbook.file))"))
    }

    private func phase(_ name: String, from start: Date?, to end: Date?) -> DrillReport.Phase {
        DrillReport.Phase(name: name, startedAt: start.map { RFC3339.format($0, fractional: true) },
                          endedAt: end.map { RFC3339.format($0, fractional: true) },
                          seconds: zip2(start, end).map { $1.timeIntervalSince($0) }, completed: start != nil && end != nil)
    }

    private func verification() -> DrillReport.Verification {
        let r = drill.recorder
        let report = r.verification
        let injected = r.injectedFailure
        return DrillReport.Verification(
            passed: report?.passed == true && !injected && r.verifyError == nil,
            reference: report.map { $0.reference.kind == "manifest" ? "manifest captured \($0.reference.capturedAt)" : "live source" },
            rows: report?.rows, objectsChecked: report?.summary.objectsChecked ?? 0, tablesCounted: report?.summary.tablesCounted ?? 0,
            failures: (report?.failures.count ?? 0) + (injected ? 1 : 0), injectedFailure: injected,
            findings: report?.findings ?? [], error: r.verifyError ?? (report == nil ? "verification did not run" : nil), report: report)
    }

    private func failureMessage(verification: DrillReport.Verification, teardown: DrillReport.Teardown) -> String? {
        if let timeout { return "The drill did not finish within \(DurationText.compact(timeout)) (--timeout); it was stopped and its server torn down." }
        if machine.status == .cancelled { return "The drill was interrupted; its server was torn down." }
        if let failure = machine.failure { return failure.message }
        if !verification.passed { return verification.error ?? "Verification failed." }
        if !teardown.removed { return "Teardown failed: \(teardown.error ?? "unknown")." }
        if drill.recorder.instance == nil { return "The runbook restored nothing, so there was nothing to verify." }
        return nil
    }

    private func steps() -> [DrillReport.Step] {
        runbook.allSteps.enumerated().map { index, step in
            let times = machine.times[index]
            var error: String?
            if case .failed(let failure, _) = machine.states[index] { error = failure.message }
            return DrillReport.Step(id: step.id, uses: step.uses, outcome: machine.states[index].outcome ?? "pending",
                                    seconds: zip2(times.firstStarted, times.ended).map { $1.timeIntervalSince($0) }, error: error)
        }
    }
}

private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
