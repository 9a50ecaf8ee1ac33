import DRCore
import DRPostgres
import Foundation

/// Names where a table's contents differ from a live source's: splits the table by its key
/// (primary key, else the narrowest unique key of NOT NULL columns, no expressions, no
/// predicate) into ranges, compares the ranges' checksums (count and sum of `RowHash`) on both
/// sides, and splits the differing ones again, until each holds few enough rows to compare row
/// by row — so it names the rows that are missing, unexpected or changed, or, when the query
/// budget runs out first, the smallest differing ranges.
///
/// Each level costs three queries (the boundaries, from the side with more rows, then the
/// ranges' checksums on both sides at once) and splits every suspect range `fanout` ways; the
/// last costs two (the rows of both sides). A million-row table takes three levels, 11
/// queries; the budget is `maxQueries` per table. Key values travel as text and come back as
/// bound parameters cast to the key's types; text keys are ordered and compared in the "C"
/// collation on both sides, so the two servers' collations do not matter.
struct RangeNarrowing {
    let source: ReaderPool
    let target: ReaderPool
    /// The most ranges (or rows) named per table; more are counted in the finding's detail.
    var maxRanges: Int
    var fanout = 64
    /// A range of at most this many rows (on both sides) is compared row by row.
    var rowLimit = 64
    var maxQueries = 20

    /// What the narrowing found for one table.
    struct Result: Equatable {
        var ranges: [KeyRange] = []
        var detail: String?
        var queries = 0
    }

    /// Narrows each table (as quoted by the server: `schema.table`) in its own transactions.
    func narrow(_ tables: [String]) async throws -> [String: Result] {
        guard !tables.isEmpty else { return [:] }
        async let s = offloadBlocking { try source.open() }
        async let t = offloadBlocking { try target.open() }
        let (sourceConn, targetConn) = try await (s, t)
        defer { sourceConn.close(); targetConn.close() }
        var results: [String: Result] = [:]
        for table in tables {
            try Task.checkCancellation()
            do {
                results[table] = try await narrow(table, sourceConn, targetConn)
            } catch let error as DRError where error.category != .interrupted && error.category != .timedOut {
                results[table] = Result(detail: "the differing key ranges could not be named: \(error.message)")
            }
            try? await both({ try $0.rollback() }, sourceConn, targetConn)
        }
        return results
    }

    /// The key both sides are split by.
    struct Key {
        var columns: [String]
        var types: [String]
        var collatable: [Bool]

        /// The key as one comparable expression (a row for several columns).
        var expression: String {
            let parts = zip(columns, collatable).map { $1 ? "\($0) COLLATE pg_catalog.\"C\"" : $0 }
            return parts.count == 1 ? parts[0] : "ROW(" + parts.joined(separator: ", ") + ")"
        }
        var ordering: String {
            zip(columns, collatable).map { $1 ? "\($0) COLLATE pg_catalog.\"C\"" : $0 }.joined(separator: ", ")
        }
        var asText: String { columns.map { "\($0)::text" }.joined(separator: ", ") }

        /// A key value as bound parameters, appended to `parameters`.
        func value(_ v: [String], _ parameters: inout [String?]) -> String {
            let parts = zip(v, types).map { value, type -> String in
                parameters.append(value)
                return "$\(parameters.count)::\(type)"
            }
            return parts.count == 1 ? parts[0] : "ROW(" + parts.joined(separator: ", ") + ")"
        }
    }

    /// A range of keys and what each side holds in it.
    struct Range {
        var from: [String]?
        var before: [String]?
        var expected = Tally(), found = Tally()

        func predicate(_ key: Key, _ parameters: inout [String?]) -> String {
            var clauses: [String] = []
            if let from { clauses.append("\(key.expression) >= \(key.value(from, &parameters))") }
            if let before { clauses.append("\(key.expression) < \(key.value(before, &parameters))") }
            return clauses.isEmpty ? "true" : clauses.joined(separator: " AND ")
        }
    }

    struct Tally: Equatable {
        var rows: Int64 = 0
        var sum = "0"
    }

