import DRCore
import Foundation

/// What a database is compared with.
public enum Reference: Sendable {
    /// A manifest captured earlier (e.g. when the backup was taken).
    case manifest(Manifest)
    /// A manifest file, read (and refused as bad input if unreadable, foreign or from an
    /// incompatible version) before the database is captured.
    case manifestFile(URL)
    /// A live source database, captured at the same time as the database checked.
    case live(conninfo: String)
}

/// Verifies restored databases: `Verifier.verify(conninfo:against:options:)`.
public enum Verifier {
    /// Captures the database `conninfo` names and compares it with the reference. Against a
    /// live source both sides are captured concurrently, each from its own consistent snapshot;
    /// with contents, the tables whose contents differ are then narrowed down to key ranges
    /// (`RangeNarrowing`). Against a manifest, a manifest of another database (other name and
    /// other cluster) is refused before any row is read, unless `options.allowOtherDatabase`.
    ///
    /// Returns the report whatever it found (`report.passed` tells); throws `DRError` only when
    /// the comparison could not be made (bad input, unreachable database, timeout, Ctrl-C).
    public static func verify(conninfo: String, against reference: Reference,
                              options: VerifyOptions = VerifyOptions()) async throws -> VerificationReport {
        let started = Date()
        let contents = options.capture.content == .checksum
        let expected: Manifest, found: Manifest
        var ranges: [String: RangeNarrowing.Result] = [:]
        switch reference {
        case .manifest(let manifest):
            (expected, found) = try await capture(conninfo, against: manifest, source: "the manifest", options: options)
        case .manifestFile(let url):
            let manifest = try await offloadBlocking { try Manifest.read(from: url) }
            ReturnFreeMemory.now()
            (expected, found) = try await capture(conninfo, against: manifest, source: url.path, options: options)
        case .live(let source):
            var targetOptions = options.capture
            targetOptions.allRoles = true
            async let sourceSide = Manifest.capture(conninfo: source, options: options.capture)
            async let targetSide = Manifest.capture(conninfo: conninfo, options: targetOptions)
            (expected, found) = try await (sourceSide, targetSide)
        }
        var comparison = Comparison(expected: expected, found: found, rows: options.rows, roles: options.roles, contents: contents)
        if contents, case .live(let source) = reference {
            let differing = comparison.findings.filter { $0.difference == .content }.map(\.name)
            let narrowing = RangeNarrowing(source: ReaderPool(conninfo: source, options: options.capture),
                                           target: ReaderPool(conninfo: conninfo, options: options.capture),
                                           maxRanges: options.maxRangesPerTable)
            ranges = try await withTaskCancellationHandler {
                try await narrowing.narrow(differing)
            } onCancel: {
                narrowing.source.cancelAll(interrupt: true)
                narrowing.target.cancelAll(interrupt: true)
            }
            for i in comparison.findings.indices where comparison.findings[i].difference == .content {
                guard let result = ranges[comparison.findings[i].name] else { continue }
                comparison.findings[i].ranges = result.ranges.isEmpty ? nil : result.ranges
                comparison.findings[i].detail = result.detail
            }
        }
        let hashed = found.contents.map { $0.checksums.count }
        return VerificationReport(
            reference: ReferenceSummary(kind: reference.kindName, server: expected.server, capturedAt: expected.capturedAt),
            target: found.server, startedAt: RFC3339.format(started),
            durationSeconds: (Date().timeIntervalSince(started) * 1000).rounded() / 1000,
            rows: options.rows.description, content: options.capture.content.rawValue,
            summary: .init(objectsChecked: comparison.checked.count, tablesCounted: found.rowCounts.count,
                           rowsCounted: found.totalRows, tablesHashed: hashed,
                           failures: comparison.findings.filter { !$0.isAccepted }.count,
                           accepted: comparison.findings.filter(\.isAccepted).count),
            findings: comparison.findings, checked: comparison.checked)
    }

    /// Captures the database to compare with `manifest` (named `source` in errors), refusing
    /// first what cannot be compared with it.
    private static func capture(_ conninfo: String, against manifest: Manifest, source: String,
                                options: VerifyOptions) async throws -> (Manifest, Manifest) {
        if options.capture.content == .checksum { try checkContents(manifest, source: source) }
        var capture = options.capture
        // Tables the manifest holds no checksum of need not be hashed here.
        capture.skipContent = Set(manifest.contents?.excluded ?? [])
        capture.allRoles = true
        let allowOther = options.allowOtherDatabase
        let found = try await Manifest.capture(conninfo: conninfo, options: capture) { server in
            if !allowOther { try manifest.checkSameDatabase(as: server, source: source) }
        }
        return (manifest, found)
    }

