import DRCore
import DRPostgres
import DRProcedures
import DRVerify
import Foundation
import DRRunbook
import DRRunbookEngine

/// The drill's `verify`, around the standard one: waits for the restored server's first
/// connection (recording when), measures how fresh its data is, verifies with the standard
/// procedure — against the manifest captured at snapshot time where there is one, else against
/// the live source — keeps its report (through `report_file`), and with `--inject-failure`
/// fails on purpose after a clean verification.
struct DrillVerify: ProcedureExecutor {
    let inner: ProcedureExecutor
    let context: DrillContext

    static let injectedFinding = "injected failure (--inject-failure): the drill fails on purpose to prove alerts fire"

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome { try await inner.plan(call) }

    func run(_ call: ResolvedCall, context step: StepContext) async throws -> [String: Value] {
        try DrillProcedures.checkTarget(call, context)
        let recorder = context.recorder
        var freshness: DrillRecorder.Freshness?
        do {
            guard let db = call.string("db") else { throw DRError.badInput("Step '\(call.stepID)': verify needs `db`.") }
            freshness = try await firstConnection(await SourceLogin.applied(to: db, provider: context.provider), clock: step.clock)
            let outputs = try await inner.run(try await withReference(call), context: step)
            recorder.verified(readReport(call), error: nil, injected: context.injectFailure, freshness: freshness, at: step.clock.now())
            if context.injectFailure { throw DRError.problem("Verification of the restored \(context.target.name) failed: \(Self.injectedFinding).") }
            return outputs
        } catch let error where recorder.verificationDoneAt == nil {
            // The verifier's own mismatch leaves its report behind; anything else (unreachable, timed out) leaves none.
            let report = readReport(call)
            recorder.verified(report, error: report == nil ? Redact.conninfo(RunDriver.failure(error).message) : nil,
                              injected: false, freshness: freshness, at: step.clock.now())
            throw error
        }
    }

    /// With no manifest, the reference is the target's live source (rows per its tolerance).
    private func withReference(_ call: ResolvedCall) async throws -> ResolvedCall {
        let manifest = call.string("manifest") ?? "", source = call.string("source") ?? ""
        guard manifest.isEmpty && source.isEmpty else { return call }
        var call = call
        call.parameters["manifest"] = nil
        call.parameters["source"] = .string(try await context.provider.sourceConninfo())
        call.secretParameters.insert("source")
        return call
    }

    private func readReport(_ call: ResolvedCall) -> VerificationReport? {
        guard let file = call.string("report_file"), !file.isEmpty, let data = FileManager.default.contents(atPath: file) else { return nil }
        return try? DRJSON.decode(VerificationReport.self, from: data)
    }

    /// Polls until the server accepts a connection (recording when), then reads how fresh its data is.
    private func firstConnection(_ conninfo: String, clock: DRClock) async throws -> DrillRecorder.Freshness {
        let deadline = clock.now().addingTimeInterval(context.connectTimeout)
        var lastError = "no attempt"
        while true {
            try Task.checkCancellation()
            do {
                let connection = try await offloadBlocking { try PGConnection(conninfo: conninfo, connectTimeout: 5, applicationName: "dr drill") }
                context.recorder.firstConnection(at: clock.now())
                defer { connection.close() }
                return try await offloadBlocking { [context] in FreshnessProbe(connection: connection, context: context).measure() }
            } catch let error as PostgresError {
                lastError = error.message
            }
            guard clock.now() < deadline else {
                throw DRError.timedOut("The restored \(context.target.name) did not accept a connection within \(DurationText.compact(context.connectTimeout)) (last error: \(Redact.conninfo(lastError))).")
            }
            try await clock.sleep(seconds: 1)
        }
    }
}

/// How far before the recovery point the restored data ends (DRVerify's freshness, against the drill's point).
struct FreshnessProbe {
    let connection: PGConnection
    let context: DrillContext

    func measure() -> DrillRecorder.Freshness {
        let m = Freshness.measure(connection, query: context.target.verify?.freshnessQuery)
        return DrillRecorder.Freshness(seconds: m.dataEndsAt.map { context.recoveryPoint.timeIntervalSince($0) }, dataEndsAt: m.dataEndsAt,
                                       source: m.source, note: m.note)
    }
}
