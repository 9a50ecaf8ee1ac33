/// The kinds of schema object the verifier compares, in the order reports list them.
public enum ObjectKind: String, CaseIterable, Codable, Sendable, Comparable {
    case schema
    case `extension`
    case table
    case column
    case constraint
    case index
    case sequence
    case view
    case materializedView = "materialized view"
    case function
    case trigger
    case `enum`
    case domain
    case compositeType = "composite type"
    case policy

    public static func < (a: ObjectKind, b: ObjectKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Kinds that belong to a table: when the table itself is missing or unexpected, their
    /// own findings would only repeat it, so reports leave them out.
    var belongsToTable: Bool {
        switch self {
        case .column, .constraint, .index, .trigger, .policy: return true
        default: return false
        }
    }
}

/// One object's properties as text, by name (`type`, `default`, `definition`...). A property
/// that does not apply (a column without default) is absent, never an empty string.
public typealias ObjectProperties = [String: String]
