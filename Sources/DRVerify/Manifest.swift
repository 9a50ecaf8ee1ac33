import DRCore
import Foundation

/// What a database should hold: its schema and the exact row count of every table, with when
/// and from which server it was taken. Written as a deterministic JSON document (sorted keys,
/// no credentials) so it can be diffed and committed; `Manifest.capture` takes one.
public struct Manifest: Codable, Sendable, Equatable {
    /// Names the document type, so that a foreign JSON file is refused rather than misread.
    public static let formatName = "dr-verify-manifest"
    /// The manifest layout this build reads and writes. Bump it on any incompatible change.
    public static let formatVersion = 1

    public var format: String = Manifest.formatName
    public var version: Int = Manifest.formatVersion
    /// RFC 3339 UTC.
    public var capturedAt: String
    public var server: ServerIdentity
    /// Object kind (`ObjectKind.rawValue`) → object name → properties.
    public var objects: [String: [String: ObjectProperties]]
    /// Table name → exact row count of the table's own rows (a parent's excludes its children's).
    public var rowCounts: [String: Int64]

    public init(capturedAt: String, server: ServerIdentity,
                objects: [String: [String: ObjectProperties]], rowCounts: [String: Int64]) {
        self.capturedAt = capturedAt
        self.server = server
        self.objects = objects
        self.rowCounts = rowCounts
    }

    /// The objects of one kind, by name.
    public func objects(_ kind: ObjectKind) -> [String: ObjectProperties] { objects[kind.rawValue] ?? [:] }

    /// Tables a physical restore is expected to empty (unlogged ones).
    public var unloggedTables: Set<String> {
        Set(objects(.table).filter { $0.value["persistence"] == "unlogged" }.keys)
    }

    /// Number of objects of every kind.
    public var objectCount: Int { objects.values.reduce(0) { $0 + $1.count } }
    public var totalRows: Int64 { rowCounts.values.reduce(0, +) }
}

/// Where a manifest or a live database came from. Safe to print: no user, no password.
public struct ServerIdentity: Codable, Sendable, Equatable {
    /// `host:port/dbname`.
    public var target: String
    public var database: String
    /// `server_version`, e.g. `15.10 (Debian 15.10-0+deb12u1)`.
    public var version: String
    /// The cluster's system identifier, when the role may read it.
    public var systemIdentifier: String?

    public init(target: String, database: String, version: String, systemIdentifier: String?) {
        self.target = target
        self.database = database
        self.version = version
        self.systemIdentifier = systemIdentifier
    }
}

// MARK: - Reading and writing

extension Manifest {
    /// The manifest as its canonical JSON text: sorted keys, two-space indent, final newline.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// Writes the manifest atomically: a failed run leaves no partial file behind.
    public func write(to url: URL) throws {
        let data = try jsonData()
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw DRError.badInput("Could not write the manifest to \(url.path): \(error.localizedDescription). Check that the folder exists and is writable.")
        }
    }

    /// Reads a manifest, refusing (as bad input) a file that is unreadable, not JSON, not a
    /// `dr` manifest, or written in a format version this build does not read.
    public static func read(from url: URL) throws -> Manifest {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DRError.badInput("Could not read the manifest \(url.path): \(Self.reason(error)). Give the path of a file written by `dr verify capture`.")
        }
        return try decode(data, source: url.path)
    }

    /// Decodes manifest JSON; `source` names it in errors.
    public static func decode(_ data: Data, source: String = "the manifest") throws -> Manifest {
        // The fast path reads a well-formed manifest directly; anything it does not
        // understand goes through JSONDecoder, which also words the errors.
        if let manifest = data.withUnsafeBytes({ ManifestReader.read($0.bindMemory(to: UInt8.self)) }) {
            try checkHeader(format: manifest.format, version: manifest.version, source: source)
            return manifest
        }
        struct Header: Decodable { var format: String?; var version: Int? }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: data)
        } catch {
            throw DRError.badInput("\(source) is not a dr verify manifest: it is not a JSON object. Give a file written by `dr verify capture --out FILE`.")
        }
        try checkHeader(format: header.format, version: header.version, source: source)
        do {
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw DRError.badInput("\(source) is a damaged dr verify manifest (\(Self.reason(error))). Capture it again with `dr verify capture`.")
        }
    }

    /// Refuses a document that is not a dr manifest, or one in a format version this build does not read.
    private static func checkHeader(format: String?, version: Int?, source: String) throws {
        guard format == formatName, let version else {
            throw DRError.badInput("\(source) is not a dr verify manifest: it lacks \"format\": \"\(formatName)\". Give a file written by `dr verify capture --out FILE`.")
        }
        guard version == formatVersion else {
            throw DRError.badInput("\(source) was written in manifest format \(version), but this dr (\(ToolInfo.version)) reads format \(formatVersion) only. Capture a new manifest with this version (`dr verify capture`), or verify with the dr version that wrote it.")
        }
    }

    private static func reason(_ error: Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .keyNotFound(let key, let context):
                return "missing \"\(key.stringValue)\" at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                return "unexpected value at \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
            @unknown default:
                return "\(decoding)"
            }
        }
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError { return "no such file" }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoPermissionError { return "permission denied" }
        return nsError.localizedDescription
    }
}

/// The verifier's own version, written into reports.
public enum ToolInfo {
    public static let version = "0.1.0"
}
