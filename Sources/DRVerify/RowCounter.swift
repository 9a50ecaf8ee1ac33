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

/// A user relation as the leader listed it: a table whose rows are counted, another relation
/// (partitioned parent, view, materialized view, foreign table) whose columns, indexes or
/// triggers the relation-bound catalog queries report, or a sequence.
struct ListedRelation: Sendable {
    var oid: String
    var table: CountableTable
    /// `pg_class.relkind`.
    var kind: Character
    /// Indexes the planner opens (and locks) to count the table.
    var indexes: Int = 0
    /// Has a TOAST table (which hashing its rows opens, with its index).
    var toasted: Bool = false
    /// A partition's parent (oid).
    var parent: String?
    /// Its rows are hashed (contents requested, not excluded).
    var hashed: Bool = false

    var countable: Bool { kind == "r" }
    var isSequence: Bool { kind == "S" }

    /// Relations one batch's transaction locks to count (and hash) this one.
    var locks: Int { 1 + (countable ? indexes + (hashed && toasted ? 2 : 0) : 0) }
}

/// Work done in one transaction of its own, on the shared snapshot: counting (and hashing) some
/// tables and reading some sequences — the work that takes locks.
struct Batch: Sendable {
    var tables: [ListedRelation] = []
    var sequences: [String] = []
    /// Let each statement use the server's parallel workers (one table too big to share out).
    var parallel = false
}

/// One unit of a capture's work, done on any connection that shares the snapshot.
enum CaptureJob: Sendable {
    /// One catalog query, returning every object of a kind.
    case catalog(ObjectKind)
    /// One relation-bound catalog query, for the relations whose oids are listed.
    case catalogOf(ObjectKind, relations: [String])
    /// A batch, in its own transaction.
    case batch(Batch)

    /// Takes no lock on user relations, so it may run in the snapshot's exporting transaction.
    var lockFree: Bool {
        if case .batch = self { return false }
        return true
    }
}

/// What one connection found. Objects are kept as lists while the connections work and made
/// into one dictionary per kind at the end (`objectsByName`), on one thread: building and
/// merging a dictionary per connection and query left the allocator's per-thread arenas
/// fragmented, about 10 MB at 10,000 tables.
struct CapturePart: Sendable {
    var objects: [String: [(String, ObjectProperties)]] = [:]
    var counts: [String: Int64] = [:]
    var checksums: [String: ContentChecksum] = [:]
    /// Set by the leader.
    var server: ServerIdentity?

    /// Adds another connection's findings (objects of one kind may come from several).
    mutating func merge(_ other: CapturePart) {
        for (kind, list) in other.objects { objects[kind, default: []].append(contentsOf: list) }
        counts.merge(other.counts) { a, _ in a }
        checksums.merge(other.checksums) { a, _ in a }
        if server == nil { server = other.server }
    }

    mutating func add(_ kind: String, _ list: [(String, ObjectProperties)]) {
        objects[kind, default: []].append(contentsOf: list)
    }

    /// Object kind → name → properties, every kind present; each kind's list is let go as soon
    /// as its dictionary is made.
    mutating func takeObjectsByName() -> [String: [String: ObjectProperties]] {
        var out: [String: [String: ObjectProperties]] = [:]
        for kind in ObjectKind.allCases {
            let list = objects.removeValue(forKey: kind.rawValue) ?? []
            var byName = [String: ObjectProperties](minimumCapacity: list.count)
            for (name, properties) in list where byName[name] == nil { byName[name] = properties }
            out[kind.rawValue] = byName
        }
        return out
    }
}

