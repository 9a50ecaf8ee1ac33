import DRCore
import DRPostgres
import Foundation

extension Manifest {
    /// Captures a manifest of the database `conninfo` names (a libpq conninfo string or URI;
    /// PG* variables, pgpass and service files apply).
    ///
    /// Everything is read from one consistent snapshot: a leader connection opens a REPEATABLE
    /// READ, READ ONLY transaction and exports its snapshot; `options.jobs - 1` more connections,
    /// opened at the same time as the leader's, join it to share the catalog queries (one per
    /// object kind) and the batched row counts with it.
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

/// One capture: the leader's snapshot, the helpers that join it, and the job queue.
///
/// The connections are opened concurrently. The helpers start on the shared catalog queries
/// as soon as the leader has exported its snapshot; the leader lists the relations and deals
/// them out (see `SnapshotWorkers`), then works through its own share like the others.
private struct ManifestCapture {
    let pool: ReaderPool

    func run() async throws -> Manifest {
        let capturedAt = RFC3339.format(Date())
        let connections = max(1, pool.options.jobs)
        let queue = JobQueue(shared: SnapshotWorkers.sharedCatalogJobs, connections: connections)
        let handoff = SnapshotHandoff()
        let workers = SnapshotWorkers(pool: pool, queue: queue)

        let whole = try await withThrowingTaskGroup(of: CapturePart.self) { group in
            group.addTask { try await offloadBlocking { try lead(workers, handoff, connections: connections) } }
            for k in 1..<connections {
                group.addTask { try await offloadBlocking { try help(k, workers, handoff) } }
            }
            var whole = CapturePart()
            do {
                for try await part in group { whole.merge(part) }
            } catch {
                pool.cancelAll(interrupt: false)
                handoff.fail()
                queue.close()
                throw error
            }
            return whole
        }
        guard let server = whole.server else { throw CancellationError() }
        var objects = whole.objects
        for kind in ObjectKind.allCases where objects[kind.rawValue] == nil { objects[kind.rawValue] = [:] }
        return Manifest(capturedAt: capturedAt, server: server, objects: objects, rowCounts: whole.counts)
    }

    /// The leader (connection 0): exports the snapshot, deals out the relations, then works
    /// through its share like the helpers.
    private func lead(_ workers: SnapshotWorkers, _ handoff: SnapshotHandoff, connections: Int) throws -> CapturePart {
        do {
            let leader = try pool.open()
            defer { leader.close() }
            let server = try identity(of: leader)
            handoff.publish(try pool.run(on: leader) { try $0.beginExportedSnapshot() })
            let relations = try pool.run(on: leader) { try listRelations(on: $0) }
            workers.queue.deal(SnapshotWorkers.assign(relations, connections: pool.options.jobs,
                                                      maxTables: pool.options.tablesPerBatch))
            workers.queue.close()
            var part = try workers.work(as: 0, on: leader)
            part.server = server
            // The exported snapshot lives only as long as this transaction: keep it open
            // until every helper has joined it (or given up).
            handoff.waitForHelpers(connections - 1)
            try? leader.rollback()
            return part
        } catch {
            // Release the helpers: they stop, and this error is the one reported.
            handoff.fail()
            workers.queue.close()
            throw error
        }
    }

    /// Helper `k`: connects while the leader does, joins its snapshot, and works the queue.
    private func help(_ k: Int, _ workers: SnapshotWorkers, _ handoff: SnapshotHandoff) throws -> CapturePart {
        let joined: PGConnection? = try {
            defer { handoff.helperArrived() }
            let conn = try pool.open()
            guard let snapshot = handoff.wait() else { conn.close(); return nil }
            do {
                try pool.run(on: conn) { try $0.joinSnapshot(snapshot) }
            } catch {
                conn.close()
                throw error
            }
            return conn
        }()
        guard let conn = joined else { return CapturePart() }
        defer { conn.close() }
        defer { try? conn.rollback() }
        return try workers.work(as: k, on: conn)
    }

    private func identity(of conn: PGConnection) throws -> ServerIdentity {
        let row = try pool.run(on: conn) { try $0.query(CatalogQueries.serverVersion).rows.first }
        // Only superusers and pg_monitor may read the system identifier; without it the
        // manifest still names the server by address and version.
        let systemIdentifier = try? conn.query(CatalogQueries.systemIdentifier).scalar
        return ServerIdentity(target: conn.target, database: (row?[1] ?? nil) ?? "",
                              version: (row?[0] ?? nil) ?? "", systemIdentifier: systemIdentifier)
    }

    private func listRelations(on conn: PGConnection) throws -> [ListedRelation] {
        var relations: [ListedRelation] = []
        try conn.forEachRow(CatalogQueries.relations, timeout: pool.clientTimeout) { row in
            guard let oid = row[0], let name = row[1], let schema = row[2], let table = row[3] else { return }
            relations.append(ListedRelation(
                oid: oid, table: CountableTable(name: name, schema: schema, table: table, bytes: Int64(row[4] ?? "0") ?? 0),
                countable: row[5] == "t"))
        }
        return relations
    }
}

/// Hands the leader's snapshot id to the helpers, who wait for it (on their own threads).
final class SnapshotHandoff: @unchecked Sendable {
    private let condition = NSCondition()
    private var id: String?
    private var failed = false

    func publish(_ snapshot: String) {
        condition.withLock { id = snapshot; condition.broadcast() }
    }

    /// The leader could not export a snapshot: waiting helpers give up.
    func fail() {
        condition.withLock { failed = true; condition.broadcast() }
    }

    private var arrived = 0

    /// A helper has joined the snapshot, or will not.
    func helperArrived() {
        condition.withLock { arrived += 1; condition.broadcast() }
    }

    /// Waits until `count` helpers have joined the snapshot or given up.
    func waitForHelpers(_ count: Int) {
        condition.withLock { while arrived < count { condition.wait() } }
    }

    /// The snapshot id, or nil once the leader has failed.
    func wait() -> String? {
        condition.withLock {
            while id == nil, !failed { condition.wait() }
            return failed ? nil : id
        }
    }
}
