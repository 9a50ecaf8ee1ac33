import DRCore
import Foundation

/// How a capture reads the database.
public struct CaptureOptions: Sendable {
    /// Connections counting rows in parallel, all on one snapshot. Default: the machine's
    /// core count, at least 2 and at most 8.
    public var jobs: Int
    /// Longest any one statement may run, in seconds (server-side `statement_timeout`, and
    /// cancelled from the client a little later should the server not answer). nil: no limit.
    public var statementTimeout: Double?
    /// Seconds to wait for a connection.
    public var connectTimeout: Int
    /// At most this many tables are counted by one statement (`SELECT count(*) ... UNION ALL ...`).
    public var tablesPerBatch: Int = 100

    public static var defaultJobs: Int { min(max(ProcessInfo.processInfo.activeProcessorCount, 2), 8) }

    public init(jobs: Int = CaptureOptions.defaultJobs, statementTimeout: Double? = 600, connectTimeout: Int = 10) {
        self.jobs = max(1, jobs)
        self.statementTimeout = statementTimeout
        self.connectTimeout = connectTimeout
    }
}

/// How far a table's row count may differ from the reference and still pass (per table).
public enum RowTolerance: Sendable, Equatable, CustomStringConvertible {
    /// The same count (the default; the only sensible mode against a manifest of a backup).
    case exact
    /// At least as many rows (a live source that keeps growing after the backup was taken).
    case atLeast
    /// Within this many percent of the reference, either way.
    case within(percent: Double)

    /// Parses `exact`, `at-least`, `within=PCT` (`within=5` or `within=5%`).
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch t {
        case "exact": self = .exact
        case "at-least", "atleast": self = .atLeast
        default:
            if t.hasPrefix("within=") {
                let number = t.dropFirst("within=".count).trimmingCharacters(in: CharacterSet(charactersIn: "% "))
                if let pct = Double(number), pct >= 0, pct.isFinite {
                    self = .within(percent: pct)
                    return
                }
            }
            throw DRError.badInput("--rows \"\(text)\" is not a row-count tolerance. Use exact, at-least, or within=PCT (e.g. within=5 for 5 percent).")
        }
    }

    public var description: String {
        switch self {
        case .exact: return "exact"
        case .atLeast: return "at-least"
        case .within(let pct): return "within=\(Self.formatPercent(pct))%"
        }
    }

    /// nil when `found` fails the tolerance; otherwise why a difference is accepted
    /// (or "" when the counts are equal).
    func acceptance(expected: Int64, found: Int64) -> String? {
        if expected == found { return "" }
        switch self {
        case .exact:
            return nil
        case .atLeast:
            return found >= expected ? "--rows at-least: \(found) ≥ \(expected)" : nil
        case .within(let pct):
            let diff = Double(abs(found - expected))
            let actualPct = expected == 0 ? (found == 0 ? 0 : Double.infinity) : diff / Double(expected) * 100
            guard actualPct <= pct else { return nil }
            return "--rows within=\(Self.formatPercent(pct))%: differs by \(Self.formatPercent(actualPct))%"
        }
    }

    static func formatPercent(_ p: Double) -> String {
        p == p.rounded() ? String(Int(p)) : String(format: "%.2f", p)
    }
}

/// How a verification runs.
public struct VerifyOptions: Sendable {
    public var capture: CaptureOptions
    public var rows: RowTolerance

    public init(capture: CaptureOptions = CaptureOptions(), rows: RowTolerance = .exact) {
        self.capture = capture
        self.rows = rows
    }
}