/// Runs a capture's jobs over several connections that all read one exported snapshot.
///
/// The leader lists the relations and deals them out to the workers, balanced by estimated
/// work; each worker counts its tables (and hashes their rows) in batches, every batch in a
/// transaction of its own that imports the snapshot, so that its locks are released when it
/// ends; it also runs the relation-bound catalog queries for its own relations, so the
/// relations it opened to count are in its cache when the catalog functions open them again.
/// The other catalog queries take no locks and are shared: the leader runs them in the
/// exporting transaction while the workers count. A connection that runs out of work takes the
/// last jobs of the busiest one.
///
/// Tables are grouped into batches that one statement counts (`SELECT i, count(*) FROM ONLY t
/// UNION ALL ...`), so a thousand small tables cost a handful of round trips; large tables get
/// a batch of their own, and a table too big to share out (more work than a worker's even
/// share) is counted with the server's parallel workers.
struct SnapshotWorkers {
    /// A batch closes once it holds `maxTables` tables, `maxLocks` locks, or this much
    /// estimated work: a table's bytes plus `perTableCost` for opening and planning it (on a
    /// cold connection that costs about as much as scanning 64 kB). Small enough that the
    /// biggest batches spread over the connections rather than leaving one counting while the
    /// others wait.
    static let maxCostPerBatch: Int64 = 16 << 20
    static let perTableCost: Int64 = 64 << 10

    static func batches(_ relations: [ListedRelation], maxTables: Int, maxLocks: Int) -> [Batch] {
        var batches: [Batch] = []
        var current = Batch()
        var cost: Int64 = 0, locks = 0
        func close() {
            if !current.tables.isEmpty || !current.sequences.isEmpty { batches.append(current) }
            current = Batch()
            cost = 0
            locks = 0
        }
        // Largest first, so the long counts start early and small batches fill in behind.
        let tables = relations.filter(\.countable).sorted { ($0.table.bytes, $1.table.name) > ($1.table.bytes, $0.table.name) }
        for table in tables {
            let tableCost = max(0, table.table.bytes) * (table.hashed ? 4 : 1) + perTableCost
            if !current.tables.isEmpty,
               current.tables.count >= max(1, maxTables) || cost + tableCost > maxCostPerBatch || locks + table.locks > maxLocks {
                close()
            }
            current.tables.append(table)
            cost += tableCost
            locks += table.locks
        }
        for sequence in relations.filter(\.isSequence) {
            if locks + 1 > maxLocks { close() }
            current.sequences.append(sequence.oid)
            locks += 1
        }
        close()
        return batches
    }

    /// The catalog queries not bound to relations: queued before the relations are known.
    static var sharedCatalogJobs: [CaptureJob] {
        let shared = ObjectKind.allCases.filter { !CatalogQueries.relationBound.contains($0) && $0 != CatalogQueries.batched }
        // The heaviest first.
        let order: [ObjectKind] = [.view, .materializedView, .enum, .function, .domain]
        return (order + shared.filter { !order.contains($0) }).filter(shared.contains).map(CaptureJob.catalog)
    }

    /// Deals the relations out to `workers` connections, the most work first to whichever has
    /// the least so far, and returns each one's jobs: its batches, biggest first, then its
    /// relation-bound catalog queries. A table whose work exceeds an even share is counted
    /// with parallel workers.
    static func assign(_ relations: [ListedRelation], workers: Int, maxTables: Int, maxLocks: Int) -> [[CaptureJob]] {
        let n = max(1, workers)
        var load = [Int64](repeating: 0, count: n)
        var dealt = [[ListedRelation]](repeating: [], count: n)
        let byCost = relations.sorted { (cost(of: $0), $1.table.name) > (cost(of: $1), $0.table.name) }
        let share = relations.reduce(Int64(0)) { $0 + cost(of: $1) } / Int64(n)
        for relation in byCost {
            let k = load.indices.min { (load[$0], $0) < (load[$1], $1) }!
            dealt[k].append(relation)
            load[k] += cost(of: relation)
        }
        return dealt.map { mine in
            guard !mine.isEmpty else { return [] }
            let jobs = batches(mine, maxTables: maxTables, maxLocks: maxLocks).map { batch -> CaptureJob in
                var batch = batch
                batch.parallel = n > 1 && batch.tables.count == 1 && cost(of: batch.tables[0]) > share
                return .batch(batch)
            }
            let oids = mine.filter { !$0.isSequence }.map(\.oid)
            return jobs + (oids.isEmpty ? [] : CatalogQueries.relationBound.map { CaptureJob.catalogOf($0, relations: oids) })
        }
    }

