import Foundation

/// Which snapshots retention removes: only those `dr` made for this target and kind (by their
/// tags), beyond the newest `keep`, never the one just made; oldest first.
public enum RDSRetention {
    public static func toDelete(_ snapshots: [RDSSnapshotInfo], target: String, kind: String, keep: Int,
                                justMade: String?) -> [RDSSnapshotInfo] {
        let ours = snapshots.filter { DRTags.isManaged($0.tags, target: target, kind: kind) }
        // Newest first; one still being created (no time yet) counts as the newest.
        let newestFirst = ours.sorted { ($0.createdAt ?? .distantFuture, $0.id) > ($1.createdAt ?? .distantFuture, $1.id) }
        let beyond = newestFirst.dropFirst(max(0, keep)).filter { $0.id != justMade && $0.isAvailable }
        return beyond.reversed()
    }
}
