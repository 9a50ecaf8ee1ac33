import DRCore
import DRProcedures
import Foundation

/// What `dr status --output prometheus` reads from a target's status, its config and its drill
/// history. The only place that knows `TargetStatus`'s fields: when that type changes, this
/// initializer is the one fix.
public struct StatusReading: Sendable, Equatable {
    public var target: String
    public var provider: String
    public var checkedAt: Date
    /// Age of the newest snapshot or base backup; +infinity when there is none.
    public var newestSnapshotAge: Double
    /// Age of the newest DR copy; +infinity when a DR location is configured but holds none; nil when none is configured.
    public var newestDRCopyAge: Double?
    public var windowStart: Date?
    public var windowEnd: Date?
    public var exposureSeconds: Double?
    /// How long ago the newest WAL reached the archive (postgres: the repository's newest
    /// segment; RDS: the latest restorable time, which follows RDS's log uploads).
    public var walArchiveLag: Double?
    /// Age of the cache's newest snapshot; +infinity when the cache has none; nil when the target has no cache.
    public var cacheSnapshotAge: Double?
    public var lastDrillSuccess: Date?
    public var drillMaxAge: Double

    public init(status: TargetStatus, target: Target, lastDrillSuccess: Date?) {
        self.target = status.target
        provider = status.provider
        checkedAt = status.checkedAt
        newestSnapshotAge = status.snapshots.map(\.ageSeconds).min() ?? .infinity
        newestDRCopyAge = target.hasDRCopy ? status.drSnapshots.map(\.ageSeconds).min() ?? .infinity : nil
        windowStart = status.restorableWindow?.earliest
        windowEnd = status.restorableWindow?.latest
        exposureSeconds = status.exposureSeconds
        walArchiveLag = status.archivedUntil.map { max(0, status.checkedAt.timeIntervalSince($0)) }
        if let cache = status.cache {
            cacheSnapshotAge = cache.newestSnapshotAt.map { status.checkedAt.timeIntervalSince($0) } ?? .infinity
        }
        self.lastDrillSuccess = lastDrillSuccess
        drillMaxAge = target.drill?.maxAge ?? DrillHistorySummary.defaultMaxAge
    }
}

/// `dr status --all --output prometheus`: node_exporter textfile-collector format, every series
/// labelled with its target, names in the `dr_` namespace with the unit in the name. A target
/// whose status could not be read has `dr_status_up 0` and nothing else, so the alert on it
/// fires instead of the others going quiet.
public enum StatusMetrics {
    public enum Outcome: Sendable {
        case read(StatusReading)
        case failed(target: String, provider: String)
    }

    public struct Family: Sendable {
        public var name: String
        public var help: String
    }

    /// Every family the status file can hold, in the order written (also what the dashboard and
    /// the alert rules may name; tested).
    public static let families: [Family] = [
        Family(name: "dr_status_up", help: "1 if dr status could read the target, else 0 (the other series are then absent)."),
        Family(name: "dr_status_timestamp_seconds", help: "When dr status read the target (Unix time)."),
        Family(name: "dr_snapshot_newest_age_seconds", help: "Age of the newest snapshot (RDS) or base backup (postgres); +Inf when there is none."),
        Family(name: "dr_dr_copy_newest_age_seconds", help: "Age of the newest copy in the DR region or DR repository; +Inf when none (absent when no DR location is configured)."),
        Family(name: "dr_restorable_window_start_timestamp_seconds", help: "Start of the restorable window (Unix time)."),
        Family(name: "dr_restorable_window_end_timestamp_seconds", help: "End of the restorable window: the latest moment a restore can reach (Unix time)."),
        Family(name: "dr_data_loss_exposure_seconds", help: "Seconds of writes that would be lost if the source were lost now."),
        Family(name: "dr_wal_archive_lag_seconds", help: "Seconds since the newest WAL reached the archive (RDS: since the latest restorable time)."),
        Family(name: "dr_cache_snapshot_newest_age_seconds", help: "Age of the cache's newest snapshot; +Inf when it has none (absent when the target has no cache)."),
        Family(name: "dr_drill_history_last_success_timestamp_seconds", help: "When the newest passed restore drill in the drill history ended (Unix time); absent when none passed."),
        Family(name: "dr_drill_max_age_seconds", help: "The target's drill policy: the newest passed drill may be at most this old (drill.max_age, default 7d)."),
    ]

    public static func text(_ outcomes: [Outcome]) -> String {
        var samples: [String: [String]] = [:]
        func add(_ name: String, _ target: String, _ value: Double?, extra: String = "") {
            guard let value else { return }
            samples[name, default: []].append("\(name){target=\"\(DrillEvidence.labelEscape(target))\"\(extra)} \(format(value))")
        }
        for outcome in outcomes {
            switch outcome {
            case .failed(let target, let provider):
                add("dr_status_up", target, 0, extra: ",provider=\"\(DrillEvidence.labelEscape(provider))\"")
            case .read(let r):
                add("dr_status_up", r.target, 1, extra: ",provider=\"\(DrillEvidence.labelEscape(r.provider))\"")
                add("dr_status_timestamp_seconds", r.target, r.checkedAt.timeIntervalSince1970)
                add("dr_snapshot_newest_age_seconds", r.target, r.newestSnapshotAge)
                add("dr_dr_copy_newest_age_seconds", r.target, r.newestDRCopyAge)
                add("dr_restorable_window_start_timestamp_seconds", r.target, r.windowStart?.timeIntervalSince1970)
                add("dr_restorable_window_end_timestamp_seconds", r.target, r.windowEnd?.timeIntervalSince1970)
                add("dr_data_loss_exposure_seconds", r.target, r.exposureSeconds)
                add("dr_wal_archive_lag_seconds", r.target, r.walArchiveLag)
                add("dr_cache_snapshot_newest_age_seconds", r.target, r.cacheSnapshotAge)
                add("dr_drill_history_last_success_timestamp_seconds", r.target, r.lastDrillSuccess?.timeIntervalSince1970)
                add("dr_drill_max_age_seconds", r.target, r.drillMaxAge)
            }
        }
        var out = ""
        for family in families {
            guard let lines = samples[family.name] else { continue }
            out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) gauge\n"
            out += lines.joined(separator: "\n") + "\n"
        }
        return out
    }

    /// Prometheus' float text: `+Inf`, integers without a point, else six decimals.
    static func format(_ v: Double) -> String {
        if v == .infinity { return "+Inf" }
        if v == -.infinity { return "-Inf" }
        return DrillEvidence.format(v)
    }
}
