/// Builds AWS Query parameters: scalars, `Prefix.Member.N` lists, tags and filters.
public struct QueryParams: Sendable {
    public private(set) var pairs: [(String, String?)] = []

    public init() {}

    public mutating func add(_ name: String, _ value: String?) { pairs.append((name, value)) }
    public mutating func add(_ name: String, _ value: Int?) { pairs.append((name, value.map(String.init))) }
    public mutating func add(_ name: String, _ value: Bool?) { pairs.append((name, value.map { $0 ? "true" : "false" })) }

    /// `Wrapper.Member.1=a&Wrapper.Member.2=b`.
    public mutating func addList(_ wrapper: String, member: String, _ values: [String]) {
        for (i, v) in values.enumerated() { pairs.append(("\(wrapper).\(member).\(i + 1)", v)) }
    }

    /// `Tags.Tag.N.Key` / `Tags.Tag.N.Value`.
    public mutating func addTags(_ tags: [AWSTag], wrapper: String = "Tags", member: String = "Tag") {
        for (i, t) in tags.enumerated() {
            pairs.append(("\(wrapper).\(member).\(i + 1).Key", t.key))
            pairs.append(("\(wrapper).\(member).\(i + 1).Value", t.value))
        }
    }

    /// `Filters.Filter.N.Name` / `Filters.Filter.N.Values.Value.M`.
    public mutating func addFilters(_ filters: [AWSFilter]) {
        for (i, f) in filters.enumerated() {
            pairs.append(("Filters.Filter.\(i + 1).Name", f.name))
            for (j, v) in f.values.enumerated() { pairs.append(("Filters.Filter.\(i + 1).Values.Value.\(j + 1)", v)) }
        }
    }

    public func request(_ operation: String, extra: [String: String] = [:]) -> AWSRequest {
        AWSRequest.query(operation, pairs, extra: extra)
    }
}

/// A resource tag.
public struct AWSTag: Sendable, Equatable, Hashable, Codable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
    enum CodingKeys: String, CodingKey { case key = "Key", value = "Value" }

    static func parse(_ e: XElement) -> AWSTag { AWSTag(e.string("Key") ?? "", e.string("Value") ?? "") }
}

/// A describe filter (`Filters.Filter.N`).
public struct AWSFilter: Sendable, Equatable {
    public var name: String
    public var values: [String]
    public init(_ name: String, _ values: [String]) {
        self.name = name
        self.values = values
    }
}

/// One page of a describe call and the marker of the next.
public typealias MarkerPage<Item> = Paginator.Page<Item, String>
