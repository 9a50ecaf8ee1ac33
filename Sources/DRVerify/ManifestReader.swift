/// A reader for manifest JSON that knows the manifest's shape, so a 1,000-table manifest
/// (about 1 MB) decodes in a few milliseconds instead of the ~90 ms `JSONDecoder` takes
/// through `Codable`, and without its intermediate tree (less peak memory).
///
/// It accepts only well-formed JSON of exactly the shape `Manifest` encodes to, in either
/// format's key spelling (snake_case, or format 1's camelCase) — strings as strict UTF-8, row
/// counts and the version as plain integers, unknown keys skipped as `JSONDecoder` skips them. Anything else — damaged, foreign or newer files — makes it return
/// nil, and `Manifest.decode` falls back to `JSONDecoder`, whose results and error messages
/// therefore stay the reference.
struct ManifestReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0

    private struct Mismatch: Error {}

    /// The manifest in `bytes`, or nil when they are not a manifest this reader understands.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>) -> Manifest? {
        var reader = ManifestReader(bytes: bytes)
        return try? reader.manifest()
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    // MARK: The manifest's shape

    private mutating func manifest() throws -> Manifest {
        var format: String?, version: Int?, capturedAt: String?, server: ServerIdentity?
        var objects: [String: [String: ObjectProperties]]?, rowCounts: [String: Int64]?
        var contents: Manifest.Contents?
        try object { reader, key in
            switch key {
            case "format": format = try reader.string()
            case "version": version = Int(exactly: try reader.integer())
            case "captured_at", "capturedAt": capturedAt = try reader.string()
            case "server": server = try reader.serverIdentity()
            case "objects": objects = try reader.stringMap { r in try r.stringMap { r in try r.properties() } }
            case "row_counts", "rowCounts": rowCounts = try reader.stringMap { r in try r.integer() }
            case "contents": contents = try reader.nullOr { try $0.contents() }
            default: try reader.skipValue()
            }
        }
        skipWhitespace()
        guard i == bytes.count, let format, let version, let capturedAt, let server, let objects, let rowCounts
        else { throw Mismatch() }
        var manifest = Manifest(capturedAt: capturedAt, server: server, objects: objects, rowCounts: rowCounts, contents: contents)
        manifest.format = format
        manifest.version = version
        return manifest
    }

    private mutating func serverIdentity() throws -> ServerIdentity {
        var target: String?, database: String?, version: String?, systemIdentifier: String?
        try object { reader, key in
            switch key {
            case "target": target = try reader.string()
            case "database": database = try reader.string()
            case "version": version = try reader.string()
            case "system_identifier", "systemIdentifier": systemIdentifier = try reader.nullOr { try $0.string() }
            default: try reader.skipValue()
            }
        }
        guard let target, let database, let version else { throw Mismatch() }
        return ServerIdentity(target: target, database: database, version: version, systemIdentifier: systemIdentifier)
    }

    /// One object's properties: `{ "key": "value", ... }`.
    private mutating func properties() throws -> ObjectProperties {
        var pairs: [(String, String)] = []
        try object { reader, key in pairs.append((key, try reader.string())) }
        return ObjectProperties(Dictionary(pairs, uniquingKeysWith: { _, last in last }))
    }

    private mutating func contents() throws -> Manifest.Contents {
        var function: String?, checksums: [String: ContentChecksum]?, excluded: [String]?
        try object { reader, key in
            switch key {
            case "function": function = try reader.string()
            case "checksums": checksums = try reader.stringMap { r in try r.string() }
            case "excluded": excluded = try reader.array { r in try r.string() }
            default: try reader.skipValue()
            }
        }
        guard let function, let checksums, let excluded else { throw Mismatch() }
        return Manifest.Contents(function: function, checksums: checksums, excluded: excluded)
    }

    /// `[ value, ... ]`.
    private mutating func array<V>(_ value: (inout ManifestReader) throws -> V) throws -> [V] {
        skipWhitespace()
        try expect(UInt8(ascii: "["))
        skipWhitespace()
        var result: [V] = []
        if peek() == UInt8(ascii: "]") { i += 1; return result }
        while true {
            result.append(try value(&self))
            skipWhitespace()
            guard let c = peek() else { throw Mismatch() }
            i += 1
            if c == UInt8(ascii: "]") { return result }
            guard c == UInt8(ascii: ",") else { throw Mismatch() }
        }
    }

    /// An object whose values `value` reads, as a dictionary (a repeated key: the last wins).
    private mutating func stringMap<V>(_ value: (inout ManifestReader) throws -> V) throws -> [String: V] {
        var result: [String: V] = [:]
        try object { reader, key in result[key] = try value(&reader) }
        return result
    }

    // MARK: JSON

    /// Reads `{ "key": value, ... }`, calling `member` for each key with the reader on its value.
    private mutating func object(_ member: (inout ManifestReader, String) throws -> Void) throws {
        skipWhitespace()
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { i += 1; return }
        while true {
            skipWhitespace()
            let key = try string()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            try member(&self, key)
            skipWhitespace()
            guard let c = peek() else { throw Mismatch() }
            i += 1
            if c == UInt8(ascii: "}") { return }
            guard c == UInt8(ascii: ",") else { throw Mismatch() }
        }
    }

    private mutating func nullOr<T>(_ value: (inout ManifestReader) throws -> T) throws -> T? {
        skipWhitespace()
        if literal("null") { return nil }
        return try value(&self)
    }

    /// A JSON integer (no fraction, no exponent) that fits in 64 bits.
    private mutating func integer() throws -> Int64 {
        skipWhitespace()
        let negative = peek() == UInt8(ascii: "-")
        if negative { i += 1 }
        let start = i
        var value: Int64 = 0
        while let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
            let digit = Int64(c - UInt8(ascii: "0"))
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
            guard !o1, !o2 else { throw Mismatch() }
            value = s
            i += 1
        }
        // JSON forbids leading zeros; fractions and exponents are left to JSONDecoder.
        guard i > start, !(bytes[start] == UInt8(ascii: "0") && i - start > 1) else { throw Mismatch() }
        if let c = peek(), c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { throw Mismatch() }
        return value
    }

    /// A JSON string: strict UTF-8, with every escape JSON defines.
    private mutating func string() throws -> String {
        skipWhitespace()
        try expect(UInt8(ascii: "\""))
        let start = i
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<i])
                i += 1
                guard let s = String(validating: raw, as: UTF8.self) else { throw Mismatch() }
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw Mismatch() }
            i += 1
        }
        // Escapes: rebuild the bytes.
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<i]))
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            switch c {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else { throw Mismatch() }
                return s
            case UInt8(ascii: "\\"):
                guard let e = peek() else { throw Mismatch() }
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard literal("\\u") else { throw Mismatch() }
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw Mismatch() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw Mismatch() }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw Mismatch()
                }
            default:
                if c < 0x20 { throw Mismatch() }
                out.append(c)
            }
        }
        throw Mismatch()
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw Mismatch() }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            i += 1
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw Mismatch()
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// Skips any JSON value (keys this build does not know, as `JSONDecoder` ignores them).
    private mutating func skipValue() throws {
        skipWhitespace()
        guard let c = peek() else { throw Mismatch() }
        switch c {
        case UInt8(ascii: "{"): try object { reader, _ in try reader.skipValue() }
        case UInt8(ascii: "["):
            i += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { i += 1; return }
            while true {
                try skipValue()
                skipWhitespace()
                guard let d = peek() else { throw Mismatch() }
                i += 1
                if d == UInt8(ascii: "]") { return }
                guard d == UInt8(ascii: ",") else { throw Mismatch() }
            }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): guard literal("true") else { throw Mismatch() }
        case UInt8(ascii: "f"): guard literal("false") else { throw Mismatch() }
        case UInt8(ascii: "n"): guard literal("null") else { throw Mismatch() }
        default: _ = try integer()
        }
    }

    private func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func expect(_ c: UInt8) throws {
        guard peek() == c else { throw Mismatch() }
        i += 1
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { return false }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }
}
