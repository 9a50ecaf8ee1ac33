import DRCore
import DRPostgres
import Foundation

/// A table whose rows are counted, as the catalog described it.
struct CountableTable: Sendable {
    var name: String
    var schema: String
    var table: String
    var bytes: Int64
}

/// One unit of a capture's work, done on any connection that shares the snapshot.
enum CaptureJob: Sendable {
    /// One catalog query, returning every object of a kind.
    case catalog(ObjectKind)
    /// Exact counts of a batch of tables in one statement.
    case count([CountableTable])
}

/// What one connection found.
struct CapturePart: Sendable {
    var objects: [String: [String: ObjectProperties]] = [:]
    var counts: [String: Int64] = [:]
}

/// Runs a capture's jobs over several connections that all read one exported snapshot.
///
/// Tables are grouped into batches that one statement counts (`SELECT i, count(*) FROM ONLY t
/// UNION ALL ...`), so a thousand small tables cost a handful of round trips; large tables get
/// a batch of their own. Catalog queries and count batches share one queue that the
/// connections drain, which keeps them evenly busy.
struct SnapshotWorkers {
    /// A batch closes once it holds `maxTables` tables or this many bytes of table.
    static let maxBytesPerBatch: Int64 = 64 << 20

    static func batches(_ tables: [CountableTable], maxTables: Int) -> [[CountableTable]] {
        var batches: [[CountableTable]] = []
        var current: [CountableTable] = []
        var bytes: Int64 = 0
        // Largest first, so the long counts start early and small batches fill in behind.
        for table in tables.sorted(by: { ($0.bytes, $1.name) > ($1.bytes, $0.name) }) {
            if !current.isEmpty, current.count >= max(1, maxTables) || bytes + table.bytes > maxBytesPerBatch {
                batches.append(current)
                current = []
                bytes = 0
            }
            current.append(table)
            bytes += table.bytes
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// The jobs in the order they are taken: the biggest count first, then the heaviest
    /// catalog queries, then the rest.
    static func jobs(tables: [CountableTable], maxTables: Int) -> [CaptureJob] {
        var counts = batches(tables, maxTables: maxTables).map(CaptureJob.count)
        let heavy: [ObjectKind] = [.index, .column, .constraint, .table]
        var jobs: [CaptureJob] = []
        if !counts.isEmpty { jobs.append(counts.removeFirst()) }
        jobs += heavy.map(CaptureJob.catalog)
        jobs += counts
        jobs += ObjectKind.allCases.filter { !heavy.contains($0) }.map(CaptureJob.catalog)
        return jobs
    }

    let pool: ReaderPool
    let snapshot: String

    /// Runs every job: on `leader` (already in the snapshot's transaction) and on up to
    /// `jobs - 1` more connections that join the snapshot.
    func run(_ jobs: [CaptureJob], leader: PGConnection) async throws -> CapturePart {
        let queue = JobQueue(jobs)
        let helpers = min(pool.options.jobs - 1, max(0, jobs.count - 1))
        return try await withThrowingTaskGroup(of: CapturePart.self) { group in
            group.addTask { try await offloadBlocking { try self.work(queue, on: leader) } }
            for _ in 0..<helpers {
                group.addTask {
                    try await offloadBlocking {
                        let conn = try pool.open()
                        defer { conn.close() }
                        try pool.run(on: conn) { try $0.joinSnapshot(snapshot) }
                        defer { try? conn.rollback() }
                        return try self.work(queue, on: conn)
                    }
                }
            }
            var whole = CapturePart()
            do {
                for try await part in group {
                    whole.objects.merge(part.objects) { a, _ in a }
                    whole.counts.merge(part.counts) { a, _ in a }
                }
            } catch {
                pool.cancelAll(interrupt: false)
                throw error
            }
            return whole
        }
    }

    /// One connection: takes jobs until none is left.
    private func work(_ queue: JobQueue, on conn: PGConnection) throws -> CapturePart {
        var part = CapturePart()
        while let job = queue.next() {
            switch job {
            case .catalog(let kind):
                part.objects[kind.rawValue] = try readCatalog(kind, on: conn)
            case .count(let batch):
                try count(batch, on: conn, into: &part.counts)
            }
        }
        return part
    }

    private func count(_ batch: [CountableTable], on conn: PGConnection, into counts: inout [String: Int64]) throws {
        let sql = try batch.enumerated().map { i, t in
            "SELECT \(i), count(*) FROM ONLY \(try conn.quoteIdentifier(t.schema)).\(try conn.quoteIdentifier(t.table))"
        }.joined(separator: " UNION ALL ")
        let result = try pool.run(on: conn) { try $0.query(sql, timeout: pool.clientTimeout) }
        for row in result.rows {
            guard let i = row[0].flatMap({ Int($0) }), let n = row[1].flatMap({ Int64($0) }), batch.indices.contains(i) else { continue }
            counts[batch[i].name] = n
        }
    }

    private func readCatalog(_ kind: ObjectKind, on conn: PGConnection) throws -> [String: ObjectProperties] {
        let result = try pool.run(on: conn) { try $0.query(CatalogQueries.sql(for: kind), timeout: pool.clientTimeout) }
        var byName: [String: ObjectProperties] = [:]
        byName.reserveCapacity(result.rows.count)
        for row in result.rows {
            guard let name = row.first ?? nil else { continue }
            var properties: ObjectProperties = [:]
            for (column, value) in zip(result.columns.dropFirst(), row.dropFirst()) {
                if let value, !value.isEmpty { properties[column] = value }
            }
            byName[name] = properties
        }
        return byName
    }
}

/// The jobs still to do, taken one at a time by the connections.
final class JobQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var jobs: [CaptureJob]

    init(_ jobs: [CaptureJob]) { self.jobs = jobs.reversed() }

    func next() -> CaptureJob? { lock.withLock { jobs.popLast() } }
}
