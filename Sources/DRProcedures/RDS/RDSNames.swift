import DRCore
import Foundation

/// Deterministic names (so a re-run finds what an earlier run made) and the identifier rules
/// RDS and ElastiCache enforce, checked before any call so a bad name is bad input.
///
/// Every name dr derives fits the identifier it becomes (`fitted`): DB instance, DB cluster
/// and DB cluster snapshot identifiers up to 63 characters, DB snapshot identifiers up to 255.
/// A name that fits keeps today's form; a longer one keeps its distinguishing end (the week,
/// the time, `-1`) and shortens the rest, adding a short hash of the whole name so two long
/// names never meet.
public enum RDSNames {
    /// DB instance, DB cluster and DB cluster snapshot identifiers.
    public static let maxIdentifierLength = 63
    /// DB snapshot identifiers.
    public static let maxSnapshotIdentifierLength = 255

    /// The longest identifier of a snapshot of an instance (`cluster: false`) or an Aurora cluster.
    public static func maxSnapshotLength(cluster: Bool) -> Int { cluster ? maxIdentifierLength : maxSnapshotIdentifierLength }

    /// `head + tail` when it is at most `maxLength` characters; otherwise `head` cut short (no
    /// trailing hyphen), `-`, the first 8 hex digits of the SHA-256 of `head + tail`, and `tail`.
    /// The one function every derived identifier goes through.
    public static func fitted(_ head: String, tail: String = "", maxLength: Int) -> String {
        let whole = head + tail
        guard whole.count > maxLength else { return whole }
        let hash = String(SHA256Hasher.hex(of: Data(whole.utf8)).prefix(8))
        var kept = String(head.prefix(max(1, maxLength - tail.count - hash.count - 1)))
        while kept.hasSuffix("-") { kept.removeLast() }
        return kept + "-" + hash + tail
    }

    /// `dr-prod-db-weekly-2026-w48`: one per target per ISO week.
    /// `series` (the source's identity tag) names a second series in the same week: the target's database changed.
    public static func weeklySnapshot(target: String, at date: Date, cluster: Bool = false, series: String? = nil) -> String {
        let suffix = series.map { "-" + String(SHA256Hasher.hex(of: Data($0.utf8)).prefix(6)) } ?? ""
        return fitted("dr-\(slug(target))", tail: "-weekly-\(ISOWeek.name(of: date).lowercased())" + suffix, maxLength: maxSnapshotLength(cluster: cluster))
    }

    /// `dr-prod-db-20261120-120405`: named to the second; a second snapshot in the same second
    /// (one of `taken`) gets `-2`, `-3`, ...
    public static func adhocSnapshot(target: String, at date: Date, cluster: Bool = false, taken: Set<String> = []) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let stamp = String(format: "-%04d%02d%02d-%02d%02d%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        var id = fitted("dr-\(slug(target))", tail: stamp, maxLength: maxSnapshotLength(cluster: cluster)), n = 1
        while taken.contains(id) {
            n += 1
            id = fitted("dr-\(slug(target))", tail: stamp + "-\(n)", maxLength: maxSnapshotLength(cluster: cluster))
        }
        return id
    }

    /// The DR-region copy of a snapshot keeps its name (automated `rds:` names lose the prefix).
    public static func copyName(of source: String, cluster: Bool = false) -> String {
        fitted(source.hasPrefix("rds:") ? "dr-copy-" + slug(String(source.dropFirst(4))) : source, maxLength: maxSnapshotLength(cluster: cluster))
    }

    /// Lower-case letters, digits and single hyphens.
    static func slug(_ text: String) -> String {
        var out = ""
        for ch in text.lowercased() {
            let ok = ch.isASCII && (ch.isLetter || ch.isNumber)
            if ok { out.append(ch) } else if !out.hasSuffix("-") { out.append("-") }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "target" : out
    }

    /// RDS instance identifiers: 1–63 letters, digits or hyphens, starting with a letter,
    /// no two hyphens in a row, not ending with a hyphen.
    public static func checkInstanceIdentifier(_ id: String, parameter: Parameter, note: String = "") throws {
        try check(id, maxLength: maxIdentifierLength, parameter: parameter, note: note, kind: "a DB instance identifier")
    }

    /// Snapshot identifiers: the same rules, up to 255 characters (63 for a DB cluster snapshot).
    public static func checkSnapshotIdentifier(_ id: String, parameter: Parameter, cluster: Bool = false) throws {
        try check(id, maxLength: maxSnapshotLength(cluster: cluster), parameter: parameter, note: "",
                  kind: cluster ? "a DB cluster snapshot identifier" : "a DB snapshot identifier")
    }

    static func check(_ id: String, maxLength: Int, parameter: Parameter, note: String, kind: String) throws {
        let problem: String?
        if id.isEmpty || id.count > maxLength { problem = "it must be 1 to \(maxLength) characters long" }
        else if !(id.first!.isASCII && id.first!.isLetter) { problem = "it must start with a letter" }
        else if !id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) { problem = "it may hold only letters, digits and hyphens" }
        else if id.contains("--") { problem = "it may not contain two hyphens in a row" }
        else if id.hasSuffix("-") { problem = "it may not end with a hyphen" }
        else { problem = nil }
        if let problem {
            throw DRError(.invalidParameter, "\(param: parameter) \"\(id)\"\(note) is not \(kind) AWS would accept: \(problem). Choose a name like prod-db-restore-1. Nothing was changed.")
        }
    }
}
