import DRCore
import Foundation

/// What a database should hold: its schema (with owners and privileges), the exact row count
/// of every table and, when captured with contents, every table's content checksum — with when
/// and from which server it was taken. Written as a deterministic JSON document (sorted
/// snake_case keys, no credentials) so it can be diffed and committed; `Manifest.capture` takes one.
public struct Manifest: Codable, Sendable, Equatable {
    /// Names the document type, so that a foreign JSON file is refused rather than misread.
    public static let formatName = "dr-verify-manifest"
    /// The manifest layout this build writes. Bump it on any incompatible change.
    /// 2: snake_case keys and property names, owners and privileges, contents. 1: camelCase.
    public static let formatVersion = 2
    /// The layouts this build reads.
    public static let readableVersions = 1...2

    public var format: String = Manifest.formatName
    public var version: Int = Manifest.formatVersion
    /// RFC 3339 UTC.
    public var capturedAt: String
    public var server: ServerIdentity
    /// Object kind (`ObjectKind.rawValue`) → object name → properties.
    public var objects: [String: [String: ObjectProperties]]
    /// Table name → exact row count of the table's own rows (a parent's excludes its children's).
    public var rowCounts: [String: Int64]
    /// The tables' contents, when captured with `content: checksum`.
    public var contents: Contents?

    /// Every table's content checksum (`RowHash`), but for the tables left out.
    public struct Contents: Codable, Sendable, Equatable {
        /// `RowHash.function`: manifests hashed by another function are not compared.
        public var function: String
        /// Table name → checksum.
        public var checksums: [String: ContentChecksum]
        /// Tables counted but not hashed (`exclude_content`), by name.
        public var excluded: [String]

        public init(function: String = RowHash.function, checksums: [String: ContentChecksum], excluded: [String]) {
            self.function = function
            self.checksums = checksums
            self.excluded = excluded
        }
    }

    public init(capturedAt: String, server: ServerIdentity,
                objects: [String: [String: ObjectProperties]], rowCounts: [String: Int64], contents: Contents? = nil) {
        self.capturedAt = capturedAt
        self.server = server
        self.objects = objects
        self.rowCounts = rowCounts
        self.contents = contents
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

    /// The database and cluster, for messages: `"app" (cluster 7301..., 127.0.0.1:5432/app)`.
    var described: String {
        "\"\(database)\" (" + (systemIdentifier.map { "cluster \($0), " } ?? "") + "\(target))"
    }
}

// MARK: - Reading and writing

extension Manifest {
    /// The manifest as its canonical JSON text, exactly as `DRJSON.encode` writes it (sorted
    /// snake_case keys, two-space indent, final newline; object and table names are keys as
    /// they are), by `ManifestWriter`, which streams it.
    public func jsonData() throws -> Data {
        ManifestWriter.write(self)
    }

    /// Writes the manifest atomically (a temporary file beside it, renamed over it): a failed
    /// run leaves no partial file behind.
    public func write(to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
        struct WriteFailure: Error { var reason: String }
        func reason() -> String { String(cString: strerror(errno)).lowercased() }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            // A folder that is missing or not ours is the caller's to fix; anything else is local trouble.
            let code: DRError.Code = [ENOENT, ENOTDIR, EACCES, EROFS, EISDIR].contains(errno) ? .badInput : .storage
            throw DRError(code, "Could not write the manifest to \(url.path): \(reason()). Check that the folder exists and is writable.")
        }
        do {
            try ManifestWriter.write(self) { buffer in
                var written = 0
                while written < buffer.count {
                    let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
                    if n < 0, errno == EINTR { continue }
                    guard n >= 0 else { throw WriteFailure(reason: reason()) }
                    written += n
                }
                buffer.removeAll(keepingCapacity: true)
            }
            guard fsync(fd) == 0 else { throw WriteFailure(reason: reason()) }
            guard close(fd) == 0 else { throw WriteFailure(reason: reason()) }
            guard rename(temporary, url.path) == 0 else { throw WriteFailure(reason: reason()) }
        } catch {
            close(fd)
            unlink(temporary)
            let why = (error as? WriteFailure)?.reason ?? "\(error)"
            throw DRError(.storage, "Could not write the manifest to \(url.path): \(why). Check that the folder is writable and has room.")
        }
    }

