import Foundation

/// Writes a manifest's JSON byte for byte as `DRJSON.encode(manifest)` does (snake_case keys,
/// sorted, two-space pretty layout, final newline) — the tests hold it to that — but straight
/// into one buffer. `JSONEncoder` builds a tree of the whole document first: for a manifest
/// of 10,000 tables (70,000 objects, 15 MB) that took 8 seconds and doubled the capture's peak
/// memory. `Manifest.jsonData()` and `Manifest.write(to:)` (in chunks, straight to the file)
/// use this writer; `DRJSON` stays the reference layout.
struct ManifestWriter {
    private var out: [UInt8] = []
    /// Takes the bytes written so far whenever they pass `chunk`, so that a large manifest goes
    /// to its file a megabyte at a time instead of being held whole.
    private let flush: ((inout [UInt8]) throws -> Void)?
    private var failure: Error?
    static let chunk = 1 << 20

    private init(flush: ((inout [UInt8]) throws -> Void)?) { self.flush = flush }

    static func write(_ m: Manifest) -> Data {
        var w = ManifestWriter(flush: nil)
        w.document(m)
        return Data(w.out)
    }

    /// Writes the document to `sink` in chunks of about `chunk` bytes (the sink empties the buffer).
    static func write(_ m: Manifest, to sink: @escaping (inout [UInt8]) throws -> Void) throws {
        var w = ManifestWriter(flush: sink)
        w.out.reserveCapacity(chunk + 64 << 10)
        w.document(m)
        if let failure = w.failure { throw failure }
        try sink(&w.out)
    }

    private mutating func document(_ m: Manifest) {
        object(depth: 0, keys: ["captured_at", "contents", "format", "objects", "row_counts", "server", "version"]
            .filter { $0 != "contents" || m.contents != nil }) { w, key, depth in
            switch key {
            case "captured_at": w.string(m.capturedAt)
            case "contents": w.contents(m.contents!, depth: depth)
            case "format": w.string(m.format)
            case "objects":
                w.object(depth: depth, keys: m.objects.keys.sorted()) { w, kind, depth in
                    let byName = m.objects[kind] ?? [:]
                    w.object(depth: depth, keys: byName.keys.sorted()) { w, name, depth in
                        w.properties(byName[name] ?? [:], depth: depth)
                        w.flushIfFull()
                    }
                }
            case "row_counts":
                w.object(depth: depth, keys: m.rowCounts.keys.sorted()) { w, table, _ in w.integer(m.rowCounts[table] ?? 0) }
            case "server": w.server(m.server, depth: depth)
            default: w.integer(Int64(m.version))
            }
        }
        out.append(0x0A)
    }

    /// Hands a full buffer to the sink (a failure is kept and thrown at the end).
    private mutating func flushIfFull() {
        guard let flush, failure == nil, out.count >= Self.chunk else { return }
        do { try flush(&out) } catch { failure = error }
    }

    private mutating func contents(_ c: Manifest.Contents, depth: Int) {
        object(depth: depth, keys: ["checksums", "excluded", "function"]) { w, key, depth in
            switch key {
            case "checksums":
                w.object(depth: depth, keys: c.checksums.keys.sorted()) { w, table, _ in w.string(c.checksums[table] ?? "") }
            case "excluded":
                w.array(depth: depth, c.excluded) { w, s in w.string(s) }
            default:
                w.string(c.function)
            }
        }
    }

    private mutating func server(_ s: ServerIdentity, depth: Int) {
        let keys = ["database", "system_identifier", "target", "version"].filter { $0 != "system_identifier" || s.systemIdentifier != nil }
        object(depth: depth, keys: keys) { w, key, _ in
            switch key {
            case "database": w.string(s.database)
            case "system_identifier": w.string(s.systemIdentifier ?? "")
            case "target": w.string(s.target)
            default: w.string(s.version)
            }
        }
    }

    /// An object's properties straight from their packed bytes: the keys are ASCII property
    /// names kept in byte order, which is the order `JSONEncoder` sorts them in.
    private mutating func properties(_ p: ObjectProperties, depth: Int) {
        if p.isEmpty {
            object(depth: depth, keys: []) { _, _, _ in }
            return
        }
        out.append(UInt8(ascii: "{"))
        out.append(0x0A)
        var first = true
        p.forEachField { key, value in
            if !first { out.append(UInt8(ascii: ",")); out.append(0x0A) }
            first = false
            indent(depth + 1)
            string(key)
            out.append(contentsOf: Array(" : ".utf8))
            string(value)
        }
        out.append(0x0A)
        indent(depth)
        out.append(UInt8(ascii: "}"))
    }

    // MARK: JSONEncoder's pretty layout

    /// `{`, then `"key" : value` lines at `depth + 1`, then `}`; an empty object is `{`, an
    /// empty line and `}`, as `JSONEncoder` writes it.
    private mutating func object(depth: Int, keys: [String], _ value: (inout ManifestWriter, String, Int) -> Void) {
        out.append(UInt8(ascii: "{"))
        out.append(0x0A)
        for (i, key) in keys.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")); out.append(0x0A) }
            indent(depth + 1)
            string(key)
            out.append(contentsOf: Array(" : ".utf8))
            value(&self, key, depth + 1)
        }
        out.append(0x0A)
        indent(depth)
        out.append(UInt8(ascii: "}"))
    }

    private mutating func array(depth: Int, _ items: [String], _ value: (inout ManifestWriter, String) -> Void) {
        out.append(UInt8(ascii: "["))
        out.append(0x0A)
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")); out.append(0x0A) }
            indent(depth + 1)
            value(&self, item)
        }
        out.append(0x0A)
        indent(depth)
        out.append(UInt8(ascii: "]"))
    }

    private mutating func indent(_ depth: Int) {
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }

    private mutating func integer(_ n: Int64) {
        out.append(contentsOf: Array(String(n).utf8))
    }

    /// A JSON string as `JSONEncoder` escapes it with `.withoutEscapingSlashes`: `"` and `\`,
    /// the short escapes for \b \f \n \r \t, `\u00XX` (lower-case hex) for the other control
    /// characters, everything else as UTF-8.
    private mutating func string(_ s: String) {
        var copy = s
        copy.withUTF8 { string($0) }
    }

    private mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) {
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
