import DRCore
import DRPostgres
import DRProcedures
import DRVerify
import Foundation
import DRRunbookEngine

/// `verify`: captures the database `db` names and compares it with a manifest file or a live
/// source, with a row-count tolerance (`rows`, else the target's `verify.rows`, else exact).
/// A mismatch fails the step (exit 1) with the findings in the message, so they reach the report;
/// `report_file` also keeps the whole verification report as JSON. Reads only.
struct VerifyProcedure: ProcedureExecutor {
    var providers: TargetProviders

    func plan(_ call: ResolvedCall) async throws -> PlanOutcome {
        let reference = try self.reference(call, checkingFiles: true)
        let against: String
        switch reference {
        case .manifestFile(let url): against = "the manifest \(url.path)"
        case .live: against = "the live source (\(Redact.mask))"
        case .manifest: against = "a manifest"
        case nil: against = "(at run time: \(call.pending["manifest"] ?? call.pending["source"] ?? "?"))"
        }
        let rows = try tolerance(call)
        let contents = try capture(call).content == .checksum ? " and contents" : ""
        var actions = [PlannedAction("capture the restored database's schema, row counts\(contents) and compare with \(against), rows \(rows)",
                                     call: "libpq: catalog queries and count(*) in one read-only snapshot", mutates: false)]
        if let file = reportFile(call) { actions.append(PlannedAction("write the verification report to \(file)", mutates: false)) }
        return PlanOutcome(actions)
    }

    func run(_ call: ResolvedCall, context: StepContext) async throws -> [String: Value] {
        guard let db = call.string("db") else { throw DRError.badInput("Step '\(call.stepID)': verify needs `db`, the conninfo of the database to check.") }
        guard let reference = try reference(call, checkingFiles: false) else {
            throw DRError.badInput("Step '\(call.stepID)': verify needs `manifest` (a manifest file) or `source` (a live database's conninfo).")
        }
        let conninfo = await withTargetCredentials(db, call)
        let report = try await Verifier.verify(conninfo: conninfo, against: reference,
                                               options: VerifyOptions(capture: try capture(call), rows: try tolerance(call)))
        if let file = reportFile(call) {
            do { try Data(Redact.secrets(in: try ReportRenderer.json(report) + "\n").utf8).write(to: URL(fileURLWithPath: file), options: .atomic) } catch {
                throw DRError.badInput("Step '\(call.stepID)': cannot write the verification report to \(file): \(error.localizedDescription).")
            }
        }
        guard report.passed else {
            let shown = report.failures.prefix(20).map { "  - \($0.summary)" }.joined(separator: "\n")
            let more = report.failures.count > 20 ? "\n  … and \(report.failures.count - 20) more" : ""
            throw DRError.problem("Verification failed: \(report.failures.count) finding(s) (rows \(report.rows)):\n\(shown)\(more)")
        }
        return ["passed": .bool(true), "tables": .int(report.summary.tablesCounted), "rows": .int(Int(report.summary.rowsCounted)),
                "mismatches": .int(report.summary.failures), "accepted": .int(report.summary.accepted)]
    }

    /// A restored database has its source's roles and pg_hba.conf: when `db` carries no password
    /// (a restore's `conninfo` output never does) and the step names its target, it logs in as the
    /// target's source does — the user and password of its conninfo or its secret.
    func withTargetCredentials(_ db: String, _ call: ResolvedCall) async -> String {
        guard call.string("target") != nil, let provider = try? providers.provider(call) else { return db }
        return await SourceLogin.applied(to: db, provider: provider)
    }

    /// `report_file`, unless empty (a runbook input left at its default).
    func reportFile(_ call: ResolvedCall) -> String? { call.string("report_file").flatMap { $0.isEmpty ? nil : $0 } }

    /// The manifest file or the live source; nil in a plan when it is only known at run time.
    func reference(_ call: ResolvedCall, checkingFiles: Bool) throws -> Reference? {
        switch (call.string("manifest"), call.string("source")) {
        case (let path?, nil) where !path.isEmpty:
            if checkingFiles && !FileManager.default.isReadableFile(atPath: path) {
                throw DRError.badInput("Step '\(call.stepID)': the manifest \(path) does not exist or cannot be read. Capture one with `dr verify capture`. Nothing was changed.")
            }
            return .manifestFile(URL(fileURLWithPath: path))
        case (nil, let source?), ("", let source?): return .live(conninfo: source)
        case (nil, nil) where call.pending["manifest"] != nil || call.pending["source"] != nil: return nil
        case (_?, _?): throw DRError.badInput("Step '\(call.stepID)': verify takes `manifest` or `source`, not both.")
        default: throw DRError.badInput("Step '\(call.stepID)': verify needs `manifest` (a manifest file) or `source` (a live database's conninfo).")
        }
    }

    /// The target's content check (`verify.content`, `verify.exclude_content`), else row counts only.
    func capture(_ call: ResolvedCall) throws -> CaptureOptions {
        guard call.string("target") != nil, let policy = try providers.target(call).verify else { return CaptureOptions() }
        return CaptureOptions(content: policy.content, excludeContent: policy.excludeContent)
    }

    /// `rows`, else the target's `verify.rows`, else exact.
    func tolerance(_ call: ResolvedCall) throws -> DRVerify.RowTolerance {
        if let text = call.string("rows"), !text.isEmpty {
            do { return try DRVerify.RowTolerance(parsing: text) } catch let error as DRError {
                throw DRError.badInput("Step '\(call.stepID)': \(error.message.replacingOccurrences(of: "--rows", with: "rows"))")
            }
        }
        if call.string("target") != nil, let policy = try providers.target(call).verify {
            return try DRVerify.RowTolerance(parsing: policy.rows.description)
        }
        return .exact
    }
}

/// How dr logs in to a restored database: as its source does.
public enum SourceLogin {
    /// `db` with the user and password of `provider`'s source, unless it has a password already;
    /// a target without stored credentials (no `database:`) leaves libpq's own: PGPASSWORD, pgpass.
    public static func applied(to db: String, provider: RecoveryProvider) async -> String {
        guard let pairs = Conninfo.parse(db), !pairs.contains(where: { $0.key == "password" }),
              let known = try? await provider.sourceConninfo(), let source = Conninfo.parse(known),
              let password = source.last(where: { $0.key == "password" })?.value else { return db }
        var added = [("password", password)]
        if !pairs.contains(where: { $0.key == "user" }), let user = source.last(where: { $0.key == "user" })?.value { added.append(("user", user)) }
        return Conninfo.replacing(db, with: added) ?? db
    }
}
