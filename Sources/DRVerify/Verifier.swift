import DRCore
import Foundation

/// What a database is compared with.
public enum Reference: Sendable {
    /// A manifest captured earlier (e.g. when the backup was taken).
    case manifest(Manifest)
    /// A manifest file, read (and refused as bad input if unreadable, foreign or from an
    /// incompatible version) while the database is being captured.
    case manifestFile(URL)
    /// A live source database, captured at the same time as the database checked.
    case live(conninfo: String)
}

/// Verifies restored databases: `Verifier.verify(conninfo:against:options:)`.
public enum Verifier {
    /// Captures the database `conninfo` names and compares it with the reference. Against a
    /// live source both sides are captured concurrently, each from its own consistent snapshot.
    ///
    /// Returns the report whatever it found (`report.passed` tells); throws `DRError` only when
    /// the comparison could not be made (bad input, unreachable database, timeout, Ctrl-C).
    public static func verify(conninfo: String, against reference: Reference,
                              options: VerifyOptions = VerifyOptions()) async throws -> VerificationReport {
        let started = Date()
        let expected: Manifest, found: Manifest
        switch reference {
        case .manifest(let manifest):
            expected = manifest
            found = try await Manifest.capture(conninfo: conninfo, options: options.capture)
        case .manifestFile(let url):
            async let reading = offloadBlocking { try Manifest.read(from: url) }
            async let capturing = Manifest.capture(conninfo: conninfo, options: options.capture)
            expected = try await reading
            found = try await capturing
        case .live(let source):
            async let sourceSide = Manifest.capture(conninfo: source, options: options.capture)
            async let targetSide = Manifest.capture(conninfo: conninfo, options: options.capture)
            (expected, found) = try await (sourceSide, targetSide)
        }
        let comparison = Comparison(expected: expected, found: found, rows: options.rows)
        return VerificationReport(
            reference: ReferenceSummary(kind: reference.kindName, server: expected.server, capturedAt: expected.capturedAt),
            target: found.server, startedAt: RFC3339.format(started),
            durationSeconds: (Date().timeIntervalSince(started) * 1000).rounded() / 1000,
            rows: options.rows.description,
            summary: .init(objectsChecked: comparison.checked.count, tablesCounted: found.rowCounts.count,
                           rowsCounted: found.totalRows,
                           failures: comparison.findings.filter { !$0.isAccepted }.count,
                           accepted: comparison.findings.filter(\.isAccepted).count),
            findings: comparison.findings, checked: comparison.checked)
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
        public var failures: Int
        public var accepted: Int
    }

    enum CodingKeys: String, CodingKey {
        case reference, target, startedAt, durationSeconds, rows, summary, findings, passed, checked
    }

    public init(reference: ReferenceSummary, target: ServerIdentity, startedAt: String, durationSeconds: Double,
                rows: String, summary: Summary, findings: [Finding], checked: [CheckedObject]) {
        self.reference = reference
        self.target = target
        self.startedAt = startedAt
        self.durationSeconds = durationSeconds
        self.rows = rows
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
