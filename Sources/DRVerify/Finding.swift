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
        /// A table's row count differs.
        case rowCount = "row count"
        /// An unlogged table that is empty, as a physical restore leaves it.
        case expectedEmpty = "expected empty"
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

    public init(kind: ObjectKind, name: String, difference: Difference, property: String? = nil,
                expected: String? = nil, found: String? = nil, accepted: String? = nil) {
        self.kind = kind
        self.name = name
        self.difference = difference
        self.property = property
        self.expected = expected
        self.found = found
        self.accepted = accepted
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
        case .rowCount: return "\(object): expected \(e) rows, found \(f)"
        case .expectedEmpty: return "\(object) is unlogged and empty (expected \(e) rows before a physical restore)"
        }
    }
}

/// An object that was checked, for reports that list every check (JUnit).
public struct CheckedObject: Codable, Sendable, Equatable, Hashable {
    public var kind: ObjectKind
    public var name: String
}