    private func narrow(_ table: String, _ sourceConn: PGConnection, _ targetConn: PGConnection) async throws -> Result {
        try await both({ try $0.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY") }, sourceConn, targetConn)
        var result = Result()
        guard let key = try await offloadBlocking({ try self.key(of: table, on: sourceConn) }) else {
            result.detail = "it has no primary key or unique key of NOT NULL columns, so the differing rows cannot be named by key range"
            return result
        }
        async let sh = offloadBlocking { try rowHash(table, on: sourceConn, source) }
        async let th = offloadBlocking { try rowHash(table, on: targetConn, target) }
        let (sourceHash, targetHash) = try await (sh, th)
        let whole = try await tallies(table, key, [(Range(), [])], sourceConn, sourceHash, targetConn, targetHash)
        result.queries += 2
        var suspects = whole.filter { $0.expected != $0.found }
        var named: [KeyRange] = []
        var more = 0
        while !suspects.isEmpty {
            let small = suspects.filter { max($0.expected.rows, $0.found.rows) <= Int64(rowLimit) }
            var big = suspects.filter { max($0.expected.rows, $0.found.rows) > Int64(rowLimit) }
            if !small.isEmpty, result.queries + 2 <= maxQueries {
                named += try await rows(table, key, small, sourceConn, sourceHash, targetConn, targetHash)
                result.queries += 2
            } else {
                big += small
            }
            guard !big.isEmpty else { break }
            guard result.queries + 3 + 2 <= maxQueries else {
                named += big.map { KeyRange(kind: .range, key: key.columns, from: $0.from, before: $0.before,
                                             expectedRows: $0.expected.rows, foundRows: $0.found.rows) }
                break
            }
            if big.count > maxRanges { more += big.count - maxRanges; big = Array(big.prefix(maxRanges)) }
            let split = try await boundaries(table, key, big, sourceConn, targetConn)
            result.queries += 1
            suspects = try await tallies(table, key, split, sourceConn, sourceHash, targetConn, targetHash)
                .filter { $0.expected != $0.found }
            result.queries += 2
        }
        if named.count > maxRanges { more += named.count - maxRanges; named = Array(named.prefix(maxRanges)) }
        result.ranges = named
        if more > 0 { result.detail = "\(more) more differing range\(more == 1 ? "" : "s") or row\(more == 1 ? "" : "s") not listed" }
        return result
    }

    /// Runs `body` on both connections at once.
    private func both(_ body: @escaping @Sendable (PGConnection) throws -> Void, _ a: PGConnection, _ b: PGConnection) async throws {
        async let x: Void = offloadBlocking { try source.run(on: a, body) }
        async let y: Void = offloadBlocking { try target.run(on: b, body) }
        _ = try await (x, y)
    }

    /// The table's primary key, else its narrowest unique key of NOT NULL plain columns.
    private func key(of table: String, on conn: PGConnection) throws -> Key? {
        let sql = """
            SELECT i.indexrelid::text, quote_ident(a.attname), pg_catalog.format_type(a.atttypid, a.atttypmod),
                   a.attcollation <> 0, a.attnotnull
            FROM pg_catalog.pg_index i
            CROSS JOIN LATERAL unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY k(attnum, ord)
            JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = pg_catalog.to_regclass($1) AND i.indisunique AND i.indisvalid
              AND i.indexprs IS NULL AND i.indpred IS NULL
            ORDER BY i.indisprimary DESC, i.indnkeyatts, i.indexrelid, k.ord
            """
        var keys: [(index: String, key: Key, notNull: Bool)] = []
        _ = try source.run(on: conn) {
            try $0.forEachRow(sql, [table], timeout: source.clientTimeout) { row in
                guard let index = row[0], let column = row[1], let type = row[2] else { return }
                if keys.last?.index != index { keys.append((index, Key(columns: [], types: [], collatable: []), true)) }
                keys[keys.count - 1].key.columns.append(column)
                keys[keys.count - 1].key.types.append(type)
                keys[keys.count - 1].key.collatable.append(row[3] == "t")
                if row[4] != "t" { keys[keys.count - 1].notNull = false }
            }
        }
        return keys.first { $0.notNull }?.key
    }

    /// The row hash of `table` on one side, from that side's own columns.
    private func rowHash(_ table: String, on conn: PGConnection, _ pool: ReaderPool) throws -> String {
        var columns: [RowHash.Column] = []
        let sql = CatalogQueries.hashColumnsOfNamed
        _ = try pool.run(on: conn) {
            try $0.forEachRow(sql, [table], timeout: pool.clientTimeout) { row in
                guard let name = row[1], let type = row[3].flatMap({ UInt32($0) }) else { return }
                columns.append(RowHash.Column(name: name, notNull: row[2] == "t", typeOID: type,
                                              category: row[4]?.first ?? "X", typtype: row[5]?.first ?? "b"))
            }
        }
        return try RowHash.expression(columns, quote: conn.quoteIdentifier)
    }

    /// Splits each range (with the side that holds more of its rows) into about `fanout`
    /// ranges of equal row counts: every (n / fanout)-th key is a boundary.
    private func boundaries(_ table: String, _ key: Key, _ ranges: [Range],
                            _ sourceConn: PGConnection, _ targetConn: PGConnection) async throws -> [(Range, [[String]])] {
        // One query, on the side holding more rows overall.
        let useTarget = ranges.reduce(Int64(0)) { $0 + $1.found.rows - $1.expected.rows } > 0
        var parameters: [String?] = []
        let branches = ranges.enumerated().map { r, range -> String in
            let n = max(range.expected.rows, range.found.rows)
            let step = max(1, (n + Int64(fanout) - 1) / Int64(fanout))
            return """
                SELECT \(r) AS r, rn, \(key.columns.indices.map { "k\($0)" }.joined(separator: ", ")) FROM (
                  SELECT \(key.columns.enumerated().map { "\($1)::text AS k\($0)" }.joined(separator: ", ")),
                         row_number() OVER (ORDER BY \(key.ordering)) AS rn
                  FROM ONLY \(table) WHERE \(range.predicate(key, &parameters))) s
                WHERE rn > 1 AND (rn - 1) % \(step) = 0
                """
        }
        let sql = branches.joined(separator: "\nUNION ALL\n")
        let conn = useTarget ? targetConn : sourceConn, pool = useTarget ? target : source
        let params = parameters
        let rows = try await offloadBlocking { () -> [[String?]] in
            try pool.run(on: conn) { try $0.query(sql, params, timeout: pool.clientTimeout).rows }
        }
        var cuts = [[[String]]](repeating: [], count: ranges.count)
        for row in rows.sorted(by: { (Int($0[0] ?? "") ?? 0, Int($0[1] ?? "") ?? 0) < (Int($1[0] ?? "") ?? 0, Int($1[1] ?? "") ?? 0) }) {
            guard let r = row[0].flatMap({ Int($0) }), cuts.indices.contains(r) else { continue }
            cuts[r].append(row.dropFirst(2).map { $0 ?? "" })
        }
        return zip(ranges, cuts).map { ($0, $1) }
    }

    /// The tallies of every sub-range of `split` (each range cut at its boundaries), both sides.
    private func tallies(_ table: String, _ key: Key, _ split: [(Range, [[String]])],
                         _ sourceConn: PGConnection, _ sourceHash: String,
                         _ targetConn: PGConnection, _ targetHash: String) async throws -> [Range] {
        var subranges: [Range] = []
        for (range, cuts) in split {
            let edges: [[String]?] = [range.from] + cuts.map { Optional($0) } + [range.before]
            for i in 0..<(edges.count - 1) { subranges.append(Range(from: edges[i], before: edges[i + 1])) }
        }
        func query(_ hash: String) -> (String, [String?]) {
            var parameters: [String?] = []
            var offset = 0
            let branches = split.map { range, cuts -> String in
                let bucket = bucketExpression(key, cuts, 0, cuts.count, &parameters)
                let branch = """
                    SELECT \(offset) + \(bucket) AS b, count(*), coalesce(sum(\(hash)), 0)::text
                    FROM ONLY \(table) WHERE \(range.predicate(key, &parameters)) GROUP BY 1
                    """
                offset += cuts.count + 1
                return branch
            }
            return (branches.joined(separator: "\nUNION ALL\n"), parameters)
        }
        let (sourceSQL, sourceParams) = query(sourceHash), (targetSQL, targetParams) = query(targetHash)
        async let s = offloadBlocking { try source.run(on: sourceConn) { try $0.query(sourceSQL, sourceParams, timeout: source.clientTimeout).rows } }
        async let t = offloadBlocking { try target.run(on: targetConn) { try $0.query(targetSQL, targetParams, timeout: target.clientTimeout).rows } }
        let (sourceRows, targetRows) = try await (s, t)
        for row in sourceRows {
            guard let b = row[0].flatMap({ Int($0) }), subranges.indices.contains(b) else { continue }
            subranges[b].expected = Tally(rows: Int64(row[1] ?? "0") ?? 0, sum: row[2] ?? "0")
        }
        for row in targetRows {
            guard let b = row[0].flatMap({ Int($0) }), subranges.indices.contains(b) else { continue }
            subranges[b].found = Tally(rows: Int64(row[1] ?? "0") ?? 0, sum: row[2] ?? "0")
        }
        return subranges
    }

    /// Which of the ranges `cuts[lo-1] ..< cuts[lo]` ... `cuts[hi-1] ..<` a key falls in, as a
    /// binary search: about log2(cuts) comparisons a row.
    private func bucketExpression(_ key: Key, _ cuts: [[String]], _ lo: Int, _ hi: Int, _ parameters: inout [String?]) -> String {
        guard lo < hi else { return String(lo) }
        let mid = (lo + hi + 1) / 2
        let below = bucketExpression(key, cuts, lo, mid - 1, &parameters)
        let cut = key.value(cuts[mid - 1], &parameters)
        let above = bucketExpression(key, cuts, mid, hi, &parameters)
        return "CASE WHEN \(key.expression) < \(cut) THEN \(below) ELSE \(above) END"
    }

    /// The rows of small ranges on both sides, compared by key and hash.
    private func rows(_ table: String, _ key: Key, _ ranges: [Range],
                      _ sourceConn: PGConnection, _ sourceHash: String,
                      _ targetConn: PGConnection, _ targetHash: String) async throws -> [KeyRange] {
        func query(_ hash: String) -> (String, [String?]) {
            var parameters: [String?] = []
            let branches = ranges.map { range in
                "SELECT \(key.asText), (\(hash))::text FROM ONLY \(table) WHERE \(range.predicate(key, &parameters))"
            }
            return (branches.joined(separator: "\nUNION ALL\n"), parameters)
        }
        let (sourceSQL, sourceParams) = query(sourceHash), (targetSQL, targetParams) = query(targetHash)
        async let s = offloadBlocking { try source.run(on: sourceConn) { try $0.query(sourceSQL, sourceParams, timeout: source.clientTimeout).rows } }
        async let t = offloadBlocking { try target.run(on: targetConn) { try $0.query(targetSQL, targetParams, timeout: target.clientTimeout).rows } }
        let (sourceRows, targetRows) = try await (s, t)
        func byKey(_ rows: [[String?]]) -> [[String]: String] {
            var out: [[String]: String] = [:]
            for row in rows { out[row.dropLast().map { $0 ?? "" }] = (row.last ?? nil) ?? "" }
            return out
        }
        let want = byKey(sourceRows), have = byKey(targetRows)
        var found: [KeyRange] = []
        for k in Set(want.keys).union(have.keys) {
            switch (want[k], have[k]) {
            case (_?, nil): found.append(KeyRange(kind: .missing, key: key.columns, from: k))
            case (nil, _?): found.append(KeyRange(kind: .unexpected, key: key.columns, from: k))
            case let (w?, h?) where w != h: found.append(KeyRange(kind: .changed, key: key.columns, from: k))
            default: break
            }
        }
        // In key order as the source orders it is not known here; sort for a stable report.
        return found.sorted { ($0.from ?? []).lexicographicallyPrecedes($1.from ?? []) { a, b in
            if let x = Int64(a), let y = Int64(b) { return x < y }
            return Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
        } }
    }
}
