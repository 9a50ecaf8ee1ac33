import DRCore
import DRPostgres
import Foundation

/// The connections one capture opens, so that Ctrl-C (task cancellation) or a failure in one
/// worker cancels the queries running on all of them at once.
final class ReaderPool: @unchecked Sendable {
    // @unchecked: the mutable fields are read and written under `lock` only.
    private let lock = NSLock()
    private var cancellers: [PGCanceller] = []
    private var cancelled = false
    private var interrupted = false

    let conninfo: String
    let options: CaptureOptions
    private var parallelDefault = 0

    /// The server's own `max_parallel_workers_per_gather`, as the first connection read it.
    var serverParallelWorkers: Int { lock.withLock { parallelDefault } }

    init(conninfo: String, options: CaptureOptions) {
        self.conninfo = conninfo
        self.options = options
    }

    /// Opens a configured, read-only connection that this pool can cancel.
    func open() throws -> PGConnection {
        try checkNotCancelled()
        let conn: PGConnection
        do {
            conn = try PGConnection(conninfo: conninfo, connectTimeout: options.connectTimeout, applicationName: "dr verify")
        } catch let error as PostgresError {
            throw VerifyErrors.connection(error, conninfo: conninfo)
        }
        // With several connections (one per core by default) the counts are already spread
        // over the cores: parallel workers per scan would only compete with them.
        // A table too big to share out gets the server's workers back for its batch
        // (`SnapshotWorkers.assign`).
        let parallel: Int? = options.jobs > 1 ? 0 : nil
        let serverDefault = try run(on: conn) {
            try $0.configureReader(statementTimeout: self.options.statementTimeout, parallelWorkersPerQuery: parallel)
        }
        lock.withLock { parallelDefault = serverDefault }
        if let canceller = conn.makeCanceller() {
            let lateCancel = lock.withLock { () -> Bool in
                cancellers.append(canceller)
                return cancelled
            }
            if lateCancel { canceller.cancel() }
        }
        return conn
    }

    /// Runs `body` on `conn`, translating libpq errors into `DRError`s with context.
    func run<T>(on conn: PGConnection, _ body: (PGConnection) throws -> T) throws -> T {
        try checkNotCancelled()
        do {
            return try body(conn)
        } catch let error as PostgresError {
            let (wasCancelled, wasInterrupted) = lock.withLock { (cancelled, interrupted) }
            if wasInterrupted { throw DRError.interrupted }
            if wasCancelled { throw CancellationError() }
            throw VerifyErrors.query(error, target: conn.target, statementTimeout: options.statementTimeout)
        }
    }

    /// The client-side deadline for one statement: the server's own timeout fires first.
    var clientTimeout: Double? { options.statementTimeout.map { $0 + 5 } }

    /// Cancels every query now running. `interrupt` marks it as the user's Ctrl-C.
    func cancelAll(interrupt: Bool) {
        let all = lock.withLock { () -> [PGCanceller] in
            cancelled = true
            if interrupt { interrupted = true }
            return cancellers
        }
        all.forEach { $0.cancel() }
    }

    private func checkNotCancelled() throws {
        let (wasCancelled, wasInterrupted) = lock.withLock { (cancelled, interrupted) }
        if wasInterrupted { throw DRError.interrupted }
        if wasCancelled { throw CancellationError() }
    }
}

/// Turns libpq failures into the project's errors: one paragraph, the problem and the fix,
/// never the password.
enum VerifyErrors {
    static func connection(_ error: PostgresError, conninfo: String) -> DRError {
        let shown = conninfo.trimmingCharacters(in: .whitespaces).isEmpty
            ? "the database named by the PG* environment variables"
            : "\"\(Redact.conninfo(conninfo))\""
        let detail = sentence(Redact.conninfo(error.description))
        if error.code == .badConninfo {
            return .badInput("Could not use \(shown): \(detail)")
        }
        return .badInput("Could not connect to \(shown): \(detail) Check that the server is running and reachable, and that the host, port, user, password and database name are right.")
    }

    /// libpq's message as one sentence of a paragraph: its lines joined, one full stop at the
    /// end (libpq ends some messages with "?" or ".", which must not become "?." or "..").
    static func sentence(_ message: String) -> String {
        let joined = message.split(whereSeparator: { $0 == "\n" || $0 == "\t" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        guard let last = joined.last else { return "" }
        return ".?!".contains(last) ? joined : joined + "."
    }

    static func query(_ error: PostgresError, target: String, statementTimeout: Double?) -> DRError {
        let detail = error.description.replacingOccurrences(of: "\n", with: " ")
        if error.code == .timedOut || error.sqlState == "57014" {
            let limit = statementTimeout.map { DurationText.format($0) } ?? "none"
            return DRError(DRError.Code.timedOut, "A query on \(target) ran longer than the statement timeout (\(limit)) and was cancelled: \(detail). Raise \(param: .statementTimeout), or verify when the server is less busy.")
        }
        if error.code == .connectionFailed {
            return .badInput("Lost the connection to \(target): \(detail). Check that the server is still running.")
        }
        return .badInput("A catalog or count query failed on \(target): \(detail). Check that the user may read every table (e.g. grant pg_read_all_data).")
    }
}
