import DRCore
import Foundation

/// Deterministic names (so a re-run finds what an earlier run made) and the identifier rules
/// RDS and ElastiCache enforce, checked before any call so a bad name is bad input.
public enum RDSNames {
    /// `dr-prod-db-weekly-2026-w48`: one per target per ISO week.
    public static func weeklySnapshot(target: String, at date: Date) -> String {
        "dr-\(slug(target))-weekly-\(ISOWeek.name(of: date).lowercased())"
    }

    /// `dr-prod-db-20261120-120405`: named to the second; a second snapshot in the same second
    /// (one of `taken`) gets `-2`, `-3`, ...
    public static func adhocSnapshot(target: String, at date: Date, taken: Set<String> = []) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let base = "dr-\(slug(target))-" + String(format: "%04d%02d%02d-%02d%02d%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        var id = base, n = 1
        while taken.contains(id) { n += 1; id = "\(base)-\(n)" }
        return id
    }

    /// The DR-region copy of a snapshot keeps its name (automated `rds:` names lose the prefix).
    public static func copyName(of source: String) -> String {
        source.hasPrefix("rds:") ? "dr-copy-" + slug(String(source.dropFirst(4))) : source
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
        try check(id, maxLength: 63, parameter: parameter, note: note, kind: "a DB instance identifier")
    }

    /// Snapshot identifiers: the same rules, up to 255 characters.
    public static func checkSnapshotIdentifier(_ id: String, parameter: Parameter) throws {
        try check(id, maxLength: 255, parameter: parameter, note: "", kind: "a DB snapshot identifier")
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
