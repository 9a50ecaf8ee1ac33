import CLibPQ
import Foundation

/// libpq connection strings: parsed into keywords, and rebuilt with some keywords changed.
public enum Conninfo {
    /// The keywords a conninfo string or URI sets, in libpq's order (nil when it does not parse).
    public static func parse(_ conninfo: String) -> [(key: String, value: String)]? {
        var errmsg: UnsafeMutablePointer<CChar>? = nil
        guard let options = PQconninfoParse(conninfo, &errmsg) else {
            if let errmsg { PQfreemem(errmsg) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var result: [(String, String)] = []
        var p = options
        while let keyword = p.pointee.keyword {
            if let val = p.pointee.val { result.append((String(cString: keyword), String(cString: val))) }
            p += 1
        }
        return result
    }

    /// `conninfo` with `overrides` applied, as a keyword/value string (values quoted as libpq reads them).
    public static func replacing(_ conninfo: String, with overrides: [(String, String)], dropping: Set<String> = []) -> String? {
        guard var pairs = parse(conninfo) else { return nil }
        pairs.removeAll { pair in dropping.contains(pair.key) || overrides.contains { $0.0 == pair.key } }
        pairs.append(contentsOf: overrides.map { (key: $0.0, value: $0.1) })
        return pairs.map { "\($0.key)=\(quote($0.value))" }.joined(separator: " ")
    }

    public static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && value.allSatisfy { !$0.isWhitespace && $0 != "'" && $0 != "\\" }
        if plain { return value }
        return "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
