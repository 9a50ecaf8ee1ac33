/// One difference between the reference and the database checked, or an accepted one.
public struct Finding: Codable, Sendable, Equatable {
    public enum Difference: String, Codable, Sendable {
        /// In the reference, absent from the database.
        case missing
        /// In the database, absent from the reference.
        case unexpected
        /// Present in both, one property differs.
        case changed
        /// A sequence whose current value is behind the reference: inserts would collide.
        case sequenceBehind = "sequence behind"
        /// A sequence ahead of the reference: by more than the values PostgreSQL logs ahead of
        /// use, rows were added after the reference (with `rows: exact`); within them, accepted.
        case sequenceAhead = "sequence ahead"
        /// A used unlogged sequence found reset to its start, as a physical restore leaves it.
        case sequenceReset = "sequence reset"
        /// A table's row count differs.
        case rowCount = "row count"
        /// An unlogged table that is empty, as a physical restore leaves it.
        case expectedEmpty = "expected empty"
        /// A table's contents differ (its content checksum); `ranges` names where, when known.
        case content
        /// A table whose contents were not compared (excluded), accepted.
        case contentNotCompared = "content not compared"
    }

    public var kind: ObjectKind
    /// The object's exact (quoted) name, e.g. `public."Odd Name"`, or `public.users.email`.
    public var name: String
    public var difference: Difference
    /// The property that differs (`type`, `default`, `definition`...), for `changed`.
    public var property: String?
    public var expected: String?
    public var found: String?
    /// Why the difference does not fail verification; nil when it does.
    public var accepted: String?
    /// For `content` against a live source: the key ranges (or rows) whose contents differ.
    public var ranges: [KeyRange]?
    /// More about the difference (e.g. why no ranges could be named, how many more there are).
    public var detail: String?

    public init(kind: ObjectKind, name: String, difference: Difference, property: String? = nil,
                expected: String? = nil, found: String? = nil, accepted: String? = nil,
                ranges: [KeyRange]? = nil, detail: String? = nil) {
        self.kind = kind
        self.name = name
        self.difference = difference
        self.property = property
        self.expected = expected
        self.found = found
        self.accepted = accepted
        self.ranges = ranges
        self.detail = detail
    }

    public var isAccepted: Bool { accepted != nil }

    /// The object as people name it: `table public.users`.
    public var object: String { "\(kind.rawValue) \(name)" }

    /// One line: what differs, what was expected and what was found.
    public var summary: String {
        let e = expected ?? "(none)", f = found ?? "(none)"
        switch difference {
        case .missing: return "\(object) is missing"
        case .unexpected: return "\(object) is not in the reference"
        case .changed: return "\(object): \(property ?? "property"): expected \(e), found \(f)"
        case .sequenceBehind: return "\(object) is behind: expected last value ≥ \(e), found \(f)"
        case .sequenceAhead: return "\(object) is ahead: expected last value \(e), found \(f)"
        case .sequenceReset: return "\(object) is unlogged and was reset (last value \(e) before a physical restore, found \(f))"
        case .rowCount: return "\(object): expected \(e) rows, found \(f)"
        case .expectedEmpty: return "\(object) is unlogged and empty (expected \(e) rows before a physical restore)"
        case .content: return "\(object): contents differ (\(e) in the reference, \(f) here)"
        case .contentNotCompared: return "\(object): contents not compared"
        }
    }
}

/// Where a table's contents differ, by its key (primary key, or a unique key of NOT NULL
/// columns): a range of keys whose rows differ as a whole, or one row.
public struct KeyRange: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Keys from `from` (inclusive) up to `before` (exclusive) hold different rows.
        case range
        /// The row with key `from` is in the reference only.
        case missing = "missing row"
        /// The row with key `from` is in the database checked only.
        case unexpected = "unexpected row"
        /// The row with key `from` is in both, with other values.
        case changed = "changed row"
    }

    public var kind: Kind
    /// The key's columns (quoted), e.g. `["id"]`.
    public var key: [String]
    /// The first key of the range, or the row's key (values as text); nil: from the first row.
    public var from: [String]?
    /// The end of a range (exclusive); nil: to the last row.
    public var before: [String]?
    /// Rows of the range in the reference and in the database checked.
    public var expectedRows: Int64?
    public var foundRows: Int64?

    public init(kind: Kind, key: [String], from: [String]?, before: [String]? = nil,
                expectedRows: Int64? = nil, foundRows: Int64? = nil) {
        self.kind = kind
        self.key = key
        self.from = from
        self.before = before
        self.expectedRows = expectedRows
        self.foundRows = foundRows
    }

    /// `id = 42: changed row`, `id from 100 to before 164: 64 rows expected, 63 found`.
    public var summary: String {
        func tuple(_ values: [String]) -> String { values.count == 1 ? values[0] : "(" + values.joined(separator: ", ") + ")" }
        let columns = key.count == 1 ? key[0] : "(" + key.joined(separator: ", ") + ")"
        switch kind {
        case .range:
            let start = from.map { "from \(tuple($0))" } ?? "from the first row"
            let end = before.map { "to before \(tuple($0))" } ?? "to the last row"
            return "\(columns) \(start) \(end): \(expectedRows ?? 0) rows expected, \(foundRows ?? 0) found"
        case .missing, .unexpected, .changed:
            return "\(columns) = \(tuple(from ?? [])): \(kind.rawValue)"
        }
    }
}

/// An object that was checked, for reports that list every check (JUnit).
public struct CheckedObject: Codable, Sendable, Equatable, Hashable {
    public var kind: ObjectKind
    public var name: String
}
