import DRCore
import DRPostgres
import DRProcedures
import DRVerify
import Foundation

/// The drill's `verify`: waits for the restored server's first connection, measures how fresh
/// its data is, verifies it (exact schema; row counts per the target's tolerance) against a
/// manifest captured at snapshot time where there is one, else against the live source, and
/// records everything. `--inject-failure` makes it fail on purpose. A failed verification
/// fails the step (and so the drill).
struct DrillVerify: ProcedureExecutor {
    let context: DrillContext

    static let injectedFinding = "injected failure (--inject-failure): the drill fails on purpose to prove alerts fire"

    func plan(_ call: ResolvedCall) async throws -> [PlannedAction] {
        [PlannedAction("verify the restored database against \(call.string("manifest").flatMap { $0.isEmpty ? nil : "manifest \($0)" } ?? "the live source")", mutates: false)]
    }

    func run(_ call: ResolvedCall, context step: StepContext) async throws -> [String: Value] {
        try DrillProcedures.checkTarget(call, context)
        let recorder = context.recorder
        var report: VerificationReport?
        var freshness: DrillRecorder.Freshness?
        do {
            let conninfo = try await restoredConninfo(call)
            freshness = try await firstConnection(conninfo, clock: step.clock)
            report = try await Verifier.verify(conninfo: conninfo, against: try await reference(call),
                                               options: VerifyOptions(rows: try tolerance(call)))
        } catch {
            recorder.verified(report, error: Redact.conninfo(RunDriver.failure(error).message), injected: false, freshness: freshness, at: step.clock.now())
            throw error
        }
        let injected = context.injectFailure
        recorder.verified(report, error: nil, injected: injected, freshness: freshness, at: step.clock.now())
        let failures = (report?.failures.count ?? 0) + (injected ? 1 : 0)
        if failures > 0 {
            let first = injected ? Self.injectedFinding : report!.failures[0].summary
            throw DRError.problem("Verification of the restored \(context.target.name) failed: \(failures) finding\(failures == 1 ? "" : "s"), first: \(first).")
        }
        return ["passed": .bool(true), "tables": .int(report?.summary.tablesCounted ?? 0), "mismatches": .int(0),
                "data_as_of": .time(freshness?.dataEndsAt ?? context.recoveryPoint)]
    }

    /// The restored server with the target's credentials; the step's `db` when nothing was restored through the drill.
    private func restoredConninfo(_ call: ResolvedCall) async throws -> String {
        if let restored = context.recorder.restore { return try await context.provider.conninfo(of: restored) }
        guard let db = call.string("db") else { throw DRError.badInput("Step '\(call.stepID)': `db` is required.") }
        return db
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

    private func reference(_ call: ResolvedCall) async throws -> Reference {
        if let manifest = call.string("manifest"), !manifest.isEmpty { return .manifestFile(URL(fileURLWithPath: manifest)) }
        if let source = call.string("source"), !source.isEmpty { return .live(conninfo: source) }
        return .live(conninfo: try await DrillSource.conninfo(of: context.provider))
    }

    private func tolerance(_ call: ResolvedCall) throws -> DRVerify.RowTolerance {
        let text = call.string("rows").flatMap { $0.isEmpty ? nil : $0 } ?? context.target.verify?.rows.description ?? "exact"
        return try DRVerify.RowTolerance(parsing: text)
    }
}

/// The live source database of a target (for verification when no manifest was captured).
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

    func measure() -> DrillRecorder.Freshness {
        var result = DrillRecorder.Freshness()
        _ = try? connection.query("SET TimeZone = 'UTC'")
        if let query = context.target.verify?.freshnessQuery {
            result.source = "freshness_query"
            do {
                // The declared query returns one timestamp; wrapped so it comes back as RFC 3339 UTC.
                let wrapped = "SELECT to_char((q.v)::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM (\(query)) AS q(v)"
                result.dataEndsAt = try connection.query(wrapped, timeout: 60).scalar.flatMap(RFC3339.parse)
                if result.dataEndsAt == nil { result.note = "the freshness query returned no time" }
            } catch {
                result.note = "the freshness query failed: \(Redact.conninfo("\(error)"))"
            }
        } else {
            result.source = "replay"
            let sql = "SELECT to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
            result.dataEndsAt = (try? connection.query(sql, timeout: 30).scalar)?.flatMap(RFC3339.parse)
            if result.dataEndsAt == nil {
                result.note = "the restored server has no replay time (restored without WAL replay); declare verify.freshness_query for this target"
            }
        }
        result.seconds = result.dataEndsAt.map { context.recoveryPoint.timeIntervalSince($0) }
        return result
    }
}
