import DRCore
import DRProcedures
import Foundation
import DRRunbook
import DRRunbookEngine

/// The recovery point a drill restores to, as `--point` writes it.
public enum DrillPoint: Sendable, Equatable, CustomStringConvertible {
    /// The newest finished snapshot (RDS: a DB snapshot; postgres: a base backup, restored to its end).
    case latestSnapshot
    /// The end of the restorable window: what a restore after losing the source right now gets.
    case latest
    /// A time relative to when the drill starts (`pitr:-5m`).
    case relative(seconds: Double)
    /// A random moment inside the restorable window, no older than this (`random-within:7d`).
    case randomWithin(seconds: Double)
    /// An explicit time.
    case time(Date)

    /// Parses `latest-snapshot`, `latest`, `pitr:-5m`, `random-within:7d` or an RFC 3339 time.
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "latest-snapshot" { self = .latestSnapshot; return }
        if t == "latest" { self = .latest; return }
        if t.hasPrefix("pitr:") {
            let rest = t.dropFirst("pitr:".count)
            if rest.hasPrefix("-"), let seconds = DurationText.parse(String(rest.dropFirst())) {
                self = .relative(seconds: -seconds)
                return
            }
        } else if t.hasPrefix("random-within:") {
            if let seconds = DurationText.parse(String(t.dropFirst("random-within:".count))), seconds > 0 {
                self = .randomWithin(seconds: seconds)
                return
            }
        } else if let date = RFC3339.parse(t) {
            self = .time(date)
            return
        }
        throw DRError.badInput("--point \"\(text)\" is not a recovery point. Use latest-snapshot, latest, pitr:-DURATION (e.g. pitr:-5m), random-within:DURATION (e.g. random-within:7d), or an RFC 3339 time such as 2026-11-20T12:00:00Z. Nothing was restored.")
    }

    /// The default when neither `--point` nor the target's `drill.point` says: the newest
    /// snapshot for RDS (the cheapest, most common restore there), and the end of the
    /// restorable window for self-hosted PostgreSQL (a restore after losing the source now:
    /// base backup plus every archived WAL segment, which exercises the whole archive).
    public static func defaultPoint(for target: Target) -> DrillPoint {
        target.drillsSnapshotByDefault ? .latestSnapshot : .latest
    }

    public var description: String {
        switch self {
        case .latestSnapshot: return "latest-snapshot"
        case .latest: return "latest"
        case .relative(let s): return "pitr:-\(DurationText.compact(-s))"
        case .randomWithin(let s): return "random-within:\(DurationText.compact(s))"
        case .time(let d): return RFC3339.format(d)
        }
    }

    /// Decides the concrete point against the target's status (its snapshots and restorable
    /// window), before anything is restored. A time outside the window is bad input naming it.
    public func resolve(status: TargetStatus, now: Date, random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) throws -> ResolvedDrillPoint {
        let target = status.target
        switch self {
        case .latestSnapshot:
            guard let newest = (status.snapshots).max(by: { $0.createdAt < $1.createdAt }) else {
                throw DRError.badInput("Target \(target) has no snapshot to drill a restore from. Take one with `dr snapshot \(target)` first, or drill a point in time with --point latest. Nothing was restored.")
            }
            return ResolvedDrillPoint(spec: description, input: "latest-snapshot", recoveryPoint: newest.createdAt, snapshot: newest.id)
        case .latest:
            let window = try requireWindow(status)
            return ResolvedDrillPoint(spec: description, input: RFC3339.format(window.latest, fractional: true), recoveryPoint: window.latest, snapshot: nil)
        case .relative(let offset):
            return try inside(now.addingTimeInterval(offset), status: status)
        case .randomWithin(let span):
            let window = try requireWindow(status)
            let earliest = max(window.earliest, now.addingTimeInterval(-span))
            guard earliest <= window.latest else {
                throw DRError.badInput("Target \(target) has no restorable moment within the last \(DurationText.compact(span)): its restorable window is \(window). Nothing was restored.")
            }
            let picked = Date(timeIntervalSince1970: random(earliest.timeIntervalSince1970...window.latest.timeIntervalSince1970).rounded(.down))
            return try inside(max(picked, earliest), status: status)
        case .time(let date):
            return try inside(date, status: status)
        }
    }

    private func inside(_ date: Date, status: TargetStatus) throws -> ResolvedDrillPoint {
        let window = try requireWindow(status)
        guard window.contains(date) else {
            throw DRError.badInput("The recovery point \(RFC3339.format(date, fractional: true)) (--point \(description)) is outside the restorable window of \(status.target): \(window). Choose a time inside it. Nothing was restored.")
        }
        return ResolvedDrillPoint(spec: description, input: RFC3339.format(date, fractional: true), recoveryPoint: date, snapshot: nil)
    }

    private func requireWindow(_ status: TargetStatus) throws -> TimeWindow {
        guard let window = status.restorableWindow else {
            throw DRError.badInput("Target \(status.target) has no restorable window yet (no base backup with its WAL, or no automated backups), so --point \(description) cannot be drilled. Nothing was restored.")
        }
        return window
    }
}

/// A drill's recovery point, decided.
public struct ResolvedDrillPoint: Sendable, Equatable, Codable {
    /// As asked (`pitr:-5m`).
    public var spec: String
    /// The runbook's `point` input: `latest-snapshot` or an RFC 3339 time.
    public var input: String
    /// The moment the restored data should represent (for a snapshot: when it was taken).
    public var recoveryPoint: Date
    /// The snapshot, for `latest-snapshot`.
    public var snapshot: String?
}
