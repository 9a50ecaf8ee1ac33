import Foundation

/// Read-only transactions that share one snapshot, so several connections read the database
/// as it was at one instant (the way `pg_dump --jobs` does it).
///
/// The exporting transaction holds the snapshot; the readers import it in transactions of
/// their own, as many in a row as they like (`beginImportedSnapshot`, `nextImportedSnapshot`),
/// so each releases its locks when it ends: a reader that counts 10,000 tables in batches never
/// holds more than one batch's locks, however small `max_locks_per_transaction` is.
extension PGConnection {
    /// Session settings for a reader: every transaction read-only, a server-side statement
    /// timeout, an empty `search_path` so that catalog functions (`format_type`, `pg_get_expr`,
    /// `pg_get_viewdef`...) qualify every name the same way on every server, and the settings
    /// that decide how values print (`DateStyle`, `IntervalStyle`, `TimeZone`,
    /// `extra_float_digits`, `bytea_output`, `lc_monetary`) pinned, so that the same value
    /// prints the same on every server whatever its configuration.
    /// With `parallelWorkersPerQuery`, also `max_parallel_workers_per_gather` (0: no parallel
    /// workers — for readers that already spread their work over one connection per core,
    /// where launching workers for each scan only adds process start-ups and contention).
    /// Returns the server's own `max_parallel_workers_per_gather`.
    @discardableResult
    public func configureReader(statementTimeout: Double?, parallelWorkersPerQuery: Int? = nil) throws -> Int {
        let milliseconds = statementTimeout.map { String(Int(($0 * 1000).rounded())) } ?? "0"
        let result = try query("""
            SELECT current_setting('max_parallel_workers_per_gather'),
                   set_config('default_transaction_read_only', 'on', false),
                   set_config('statement_timeout', $1, false),
                   set_config('search_path', '', false),
                   set_config('DateStyle', 'ISO, MDY', false),
                   set_config('IntervalStyle', 'postgres', false),
                   set_config('TimeZone', 'UTC', false),
                   set_config('extra_float_digits', '1', false),
                   set_config('bytea_output', 'hex', false),
                   set_config('lc_monetary', 'C', false),
                   set_config('max_parallel_workers_per_gather',
                              coalesce($2, current_setting('max_parallel_workers_per_gather')), false)
            """, [milliseconds, parallelWorkersPerQuery.map { String(max(0, $0)) }])
        return Int(result.scalar ?? "") ?? 0
    }

    /// Opens a REPEATABLE READ, READ ONLY transaction and exports its snapshot. Other
    /// connections pass the returned id to `beginImportedSnapshot` to see exactly the same data.
    /// The snapshot lives as long as this transaction stays open.
    public func beginExportedSnapshot() throws -> String {
        try query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        guard let id = try query("SELECT pg_export_snapshot()").scalar else {
            throw PostgresError(code: .queryFailed, message: "The server returned no snapshot id.")
        }
        return id
    }

    /// Opens a REPEATABLE READ, READ ONLY transaction on the snapshot another connection
    /// exported, in one round trip. With `parallelWorkers`, the transaction's queries may use
    /// that many parallel workers each (`SET LOCAL max_parallel_workers_per_gather`); with
    /// `jit: false`, they are not compiled (`SET LOCAL jit = off`).
    public func beginImportedSnapshot(_ id: String, parallelWorkers: Int? = nil, jit: Bool = true) throws {
        try execute(try importScript(id, parallelWorkers: parallelWorkers, jit: jit))
    }

    /// Ends the current imported-snapshot transaction (releasing its locks) and opens the next
    /// on the same snapshot, in one round trip.
    public func nextImportedSnapshot(_ id: String, parallelWorkers: Int? = nil, jit: Bool = true) throws {
        try execute("ROLLBACK; " + (try importScript(id, parallelWorkers: parallelWorkers, jit: jit)))
    }

    private func importScript(_ id: String, parallelWorkers: Int?, jit: Bool) throws -> String {
        // SET TRANSACTION takes no parameters: the id goes in as a libpq-quoted literal.
        var script = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT \(try quoteLiteral(id))"
        if let parallelWorkers { script += "; SET LOCAL max_parallel_workers_per_gather = \(max(0, parallelWorkers))" }
        if !jit { script += "; SET LOCAL jit = off" }
        return script
    }

    /// Ends the current transaction (readers only ever roll back: they changed nothing).
    public func rollback() throws {
        try query("ROLLBACK")
    }
}
