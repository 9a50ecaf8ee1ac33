/// The checksum of a table's contents: the row count and the exact sum of a 64-bit hash of
/// every row, computed by the server in one scan (`SELECT count(*), sum(<row hash>) FROM ONLY t`).
///
/// The row hash is a chain of PostgreSQL's seeded 64-bit hash functions over the row's columns
/// taken in the byte order of their names, each column's hash seeded with the hash so far:
///
///     h = 0
///     h = hashint4extended(null bitmap word, h)        -- only for tables that need one (below)
///     for each column c, in byte order of its name:
///       int2, int4:  h = hashint4extended(c, h)
///       int8:        h = hashint8extended(c, hashint4extended((c >> 32)::int4, h))
///       oid:         h = hashoidextended(c, h)
///       other types: h = hashtextextended(c::text COLLATE "C", h)     -- the value's text form
///     row hash = h
///
/// so it depends on every column's value (a value's text form, with `DateStyle`, `TimeZone`,
/// `extra_float_digits`, `bytea_output`... pinned by the session: not on how it is stored —
/// TOAST, compression, fill factor — nor on physical or column order), and the table's
/// checksum on neither row order nor physical layout. `hashint8extended` alone folds 64 bits
/// into 32; hashing the high word first keeps every bit of an int8. A NULL hashes as the empty
/// string (or 0 for the integer types); where that is also a value the column can hold
/// (nullable text-like columns, integers), a bitmap of which of those columns are NULL seeds
/// the chain (31 columns per word), so NULL and '' (or 0) differ.
///
/// Collision odds: `hashtextextended` and its siblings are PostgreSQL's `hash_bytes_extended`
/// (Bob Jenkins' lookup3, 64-bit output); two different rows get the same hash with odds of
/// about 2^-64, and a set of changed rows leaves the table's (count, sum) unchanged with odds
/// of about 2^-64 as well. It is not a cryptographic hash: it finds accidental differences
/// (a bad restore, corruption, a missed change), not ones crafted to collide.
public enum RowHash {
    /// Names the function, so that manifests hashed differently are never compared.
    public static let function = "dr-row-hash-1"

    /// One column as the catalog describes it (`CatalogQueries.hashColumns`).
    struct Column: Equatable, Sendable {
        var name: String
        var notNull: Bool
        var typeOID: UInt32
        /// `pg_type.typcategory`, `pg_type.typtype`.
        var category: Character
        var typtype: Character
    }

    private enum Kind { case int4, int8, oid, text }

    private static func kind(of column: Column) -> Kind {
        switch column.typeOID {
        case 21, 23: return .int4 // int2, int4
        case 20: return .int8
        case 26: return .oid
        default: return .text
        }
    }

    /// Types whose text form is never empty, so that '' can stand for NULL: numbers, booleans,
    /// dates and times, arrays, geometry, network addresses, ranges, composites, json, jsonb,
    /// uuid, bytea (`\x...`).
    private static func textNeverEmpty(_ column: Column) -> Bool {
        if "NBDTAGIR".contains(column.category) { return true }
        if column.typtype == "c" || column.typtype == "m" { return true }
        return [114, 3802, 2950, 17].contains(column.typeOID)
    }

    /// The SQL expression of a row's hash; `quote` quotes an identifier (libpq's rules).
    static func expression(_ columns: [Column], quote: (String) throws -> String) rethrows -> String {
        let ordered = columns.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        // The columns whose NULL stand-in is also a value they can hold.
        let flagged = ordered.filter { !$0.notNull && (kind(of: $0) != .text || !textNeverEmpty($0)) }
        var h = "0"
        for start in stride(from: 0, to: flagged.count, by: 31) {
            let word = try flagged[start..<min(start + 31, flagged.count)].enumerated().map { bit, column in
                "CASE WHEN \(try quote(column.name)) IS NULL THEN \(1 << bit) ELSE 0 END"
            }.joined(separator: " + ")
            h = "pg_catalog.hashint4extended(\(word), \(h))"
        }
        for column in ordered {
            let name = try quote(column.name)
            let value = column.notNull ? name : nil
            switch kind(of: column) {
            case .int4:
                h = "pg_catalog.hashint4extended(\(value ?? "coalesce(\(name), 0)"), \(h))"
            case .int8:
                let v = value ?? "coalesce(\(name), 0)"
                h = "pg_catalog.hashint8extended(\(v), pg_catalog.hashint4extended((\(v) >> 32)::int4, \(h)))"
            case .oid:
                h = "pg_catalog.hashoidextended(\(value ?? "coalesce(\(name), 0)"), \(h))"
            case .text:
                let text = "\(name)::text COLLATE pg_catalog.\"C\""
                h = "pg_catalog.hashtextextended(\(column.notNull ? text : "coalesce(\(text), '')"), \(h))"
            }
        }
        return h
    }
}

/// A table's contents as one value: its checksum (the exact sum of its row hashes, as decimal
/// text; "0" for an empty table). The row count is kept beside it, in the row counts.
public typealias ContentChecksum = String
