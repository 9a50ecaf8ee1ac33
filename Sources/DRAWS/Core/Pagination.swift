/// Pagination as one loop over any token type: `Marker` and `NextToken` (a string) or Route 53's
/// record position (`StartRecordName`/`Type`/`Identifier`). Stops when the service returns no
/// next token, or repeats one (a service bug that would otherwise loop for ever).
public enum Paginator {
    public struct Page<Item, Token> {
        public var items: [Item]
        public var next: Token?
        public init(items: [Item], next: Token?) {
            self.items = items
            self.next = next
        }
    }

    public static func collect<Item, Token: Equatable>(maxPages: Int = 1000, start: Token? = nil,
                                                       _ fetch: (Token?) async throws -> Page<Item, Token>) async throws -> [Item] {
        var items: [Item] = []
        var token = start
        var seen: [Token] = []
        for _ in 0..<maxPages {
            let page = try await fetch(token)
            items += page.items
            guard let next = page.next, !seen.contains(next) else { return items }
            seen.append(next)
            token = next
        }
        return items
    }
}

/// Route 53's position in a record listing.
public struct RecordPosition: Sendable, Equatable {
    public var name: String
    public var type: String?
    public var identifier: String?
    public init(name: String, type: String? = nil, identifier: String? = nil) {
        self.name = name
        self.type = type
        self.identifier = identifier
    }
}