    /// A relation's estimated work: its catalog objects, and its rows when it has any.
    static func cost(of relation: ListedRelation) -> Int64 {
        perTableCost + (relation.countable ? max(0, relation.table.bytes) * (relation.hashed ? 4 : 1) + perTableCost : 0)
    }

    let pool: ReaderPool
    let queue: JobQueue

    /// The leader (in the exporting transaction): takes the lock-free jobs until none is left.
    func lead(on conn: PGConnection) throws -> CapturePart {
        var part = CapturePart()
        while let job = queue.next(for: 0, lockFree: true) {
            try run(job, on: conn, into: &part)
        }
        return part
    }

    /// Worker `worker`: takes jobs until none is left, each in a transaction of its own on the
    /// snapshot `snapshot`. With `parallelWorkers`, a batch marked parallel may use that many.
    func work(as worker: Int, on conn: PGConnection, snapshot: String, parallelWorkers: Int) throws -> CapturePart {
        var part = CapturePart()
        var inTransaction = false
        defer { if inTransaction { try? conn.rollback() } }
        while let job = queue.next(for: worker, lockFree: false) {
            var parallel: Int?, jit = true
            if case .batch(let batch) = job {
                if pool.options.jobs > 1 { parallel = batch.parallel ? parallelWorkers : 0 }
                // A count has no expression worth compiling, yet on a table big enough to pass
                // `jit_above_cost` the server compiles it in the backend and in each parallel
                // worker (~40 ms each, 5-10 % of a 20 M-row count on 2 cores). Hashing keeps JIT:
                // it evaluates the row-hash chain ~15 % faster on such a table.
                jit = batch.tables.contains(where: \.hashed)
            }
            try pool.run(on: conn) { c in
                if inTransaction { try c.nextImportedSnapshot(snapshot, parallelWorkers: parallel, jit: jit) }
                else { try c.beginImportedSnapshot(snapshot, parallelWorkers: parallel, jit: jit) }
            }
            inTransaction = true
            try run(job, on: conn, into: &part)
        }
        return part
    }

    private func run(_ job: CaptureJob, on conn: PGConnection, into part: inout CapturePart) throws {
        switch job {
        case .catalog(let kind):
            part.add(kind.rawValue, try readCatalog(CatalogQueries.sql(for: kind), [], on: conn))
        case .catalogOf(let kind, let oids):
            part.add(kind.rawValue, try readCatalog(CatalogQueries.sql(for: kind, relationsIn: true), [Self.oidArray(oids)], on: conn))
        case .batch(let batch):
            try count(batch.tables, on: conn, into: &part)
            if !batch.sequences.isEmpty {
                let kind = CatalogQueries.batched
                part.add(kind.rawValue, try readCatalog(CatalogQueries.sql(for: kind, relationsIn: true),
                                                        [Self.oidArray(batch.sequences)], on: conn))
            }
        }
    }

    static func oidArray(_ oids: [String]) -> String { "{" + oids.joined(separator: ",") + "}" }

