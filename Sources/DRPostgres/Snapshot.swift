import Foundation

/// Read-only transactions that share one snapshot, so several connections read the database
/// as it was at one instant (the way `pg_dump --jobs` does it).
extension PGConnection {
    /// Session settings for a reader: every transaction read-only, a server-side statement
    /// timeout, and an empty `search_path` so that catalog functions (`format_type`,
    /// `pg_get_expr`, `pg_get_viewdef`...) qualify every name the same way on every server.
    /// With `parallelWorkersPerQuery`, also `max_parallel_workers_per_gather` (0: no parallel
    /// workers — for readers that already spread their work over one connection per core,
    /// where launching workers for each scan only adds process start-ups and contention).
    public func configureReader(statementTimeout: Double?, parallelWorkersPerQuery: Int? = nil) throws {
        let milliseconds = statementTimeout.map { String(Int(($0 * 1000).rounded())) } ?? "0"
        try query("""
            SELECT set_config('default_transaction_read_only', 'on', false),
                   set_config('statement_timeout', $1, false),
                   set_config('search_path', '', false),
                   set_config('max_parallel_workers_per_gather',
                              coalesce($2, current_setting('max_parallel_workers_per_gather')), false)
            """, [milliseconds, parallelWorkersPerQuery.map { String(max(0, $0)) }])
    }

    /// Opens a REPEATABLE READ, READ ONLY transaction and exports its snapshot. Other
    /// connections pass the returned id to `joinSnapshot` to see exactly the same data.
    /// The snapshot lives as long as this transaction stays open.
    public func beginExportedSnapshot() throws -> String {
        try query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        guard let id = try query("SELECT pg_export_snapshot()").scalar else {
            throw PostgresError(code: .queryFailed, message: "The server returned no snapshot id.")
        }
        return id
    }

    /// Opens a REPEATABLE READ, READ ONLY transaction on the snapshot another connection exported.
    public func joinSnapshot(_ id: String) throws {
        try query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        // SET TRANSACTION takes no parameters: the id goes in as a libpq-quoted literal.
        try query("SET TRANSACTION SNAPSHOT \(try quoteLiteral(id))")
    }

    /// Ends the current transaction (readers only ever roll back: they changed nothing).
    public func rollback() throws {
        try query("ROLLBACK")
    }
}
