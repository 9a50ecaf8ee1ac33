import DRCore
import DRPostgres
import Foundation

extension Manifest {
    /// Captures a manifest of the database `conninfo` names (a libpq conninfo string or URI;
    /// PG* variables, pgpass and service files apply).
    ///
    /// Everything is read from one consistent snapshot: a leader connection opens a REPEATABLE
    /// READ, READ ONLY transaction, exports its snapshot and keeps it open to the end, reading
    /// the catalog in it; `options.jobs` more connections, opened at the same time, count (and
    /// hash) the rows in batches, each batch in its own transaction on that snapshot, so no
    /// transaction holds more than a batch's locks (see `SnapshotWorkers`).
    /// `check` sees the server's identity before any row is read (and may refuse it).
    /// Cancelling the calling task cancels every running query (it throws `DRError.interrupted`).
    ///
    /// Throws `DRError` — `.badInput` when the database cannot be reached or read (the message
    /// never holds the password), `.timedOut` when a statement exceeds the statement timeout.
    public static func capture(conninfo: String, options: CaptureOptions = CaptureOptions(),
                               check: (@Sendable (ServerIdentity) throws -> Void)? = nil) async throws -> Manifest {
        let pool = ReaderPool(conninfo: conninfo, options: options)
        return try await withTaskCancellationHandler {
            try await ManifestCapture(pool: pool, check: check).run()
        } onCancel: {
            pool.cancelAll(interrupt: true)
        }
    }
}

/// One capture: the leader's snapshot, the workers that import it, and the job queue.
///
/// The connections are opened concurrently. The workers start as soon as the leader has
/// exported its snapshot and dealt out the relations; the leader then reads the shared
/// catalog queries in its own transaction, and keeps that transaction (the snapshot) open
/// until every worker is done.
private struct ManifestCapture {
    let pool: ReaderPool
    let check: (@Sendable (ServerIdentity) throws -> Void)?

    func run() async throws -> Manifest {
        let capturedAt = RFC3339.format(Date())
        let workerCount = max(1, pool.options.jobs)
        let queue = JobQueue(shared: SnapshotWorkers.sharedCatalogJobs, connections: workerCount + 1)
        let handoff = SnapshotHandoff()
        let workers = SnapshotWorkers(pool: pool, queue: queue)

        var whole = try await withThrowingTaskGroup(of: CapturePart.self) { group in
            group.addTask { try await offloadBlocking { try lead(workers, handoff, workers: workerCount) } }
            for k in 1...workerCount {
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
        var objects = whole.takeObjectsByName()
        ReturnFreeMemory.now()
        if !pool.options.allRoles { objects[ObjectKind.role.rawValue] = RoleReferences.keepNamed(objects) }
        var contents: Manifest.Contents?
        if pool.options.content == .checksum {
            let excluded = whole.counts.keys.filter { whole.checksums[$0] == nil }.sorted()
            contents = Manifest.Contents(checksums: whole.checksums, excluded: excluded)
        }
        return Manifest(capturedAt: capturedAt, server: server, objects: objects, rowCounts: whole.counts, contents: contents)
    }

    /// The leader (connection 0): exports the snapshot, deals out the relations, reads the
    /// shared catalog, and holds the snapshot until the workers are done.
    private func lead(_ workers: SnapshotWorkers, _ handoff: SnapshotHandoff, workers count: Int) throws -> CapturePart {
        do {
            let leader = try pool.open()
            defer { leader.close() }
            let server = try identity(of: leader)
            try check?(server)
            let snapshot = try pool.run(on: leader) { try $0.beginExportedSnapshot() }
            var relations = try pool.run(on: leader) { try listRelations(on: $0) }
            try markHashed(&relations, target: leader.target)
            workers.queue.deal([[]] + SnapshotWorkers.assign(relations, workers: count, maxTables: pool.options.tablesPerBatch,
                                                             maxLocks: pool.options.locksPerBatch))
            workers.queue.close()
            handoff.publish(snapshot)
            var part = try workers.lead(on: leader)
            part.server = server
            // The exported snapshot lives only as long as this transaction: every batch
            // imports it anew, so keep it open until every worker is done (or has given up).
            handoff.waitForWorkers(count)
            try? leader.rollback()
            return part
        } catch {
            // Release the workers: they stop, and this error is the one reported.
            handoff.fail()
            workers.queue.close()
            throw error
        }
    }

    /// Worker `k`: connects while the leader does, then works through its jobs on the leader's snapshot.
    private func help(_ k: Int, _ workers: SnapshotWorkers, _ handoff: SnapshotHandoff) throws -> CapturePart {
        defer { handoff.workerDone() }
        let conn = try pool.open()
        defer { conn.close() }
        guard let snapshot = handoff.wait() else { return CapturePart() }
        return try workers.work(as: k, on: conn, snapshot: snapshot, parallelWorkers: pool.serverParallelWorkers)
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
            guard let oid = row[0], let name = row[1], let schema = row[2], let table = row[3], let kind = row[5]?.first else { return }
            relations.append(ListedRelation(
                oid: oid, table: CountableTable(name: name, schema: schema, table: table, bytes: Int64(row[4] ?? "0") ?? 0),
                kind: kind, indexes: Int(row[6] ?? "0") ?? 0, toasted: row[7] == "t", parent: row[8]))
        }
        return relations
    }

    /// With contents, marks the tables whose rows are hashed: every table but the excluded
    /// ones and their partitions. An exclusion that names no table is refused (a typo would
    /// otherwise hash, or leave out, the wrong table).
    private func markHashed(_ relations: inout [ListedRelation], target: String) throws {
        guard pool.options.content == .checksum else { return }
        let wanted = Set(pool.options.excludeContent)
        var excluded = Set<String>()
        var matched = Set<TableName>()
        for r in relations where r.kind == "r" || r.kind == "p" {
            let name = TableName(schema: r.table.schema, table: r.table.table)
            if wanted.contains(name) { excluded.insert(r.oid); matched.insert(name) }
        }
        if let unmatched = pool.options.excludeContent.first(where: { !matched.contains($0) }) {
            throw DRError(.invalidParameter, "\(param: .excludeContent) \(unmatched) names no table of \(target). Give an existing table as schema.table (names that need quotes in SQL need them here too).")
        }
        // Partitions of an excluded table, at any depth.
        let parentOf = Dictionary(relations.compactMap { r in r.parent.map { (r.oid, $0) } }, uniquingKeysWith: { a, _ in a })
        func isExcluded(_ oid: String, depth: Int = 0) -> Bool {
            if excluded.contains(oid) { return true }
            guard depth < 64, let parent = parentOf[oid] else { return false }
            return isExcluded(parent, depth: depth + 1)
        }
        for i in relations.indices where relations[i].countable {
            relations[i].hashed = !isExcluded(relations[i].oid) && !pool.options.skipContent.contains(relations[i].table.name)
        }
    }
}

/// Gives the pages of freed memory back to the system. The capture's connections allocate on
/// threads of their own, and glibc keeps what each thread frees in that thread's arena for
/// later use; between the phases of a verification (reading the reference, capturing, comparing)
/// that memory is not needed again, yet it counted for ~20 MB of the peak at 10,000 tables.
enum ReturnFreeMemory {
    /// glibc's `malloc_trim` (declared in <malloc.h>, which the Glibc module leaves out).
    private static let trim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    static func now() {
        _ = trim?(0)
    }
}

/// Hands the leader's snapshot id to the workers, who wait for it (on their own threads), and
/// tells the leader when they are done with it.
final class SnapshotHandoff: @unchecked Sendable {
    // @unchecked: every field is read and written under `condition`'s lock.
    private let condition = NSCondition()
    private var id: String?
    private var failed = false
    private var done = 0