    /// Counts a batch's tables in one statement, hashing the rows of those that are hashed.
    /// A table whose heap has no block holds no row: it is known empty without a count (whose
    /// planning, which opens every index, costs far more than looking at the size).
    private func count(_ all: [ListedRelation], on conn: PGConnection, into part: inout CapturePart) throws {
        guard !all.isEmpty else { return }
        var empty = Set<String>()
        _ = try pool.run(on: conn) {
            try $0.forEachRow(CatalogQueries.emptyTables, [Self.oidArray(all.map(\.oid))], timeout: pool.clientTimeout) { row in
                if let oid = row[0] { empty.insert(oid) }
            }
        }
        for t in all where empty.contains(t.oid) {
            part.counts[t.table.name] = 0
            if t.hashed { part.checksums[t.table.name] = "0" }
        }
        let tables = all.filter { !empty.contains($0.oid) }
        guard !tables.isEmpty else { return }
        let hashed = tables.filter(\.hashed)
        var columns: [String: [RowHash.Column]] = [:]
        if !hashed.isEmpty {
            _ = try pool.run(on: conn) {
                try $0.forEachRow(CatalogQueries.hashColumns, [Self.oidArray(hashed.map(\.oid))], timeout: pool.clientTimeout) { row in
                    guard let rel = row[0], let name = row[1], let type = row[3].flatMap({ UInt32($0) }) else { return }
                    columns[rel, default: []].append(RowHash.Column(name: name, notNull: row[2] == "t", typeOID: type,
                                                                    category: row[4]?.first ?? "X", typtype: row[5]?.first ?? "b"))
                }
            }
        }
        let sql = try tables.enumerated().map { i, t in
            let from = "FROM ONLY \(try conn.quoteIdentifier(t.table.schema)).\(try conn.quoteIdentifier(t.table.table))"
            guard t.hashed else { return "SELECT \(i), count(*), NULL::text \(from)" }
            let hash = try RowHash.expression(columns[t.oid] ?? [], quote: conn.quoteIdentifier)
            return "SELECT \(i), count(*), coalesce(sum(\(hash)), 0)::text \(from)"
        }.joined(separator: " UNION ALL ")
        _ = try pool.run(on: conn) {
            try $0.forEachRow(sql, timeout: pool.clientTimeout) { row in
                guard let i = row[0].flatMap({ Int($0) }), let n = row[1].flatMap({ Int64($0) }), tables.indices.contains(i) else { return }
                part.counts[tables[i].table.name] = n
                if let sum = row[2] { part.checksums[tables[i].table.name] = sum }
            }
        }
    }

    /// One catalog query, its rows turned into objects as libpq hands them over.
    private func readCatalog(_ sql: String, _ parameters: [String?], on conn: PGConnection) throws -> [(String, ObjectProperties)] {
        var objects: [(String, ObjectProperties)] = []
        var order: [Int]?
        var pairs: [(String, String)] = []
        _ = try pool.run(on: conn) {
            try $0.forEachRow(sql, parameters, timeout: pool.clientTimeout) { row in
                guard let name = row[0] else { return }
                // The property columns in byte order of their names, worked out once per query.
                let columns = order ?? (1..<row.count).sorted { Array(row.columns[$0].utf8).lexicographicallyPrecedes(Array(row.columns[$1].utf8)) }
                order = columns
                pairs.removeAll(keepingCapacity: true)
                for c in columns where !row.isNullOrEmpty(c) { pairs.append((row.columns[c], row[c] ?? "")) }
                objects.append((name, ObjectProperties(sortedPairs: pairs)))
            }
        }
        return objects
    }
}

/// The jobs still to do: each connection's own, and shared ones any connection takes. Until
/// `close()`, more can be dealt out and a connection that finds nothing to do waits (on its
/// own thread); once its own and the shared jobs are done, it takes the last jobs of the
/// connection with the most left. Connection 0 is the leader, which takes lock-free jobs only.
final class JobQueue: @unchecked Sendable {
    // @unchecked: every field is read and written under `condition`'s lock.
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

    /// The next job for connection `worker`; with `lockFree`, only jobs that take no locks.
    func next(for worker: Int, lockFree: Bool) -> CaptureJob? {
        condition.withLock {
            while true {
                if own.indices.contains(worker), let job = own[worker].popLast() { return job }
                if let job = shared.popLast() { return job }
                if closed {
                    // Help the connection with the most left, from the far end of its list.
                    let candidates = own.indices.filter { k in k != worker && own[k].count > 1 && (!lockFree || own[k].contains(where: \.lockFree)) }
                    guard let busiest = candidates.max(by: { own[$0].count < own[$1].count }) else { return nil }
                    let index = lockFree ? own[busiest].firstIndex(where: \.lockFree)! : 0
                    return own[busiest].remove(at: index)
                }
                condition.wait()
            }
        }
    }
}
