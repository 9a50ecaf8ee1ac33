/// Removes secrets from text that may reach output, logs, journals or error messages.
public enum Redact {
    public static let mask = "********"

    /// Masks the password in a libpq conninfo string (`password=...`) or URI (`postgresql://u:pw@h/db`).
    public static func conninfo(_ s: String) -> String {
        var out = s
        // URI form: scheme://user:password@host
        if let schemeEnd = out.range(of: "://") {
            let rest = out[schemeEnd.upperBound...]
            if let at = rest.firstIndex(of: "@") {
                let userinfo = rest[..<at]
                if let colon = userinfo.firstIndex(of: ":") {
                    out.replaceSubrange(out.index(after: colon)..<at, with: mask)
                }
            }
            // password=... as a URI query parameter
            out = maskKeyValue(out, key: "password", separators: ["&"])
            return out
        }
        return maskKeyValue(out, key: "password", separators: [" ", "\t", "\n"])
    }

    /// Masks `key=value` (value possibly single-quoted) everywhere in `s`.
    static func maskKeyValue(_ s: String, key: String, separators: Set<Character>) -> String {
        var result = ""
        var i = s.startIndex
        let lowered = s.lowercased()
        while i < s.endIndex {
            let offset = s.distance(from: s.startIndex, to: i)
            let li = lowered.index(lowered.startIndex, offsetBy: offset)
            let atBoundary = i == s.startIndex || separators.contains(s[s.index(before: i)]) || s[s.index(before: i)] == "?"
            if atBoundary, lowered[li...].hasPrefix(key) {
                var j = s.index(i, offsetBy: key.count)
                while j < s.endIndex, s[j] == " " { j = s.index(after: j) }
                if j < s.endIndex, s[j] == "=" {
                    result += s[i..<s.index(after: j)]
                    j = s.index(after: j)
                    while j < s.endIndex, s[j] == " " { j = s.index(after: j) }
                    if j < s.endIndex, s[j] == "'" {
                        j = s.index(after: j)
                        while j < s.endIndex, s[j] != "'" {
                            if s[j] == "\\" { j = s.index(after: j); if j == s.endIndex { break } }
                            j = s.index(after: j)
                        }
                        if j < s.endIndex { j = s.index(after: j) }
                    } else {
                        while j < s.endIndex, !separators.contains(s[j]) { j = s.index(after: j) }
                    }
                    result += mask
                    i = j
                    continue
                }
            }
            result.append(s[i])
            i = s.index(after: i)
        }
        return result
    }
}