    /// Reads a manifest, refusing (as bad input) a file that is unreadable, a folder, not JSON,
    /// not a `dr` manifest, or written in a format version this build does not read.
    public static func read(from url: URL) throws -> Manifest {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
            throw DRError.badInput("Could not read the manifest \(url.path): it is a folder, not a file. Give the path of the file `dr verify capture` wrote (its output file).")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DRError.badInput("Could not read the manifest \(url.path): \(Self.reason(error, path: url.path)). Give the path of a file written by `dr verify capture`.")
        }
        return try decode(data, source: url.path)
    }

    /// Decodes manifest JSON (format 1 or 2); `source` names it in errors.
    public static func decode(_ data: Data, source: String = "the manifest") throws -> Manifest {
        // The fast path reads a well-formed manifest directly; anything it does not
        // understand goes through JSONDecoder, which also words the errors.
        if var manifest = data.withUnsafeBytes({ ManifestReader.read($0.bindMemory(to: UInt8.self)) }) {
            try checkHeader(format: manifest.format, version: manifest.version, source: source)
            manifest.upgrade()
            return manifest
        }
        struct Header: Decodable { var format: String?; var version: Int? }
        let header: Header
        do {
            header = try DRJSON.decode(Header.self, from: data)
        } catch {
            throw DRError.badInput("\(source) is not a dr verify manifest: it is not a JSON object. Give a file written by `dr verify capture --out FILE`.")
        }
        try checkHeader(format: header.format, version: header.version, source: source)
        do {
            // DRJSON reads both layouts: format 1's camelCase keys have no underscore to convert.
            var manifest = try DRJSON.decode(Manifest.self, from: data)
            manifest.upgrade()
            return manifest
        } catch {
            throw DRError.badInput("\(source) is a damaged dr verify manifest (\(Self.reason(error, path: source))). Capture it again with `dr verify capture`.")
        }
    }

    /// Format 1's camelCase property names, as format 2 spells them.
    static let formatOneProperties = [
        "partitionBound": "partition_bound", "partitionKey": "partition_key", "rowSecurity": "row_security",
        "ownedBy": "owned_by", "lastValue": "last_value", "baseType": "base_type", "withCheck": "with_check",
    ]

    /// Brings a manifest read in an older format to this build's spelling (in memory only).
    mutating func upgrade() {
        guard version == 1 else { return }
        for (kind, byName) in objects {
            var renamed = byName
            for (name, properties) in byName where properties.keys.contains(where: { Self.formatOneProperties[$0] != nil }) {
                var p: [String: String] = [:]
                for (key, value) in properties { p[Self.formatOneProperties[key] ?? key] = value }
                renamed[name] = ObjectProperties(p)
            }
            objects[kind] = renamed
        }
    }

    /// What format 1 captured of this manifest (no owners, privileges, roles or default
    /// privileges), so that a database compares with a format-1 reference on what it holds.
    func limitedToFormatOne() -> Manifest {
        var m = self
        m.objects[ObjectKind.role.rawValue] = nil
        m.objects[ObjectKind.defaultPrivileges.rawValue] = nil
        for (kind, byName) in m.objects {
            var trimmed = byName
            for (name, properties) in byName where properties["owner"] != nil || properties["acl"] != nil {
                trimmed[name] = ObjectProperties(properties.dictionary.filter { $0.key != "owner" && $0.key != "acl" })
            }
            m.objects[kind] = trimmed
        }
        return m
    }

    /// Refuses a document that is not a dr manifest, or one in a format version this build does not read.
    private static func checkHeader(format: String?, version: Int?, source: String) throws {
        guard format == formatName, let version else {
            throw DRError.badInput("\(source) is not a dr verify manifest: it lacks \"format\": \"\(formatName)\". Give a file written by `dr verify capture --out FILE`.")
        }
        guard readableVersions.contains(version) else {
            throw DRError.badInput("\(source) was written in manifest format \(version), but this dr (\(ToolInfo.version)) reads formats \(readableVersions.lowerBound) to \(readableVersions.upperBound) only. Capture a new manifest with this version (`dr verify capture`), or verify with the dr version that wrote it.")
        }
    }

    /// Refuses (as bad input) to compare `found` with this manifest when it is a manifest of
    /// another database: one whose name and cluster both differ. A physical restore keeps the
    /// cluster's system identifier; a dump restored into another cluster keeps the name. Where
    /// the role may not read the system identifier, only the name is known and nothing is refused.
    func checkSameDatabase(as found: ServerIdentity, source: String) throws {
        guard server.database != found.database,
              let mine = server.systemIdentifier, let theirs = found.systemIdentifier, mine != theirs else { return }
        throw DRError(.otherDatabase, """
            \(source) is a manifest of another database: it was captured \(capturedAt) from the database \(server.described), \
            but the database checked is \(found.described). Give the manifest captured from this database's source; \
            or, if this database is a restore of that one under another name into another cluster, \
            say so with \(param: .allowOtherDatabase).
            """)
    }

    private static func reason(_ error: Error, path: String) -> String {
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
        if nsError.domain == NSCocoaErrorDomain {
            switch nsError.code {
            case NSFileReadNoSuchFileError, NSFileNoSuchFileError: return "no such file"
            case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
            case NSFileWriteOutOfSpaceError: return "the disk is full"
            case NSFileWriteVolumeReadOnlyError: return "the file system is read-only"
            default: break
            }
        }
        // Foundation's own wording of POSIX failures ("The operation could not be completed")
        // says nothing: name the underlying error.
        if let posix = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code))).lowercased()
        }
        return "it cannot be read (\(nsError.localizedDescription))"
    }
}

/// The verifier's own version, written into reports.
public enum ToolInfo {
    public static let version = "0.1.0"
}
