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

/// Exact row counts over several connections that all read one exported snapshot.
///
/// Tables are grouped into batches that one statement counts (`SELECT i, count(*) FROM ONLY t
/// UNION ALL ...`), so a thousand small tables cost a handful of round trips; large tables get
/// a batch of their own, and workers take the next batch from a shared queue, which keeps them
/// evenly busy.
struct RowCounter {
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

    let pool: ReaderPool
    let snapshot: String

    /// Counts every table; returns name → count.
    func count(_ tables: [CountableTable]) async throws -> [String: Int64] {
        let queue = BatchQueue(Self.batches(tables, maxTables: pool.options.tablesPerBatch))
        let workers = min(pool.options.jobs, queue.count)
        guard workers > 0 else { return [:] }
        return try await withThrowingTaskGroup(of: [String: Int64].self) { group in
            for _ in 0..<workers {
                group.addTask { try await offloadBlocking { try self.work(queue) } }
            }
            var counts: [String: Int64] = [:]
            do {
                for try await part in group { counts.merge(part) { a, _ in a } }
            } catch {
                pool.cancelAll(interrupt: false)
                throw error
            }
            return counts
        }
    }

    /// One worker: its own connection on the shared snapshot, counting batches until none is left.
    private func work(_ queue: BatchQueue) throws -> [String: Int64] {
        let conn = try pool.open()
        defer { conn.close() }
        try pool.run(on: conn) { try $0.joinSnapshot(snapshot) }
        var counts: [String: Int64] = [:]
        while let batch = queue.next() {
            let sql = try batch.enumerated().map { i, t in
                "SELECT \(i), count(*) FROM ONLY \(try conn.quoteIdentifier(t.schema)).\(try conn.quoteIdentifier(t.table))"
            }.joined(separator: " UNION ALL ")
            let result = try pool.run(on: conn) { try $0.query(sql, timeout: pool.clientTimeout) }
            for row in result.rows {
                guard let i = row[0].flatMap({ Int($0) }), let n = row[1].flatMap({ Int64($0) }), batch.indices.contains(i) else { continue }
                counts[batch[i].name] = n
            }
        }
        try? conn.rollback()
        return counts
    }
}

/// The batches still to count, taken one at a time by the workers.
final class BatchQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var batches: [[CountableTable]]
    let count: Int

    init(_ batches: [[CountableTable]]) {
        self.batches = batches.reversed()
        count = batches.count
    }

    func next() -> [CountableTable]? { lock.withLock { batches.popLast() } }
}
