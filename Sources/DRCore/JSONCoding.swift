import Foundation

/// The project's one JSON configuration (DESIGN.md, "Output"): snake_case keys, RFC 3339 UTC
/// times with fractional seconds, sorted keys, slashes unescaped. Every document dr writes —
/// command output, manifests, journals, reports, metadata — goes through it.
///
/// Keys are converted from Swift's camelCase, so types declare camelCase properties and no
/// snake_case `CodingKeys` raw values (the decoder converts keys back before matching them; a
/// raw value `"step_id"` would never match). Spell acronyms as words (`snapshotArn`, not
/// `snapshotARN`) so the round trip is exact.
public enum DRJSON {
    public enum Layout: Sendable {
        /// Two-space indented, for files and stdout.
        case pretty
        /// One line, for journals and JSON-lines histories.
        case line
    }

    public static func encoder(_ layout: Layout = .pretty) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = layout == .pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                                               : [.sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(RFC3339.format(date, fractional: true))
        }
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "\(text) is not an RFC 3339 time")
            }
            return date
        }
        return d
    }

    /// `value` as JSON; `.pretty` ends with a newline.
    public static func encode<T: Encodable>(_ value: T, _ layout: Layout = .pretty) throws -> Data {
        var data = try encoder(layout).encode(value)
        if layout == .pretty { data.append(0x0A) }
        return data
    }

    public static func string<T: Encodable>(_ value: T, _ layout: Layout = .pretty) throws -> String {
        String(decoding: try encode(value, layout), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try decoder().decode(type, from: data)
    }
}
