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

    func plan(_ call: ResolvedCall) async throws -> [PlannedAction] { try await inner.plan(call) }

    func run(_ call: ResolvedCall, context step: StepContext) async throws -> [String: Value] {
        try DrillProcedures.checkTarget(call, context)
        let recorder = context.recorder
        var freshness: DrillRecorder.Freshness?
        do {
            guard let db = call.string("db") else { throw DRError.badInput("Step '\(call.stepID)': verify needs `db`.") }
            freshness = try await firstConnection(db, clock: step.clock)
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
        call.parameters["source"] = .string(try await DrillSource.conninfo(of: context.provider))
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

/// The live source database of a target (the reference when no manifest was captured).
enum DrillSource {
    static func conninfo(of provider: RecoveryProvider) async throws -> String {
        switch provider.target.provider {
        case .postgres(let settings): return settings.conninfo
        case .rds:
            guard let rds = provider as? RDSProvider else { throw DRError.problem("The provider of \(provider.target.name) is not the RDS backend.") }
            return try await rds.databaseConninfo()
        }
    }
}

/// How far before the recovery point the restored data ends: from the target's declared
/// freshness query, else from PostgreSQL's last replayed commit on the restored server.
struct FreshnessProbe {
    let connection: PGConnection
    let context: DrillContext

    static let asUTC = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"

    func measure() -> DrillRecorder.Freshness {
        var result = DrillRecorder.Freshness()
        if let query = context.target.verify?.freshnessQuery {
            result.source = "freshness_query"
            do {
                // The declared query returns one timestamp; wrapped so it comes back as RFC 3339 UTC.
                _ = try connection.query("SET TimeZone = 'UTC'")
                let wrapped = "SELECT to_char((q.v)::timestamptz AT TIME ZONE 'UTC', \(Self.asUTC)) FROM (\(query)) AS q(v)"
                result.dataEndsAt = try connection.query(wrapped, timeout: 60).scalar.flatMap(RFC3339.parse)
                if result.dataEndsAt == nil { result.note = "the freshness query returned no time" }
            } catch {
                result.note = "the freshness query failed: \(Redact.conninfo("\(error)"))"
            }
        } else {
            result.source = "replay"
            let sql = "SELECT to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', \(Self.asUTC))"
            result.dataEndsAt = (try? connection.query(sql, timeout: 30).scalar)?.flatMap(RFC3339.parse)
            if result.dataEndsAt == nil {
                result.note = "the restored server reports no replayed commit (restored without WAL replay, e.g. RDS); declare verify.freshness_query for this target"
            }
        }
        result.seconds = result.dataEndsAt.map { context.recoveryPoint.timeIntervalSince($0) }
        return result
    }
}
