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
    /// `ALTER DEFAULT PRIVILEGES`: what a role's future objects grant, per schema and object type.
    case defaultPrivileges = "default privileges"
    /// A role that owns an object or holds a privilege: its memberships (never its password).
    case role

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
///
/// Held as one string — `key NUL value NUL key NUL value ...`, keys in byte order — rather
/// than a dictionary: a manifest of 10,000 tables holds about 70,000 objects, and one
/// allocation each instead of a hash table each keeps two of them (the reference and the
/// database checked) in a third of the memory; equal objects, by far the most common, compare
/// as one string comparison. PostgreSQL text never holds NUL, so the layout is unambiguous.
public struct ObjectProperties: Sendable, Hashable, Codable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    private var packed: String

    public init() { packed = "" }

    public init(_ properties: [String: String]) {
        packed = Self.pack(properties.map { ($0.key, $0.value) })
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    /// From pairs already in byte order of their keys, without duplicates.
    init(sortedPairs: [(String, String)]) {
        var s = ""
        for (key, value) in sortedPairs {
            s += key
            s += "\0"
            s += value
            s += "\0"
        }
        packed = s
    }

    private static func pack(_ pairs: [(String, String)]) -> String {
        var s = ""
        for (key, value) in pairs.sorted(by: { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }) {
            s += key
            s += "\0"
            s += value
            s += "\0"
        }
        return s
    }

    public var isEmpty: Bool { packed.isEmpty }
    public var count: Int { packed.utf8.reduce(0) { $1 == 0 ? $0 + 1 : $0 } / 2 }
    public var keys: [String] { map(\.key) }
    public var dictionary: [String: String] { Dictionary(map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }) }

    public subscript(key: String) -> String? {
        get {
            var found: String?
            forEachField { k, v in
                guard found == nil, k.elementsEqual(key.utf8) else { return }
                found = String(decoding: v, as: UTF8.self)
            }
            return found
        }
        set {
            var d = dictionary
            d[key] = newValue
            packed = Self.pack(d.map { ($0.key, $0.value) })
        }
    }

    /// Calls `body` with each key and value as UTF-8 bytes, in key order, without making strings.
    func forEachField(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Void) {
        var copy = packed
        copy.withUTF8 { bytes in
            var start = 0, key: UnsafeBufferPointer<UInt8>?
            for i in bytes.indices where bytes[i] == 0 {
                let field = UnsafeBufferPointer(rebasing: bytes[start..<i])
                if let k = key { body(k, field); key = nil } else { key = field }
                start = i + 1
            }
        }
    }

    public struct Iterator: IteratorProtocol {
        fileprivate var pairs: IndexingIterator<[(key: String, value: String)]>
        public mutating func next() -> (key: String, value: String)? { pairs.next() }
    }

    public func makeIterator() -> Iterator {
        var pairs: [(key: String, value: String)] = []
        forEachField { k, v in pairs.append((String(decoding: k, as: UTF8.self), String(decoding: v, as: UTF8.self))) }
        return Iterator(pairs: pairs.makeIterator())
    }

    public var description: String { dictionary.description }

    public init(from decoder: Decoder) throws {
        self.init(try decoder.singleValueContainer().decode([String: String].self))
    }

    /// A JSON object (a dictionary, so its keys are written as they are).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(dictionary)
    }
}