    /// Refuses (bad input, before anything is read) to compare contents with a manifest that has none.
    static func checkContents(_ manifest: Manifest, source: String) throws {
        guard let contents = manifest.contents else {
            throw DRError(.noContents, "\(source) was captured without contents, so they cannot be compared. Capture the manifest with \(param: .content) checksum, or verify schema and row counts only (leave \(param: .content) out).")
        }
        guard contents.function == RowHash.function else {
            throw DRError(.noContents, "\(source) holds content checksums of the function \(contents.function), but this dr computes \(RowHash.function). Capture the manifest again with this version, or verify with the dr version that wrote it.")
        }
    }
}

extension Reference {
    var kindName: String {
        switch self {
        case .manifest, .manifestFile: return "manifest"
        case .live: return "live"
        }
    }
}

/// The outcome of one verification: typed findings, and whether it passed.
public struct VerificationReport: Codable, Sendable {
    public var reference: ReferenceSummary
    /// The database checked.
    public var target: ServerIdentity
    public var startedAt: String
    public var durationSeconds: Double
    /// The row-count tolerance applied (`exact`, `at-least`, `within=5%`).
    public var rows: String
    /// The content check applied (`none`, `checksum`).
    public var content: String
    public var summary: Summary
    /// Failures and accepted differences, in report order (by kind, then name).
    public var findings: [Finding]
    /// Every object checked (for JUnit); not part of the JSON document.
    public var checked: [CheckedObject] = []

    /// True when every finding is accepted.
    public var passed: Bool { findings.allSatisfy(\.isAccepted) }
    public var failures: [Finding] { findings.filter { !$0.isAccepted } }

    public struct Summary: Codable, Sendable {
        public var objectsChecked: Int
        public var tablesCounted: Int
        public var rowsCounted: Int64
        /// Tables whose contents were hashed (with `content: checksum`).
        public var tablesHashed: Int?
        public var failures: Int
        public var accepted: Int
    }

    enum CodingKeys: String, CodingKey {
        case reference, target, startedAt, durationSeconds, rows, content, summary, findings, passed, checked
    }

    public init(reference: ReferenceSummary, target: ServerIdentity, startedAt: String, durationSeconds: Double,
                rows: String, content: String = ContentMode.none.rawValue, summary: Summary, findings: [Finding], checked: [CheckedObject]) {
        self.reference = reference
        self.target = target
        self.startedAt = startedAt
        self.durationSeconds = durationSeconds
        self.rows = rows
        self.content = content
        self.summary = summary
        self.findings = findings
        self.checked = checked
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        reference = try c.decode(ReferenceSummary.self, forKey: .reference)
        target = try c.decode(ServerIdentity.self, forKey: .target)
        startedAt = try c.decode(String.self, forKey: .startedAt)
        durationSeconds = try c.decode(Double.self, forKey: .durationSeconds)
        rows = try c.decode(String.self, forKey: .rows)
        content = try c.decodeIfPresent(String.self, forKey: .content) ?? ContentMode.none.rawValue
        summary = try c.decode(Summary.self, forKey: .summary)
        findings = try c.decode([Finding].self, forKey: .findings)
        checked = try c.decodeIfPresent([CheckedObject].self, forKey: .checked) ?? []
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(reference, forKey: .reference)
        try c.encode(target, forKey: .target)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(durationSeconds, forKey: .durationSeconds)
        try c.encode(rows, forKey: .rows)
        try c.encode(content, forKey: .content)
        try c.encode(summary, forKey: .summary)
        try c.encode(findings, forKey: .findings)
        try c.encode(passed, forKey: .passed)
        // Every object checked, so a report read back (e.g. by `dr drill`) still lists each check.
        try c.encode(checked, forKey: .checked)
    }
}

/// Where the expected state came from.
public struct ReferenceSummary: Codable, Sendable {
    /// `manifest` or `live`.
    public var kind: String
    public var server: ServerIdentity
    public var capturedAt: String
}
