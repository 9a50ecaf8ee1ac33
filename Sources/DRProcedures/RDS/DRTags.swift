import DRAWS
import Foundation

/// The tags by which `dr` recognises what it made. Only resources carrying them are ever
/// deleted (retention, teardown).
public enum DRTags {
    public static let managed = "dr:managed"
    public static let kind = "dr:kind"
    public static let target = "dr:target"
    public static let restoredFrom = "dr:restored-from"
    public static let copiedFrom = "dr:copied-from"
    public static let week = "dr:week"
    /// The identity of the database it is of (`RDSIdentity.tag`): lookups match on it, not on names.
    public static let sourceID = "dr:source-id"
    /// What a restore was made for (`RestorePoint.description`): a re-run adopts it only for the same point.
    public static let restorePoint = "dr:restore-point"

    /// `dr:managed=true`, `dr:kind`, `dr:target`, then the caller's extra tags (which cannot
    /// override the `dr:` ones).
    public static func make(kind: String, target: String, extra: [String: String] = [:], more: [String: String] = [:]) -> [AWSTag] {
        var all = extra.filter { !$0.key.hasPrefix("dr:") }
        for (k, v) in more { all[k] = v }
        all[managed] = "true"
        all[self.kind] = kind
        all[self.target] = target
        return all.sorted { $0.key < $1.key }.map { AWSTag($0.key, $0.value) }
    }

    /// True when `tags` say `dr` made this for `target` with `kind`.
    public static func isManaged(_ tags: [AWSTag], target: String, kind: String) -> Bool {
        value(managed, in: tags) == "true" && value(self.target, in: tags) == target && value(self.kind, in: tags) == kind
    }

    /// True when `tags` say `dr` restored this from `target`.
    public static func isRestore(_ tags: [AWSTag], target: String) -> Bool {
        value(managed, in: tags) == "true" && value(self.target, in: tags) == target && value(restoredFrom, in: tags) != nil
    }

    public static func value(_ key: String, in tags: [AWSTag]) -> String? { tags.first { $0.key == key }?.value }

    /// A resource's own tags worth carrying to a copy or restore: not AWS's, not `dr:`'s.
    public static func carried(_ tags: [AWSTag]) -> [String: String] {
        Dictionary(tags.filter { !$0.key.hasPrefix("aws:") && !$0.key.hasPrefix("dr:") }.map { ($0.key, $0.value) }) { _, last in last }
    }
}
