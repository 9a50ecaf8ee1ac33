/// Renames roles in a manifest (`RoleMap`, `map_role old=new`): in owners, privileges, policy
/// roles, default privileges and role memberships, so that a source whose roles are named
/// differently compares equal to its copy. Pure text rewriting over the properties the catalog
/// queries write (see `CatalogQueries`).
///
/// Role names in properties are as `quote_ident` prints them. While mapping, every role name
/// is re-quoted the same way on both sides (plain lower-case names bare, anything else in
/// double quotes), so a name the server quotes for another reason (a reserved word) still
/// matches; lists are re-sorted in byte order, as the server sorts them.
enum RoleMapping {
    /// `manifest` with every role renamed by `map` (and every role name re-quoted).
    static func apply(_ map: RoleMap, to manifest: Manifest) -> Manifest {
        var m = manifest
        for (kindName, byName) in manifest.objects {
            let kind = ObjectKind(rawValue: kindName)
            var renamed: [String: ObjectProperties] = [:]
            renamed.reserveCapacity(byName.count)
            for (name, properties) in byName {
                var changed: [(String, String)] = []
                for (key, value) in properties {
                    switch key {
                    case "owner", "role": changed.append((key, role(value, map)))
                    case "acl", "privileges": changed.append((key, acl(value, map)))
                    case "member_of": changed.append((key, list(value, map, separator: ", ")))
                    case "roles" where kind == .policy: changed.append((key, list(value, map, separator: ", ")))
                    default: changed.append((key, value))
                    }
                }
                let p = ObjectProperties(sortedPairs: changed)
                switch kind {
                case .role?:
                    renamed[role(name, map)] = p
                case .defaultPrivileges?:
                    let schema = p["schema"].map { " in schema \($0)" } ?? ""
                    renamed["for role \(p["role"] ?? "")\(schema) on \(p["object_type"] ?? "")"] = p
                default:
                    renamed[name] = p
                }
            }
            m.objects[kindName] = renamed
        }
        return m
    }

    /// One role name, mapped and re-quoted (`PUBLIC` and `public` stay as they are).
    static func role(_ quoted: String, _ map: RoleMap) -> String {
        guard let t = token(quoted[...]), t.rest.isEmpty else { return quoted }
        return t.name.map { quoteIdent(map.mapped($0)) } ?? quoted
    }

    /// `grantee: PRIVILEGE, ...; grantee: ...`, each grantee mapped, entries re-sorted.
    static func acl(_ text: String, _ map: RoleMap) -> String {
        var entries: [String] = []
        var rest = text[...]
        while !rest.isEmpty {
            guard let t = token(rest), t.rest.hasPrefix(": ") else { return text }
            let privileges = t.rest.dropFirst(2)
            let end = privileges.range(of: "; ")
            let grantee = t.name.map { quoteIdent(map.mapped($0)) } ?? String(rest[rest.startIndex..<t.rest.startIndex])
            entries.append(grantee + ": " + privileges[..<(end?.lowerBound ?? privileges.endIndex)])
            rest = end.map { privileges[$0.upperBound...] } ?? ""
        }
        return sortedBytes(entries).joined(separator: "; ")
    }

    /// `role[ suffix], role[ suffix]` (memberships `WITH ADMIN OPTION`, policy roles), mapped and re-sorted.
    static func list(_ text: String, _ map: RoleMap, separator: String) -> String {
        var items: [String] = []
        var rest = text[...]
        while !rest.isEmpty {
            guard let t = token(rest) else { return text }
            let end = t.rest.range(of: separator)
            let suffix = t.rest[..<(end?.lowerBound ?? t.rest.endIndex)]
            let shown = t.name.map { quoteIdent(map.mapped($0)) } ?? String(rest[rest.startIndex..<t.rest.startIndex])
            items.append(shown + suffix)
            rest = end.map { t.rest[$0.upperBound...] } ?? ""
        }
        return sortedBytes(items).joined(separator: separator)
    }

    /// Reads one role name at the start of `text`: its unquoted spelling (nil for `PUBLIC` /
    /// `public`, everyone), and what follows it. nil when `text` does not start with a name.
    static func token(_ text: Substring) -> (name: String?, rest: Substring)? {
        if text.hasPrefix("\"") {
            var name = ""
            var i = text.index(after: text.startIndex)
            while i < text.endIndex {
                let c = text[i]
                if c == "\"" {
                    let next = text.index(after: i)
                    if next < text.endIndex, text[next] == "\"" {
                        name.append("\"")
                        i = text.index(after: next)
                        continue
                    }
                    return (name, text[next...])
                }
                name.append(c)
                i = text.index(after: i)
            }
            return nil
        }
        let end = text.firstIndex { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "$") } ?? text.endIndex
        guard end > text.startIndex else { return nil }
        let word = String(text[..<end])
        return (word == "PUBLIC" || word == "public" ? nil : word, text[end...])
    }

    /// `quote_ident` for role names: plain lower-case names stay bare, anything else is quoted.
    static func quoteIdent(_ name: String) -> String {
        let first = name.unicodeScalars.first
        let plain = first.map { $0 == "_" || ("a"..."z").contains($0) } ?? false
            && name.unicodeScalars.allSatisfy { $0 == "_" || $0 == "$" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        return plain ? name : "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func sortedBytes(_ items: [String]) -> [String] {
        items.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }
}
