import DRCore
import Foundation

/// The verifier's parameters, as errors name them (the command line words them `--jobs`, a
/// runbook step or dr.yml `` `jobs` ``).
extension Parameter {
    public static let jobs = Parameter("jobs")
    public static let statementTimeout = Parameter("statement_timeout")
    public static let rows = Parameter("rows")
    public static let content = Parameter("content")
    public static let excludeContent = Parameter("exclude_content")
    public static let mapRole = Parameter("map_role")
    public static let allowOtherDatabase = Parameter("allow_other_database")
}

extension DRError.Code {
    /// The manifest was captured from another database than the one checked.
    public static let otherDatabase = DRError.Code("other_database", .badInput)
    /// `content: checksum` against a manifest captured without contents.
    public static let noContents = DRError.Code("no_contents", .badInput)
}

/// What a capture reads of the rows themselves.
public enum ContentMode: String, Sendable, Codable, CaseIterable {
    /// Row counts only.
    case none
    /// Row counts and an order-independent checksum of every row (`RowHash`), per table and partition.
    case checksum

    /// Parses `none` or `checksum`.
    public init(parsing text: String) throws {
        guard let mode = ContentMode(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw DRError(.invalidParameter, "\(param: .content) \"\(text)\" is not a content check. Use checksum (compare every row's contents) or none (row counts only).")
        }
        self = mode
    }
}

/// A table as a user names it (`schema.table`, either part quoted as in SQL: `"Odd Schema"."T"`),
/// matched against the catalog's own names: unquoted parts fold to lower case, quoted ones
/// keep their spelling.
public struct TableName: Hashable, Sendable, CustomStringConvertible {
    public var schema: String
    public var table: String
    /// What the user wrote, for messages.
    public var description: String

    public init(schema: String, table: String) {
        self.schema = schema
        self.table = table
        description = "\(schema).\(table)"
    }

    /// The same table, however it was written.
    public static func == (a: TableName, b: TableName) -> Bool { a.schema == b.schema && a.table == b.table }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(schema)
        hasher.combine(table)
    }

    public init(parsing text: String, parameter: Parameter) throws {
        var parts: [String] = []
        var current = "", quoted = false, wasQuoted = false
        var chars = Array(text.trimmingCharacters(in: .whitespaces))
        var i = 0
        func finish() {
            parts.append(wasQuoted ? current : current.lowercased())
            current = ""
            wasQuoted = false
        }
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" { current.append("\""); i += 1 } else { quoted = false }
                } else {
                    current.append(c)
                }
            } else if c == "\"" {
                quoted = true
                wasQuoted = true
            } else if c == "." {
                finish()
            } else {
                current.append(c)
            }
            i += 1
        }
        chars = []
        finish()
        guard !quoted, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw DRError(.invalidParameter, "\(param: parameter) \"\(text)\" is not a table name. Give it as schema.table (e.g. public.audit_log, or \"Odd Schema\".\"My Table\" for names that need quotes).")
        }
        schema = parts[0]
        table = parts[1]
        description = text
    }
}

/// How a capture reads the database.
public struct CaptureOptions: Sendable {
    /// Connections counting rows in parallel, all on one snapshot (one more connection holds
    /// the snapshot and reads the catalog). Default: the machine's core count, at least 2 and at most 8.
    public var jobs: Int
    /// Longest any one statement may run, in seconds (server-side `statement_timeout`, and
    /// cancelled from the client a little later should the server not answer). nil: no limit.
    public var statementTimeout: Double?
    /// Seconds to wait for a connection.
    public var connectTimeout: Int
    /// At most this many tables are counted by one statement (`SELECT count(*) ... UNION ALL ...`).
    public var tablesPerBatch: Int = 100
    /// At most about this many relations are locked by one batch's transaction (its tables,
    /// their indexes and TOAST tables, and the sequences it reads). The server's lock table
    /// holds `max_locks_per_transaction` (default 64) per connection on average; each batch
    /// ends its transaction, so one capture never holds more than `jobs` batches' locks.
    public var locksPerBatch: Int = 256
    /// What to read of the rows: their count only, or also their contents' checksum.
    public var content: ContentMode
    /// Tables counted but not hashed (and their partitions).
    public var excludeContent: [TableName]
    /// Tables (quoted names) not hashed because the reference holds no checksum of them.
    var skipContent: Set<String> = []
    /// Keep every role of the cluster, not only those the objects name: the database checked
    /// must show each role the reference names, whatever its own objects name.
    var allRoles = false

