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

/// A user relation as the leader listed it: a table whose rows are counted, or another
/// relation (partitioned parent, view, materialized view, foreign table) whose columns,
/// indexes or triggers the relation-bound catalog queries report.
struct ListedRelation: Sendable {
    var oid: String
    var table: CountableTable
    var countable: Bool
}

/// One unit of a capture's work, done on any connection that shares the snapshot.
enum CaptureJob: Sendable {
    /// One catalog query, returning every object of a kind.
    case catalog(ObjectKind)
    /// One relation-bound catalog query, for the relations whose oids are listed.
    case catalogOf(ObjectKind, relations: [String])
    /// Exact counts of a batch of tables in one statement.
    case count([CountableTable])
}

/// What one connection found.
struct CapturePart: Sendable {
    var objects: [String: [String: ObjectProperties]] = [:]
    var counts: [String: Int64] = [:]
    /// Set by the leader.
    var server: ServerIdentity?

    /// Adds another connection's findings (objects of one kind may come from several).
    mutating func merge(_ other: CapturePart) {
        for (kind, byName) in other.objects { add(kind, byName) }
        counts.merge(other.counts) { a, _ in a }
        if server == nil { server = other.server }
    }

    mutating func add(_ kind: String, _ byName: [String: ObjectProperties]) {
        if let mine = objects[kind] {
            objects[kind] = mine.count >= byName.count ? mine.merging(byName) { a, _ in a } : byName.merging(mine) { a, _ in a }
        } else {
            objects[kind] = byName
        }
    }
}

/// Runs a capture's jobs over several connections that all read one exported snapshot.
///
/// The leader lists the relations and deals them out to the connections, balanced by
/// estimated work; each connection counts its tables and runs the relation-bound catalog
/// queries for its own relations, so the relations it opened to count are in its cache when
/// the catalog functions open them again. The other catalog queries are shared, and a
/// connection that runs out of work takes the last jobs of the busiest one.
///
/// Tables are grouped into batches that one statement counts (`SELECT i, count(*) FROM ONLY t
/// UNION ALL ...`), so a thousand small tables cost a handful of round trips; large tables get
/// a batch of their own.
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

    /// The catalog queries not bound to relations: queued before the relations are known.
    static var sharedCatalogJobs: [CaptureJob] {
        let shared = ObjectKind.allCases.filter { !CatalogQueries.relationBound.contains($0) }
        // The heaviest first.
        let order: [ObjectKind] = [.sequence, .view, .materializedView, .enum, .function, .domain]
        return (order + shared.filter { !order.contains($0) }).filter(shared.contains).map(CaptureJob.catalog)
    }

    /// Deals the relations out to `connections` connections, the most work first to whichever
    /// has the least so far, and returns each one's jobs: its count batches, biggest first,
    /// then its relation-bound catalog queries.
    static func assign(_ relations: [ListedRelation], connections: Int, maxTables: Int) -> [[CaptureJob]] {
        let n = max(1, connections)
        var load = [Int64](repeating: 0, count: n)
        var dealt = [[ListedRelation]](repeating: [], count: n)
        let byCost = relations.sorted { (cost(of: $0), $1.table.name) > (cost(of: $1), $0.table.name) }
        for relation in byCost {
            let k = load.indices.min { (load[$0], $0) < (load[$1], $1) }!
            dealt[k].append(relation)
            load[k] += cost(of: relation)
        }
        return dealt.map { mine in
            guard !mine.isEmpty else { return [] }
            let counts = batches(mine.filter(\.countable).map(\.table), maxTables: maxTables).map(CaptureJob.count)
            let oids = mine.map(\.oid)
            return counts + CatalogQueries.relationBound.map { CaptureJob.catalogOf($0, relations: oids) }
        }
    }

    /// A relation's estimated work: its catalog objects, and its rows when it has any.
    static func cost(of relation: ListedRelation) -> Int64 {
        perTableCost + (relation.countable ? max(0, relation.table.bytes) + perTableCost : 0)
    }

    let pool: ReaderPool
    let queue: JobQueue

    /// Connection `worker` (already in the snapshot's transaction): takes jobs until none is left.
    func work(as worker: Int, on conn: PGConnection) throws -> CapturePart {
        var part = CapturePart()
        while let job = queue.next(for: worker) {
            switch job {
            case .catalog(let kind):
                part.add(kind.rawValue, try readCatalog(kind, CatalogQueries.sql(for: kind), [], on: conn))
            case .catalogOf(let kind, let oids):
                let list = "{" + oids.joined(separator: ",") + "}"
                part.add(kind.rawValue, try readCatalog(kind, CatalogQueries.sql(for: kind, relationsIn: true), [list], on: conn))
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
    private func readCatalog(_ kind: ObjectKind, _ sql: String, _ parameters: [String?],
                             on conn: PGConnection) throws -> [String: ObjectProperties] {
        var byName: [String: ObjectProperties] = [:]
        _ = try pool.run(on: conn) {
            try $0.forEachRow(sql, parameters, timeout: pool.clientTimeout) { row in
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

/// The jobs still to do: each connection's own, and shared ones any connection takes. Until
/// `close()`, more can be dealt out and a connection that finds nothing to do waits (on its
/// own thread); once its own and the shared jobs are done, it takes the last jobs of the
/// connection with the most left.
final class JobQueue: @unchecked Sendable {
    private let condition = NSCondition()
    /// Next job last.
    private var shared: [CaptureJob]
    private var own: [[CaptureJob]]
    private var closed = false

    init(shared: [CaptureJob], connections: Int) {
        self.shared = shared.reversed()
        own = Array(repeating: [], count: max(1, connections))
    }

    /// Gives each connection its jobs (in the order it should take them).
    func deal(_ jobs: [[CaptureJob]]) {
        condition.withLock {
            for (k, list) in jobs.enumerated() where k < own.count { own[k].append(contentsOf: list.reversed()) }
            condition.broadcast()
        }
    }

    /// No more jobs will come: once everything is taken, `next(for:)` returns nil.
    func close() {
        condition.withLock { closed = true; condition.broadcast() }
    }

    func next(for worker: Int) -> CaptureJob? {
        condition.withLock {
            while true {
                if own.indices.contains(worker), let job = own[worker].popLast() { return job }
                if let job = shared.popLast() { return job }
                if closed {
                    // Help the connection with the most left, from the far end of its list.
                    guard let busiest = own.indices.max(by: { own[$0].count < own[$1].count }),
                          own[busiest].count > 1 else { return nil }
                    return own[busiest].removeFirst()
                }
                condition.wait()
            }
        }
    }
}
