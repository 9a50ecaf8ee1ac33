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
    /// Set by the leader.
    var server: ServerIdentity?

    mutating func merge(_ other: CapturePart) {
        objects.merge(other.objects) { a, _ in a }
        counts.merge(other.counts) { a, _ in a }
        if server == nil { server = other.server }
    }
}

/// Runs a capture's jobs over several connections that all read one exported snapshot.
///
/// Tables are grouped into batches that one statement counts (`SELECT i, count(*) FROM ONLY t
/// UNION ALL ...`), so a thousand small tables cost a handful of round trips; large tables get
/// a batch of their own. Catalog queries and count batches share one queue that the
/// connections drain, which keeps them evenly busy.
struct SnapshotWorkers {
    /// A batch closes once it holds `maxTables` tables or this much estimated work: a table's
    /// bytes plus `perTableCost` for opening and planning it (on a cold connection that costs
    /// about as much as scanning 64 kB). Small enough that the biggest batches spread over the
    /// connections rather than leaving one counting while the others wait.
    static let maxCostPerBatch: Int64 = 16 << 20
    static let perTableCost: Int64 = 64 << 10

    static func batches(_ tables: [CountableTable], maxTables: Int) -> [[CountableTable]] {
        var batches: [[CountableTable]] = []
        var current: [CountableTable] = []
        var cost: Int64 = 0
        // Largest first, so the long counts start early and small batches fill in behind.
        for table in tables.sorted(by: { ($0.bytes, $1.name) > ($1.bytes, $0.name) }) {
            let tableCost = max(0, table.bytes) + perTableCost
            if !current.isEmpty, current.count >= max(1, maxTables) || cost + tableCost > maxCostPerBatch {
                batches.append(current)
                current = []
                cost = 0
            }
            current.append(table)
            cost += tableCost
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// The catalog queries, heaviest first (they are queued before the tables are known).
    static var catalogJobs: [CaptureJob] {
        let heavy: [ObjectKind] = [.index, .column, .constraint, .table]
        return heavy.map(CaptureJob.catalog) + ObjectKind.allCases.filter { !heavy.contains($0) }.map(CaptureJob.catalog)
    }

    /// The count batches, biggest first.
    static func countJobs(tables: [CountableTable], maxTables: Int) -> [CaptureJob] {
        batches(tables, maxTables: maxTables).map(CaptureJob.count)
    }

    /// Every job in the order one connection alone would take them: the biggest count first,
    /// then the heaviest catalog queries, then the rest.
    static func jobs(tables: [CountableTable], maxTables: Int) -> [CaptureJob] {
        countJobs(tables: tables, maxTables: maxTables) + catalogJobs
    }

    let pool: ReaderPool
    let queue: JobQueue

    /// One connection (already in the snapshot's transaction): takes jobs until none is left.
    func work(on conn: PGConnection) throws -> CapturePart {
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
        _ = try pool.run(on: conn) {
            try $0.forEachRow(sql, timeout: pool.clientTimeout) { row in
                guard let i = row[0].flatMap({ Int($0) }), let n = row[1].flatMap({ Int64($0) }), batch.indices.contains(i) else { return }
                counts[batch[i].name] = n
            }
        }
    }

    /// One catalog query, its rows turned into objects as libpq hands them over.
    private func readCatalog(_ kind: ObjectKind, on conn: PGConnection) throws -> [String: ObjectProperties] {
        var byName: [String: ObjectProperties] = [:]
        _ = try pool.run(on: conn) {
            try $0.forEachRow(CatalogQueries.sql(for: kind), timeout: pool.clientTimeout) { row in
                guard let name = row[0] else { return }
                var properties: ObjectProperties = [:]
                for c in 1..<row.count where !row.isNullOrEmpty(c) {
                    properties[row.columns[c]] = row[c]
                }
                byName[name] = properties
            }
        }
        return byName
    }
}

/// The jobs still to do, taken one at a time by the connections. More can be queued until
/// `close()`; until then a connection that finds it empty waits (on its own thread).
final class JobQueue: @unchecked Sendable {
    private let condition = NSCondition()
    /// Next job last.
    private var jobs: [CaptureJob]
    private var closed = false

    init(_ jobs: [CaptureJob], closed: Bool = false) {
        self.jobs = jobs.reversed()
        self.closed = closed
    }

    /// Queues `more` ahead of the jobs already waiting, in their order.
    func addFirst(_ more: [CaptureJob]) {
        condition.withLock {
            jobs.append(contentsOf: more.reversed())
            condition.broadcast()
        }
    }

    /// No more jobs will come: once the queue is empty, `next()` returns nil.
    func close() {
        condition.withLock { closed = true; condition.broadcast() }
    }

    func next() -> CaptureJob? {
        condition.withLock {
            while jobs.isEmpty, !closed { condition.wait() }
            return jobs.popLast()
        }
    }
}