    public static var defaultJobs: Int { min(max(ProcessInfo.processInfo.activeProcessorCount, 2), 8) }

    public init(jobs: Int = CaptureOptions.defaultJobs, statementTimeout: Double? = 600, connectTimeout: Int = 10,
                content: ContentMode = .none, excludeContent: [TableName] = []) {
        self.jobs = max(1, jobs)
        self.statementTimeout = statementTimeout
        self.connectTimeout = connectTimeout
        self.content = content
        self.excludeContent = excludeContent
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
            throw DRError(.invalidParameter, "\(param: .rows) \"\(text)\" is not a row-count tolerance. Use exact, at-least, or within=PCT (e.g. within=5 for 5 percent).")
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

/// Role names of the reference and what they are called in the database checked
/// (`old=new`), for comparing owners, privileges and memberships across clusters whose roles
/// are named differently.
public struct RoleMap: Sendable, Equatable {
    /// Role name in the reference → role name in the database checked (as the catalog spells
    /// them: unquoted).
    public private(set) var names: [String: String] = [:]

    public init() {}

    /// Parses `old=new` pairs (role names as SQL writes them: unquoted names fold to lower
    /// case; quote names that need it, e.g. `"App Owner"=app_owner`).
    public init(parsing pairs: [String]) throws {
        for pair in pairs {
            let sides = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard sides.count == 2,
                  let old = RoleMap.name(sides[0].trimmingCharacters(in: .whitespaces)),
                  let new = RoleMap.name(sides[1].trimmingCharacters(in: .whitespaces)) else {
                throw DRError(.invalidParameter, "\(param: .mapRole) \"\(pair)\" is not a role mapping. Give it as old=new: the role's name in the reference, then its name in the database checked (e.g. app=app_dr).")
            }
            if let earlier = names[old], earlier != new {
                throw DRError(.invalidParameter, "\(param: .mapRole) maps the role \(old) twice, to \(earlier) and to \(new). Give each role one mapping.")
            }
            names[old] = new
        }
    }

    public var isEmpty: Bool { names.isEmpty }

    /// The name a role of the reference has in the database checked.
    public func mapped(_ role: String) -> String { names[role] ?? role }

    /// A role's name from what a user typed: `app` → app, `"App Owner"` → App Owner.
    static func name(_ text: String) -> String? {
        guard !text.isEmpty else { return nil }
        if text.hasPrefix("\"") {
            guard text.count >= 2, text.hasSuffix("\"") else { return nil }
            let inner = String(text.dropFirst().dropLast())
            guard !inner.isEmpty, !inner.replacingOccurrences(of: "\"\"", with: "").contains("\"") else { return nil }
            return inner.replacingOccurrences(of: "\"\"", with: "\"")
        }
        guard !text.contains("\"") else { return nil }
        return text.lowercased()
    }
}

/// How a verification runs.
public struct VerifyOptions: Sendable {
    public var capture: CaptureOptions
    public var rows: RowTolerance
    /// Roles of the reference renamed in the database checked.
    public var roles: RoleMap
    /// Verify against a manifest whose source database has another name and cluster (a restore
    /// under another name into another cluster); otherwise that is refused as bad input.
    public var allowOtherDatabase: Bool
    /// Against a live source with contents: the most key ranges named per differing table.
    public var maxRangesPerTable: Int = 10

    public init(capture: CaptureOptions = CaptureOptions(), rows: RowTolerance = .exact,
                roles: RoleMap = RoleMap(), allowOtherDatabase: Bool = false) {
        self.capture = capture
        self.rows = rows
        self.roles = roles
        self.allowOtherDatabase = allowOtherDatabase
    }
}
