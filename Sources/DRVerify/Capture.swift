import DRCore
import DRPostgres
import Foundation

extension Manifest {
    /// Captures a manifest of the database `conninfo` names (a libpq conninfo string or URI;
    /// PG* variables, pgpass and service files apply).
    ///
    /// Everything is read from one consistent snapshot: a leader connection opens a REPEATABLE
    /// READ, READ ONLY transaction and exports its snapshot; `options.jobs` workers join it to
    /// share the catalog queries (one per object kind) and the batched row counts with it.
    /// Cancelling the calling task cancels every running query (it throws `DRError.interrupted`).
    ///
    /// Throws `DRError` — `.badInput` when the database cannot be reached or read (the message
    /// never holds the password), `.timedOut` when a statement exceeds the statement timeout.
    public static func capture(conninfo: String, options: CaptureOptions = CaptureOptions()) async throws -> Manifest {
        let pool = ReaderPool(conninfo: conninfo, options: options)
        return try await withTaskCancellationHandler {
            try await ManifestCapture(pool: pool).run()
        } onCancel: {
            pool.cancelAll(interrupt: true)
        }
    }
}

/// One capture: the leader's snapshot, the row counters, and the catalog read.
private struct ManifestCapture {
    let pool: ReaderPool

    func run() async throws -> Manifest {
        let capturedAt = RFC3339.format(Date())
        let leader = try await offloadBlocking { try pool.open() }
        defer { leader.close() }

        let server = try await offloadBlocking { try identity(of: leader) }
        let (snapshot, tables) = try await offloadBlocking { () -> (String, [CountableTable]) in
            let snapshot = try pool.run(on: leader) { try $0.beginExportedSnapshot() }
            let tables = try pool.run(on: leader) { try countableTables(on: $0) }
            return (snapshot, tables)
        }

        let jobs = SnapshotWorkers.jobs(tables: tables, maxTables: pool.options.tablesPerBatch)
        let part = try await SnapshotWorkers(pool: pool, snapshot: snapshot).run(jobs, leader: leader)
        try? leader.rollback()
        var objects = part.objects
        for kind in ObjectKind.allCases where objects[kind.rawValue] == nil { objects[kind.rawValue] = [:] }
        let objectsFound = objects, rowCounts = part.counts
        return Manifest(capturedAt: capturedAt, server: server, objects: objectsFound, rowCounts: rowCounts)
    }

    private func identity(of conn: PGConnection) throws -> ServerIdentity {
        let row = try pool.run(on: conn) { try $0.query(CatalogQueries.serverVersion).rows.first }
        // Only superusers and pg_monitor may read the system identifier; without it the
        // manifest still names the server by address and version.
        let systemIdentifier = try? conn.query(CatalogQueries.systemIdentifier).scalar
        return ServerIdentity(target: conn.target, database: (row?[1] ?? nil) ?? "",
                              version: (row?[0] ?? nil) ?? "", systemIdentifier: systemIdentifier)
    }

    private func countableTables(on conn: PGConnection) throws -> [CountableTable] {
        try conn.query(CatalogQueries.countableTables, timeout: pool.clientTimeout).rows.compactMap { row in
            guard let name = row[0], let schema = row[1], let table = row[2] else { return nil }
            return CountableTable(name: name, schema: schema, table: table, bytes: Int64(row[3] ?? "0") ?? 0)
        }
    }
}