    func publish(_ snapshot: String) {
        condition.withLock { id = snapshot; condition.broadcast() }
    }

    /// The leader could not export a snapshot: waiting workers give up.
    func fail() {
        condition.withLock { failed = true; condition.broadcast() }
    }

    /// A worker is done with the snapshot (finished, failed or gave up).
    func workerDone() {
        condition.withLock { done += 1; condition.broadcast() }
    }

    /// Waits until `count` workers are done with the snapshot.
    func waitForWorkers(_ count: Int) {
        condition.withLock { while done < count { condition.wait() } }
    }

    /// The snapshot id, or nil once the leader has failed.
    func wait() -> String? {
        condition.withLock {
            while id == nil, !failed { condition.wait() }
            return failed ? nil : id
        }
    }
}

/// The roles a manifest's objects name: owners, grantees, policy roles, default privileges'
/// roles. The capture keeps the role objects (memberships) of those only.
enum RoleReferences {
    static func keepNamed(_ objects: [String: [String: ObjectProperties]]) -> [String: ObjectProperties] {
        // Thousands of objects share an owner and an ACL: read each distinct text once.
        var owners = Set<String>(), acls = Set<String>(), lists = Set<String>()
        for (kind, byName) in objects where kind != ObjectKind.role.rawValue {
            let isPolicy = kind == ObjectKind.policy.rawValue
            for properties in byName.values {
                properties.forEachField { key, value in
                    if key.elementsEqual("owner".utf8) || key.elementsEqual("role".utf8) {
                        owners.insert(String(decoding: value, as: UTF8.self))
                    } else if key.elementsEqual("acl".utf8) || key.elementsEqual("privileges".utf8) {
                        acls.insert(String(decoding: value, as: UTF8.self))
                    } else if isPolicy && key.elementsEqual("roles".utf8) {
                        lists.insert(String(decoding: value, as: UTF8.self))
                    }
                }
            }
        }
        var named = owners
        for acl in acls { named.formUnion(grantees(acl)) }
        for list in lists { named.formUnion(listed(list)) }
        return (objects[ObjectKind.role.rawValue] ?? [:]).filter { named.contains($0.key) }
    }

    /// The roles of a list (`a, "B c" WITH ADMIN OPTION`), as quoted.
    static func listed(_ list: String) -> [String] {
        var out: [String] = []
        var rest = list[...]
        while let t = RoleMapping.token(rest) {
            out.append(String(rest[rest.startIndex..<t.rest.startIndex]))
            guard let end = t.rest.range(of: ", ") else { break }
            rest = t.rest[end.upperBound...]
        }
        return out
    }

    /// The grantees of an ACL's text (`grantee: PRIVILEGE, ...; ...`), as quoted.
    static func grantees(_ acl: String) -> [String] {
        var out: [String] = []
        var rest = acl[...]
        while let t = RoleMapping.token(rest), t.rest.hasPrefix(": ") {
            out.append(String(rest[rest.startIndex..<t.rest.startIndex]))
            guard let end = t.rest.range(of: "; ") else { break }
            rest = t.rest[end.upperBound...]
        }
        return out
    }
}
