import Foundation

/// Removes secrets from text that may reach output, logs, journals, reports or error messages.
///
/// Two tools. `conninfo(_:)` masks the password of a libpq conninfo by its shape. The registry
/// masks by value: every secret in play is registered where it enters the process (the AWS
/// secret key and session token when credentials are resolved, a Secrets Manager value when it
/// is read, a database password, the process's own secret variables at first use), and
/// `secrets(in:)` masks each in every encoding that can reach output — raw, URL-encoded once
/// and twice (upper- and lower-case hex, `/` kept or not, `+` for space), JSON-escaped (with
/// `\/` or not), XML-escaped and base64 (standard and URL-safe, at each alignment inside a
/// longer base64 text, of the secret and of its URL-encoded forms). The edges everything passes through call it: the CLI's stdout/stderr
/// writer, the runbook journal writer and the report writers.
public enum Redact {
    public static let mask = "********"

    /// Values shorter than this are not masked by value (they would mask ordinary words);
    /// `conninfo(_:)` still masks a conninfo's password of any length.
    public static let minimumLength = 6

    /// Environment variables whose values are secrets, registered at first use.
    public static let secretVariables = ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                                         "AWS_CONTAINER_AUTHORIZATION_TOKEN", "PGPASSWORD"]

    /// Registers a secret value; every later `secrets(in:)` masks it in every encoding.
    public static func register(_ secret: String?) {
        guard let secret, secret.count >= minimumLength else { return }
        registry.add(secret)
    }

    /// Registers the password of a libpq conninfo string or URI, if it has one.
    public static func registerPassword(inConninfo conninfo: String) {
        register(password(inConninfo: conninfo))
    }

    /// Masks every registered secret, in every encoding, in `text`.
    public static func secrets(in text: String) -> String {
        guard registry.isActive, !text.isEmpty else { return text }
        let bytes = Array(text.utf8)
        guard let masked = registry.scrub(bytes) else { return text }
        return String(decoding: masked, as: UTF8.self)
    }

    /// `secrets(in:)` for bytes that are UTF-8 text (journal lines, report files).
    public static func secrets(in data: Data) -> Data {
        guard registry.isActive, !data.isEmpty, let masked = registry.scrub(Array(data)) else { return data }
        return Data(masked)
    }

    private static let registry: Registry = {
        let registry = Registry()
        let env = ProcessInfo.processInfo.environment
        for name in secretVariables {
            if let value = env[name], value.count >= minimumLength { registry.add(value) }
        }
        return registry
    }()

    // MARK: Encodings

    /// Every form of `secret` that can reach output, longest first.
    public static func encodings(of secret: String) -> [String] {
        var urlForms: Set<String> = [secret]
        for once in percentEncodings(secret) {
            urlForms.insert(once)
            for twice in percentEncodings(once) { urlForms.insert(twice) }
        }
        var forms = urlForms
        // base64 of the secret, and of a text that holds it URL-encoded (an echoed request body).
        for form in urlForms { forms.formUnion(base64Fragments(Data(form.utf8))) }
        forms.insert(XMLText.escape(secret))
        for form in forms { forms.formUnion(jsonEscapings(form)) }
        return forms.filter { $0.count >= minimumLength }.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
    }

    /// RFC 3986 percent-encoding (unreserved characters kept), as AWS, curl and most libraries
    /// write it: upper- and lower-case hex, `/` encoded or kept (path style), `+` for a space (forms).
    static func percentEncodings(_ text: String) -> Set<String> {
        var out: Set<String> = []
        for upper in [true, false] {
            for keepSlash in [false, true] {
                var s = ""
                for byte in text.utf8 {
                    let c = Character(Unicode.Scalar(byte))
                    if (byte < 0x80 && (c.isLetter || c.isNumber)) || "-_.~".contains(c) || (keepSlash && c == "/") {
                        s.append(c)
                    } else {
                        s += "%" + String(format: upper ? "%02X" : "%02x", byte)
                    }
                }
                out.insert(s)
                if text.contains(" ") { out.insert(s.replacingOccurrences(of: "%20", with: "+")) }
            }
        }
        out.remove(text)
        return out
    }

    /// The base64 characters that depend on the secret's bytes only, for each of the three
    /// positions it can take inside a longer base64 text (and the URL-safe alphabet).
    static func base64Fragments(_ bytes: Data) -> Set<String> {
        var out: Set<String> = []
        for offset in 0..<3 {
            let encoded = Array((Data(repeating: 0, count: offset) + bytes).base64EncodedString().utf8)
            // Character i covers bits 6i..<6i+6; keep those entirely inside the secret's bits.
            let firstBit = 8 * offset, endBit = 8 * (offset + bytes.count)
            let first = (firstBit + 5) / 6, end = endBit / 6
            guard end > first else { continue }
            let fragment = String(decoding: encoded[first..<end], as: UTF8.self)
            out.insert(fragment)
            out.insert(fragment.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_"))
        }
        return out
    }

    /// JSON string escaping, with `/` escaped (Foundation's default) and not.
    static func jsonEscapings(_ text: String) -> Set<String> {
        var plain = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": plain += "\\\""
            case "\\": plain += "\\\\"
            case "\n": plain += "\\n"
            case "\r": plain += "\\r"
            case "\t": plain += "\\t"
            case _ where scalar.value < 0x20: plain += String(format: "\\u%04x", scalar.value)
            default: plain.unicodeScalars.append(scalar)
            }
        }
        return [plain, plain.replacingOccurrences(of: "/", with: "\\/")]
    }

    /// The registered secrets and all their forms, indexed by their first four bytes so one
    /// pass over a text finds every form (every form is at least `minimumLength` long).
    private final class Registry: @unchecked Sendable {
        // @unchecked: `secrets` and `index` are only touched under `lock`.
        private let lock = NSLock()
        private var secrets: Set<String> = []
        /// First four bytes of a form → the forms starting with them, longest first.
        private var index: [UInt32: [[UInt8]]] = [:]

        var isActive: Bool { lock.withLock { !index.isEmpty } }

        func add(_ secret: String) {
            lock.withLock {
                guard secrets.insert(secret).inserted else { return }
                for form in Redact.encodings(of: secret) {
                    let bytes = Array(form.utf8)
                    index[Self.key(bytes, 0), default: []].append(bytes)
                }
                for key in index.keys { index[key]!.sort { $0.count > $1.count } }
            }
        }

        /// The text with every form masked, or nil when there was none.
        func scrub(_ text: [UInt8]) -> [UInt8]? {
            let index = lock.withLock { self.index }
            guard text.count >= 4 else { return nil }
            let mask = Array(Redact.mask.utf8)
            var out: [UInt8] = []
            var copiedUpTo = 0, i = 0
            while i + 4 <= text.count {
                if let candidates = index[Self.key(text, i)],
                   let form = candidates.first(where: { i + $0.count <= text.count && text[i..<(i + $0.count)].elementsEqual($0) }) {
                    if out.isEmpty { out.reserveCapacity(text.count) }
                    out += text[copiedUpTo..<i]
                    out += mask
                    i += form.count
                    copiedUpTo = i
                } else {
                    i += 1
                }
            }
            guard copiedUpTo > 0 else { return nil }
            out += text[copiedUpTo...]
            return out
        }

        static func key(_ bytes: [UInt8], _ at: Int) -> UInt32 {
            UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
        }
    }

    // MARK: Conninfo

    /// The password of a conninfo string (`password=...`) or URI (`postgresql://u:pw@h/db`, `?password=`).
    public static func password(inConninfo s: String) -> String? {
        if let schemeEnd = s.range(of: "://") {
            let rest = s[schemeEnd.upperBound...]
            if let at = rest.firstIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
                let raw = String(rest[rest.index(after: colon)..<at])
                return raw.removingPercentEncoding ?? raw
            }
            guard let query = rest.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
            for pair in query.split(separator: "&") where pair.lowercased().hasPrefix("password=") {
                let raw = String(pair.dropFirst("password=".count))
                return raw.removingPercentEncoding ?? raw
            }
            return nil
        }
        return keywordValue(s, key: "password")
    }

    /// The value of `key=value` in a keyword/value conninfo (single quotes and backslashes as libpq reads them).
    static func keywordValue(_ s: String, key: String) -> String? {
        let chars = Array(s)
        var i = 0
        while i < chars.count {
            while i < chars.count, chars[i].isWhitespace { i += 1 }
            var name = ""
            while i < chars.count, chars[i] != "=", !chars[i].isWhitespace { name.append(chars[i]); i += 1 }
            while i < chars.count, chars[i].isWhitespace { i += 1 }
            guard i < chars.count, chars[i] == "=" else { return nil }
            i += 1
            while i < chars.count, chars[i].isWhitespace { i += 1 }
            var value = ""
            if i < chars.count, chars[i] == "'" {
                i += 1
                while i < chars.count, chars[i] != "'" {
                    if chars[i] == "\\", i + 1 < chars.count { i += 1 }
                    value.append(chars[i])
                    i += 1
                }
                i += 1
            } else {
                while i < chars.count, !chars[i].isWhitespace {
                    if chars[i] == "\\", i + 1 < chars.count { i += 1 }
                    value.append(chars[i])
                    i += 1
                }
            }
            if name.lowercased() == key { return value }
        }
        return nil
    }

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
